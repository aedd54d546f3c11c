package server_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/services/conversation/internal/config"
)

// watching opens alice's conversation with one exchange in it, and a
// stream on it that has read both messages. The stream's wait is bounded
// (a stream that does not end fails the test with DeadlineExceeded).
func watching(t *testing.T, h *harness, alice context.Context) (string, conversationv1.ConversationService_WatchConversationClient) {
	t.Helper()
	id := h.open(alice)
	if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "Hello"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(alice, 5*time.Second)
	t.Cleanup(cancel)
	stream, err := h.client.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: id})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := stream.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	return id, stream
}

// TestWatchEndsWhenTheTokenExpires: a stream ends Unauthenticated
// TOKEN_EXPIRED once the service's clock passes its token's expiry (the
// clock is moved, no waiting for real time).
func TestWatchEndsWhenTheTokenExpires(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	_, stream := watching(t, h, h.customer("cus_alice")) // a token of 5 minutes
	h.channels.advance(accesstoken.DefaultLifetime + time.Minute)
	_, err := stream.Recv()
	wantStatus(t, err, codes.Unauthenticated, accesstoken.ReasonTokenExpired)
}

// TestWatchEndsWhenTheSessionIsRevoked: revoking the session the token
// belongs to ends its stream Unauthenticated TOKEN_REVOKED.
func TestWatchEndsWhenTheSessionIsRevoked(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	_, stream := watching(t, h, h.customer("cus_alice"))
	h.revoke <- "ses_cus_alice" // h.token's session id
	_, err := stream.Recv()
	wantStatus(t, err, codes.Unauthenticated, accesstoken.ReasonTokenRevoked)
}

// TestWatchMaxLifetime: whatever its token, a stream ends (OK) after
// SOTTO_CONVERSATION_WATCH_MAX_LIFETIME; the client reconnects after the
// last message it has and reads on from there.
func TestWatchMaxLifetime(t *testing.T) {
	h := newHarness(t, sqliteDB(t), func(c *config.Config) { c.WatchMaxLifetime = 2 * time.Minute })
	alice := h.customer("cus_alice")
	id, stream := watching(t, h, alice)
	h.channels.advance(3 * time.Minute) // within the token's 5 minutes
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("stream after its lifetime: %v, want its end (OK)", err)
	}
	list, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id})
	if err != nil {
		t.Fatal(err)
	}
	last := list.GetMessages()[len(list.GetMessages())-1].GetMessageId()
	ctx, cancel := context.WithTimeout(alice, 5*time.Second)
	defer cancel()
	again, err := h.client.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: id, AfterMessageId: last})
	if err != nil {
		t.Fatal(err)
	}
	post, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "Still there?"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := again.Recv()
	if err != nil || m.GetMessage().GetMessageId() != post.GetMessage().GetMessageId() {
		t.Fatalf("reconnected stream: %v, %v; want the new message first", m, err)
	}
}

package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// visitor is an anonymous web-chat visitor of the shop "shop": a visitor
// token as identity's CreateVisitorSession makes it (aal 0, no auth_time).
func (h *harness) visitor() (context.Context, string) {
	h.t.Helper()
	b := make([]byte, 16)
	rand.Read(b)
	id := accesstoken.VisitorPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	tok, err := h.issuer.Issue(context.Background(), accesstoken.Claims{Subject: id, Kind: accesstoken.KindVisitor, Tenant: "shop", SessionID: id})
	if err != nil {
		h.t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok), id
}

// TestVisitorChatsOnTheWeb: a visitor opens a web conversation (theirs:
// the visitor id is its customer), posts, reads, watches and closes it;
// their values are tokenised under the visitor id like a customer's.
func TestVisitorChatsOnTheWeb(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	vis, visID := h.visitor()
	id := h.open(vis)
	got, err := h.client.GetConversation(vis, &conversationv1.GetConversationRequest{ConversationId: id})
	if err != nil || got.GetConversation().GetCustomerSubject() != visID || got.GetConversation().GetChannel() != conversationv1.ChatChannel_CHAT_CHANNEL_WEB {
		t.Fatalf("visitor's conversation: %v, %v", got.GetConversation(), err)
	}
	if _, err := h.client.PostMessage(vis, &conversationv1.PostMessageRequest{ConversationId: id, Text: "where is my order? write to me at visitor.canary@example.com"}); err != nil {
		t.Fatalf("visitor posting: %v", err)
	}
	reqs := h.vault.requests()
	if len(reqs) != 1 || reqs[0].GetSubject() != visID || reqs[0].GetTenant() != "shop" {
		t.Errorf("vault calls %v, want one batch under the visitor id in the shop", reqs)
	}
	msgs, err := h.client.ListMessages(vis, &conversationv1.ListMessagesRequest{ConversationId: id})
	if err != nil || len(msgs.GetMessages()) != 2 {
		t.Fatalf("visitor's messages: %v, %v", msgs.GetMessages(), err)
	}
	list, err := h.client.ListConversations(vis, &conversationv1.ListConversationsRequest{})
	if err != nil || len(list.GetConversations()) != 1 {
		t.Errorf("visitor's list: %v, %v", list.GetConversations(), err)
	}
	if _, err := h.client.CloseConversation(vis, &conversationv1.CloseConversationRequest{ConversationId: id}); err != nil {
		t.Fatalf("visitor closing: %v", err)
	}
	s, err := h.client.WatchConversation(vis, &conversationv1.WatchConversationRequest{ConversationId: id})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := s.Recv(); err != nil {
			if status.Code(err) != codes.OK && err.Error() != "EOF" {
				t.Fatalf("watch: %v", err)
			}
			break
		}
		n++
	}
	if n != 2 {
		t.Errorf("watch of the closed conversation sent %d messages, want 2", n)
	}
}

// TestVisitorStaysInTheirLane: a visitor opens web conversations only
// (VISITOR_WEB_ONLY), another visitor or a customer gets NOT_FOUND on a
// visitor's conversation (and the visitor on theirs), and the calls no
// visitor makes (revealing a value, a channel link code, a hand-off,
// agents' calls) are refused by the end-user table.
func TestVisitorStaysInTheirLane(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	vis, _ := h.visitor()
	other, _ := h.visitor()
	for _, ch := range []conversationv1.ChatChannel{conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP, conversationv1.ChatChannel_CHAT_CHANNEL_MESSENGER, conversationv1.ChatChannel_CHAT_CHANNEL_API} {
		_, err := h.client.CreateConversation(vis, &conversationv1.CreateConversationRequest{Channel: ch})
		if status.Code(err) != codes.InvalidArgument || reasonOf(err) != reasons.VisitorWebOnly {
			t.Errorf("visitor opening %s: %v, want INVALID_ARGUMENT %s", ch, err, reasons.VisitorWebOnly)
		}
	}
	id := h.open(vis)
	alice := h.customer("cus_alice")
	aliceConv := h.open(alice)
	for who, ctx := range map[string]context.Context{"another visitor": other, "a customer": alice} {
		if _, err := h.client.GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: id}); status.Code(err) != codes.NotFound || reasonOf(err) != reasons.ConversationNotFound {
			t.Errorf("%s reading a visitor's conversation: %v, want NOT_FOUND", who, err)
		}
		if _, err := h.client.PostMessage(ctx, &conversationv1.PostMessageRequest{ConversationId: id, Text: "hi"}); status.Code(err) != codes.NotFound {
			t.Errorf("%s posting to a visitor's conversation: %v, want NOT_FOUND", who, err)
		}
	}
	if _, err := h.client.GetConversation(vis, &conversationv1.GetConversationRequest{ConversationId: aliceConv}); status.Code(err) != codes.NotFound {
		t.Errorf("visitor reading a customer's conversation: %v, want NOT_FOUND", err)
	}
	// Placeholders only: whoever holds a visitor token could be anyone.
	if _, err := h.client.ListMessages(vis, &conversationv1.ListMessagesRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("visitor asking for the re-identified view: %v, want PERMISSION_DENIED", err)
	}
	if list, err := h.client.ListConversations(other, &conversationv1.ListConversationsRequest{}); err != nil || len(list.GetConversations()) != 0 {
		t.Errorf("another visitor's list: %v, %v", list.GetConversations(), err)
	}
	refused := map[string]func() error{
		"reveal": func() error {
			_, err := h.client.RevealValue(vis, &conversationv1.RevealValueRequest{ConversationId: id, Placeholder: "[EMAIL_1]"})
			return err
		},
		"link code": func() error {
			_, err := h.client.CreateChannelLinkCode(vis, &conversationv1.CreateChannelLinkCodeRequest{Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP})
			return err
		},
		"hand off": func() error {
			_, err := h.client.HandOffConversation(vis, &conversationv1.HandOffConversationRequest{ConversationId: id})
			return err
		},
		"agent reply": func() error {
			_, err := h.client.PostAgentReply(vis, &conversationv1.PostAgentReplyRequest{ConversationId: id, Text: "hi"})
			return err
		},
		"signals": func() error {
			_, err := h.client.ListSignals(vis, &conversationv1.ListSignalsRequest{})
			return err
		},
	}
	for name, call := range refused {
		if err := call(); status.Code(err) != codes.PermissionDenied || reasonOf(err) != enduser.ReasonEndUserForbidden {
			t.Errorf("visitor %s: %v, want PERMISSION_DENIED %s", name, err, enduser.ReasonEndUserForbidden)
		}
	}
}

// TestCustomerOpensWebChatsOnly: a signed-in customer's token opens web
// conversations only; a WhatsApp, Messenger or API conversation opened over
// REST would be the customer's own word for the channel, visible to that
// channel's integrators and kept for that channel's retention (outside
// probe, 2026-11-30). Fails without the web-only check for customers.
func TestCustomerOpensWebChatsOnly(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	for _, ch := range []conversationv1.ChatChannel{conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP, conversationv1.ChatChannel_CHAT_CHANNEL_MESSENGER, conversationv1.ChatChannel_CHAT_CHANNEL_API} {
		_, err := h.client.CreateConversation(alice, &conversationv1.CreateConversationRequest{Channel: ch})
		if status.Code(err) != codes.InvalidArgument || reasonOf(err) != reasons.CustomerWebOnly {
			t.Errorf("customer opening %s: %v, want INVALID_ARGUMENT %s", ch, err, reasons.CustomerWebOnly)
		}
	}
	if n := h.count("conversations"); n != 0 {
		t.Fatalf("%d conversations stored after the refusals", n)
	}
	if id := h.open(alice); id == "" {
		t.Fatal("the customer could not open a web conversation")
	}
}

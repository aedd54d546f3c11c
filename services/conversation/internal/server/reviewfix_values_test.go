package server_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	convvault "github.com/sottohq/sotto/services/conversation/internal/vault"
)

// addresses is a message of n distinct IP addresses numbered from first
// (values no suspicious-activity signal counts, so the caps alone act).
func addresses(first, n int) string {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "10.0.%d.%d ", i/250, i%250+1)
	}
	return strings.TrimSpace(b.String())
}

// TestTooManyValuesPerMessage: a message with more new values than the
// per-message cap (64 by default) is refused TOO_MANY_VALUES before the
// vault is called: no message, no placeholder, no token. 64 are taken.
func TestTooManyValuesPerMessage(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	id := h.open(alice)
	_, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: addresses(0, 65)})
	wantStatus(t, err, codes.InvalidArgument, reasons.TooManyValues)
	if n, p, v := h.count("messages"), h.count("placeholders"), len(h.vault.requests()); n != 0 || p != 0 || v != 0 {
		t.Fatalf("refused flood left %d messages, %d placeholders, %d vault calls; want none", n, p, v)
	}
	if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: addresses(0, 64)}); err != nil {
		t.Fatalf("64 values: %v", err)
	}
	if p := h.count("placeholders"); p != 64 {
		t.Errorf("%d placeholders, want 64", p)
	}
}

// TestConversationValueLimit: once a conversation's map would pass its
// cap (100 here), a message adding values is refused
// CONVERSATION_VALUE_LIMIT with nothing stored or tokenised; one that
// only repeats known values is still taken.
func TestConversationValueLimit(t *testing.T) {
	h := newHarness(t, sqliteDB(t), func(c *config.Config) { c.MaxValuesPerConversation = 100 })
	alice := h.customer("cus_alice")
	id := h.open(alice)
	if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: addresses(0, 60)}); err != nil {
		t.Fatal(err)
	}
	msgs, calls := h.count("messages"), len(h.vault.requests())
	_, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: addresses(60, 60)})
	wantStatus(t, err, codes.FailedPrecondition, reasons.ConversationValueLimit)
	if n, p, v := h.count("messages"), h.count("placeholders"), len(h.vault.requests()); n != msgs || p != 60 || v != calls {
		t.Fatalf("refused post: %d messages (was %d), %d placeholders (want 60), %d vault calls (was %d)", n, msgs, p, v, calls)
	}
	if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "again " + addresses(0, 3)}); err != nil {
		t.Errorf("a message of known values: %v", err)
	}
}

// TestReidentifiedViewChunksLargePages: a page whose messages hold more
// distinct values than one vault request may carry (1,000) is
// re-identified in chunks of at most 1,000 tokens, not refused.
func TestReidentifiedViewChunksLargePages(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	st := h.reveals()
	alice := h.customerAt("cus_alice", accesstoken.AAL2)
	id := h.open(alice)
	const perMessage, messages = 64, 17 // 1,088 values
	for m := range messages {
		if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: addresses(m*perMessage, perMessage)}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
	if err != nil {
		t.Fatalf("re-identified page of %d values: %v", perMessage*messages, err)
	}
	ms := list.GetMessages()
	if got := ms[0].GetText(); got != addresses(0, perMessage) || ms[0].GetView() != conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED {
		t.Errorf("first message %q (%v); want its values", got, ms[0].GetView())
	}
	total := 0
	for _, call := range st.detokenizeCalls() {
		if len(call) > convvault.MaxItems {
			t.Errorf("a Detokenize call of %d tokens", len(call))
		}
		total += len(call)
	}
	if total < perMessage*messages {
		t.Errorf("%d tokens asked for, want at least %d", total, perMessage*messages)
	}
}

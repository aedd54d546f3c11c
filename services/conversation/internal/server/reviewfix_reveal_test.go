package server_test

import (
	"testing"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
)

// TestAgentRevealEndsWithConversation: the assigned agent reveals a
// delivery address in full while the conversation is open; once the
// customer closed it, the same agent gets the masked view only.
func TestAgentRevealEndsWithConversation(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	h.reveals()
	c := newCanaries(t)
	addr := canaryAddress(c)
	alice := h.customer("cus_alice")
	agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
	id := h.handedOff(alice, c.message()+" Please deliver to "+addr+" instead.")
	if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id}); err != nil {
		t.Fatal(err)
	}
	got, err := h.reveal(agent, id, "[ADDRESS_1]", "delivery")
	if err != nil || got.GetMasked() || got.GetValue() != addr {
		t.Fatalf("assigned agent, open conversation: %v, %v; want the address in full", got, err)
	}
	if _, err := h.client.CloseConversation(alice, &conversationv1.CloseConversationRequest{ConversationId: id}); err != nil {
		t.Fatal(err)
	}
	got, err = h.reveal(agent, id, "[ADDRESS_1]", "delivery")
	if err != nil || !got.GetMasked() || got.GetValue() == addr {
		t.Fatalf("assigned agent, closed conversation: %v, %v; want the masked view", got, err)
	}
}

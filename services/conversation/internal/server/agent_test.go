package server_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// handedOff opens a conversation for customer, posts c's message and hands
// it off; it returns the conversation id.
func (h *harness) handedOff(customer context.Context, text string) string {
	h.t.Helper()
	id := h.open(customer)
	if _, err := h.client.PostMessage(customer, &conversationv1.PostMessageRequest{ConversationId: id, Text: text}); err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.client.HandOffConversation(customer, &conversationv1.HandOffConversationRequest{ConversationId: id})
	if err != nil {
		h.t.Fatal(err)
	}
	if c := resp.GetConversation(); c.GetState() != conversationv1.State_STATE_WAITING_ON_AGENT ||
		c.GetHandOffReason() != conversationv1.HandOffReason_HAND_OFF_REASON_CUSTOMER_REQUEST {
		h.t.Fatalf("handed off: %v", c)
	}
	return id
}

// TestHandOffAssignAndAgentReply: the customer hands off (the assistant
// stops answering), one support agent takes the conversation and replies;
// the reply takes the customer's message path (a value the agent types is
// tokenised for the customer and stored as a placeholder; the customer's
// own placeholder the agent names stays itself); everything is audited
// with ids only and no canary is stored or logged.
func TestHandOffAssignAndAgentReply(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := newCanaries(t)
		alice := h.customer("cus_alice")
		agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
		id := h.handedOff(alice, c.message())

		// Handing off again is no error and changes nothing.
		again, err := h.client.HandOffConversation(alice, &conversationv1.HandOffConversationRequest{ConversationId: id})
		if err != nil || again.GetConversation().GetState() != conversationv1.State_STATE_WAITING_ON_AGENT {
			t.Fatalf("second hand-off: %v, %v", again, err)
		}
		post, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "Hello? Anyone there?"})
		if err != nil || post.GetReply() != nil {
			t.Fatalf("while waiting on an agent the assistant must not answer: %v, %v", post, err)
		}
		// Replying before taking it.
		_, err = h.client.PostAgentReply(agent, &conversationv1.PostAgentReplyRequest{ConversationId: id, Text: "Hi"})
		wantStatus(t, err, codes.PermissionDenied, reasons.NotAssignedAgent)

		assigned, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id})
		if err != nil || assigned.GetConversation().GetAgentSubject() != "stf_agent" {
			t.Fatalf("assign: %v, %v", assigned, err)
		}
		if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id}); err != nil {
			t.Errorf("taking one's own conversation again: %v", err)
		}
		calls := len(h.vault.requests())
		agentEmail := "returns." + c.email
		reply, err := h.client.PostAgentReply(agent, &conversationv1.PostAgentReplyRequest{ConversationId: id,
			Text: "Hi, I am looking at it. I will write to [EMAIL_1]; our returns desk is " + agentEmail + "."})
		if err != nil {
			t.Fatal(err)
		}
		m := reply.GetMessage()
		if want := "Hi, I am looking at it. I will write to [EMAIL_1]; our returns desk is [EMAIL_2]."; m.GetText() != want || m.GetAuthor() != conversationv1.Author_AUTHOR_AGENT {
			t.Errorf("agent reply %q by %v; want %q by the agent", m.GetText(), m.GetAuthor(), want)
		}
		reqs := h.vault.requests()
		if len(reqs) != calls+1 {
			t.Fatalf("%d Tokenize calls for the agent's reply, want 1", len(reqs)-calls)
		}
		if r := reqs[len(reqs)-1]; r.GetSubject() != "cus_alice" || r.GetScope() != id || len(r.GetItems()) != 1 {
			t.Errorf("agent's value tokenised for subject %q scope %q (%d items); want the customer's, this conversation, one", r.GetSubject(), r.GetScope(), len(r.GetItems()))
		}
		// The customer reads it in the transcript.
		list, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id})
		if err != nil {
			t.Fatal(err)
		}
		if last := list.GetMessages()[len(list.GetMessages())-1]; last.GetMessageId() != m.GetMessageId() {
			t.Errorf("last message %v, want the agent's reply", last)
		}
		// Which agent took it is staff's to know, not the customer's.
		if got, err := h.client.GetConversation(alice, &conversationv1.GetConversationRequest{ConversationId: id}); err != nil ||
			got.GetConversation().GetAgentSubject() != "" {
			t.Errorf("customer's get: %v, %v; want no agent subject", got, err)
		}
		if got, err := h.client.GetConversation(agent, &conversationv1.GetConversationRequest{ConversationId: id}); err != nil ||
			got.GetConversation().GetAgentSubject() != "stf_agent" {
			t.Errorf("agent's get: %v, %v", got, err)
		}

		actions := h.auditActions()
		for _, want := range []string{"conversation.hand_off", "conversation.assign", "conversation.agent_reply"} {
			if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, want+" ") }) {
				t.Errorf("audit outbox %v has no %s", actions, want)
			}
		}
		stored := storetest.StoredBytes(t, h.db)
		logs := h.logs.Bytes()
		for _, v := range append(c.values(), agentEmail) {
			if bytes.Contains(stored, []byte(v)) || bytes.Contains(logs, []byte(v)) {
				t.Errorf("canary %q found in the database or the logs", v)
			}
		}
	})
}

// TestSecondAgentCannotTakeOver: a conversation another agent took stays
// theirs: taking it is FailedPrecondition ALREADY_ASSIGNED and replying to
// it PermissionDenied NOT_ASSIGNED_AGENT.
func TestSecondAgentCannotTakeOver(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		alice := h.customer("cus_alice")
		first := h.staff("stf_first", accesstoken.RoleSupportAgent)
		second := h.staff("stf_second", accesstoken.RoleSupportAgent)
		id := h.handedOff(alice, "I need a person, please.")
		if _, err := h.client.AssignConversation(first, &conversationv1.AssignConversationRequest{ConversationId: id}); err != nil {
			t.Fatal(err)
		}
		_, err := h.client.AssignConversation(second, &conversationv1.AssignConversationRequest{ConversationId: id})
		wantStatus(t, err, codes.FailedPrecondition, reasons.AlreadyAssigned)
		_, err = h.client.PostAgentReply(second, &conversationv1.PostAgentReplyRequest{ConversationId: id, Text: "I am taking over."})
		wantStatus(t, err, codes.PermissionDenied, reasons.NotAssignedAgent)
		got, err := h.client.GetConversation(first, &conversationv1.GetConversationRequest{ConversationId: id})
		if err != nil || got.GetConversation().GetAgentSubject() != "stf_first" {
			t.Fatalf("after the second agent tried: %v, %v", got, err)
		}
		if _, err := h.client.PostAgentReply(first, &conversationv1.PostAgentReplyRequest{ConversationId: id, Text: "Still with you."}); err != nil {
			t.Errorf("the assigned agent replies: %v", err)
		}
	})
}

// TestAgentRefusals: who may hand off, take and reply, and when.
func TestAgentRefusals(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	bob := h.customer("cus_bob")
	agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
	admin := h.staff("stf_admin", accesstoken.RoleAdmin)
	id := h.open(alice)

	// Taking an open conversation: it does not wait on an agent.
	_, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id})
	wantStatus(t, err, codes.FailedPrecondition, reasons.NotWaitingOnAgent)
	// Another customer's conversation does not exist for bob; staff do not
	// ask for a person on a customer's behalf.
	_, err = h.client.HandOffConversation(bob, &conversationv1.HandOffConversationRequest{ConversationId: id})
	wantStatus(t, err, codes.NotFound, reasons.ConversationNotFound)
	_, err = h.client.HandOffConversation(agent, &conversationv1.HandOffConversationRequest{ConversationId: id})
	wantStatus(t, err, codes.PermissionDenied, reasons.CustomerRequired)
	// Only support agents take and reply (the end-user table).
	for name, ctx := range map[string]context.Context{"customer": alice, "admin": admin} {
		_, err = h.client.AssignConversation(ctx, &conversationv1.AssignConversationRequest{ConversationId: id})
		wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)
		_, err = h.client.PostAgentReply(ctx, &conversationv1.PostAgentReplyRequest{ConversationId: id, Text: "x"})
		if reasonOf(err) != enduser.ReasonEndUserForbidden {
			t.Errorf("%s replies as an agent: %v", name, err)
		}
	}

	// The service hands off on its own (a suspicious-activity policy).
	conv, err := h.app.Domain.HandOff(context.Background(), id, conversation.HandOffSuspiciousActivity)
	if err != nil || conv.State != conversation.StateWaitingOnAgent || conv.HandOffReason != conversation.HandOffSuspiciousActivity {
		t.Fatalf("service hand-off: %+v, %v", conv, err)
	}
	if _, err := h.app.Domain.HandOff(context.Background(), id, 42); status.Code(err) != codes.InvalidArgument {
		t.Errorf("hand-off reason 42: %v", err)
	}
	if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id}); err != nil {
		t.Fatal(err)
	}
	// Closed: no more agent replies.
	if _, err := h.client.CloseConversation(alice, &conversationv1.CloseConversationRequest{ConversationId: id}); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.PostAgentReply(agent, &conversationv1.PostAgentReplyRequest{ConversationId: id, Text: "Hello?"})
	wantStatus(t, err, codes.FailedPrecondition, reasons.ConversationClosed)
	_, err = h.client.HandOffConversation(alice, &conversationv1.HandOffConversationRequest{ConversationId: id})
	wantStatus(t, err, codes.FailedPrecondition, reasons.ConversationClosed)
	// Bad text is refused with a reason.
	id2 := h.handedOff(alice, "A person, please.")
	if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id2}); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.PostAgentReply(agent, &conversationv1.PostAgentReplyRequest{ConversationId: id2, Text: "bell\x07"})
	wantStatus(t, err, codes.InvalidArgument, reasons.TextInvalid)
}

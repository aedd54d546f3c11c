package server_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// canaryAddress is a delivery address unique to the run (its house number
// random), which the PII engine finds as an ADDRESS.
func canaryAddress(c canaries) string {
	return c.cardDigits[12:15] + " Baker Street, London NW1 6XE"
}

// customerAt is a customer of "shop" at aal, authenticated just now.
func (h *harness) customerAt(subject string, aal int) context.Context {
	amr := []string{"pwd"}
	if aal == accesstoken.AAL2 {
		amr = append(amr, "otp")
	}
	return h.token(accesstoken.Claims{Subject: subject, Kind: accesstoken.KindCustomer, Tenant: "shop", AAL: aal, AMR: amr})
}

func (h *harness) reveal(ctx context.Context, id, placeholder, purpose string) (*conversationv1.RevealValueResponse, error) {
	return h.client.RevealValue(ctx, &conversationv1.RevealValueRequest{ConversationId: id, Placeholder: placeholder, Purpose: purpose})
}

// noCanaries fails when a value is in the database's files or the logs.
func (h *harness) noCanaries(t *testing.T, values ...string) {
	t.Helper()
	stored := storetest.StoredBytes(t, h.db)
	logs := h.logs.Bytes()
	for _, v := range values {
		if bytes.Contains(stored, []byte(v)) {
			t.Errorf("canary %q found in the database's files", v)
		}
		if bytes.Contains(logs, []byte(v)) {
			t.Errorf("canary %q found in the logs", v)
		}
	}
}

// TestCustomerRevealsOwnValues: the customer sees their own values as the
// vault's end-user rules say (details at aal1; the card only after a
// step-up, whose FailedPrecondition comes through unchanged); a
// placeholder the conversation never gave out is NOT_FOUND. Each reveal is
// audited with ids only, and no revealed value reaches the database or
// the logs.
func TestCustomerRevealsOwnValues(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		st := h.reveals()
		c := newCanaries(t)
		alice := h.customerAt("cus_alice", accesstoken.AAL1)
		id := h.open(alice)
		if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message()}); err != nil {
			t.Fatal(err)
		}
		got, err := h.reveal(alice, id, "[EMAIL_1]", "self_service")
		if err != nil || got.GetValue() != c.email || got.GetMasked() {
			t.Fatalf("own e-mail at aal1: %v, %v", got, err)
		}
		_, err = h.reveal(alice, id, "[CARD_1]", "self_service")
		wantStatus(t, err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
		if md := errorInfoOf(err).GetMetadata(); md[enduser.MetadataRequiredAAL] != "2" || md[enduser.MetadataMaxAgeSeconds] != "300" {
			t.Errorf("step-up metadata %v; want aal 2 within 300 s, as the vault said", md)
		}
		got, err = h.reveal(h.customerAt("cus_alice", accesstoken.AAL2), id, "[CARD_1]", "self_service")
		if err != nil || got.GetValue() != c.card || got.GetMasked() {
			t.Fatalf("own card after a step-up: %v, %v", got, err)
		}
		// A purpose the customer has no rule for: the masked view.
		got, err = h.reveal(alice, id, "[PERSON_1]", "crm_sync")
		if err != nil || !got.GetMasked() || strings.Contains(got.GetValue(), "Quentin") {
			t.Fatalf("own name for crm_sync: %v, %v", got, err)
		}
		_, err = h.reveal(alice, id, "[EMAIL_7]", "self_service")
		wantStatus(t, err, codes.NotFound, reasons.PlaceholderNotFound)

		for _, relayed := range st.relayed {
			if !relayed {
				t.Error("a reveal reached the vault without the customer's token")
			}
		}
		var reveals []string
		for _, a := range h.auditActions() {
			if strings.HasPrefix(a, "conversation.reveal ") {
				reveals = append(reveals, a)
			}
		}
		if len(reveals) != 4 || !strings.Contains(reveals[0], id+"/EMAIL_1") {
			t.Errorf("reveal audit events %v; want 4, naming the conversation and placeholder", reveals)
		}
		h.noCanaries(t, c.values()...)
	})
}

// TestCustomerCannotRevealAnothersPlaceholder: another customer's
// conversation does not exist for bob, whatever placeholder he names, and
// the vault is not asked.
func TestCustomerCannotRevealAnothersPlaceholder(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		st := h.reveals()
		c := newCanaries(t)
		alice := h.customer("cus_alice")
		bob := h.customerAt("cus_bob", accesstoken.AAL2)
		id := h.open(alice)
		if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message()}); err != nil {
			t.Fatal(err)
		}
		for _, ph := range []string{"[EMAIL_1]", "[CARD_1]", "[EMAIL_9]"} {
			got, err := h.reveal(bob, id, ph, "self_service")
			wantStatus(t, err, codes.NotFound, reasons.ConversationNotFound)
			if got.GetValue() != "" {
				t.Errorf("bob got %q for alice's %s", got.GetValue(), ph)
			}
		}
		if n := len(st.detokenizeCalls()) + len(st.maskedCalls()); n != 0 {
			t.Errorf("the vault was asked %d times for another customer's placeholders", n)
		}
	})
}

// TestAgentSeesMaskedByDefault: a support agent gets the masked view of
// what the customer wrote; in full only a delivery address, only in a
// conversation assigned to them, and only because the vault's policy has
// a rule for support agents with that purpose. The agent's token is
// relayed: conversation's own order-support grant (a workload rule) never
// reveals a value to an agent.
func TestAgentSeesMaskedByDefault(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		h.reveals()
		c := newCanaries(t)
		addr := canaryAddress(c)
		alice := h.customer("cus_alice")
		agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
		other := h.staff("stf_other", accesstoken.RoleSupportAgent)
		id := h.handedOff(alice, c.message()+" Please deliver to "+addr+" instead.")

		for _, tc := range []struct{ ph, purpose string }{{"[EMAIL_1]", "order_support"}, {"[CARD_1]", "order_support"}, {"[PERSON_1]", "delivery"}, {"[ADDRESS_1]", "delivery"}} {
			got, err := h.reveal(agent, id, tc.ph, tc.purpose)
			if err != nil || !got.GetMasked() || got.GetValue() == "" {
				t.Fatalf("unassigned agent, %s for %s: %v, %v; want the masked view", tc.ph, tc.purpose, got, err)
			}
		}
		if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id}); err != nil {
			t.Fatal(err)
		}
		got, err := h.reveal(agent, id, "[ADDRESS_1]", "delivery")
		if err != nil || got.GetMasked() || got.GetValue() != addr {
			t.Fatalf("assigned agent, address for delivery: %v, %v; want it in full", got, err)
		}
		got, err = h.reveal(agent, id, "[EMAIL_1]", "order_support")
		if err != nil || !got.GetMasked() || got.GetValue() == c.email {
			t.Fatalf("assigned agent, e-mail for order support: %v, %v; want the masked view", got, err)
		}
		// Another agent, who does not hold the conversation: masked.
		got, err = h.reveal(other, id, "[ADDRESS_1]", "delivery")
		if err != nil || !got.GetMasked() || got.GetValue() == addr {
			t.Fatalf("another agent, address: %v, %v; want the masked view", got, err)
		}
		// Staff without the role read no conversation.
		_, err = h.reveal(h.staff("stf_new"), id, "[ADDRESS_1]", "delivery")
		wantStatus(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)
		h.noCanaries(t, append(c.values(), addr)...)
	})
}

// TestReidentifiedView: the customer reads their transcript with each
// placeholder replaced by what the vault shows them, one Detokenize call
// per page (per placeholder type only when the vault asks for a step-up,
// so that the rest is still shown), masked where only that is allowed;
// PostMessage's reply and WatchConversation the same. Staff asking for it
// are refused; a vault that cannot be reached leaves placeholders, marked.
func TestReidentifiedView(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		st := h.reveals()
		c := newCanaries(t)
		alice := h.customerAt("cus_alice", accesstoken.AAL2)
		id := h.open(alice)
		post, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message(),
			View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		if err != nil {
			t.Fatal(err)
		}
		// Byte-exact: the stand-in keeps values as typed (the real vault
		// normalises some, ADR 0014).
		if m := post.GetMessage(); m.GetText() != c.message() || m.GetView() != conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED {
			t.Errorf("own message re-identified: %q (%v); want %q", m.GetText(), m.GetView(), c.message())
		}
		if r := post.GetReply(); strings.Contains(r.GetText(), "[EMAIL_1]") || r.GetView() != conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED {
			t.Errorf("reply re-identified: %q (%v)", r.GetText(), r.GetView())
		}
		if n := len(st.detokenizeCalls()); n != 1 {
			t.Errorf("%d Detokenize calls for one post, want 1", n)
		}

		before := len(st.detokenizeCalls())
		list, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		if err != nil {
			t.Fatal(err)
		}
		if calls := st.detokenizeCalls()[before:]; len(calls) != 1 || len(calls[0]) != 3 || len(st.maskedCalls()) != 0 {
			t.Errorf("Detokenize calls %v and %d masked for one page at aal2; want one call with the 3 tokens", calls, len(st.maskedCalls()))
		}
		if got := list.GetMessages()[0].GetText(); got != c.message() {
			t.Errorf("listed at aal2: %q", got)
		}

		// At aal1 the card needs a step-up: the e-mail and name are shown,
		// the card masked.
		aal1 := h.customerAt("cus_alice", accesstoken.AAL1)
		before = len(st.detokenizeCalls())
		list, err = h.client.ListMessages(aal1, &conversationv1.ListMessagesRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		if err != nil {
			t.Fatal(err)
		}
		text := list.GetMessages()[0].GetText()
		if !strings.Contains(text, c.email) || !strings.Contains(text, c.name) || strings.Contains(text, c.card) ||
			!strings.Contains(text, "•••• "+c.cardDigits[12:]) {
			t.Errorf("at aal1: %q; want the e-mail and name, the card masked", text)
		}
		if calls := len(st.detokenizeCalls()) - before; calls > 4 {
			t.Errorf("%d Detokenize calls for one page; want at most one and one per placeholder type", calls)
		}

		// Watch, re-identified.
		wctx, cancel := context.WithTimeout(alice, 10*time.Second)
		defer cancel()
		stream, err := h.client.WatchConversation(wctx, &conversationv1.WatchConversationRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		if err != nil {
			t.Fatal(err)
		}
		first, err := stream.Recv()
		if err != nil || first.GetMessage().GetText() != c.message() {
			t.Fatalf("watched: %v, %v", first, err)
		}
		cancel()

		// The vault down: placeholders, marked as such, not an error.
		h.vault.setDown(true)
		list, err = h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		h.vault.setDown(false)
		if err != nil {
			t.Fatal(err)
		}
		if m := list.GetMessages()[0]; !strings.Contains(m.GetText(), "[EMAIL_1]") || m.GetView() != conversationv1.MessageView_MESSAGE_VIEW_PLACEHOLDERS {
			t.Errorf("vault down: %q (%v); want placeholders, marked", m.GetText(), m.GetView())
		}
		h.noCanaries(t, c.values()...)
	})
}

// TestStaffCannotRequestReidentifiedView: a support agent reads
// placeholders and reveals one value at a time; a re-identified transcript
// is the customer's only, on every call that offers it.
func TestStaffCannotRequestReidentifiedView(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		st := h.reveals()
		c := newCanaries(t)
		alice := h.customer("cus_alice")
		agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
		id := h.handedOff(alice, c.message())
		if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id}); err != nil {
			t.Fatal(err)
		}
		list, err := h.client.ListMessages(agent, &conversationv1.ListMessagesRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		wantStatus(t, err, codes.PermissionDenied, reasons.ReidentifiedCustomersOnly)
		if len(list.GetMessages()) != 0 {
			t.Errorf("refused, yet messages: %v", list)
		}
		stream, err := h.client.WatchConversation(agent, &conversationv1.WatchConversationRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		if err == nil {
			var m *conversationv1.WatchConversationResponse
			m, err = stream.Recv()
			if m != nil {
				t.Errorf("watched re-identified by staff: %v", m)
			}
		}
		wantStatus(t, err, codes.PermissionDenied, reasons.ReidentifiedCustomersOnly)
		// Another customer neither.
		_, err = h.client.ListMessages(h.customer("cus_bob"), &conversationv1.ListMessagesRequest{ConversationId: id, View: conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED})
		wantStatus(t, err, codes.NotFound, reasons.ConversationNotFound)
		if n := len(st.detokenizeCalls()) + len(st.maskedCalls()); n != 0 {
			t.Errorf("the vault was asked %d times", n)
		}
		// Placeholders remain the agent's view.
		if list, err := h.client.ListMessages(agent, &conversationv1.ListMessagesRequest{ConversationId: id}); err != nil ||
			!slices.ContainsFunc(list.GetMessages(), func(m *conversationv1.Message) bool { return strings.Contains(m.GetText(), "[EMAIL_1]") }) {
			t.Errorf("agent's placeholder view: %v, %v", list, err)
		}
	})
}

func errorInfoOf(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

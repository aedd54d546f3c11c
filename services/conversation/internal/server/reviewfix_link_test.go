package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
)

// TestLinkCodeNeedsRecentSecondFactor: a link code hands a chat to the
// account, so a password alone (aal1) or a second factor used more than
// ten minutes ago is asked to step up; a fresh aal2 gets one.
func TestLinkCodeNeedsRecentSecondFactor(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	req := &conversationv1.CreateChannelLinkCodeRequest{Channel: whatsApp}
	_, err := h.client.CreateChannelLinkCode(h.customerAt("cus_alice", accesstoken.AAL1), req)
	wantStatus(t, err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
	stale := h.tokenAt(accesstoken.Claims{Subject: "cus_alice", Kind: accesstoken.KindCustomer, Tenant: "shop", AAL: accesstoken.AAL2,
		AMR: []string{"pwd", "otp"}}, time.Now().Add(-11*time.Minute))
	_, err = h.client.CreateChannelLinkCode(stale, req)
	wantStatus(t, err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
	h.linkCode(h.customerAt("cus_alice", accesstoken.AAL2), whatsApp)
}

// TestLinkNeedsConfirmationFromTheSameChat: "LINK <code>" with a valid code
// links nothing: the chat's user is told a shop account asked to link it
// and warned not to confirm a code someone else sent. A YES from another
// number is an ordinary message of that number; the YES from the same chat
// links it, and the account holder finds a security notice in their newest
// web conversation. A YES after the code's lifetime links nothing.
func TestLinkNeedsConfirmationFromTheSameChat(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customerAt("cus_alice", accesstoken.AAL2)
	web := h.open(alice)
	victim, other := waNumber(t), waNumber(t)
	h.ingest("shop", whatsApp, victim, wamid(t, victim), "LINK "+h.linkCode(alice, whatsApp))
	sent := h.channels.waitDeliveries(t, 1)
	if p := sent[0].Text; !strings.HasPrefix(p, confirmPrefix) || !strings.Contains(p, "someone else sent you the code") || sent[0].To != victim {
		t.Fatalf("prompt %+v", sent[0])
	}
	if ident, _ := h.identityOf(victim); ident.linked {
		t.Fatalf("LINK alone linked the chat: %+v", ident)
	}
	if yes := h.ingest("shop", whatsApp, other, wamid(t, other), "YES"); yes.GetMessageId() == "" {
		t.Errorf("another number's YES was not an ordinary message: %v", yes)
	}
	h.channels.waitDeliveries(t, 2)
	if ident, _ := h.identityOf(victim); ident.linked {
		t.Fatalf("another number's YES linked the chat: %+v", ident)
	}
	if ident, _ := h.identityOf(other); ident.linked {
		t.Fatalf("another number's YES linked it: %+v", ident)
	}
	h.ingest("shop", whatsApp, victim, wamid(t, victim), "Oui!")
	sent = h.channels.waitDeliveries(t, 3)
	if ident, _ := h.identityOf(victim); !ident.linked || ident.subject != "cus_alice" || sent[2].Text != linkedNotice {
		t.Fatalf("after the confirmation: %+v, %q", ident, sent[2].Text)
	}
	if acts := h.auditActions(); !slices.ContainsFunc(acts, func(a string) bool { return strings.HasPrefix(a, string(conversation.ActionChannelLink)+" cus_alice ") }) {
		t.Errorf("audit events %v have no channel link", acts)
	}
	list, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: web})
	if err != nil {
		t.Fatal(err)
	}
	if ms := list.GetMessages(); len(ms) != 1 || !strings.HasPrefix(ms[0].GetText(), "Security notice: a WhatsApp chat was linked to your account.") {
		t.Errorf("the account's web conversation holds %v, want the security notice", ms)
	}

	late := waNumber(t)
	h.ingest("shop", whatsApp, late, wamid(t, late), "LINK "+h.linkCode(alice, whatsApp))
	h.channels.waitDeliveries(t, 4)
	h.channels.advance(10*time.Minute + time.Second)
	h.ingest("shop", whatsApp, late, wamid(t, late), "yes")
	if ident, _ := h.identityOf(late); ident.linked {
		t.Errorf("a YES after the code's lifetime linked the chat: %+v", ident)
	}
}

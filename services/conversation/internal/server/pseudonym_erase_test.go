package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
)

// pseudonymOf is the stranger subject the platform user's id was first
// tokenised under (the stand-in vault's record).
func (h *harness) pseudonymOf(user string) string {
	h.t.Helper()
	for _, r := range h.vault.requests() {
		if r.GetScope() == conversation.ChannelScope && len(r.GetItems()) == 1 && r.GetItems()[0].GetValue() == user &&
			strings.HasPrefix(r.GetSubject(), "chu_") {
			return r.GetSubject()
		}
	}
	h.t.Fatalf("the platform user was never tokenised under a pseudonym")
	return ""
}

// erasedSubjects are the (tenant, subject, request) of the vault erasures
// the service asked for.
func (h *harness) erasedSubjects() []string {
	h.vault.mu.Lock()
	defer h.vault.mu.Unlock()
	var out []string
	for _, r := range h.vault.erased {
		out = append(out, r.GetTenant()+" "+r.GetSubject()+" "+r.GetRequestId())
	}
	return out
}

func (h *harness) previousSubject(user string) string {
	h.t.Helper()
	ident, ok := h.identityOf(user)
	if !ok {
		h.t.Fatal("no channel identity")
	}
	var prev *string
	if err := h.db.QueryRowContext(context.Background(), `SELECT previous_subject FROM channel_identities WHERE identity_id = $1`,
		ident.id).Scan(&prev); err != nil {
		h.t.Fatal(err)
	}
	if prev == nil {
		return ""
	}
	return *prev
}

// TestErasureErasesLinkedChannelPseudonyms: what a WhatsApp user sent
// before linking their number, and the number itself, were tokenised
// under a stranger pseudonym ("chu_…"); a Messenger user who links first
// had their id tokenised under one too. Erasing the account asks the
// token vault (over mTLS, as the conversation workload) to erase both
// pseudonyms, under the request's id, before anything is deleted here: a
// vault that fails the call fails the erasure (retryable) and leaves the
// links for the retry. Another stranger's pseudonym is not touched.
func TestErasureErasesLinkedChannelPseudonyms(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		alice := h.customerAt("cus_alice", accesstoken.AAL2) // link codes take aal2

		// WhatsApp: a stranger's chat with a value in it, then the link.
		num := waNumber(t)
		h.ingest("shop", whatsApp, num, wamid(t, num), "Hi, my e-mail is wa.stranger@example.com")
		h.channels.waitDeliveries(t, 1)
		waPseudonym := h.pseudonymOf(num)
		h.ingest("shop", whatsApp, num, wamid(t, num), "LINK "+h.linkCode(alice, whatsApp))
		h.ingest("shop", whatsApp, num, wamid(t, num), "YES") // the confirmation
		h.channels.waitDeliveries(t, 3)
		if ident, _ := h.identityOf(num); !ident.linked || ident.subject != "cus_alice" {
			t.Fatalf("the WhatsApp number is not linked: %+v", ident)
		}
		if got := h.previousSubject(num); got != waPseudonym {
			t.Errorf("previous subject %q, want the stranger's pseudonym", got)
		}

		// Messenger: the link is the first message (no stranger chat).
		psid := "2" + waNumber(t)[3:] + "4567"
		h.ingest("shop", messenger, psid, "m_"+psid+"a", "LINK "+h.linkCode(alice, messenger))
		h.ingest("shop", messenger, psid, "m_"+psid+"b", "yes")
		h.channels.waitDeliveries(t, 5)
		msPseudonym := h.pseudonymOf(psid)
		if ident, _ := h.identityOf(psid); !ident.linked || ident.subject != "cus_alice" {
			t.Fatalf("the Messenger user is not linked: %+v", ident)
		}

		// Someone else, still a stranger.
		other := waNumber(t)
		h.ingest("shop", whatsApp, other, wamid(t, other), "What are your opening hours?")
		h.channels.waitDeliveries(t, 6)
		otherPseudonym := h.pseudonymOf(other)

		p := h.privacy("consent")
		// The export does not reach the pseudonyms: whoever linked the
		// chat may not be the one who wrote before the link (the
		// pseudonyms' values stay out of the account's export).
		ex, err := p.Export(ctx, &privacyv1.ExportRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_pseudo_export"})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range ex.GetItems() {
			if strings.Contains(it.String(), waPseudonym) || strings.Contains(it.String(), msPseudonym) {
				t.Errorf("the export names a pseudonym: %v", it)
			}
		}

		h.vault.mu.Lock()
		h.vault.eraseDown = true
		h.vault.mu.Unlock()
		_, err = p.Erase(ctx, &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_pseudo"})
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("erasure with the vault down: %v; want Unavailable", err)
		}
		if ident, ok := h.identityOf(num); !ok || !ident.linked {
			t.Fatal("a failed erasure deleted the link the retry needs")
		}
		h.vault.mu.Lock()
		h.vault.eraseDown = false
		h.vault.mu.Unlock()

		er, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_pseudo"})
		if err != nil {
			t.Fatal(err)
		}
		if n := er.GetEvidence().GetCounts()["channel_pseudonyms_erased"]; n != 2 {
			t.Errorf("evidence %v, want 2 channel pseudonyms erased", er.GetEvidence())
		}
		got := h.erasedSubjects()
		for _, want := range []string{"shop " + waPseudonym + " dsr_pseudo", "shop " + msPseudonym + " dsr_pseudo"} {
			if !slices.Contains(got, want) {
				t.Errorf("vault erasures %q, want %q", got, want)
			}
		}
		for _, e := range got {
			if strings.Contains(e, otherPseudonym) || strings.Contains(e, "cus_alice") {
				t.Errorf("the service asked the vault to erase %q", e)
			}
		}
		if _, ok := h.identityOf(num); ok {
			t.Error("the linked WhatsApp identity outlived the erasure")
		}
		if _, ok := h.identityOf(other); !ok {
			t.Error("the other stranger's identity was deleted")
		}
		// Repeated: the links are gone, nothing more is asked of the vault.
		again, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_pseudo"})
		if err != nil || !again.GetEvidence().GetAlreadyDone() {
			t.Fatalf("erasure repeated: %v %v", again, err)
		}
		if n := len(h.erasedSubjects()); n != len(got) {
			t.Errorf("%d vault erasures after the repeat, want %d", n, len(got))
		}
	})
}

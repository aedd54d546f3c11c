package server_test

import (
	"net/http"
	"testing"
	"time"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// TestOptOutSentBeforeWithdrawal (ADR 0015, "Opt-outs first"): a customer
// HubSpot has withdraws marketing and crm_sync together while HubSpot is
// down and a change of theirs is queued. When HubSpot is back it gets the
// marketing opt-out and nothing else: the queued change is cancelled
// (CONSENT_WITHDRAWN), and a later change is refused (held, not sent),
// however long the queue runs. A second customer who withdrew crm_sync
// before marketing gets the opt-out too. Seen failing (the opt-out never
// set) with opt-outs gated by crm_sync as before.
func TestOptOutSentBeforeWithdrawal(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_optout01", true)
		later := h.customer("sub_optout02", true)
		for _, x := range []customer{c, later} {
			h.consent.set(x.subject, "marketing", true)
			h.delivered(x)
		}
		h.followed()
		optOut := func(x customer) string { r, _ := h.hubspot.Record(x.subject); return r["sotto_marketing_opt_out"] }

		down := crmtest.Fault{Status: http.StatusServiceUnavailable}
		h.hubspot.Fail(down, down, down)
		newLast := h.vault.tokenize(c.subject, "name", "Quimby")
		change := byConnector(h.record(c, map[string]string{"last_name": newLast}))["hubspot"]
		h.until(time.Millisecond, "the change waits for a retry", func() bool { return h.delivery(change).GetAttempts() >= 1 })
		seen := len(h.hubspot.Seen(c.subject))

		h.consent.set(c.subject, "marketing", false)
		h.consent.set(c.subject, "crm_sync", false)
		h.caughtUp()
		if d := h.delivery(change); d.GetState() != crmsyncv1.DeliveryState_DELIVERY_STATE_CANCELLED || d.GetReason() != reasons.ConsentWithdrawn {
			t.Fatalf("the queued change after crm_sync's withdrawal: %v", d)
		}
		h.until(time.Second, "HubSpot's opt-out property set", func() bool { return optOut(c) == "true" })

		// Nothing else, then or later: a change after the withdrawal is
		// refused, and the queue runs on.
		if resp := h.record(c, map[string]string{"last_name": newLast}); len(resp.GetDeliveries()) != 0 {
			t.Fatalf("a change after crm_sync's withdrawal queued %v", resp.GetDeliveries())
		}
		h.clock.Advance(time.Hour)
		time.Sleep(100 * time.Millisecond)
		got := h.hubspot.Seen(c.subject)[seen:]
		if len(got) != 1 || len(got[0]) != 2 || got[0]["sotto_marketing_opt_out"] != "true" || got[0]["sotto_subject"] != c.subject {
			t.Fatalf("HubSpot got %v after the withdrawals: want the opt-out only", got)
		}
		if r, _ := h.hubspot.Record(c.subject); r["lastname"] != c.tLast {
			t.Fatalf("HubSpot's last name %q: the cancelled change reached it", r["lastname"])
		}

		// crm_sync withdrawn first, marketing after: the opt-out still goes.
		h.consent.set(later.subject, "crm_sync", false)
		h.consent.set(later.subject, "marketing", false)
		h.caughtUp()
		h.until(time.Second, "the second customer's opt-out set", func() bool { return optOut(later) == "true" })
		// A grant is not an opt-out: without crm_sync it is not sent.
		h.consent.set(later.subject, "marketing", true)
		h.caughtUp()
		h.clock.Advance(time.Hour)
		time.Sleep(100 * time.Millisecond)
		if got := optOut(later); got != "true" {
			t.Fatalf("a marketing grant without crm_sync reached HubSpot: %q", got)
		}
	})
}

package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// TestConsentChangeBecomesCRMProperty: a marketing withdrawal, from the
// consent change feed, sets the shop's mapped opt-out property in the CRM
// that has the customer (HubSpot; the Salesforce mapping maps no consent),
// and a grant sets it back. Controls: a customer the CRM does not have gets
// no record from a consent change; without crm_sync (the purpose the
// update is sent under) nothing is queued; the same consent record,
// redelivered by the feed, queues nothing twice.
func TestConsentChangeBecomesCRMProperty(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		c := h.customer("sub_cstch1", true)
		stranger := h.customer("sub_cstch2", true)
		for _, d := range h.record(c, nil).GetDeliveries() {
			h.until(time.Second, "her first change delivered", func() bool {
				return h.state(d.GetDeliveryId()) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED
			})
		}
		h.follow()
		h.until(time.Millisecond, "the follower reached the feed", func() bool {
			cur, err := h.app.Store.FeedCursor(ctx)
			return err == nil && cur != ""
		})
		optOut := func() string { r, _ := h.hubspot.Record(c.subject); return r["sotto_marketing_opt_out"] }

		h.consent.set(c.subject, "marketing", false)
		h.until(time.Second, "HubSpot's opt-out property set", func() bool { return optOut() == "true" })
		if n, err := h.app.Delivery.ConsentChanged(ctx, stranger.subject, "marketing", false, "rec_stranger"); err != nil || n != 0 {
			t.Fatalf("a consent change of a customer no CRM has queued %d (%v)", n, err)
		}
		if r, _ := h.sf.Record(c.subject); len(r) == 0 || r["HasOptedOutOfEmail"] != "" {
			t.Fatalf("Salesforce, whose mapping maps no consent: %v", r)
		}
		h.consent.set(c.subject, "marketing", true)
		h.until(time.Second, "HubSpot's opt-out property cleared", func() bool { return optOut() == "false" })

		// Redelivered by the feed (a crash before its cursor was kept):
		// the same record queues nothing.
		if n, err := h.app.Delivery.ConsentChanged(ctx, c.subject, "marketing", true, "rec_2"); err != nil || n != 0 {
			t.Fatalf("a redelivered change queued %d (%v)", n, err)
		}

		// Without crm_sync a grant is not queued; an opt-out still is
		// (ADR 0015, "Opt-outs first": TestOptOutSentBeforeWithdrawal).
		h.consent.set(c.subject, "crm_sync", false)
		if n, err := h.app.Delivery.ConsentChanged(ctx, c.subject, "marketing", true, "rec_direct_grant"); err != nil || n != 0 {
			t.Fatalf("without crm_sync, a grant queued %d (%v)", n, err)
		}
		if n, err := h.app.Delivery.ConsentChanged(ctx, c.subject, "marketing", false, "rec_direct"); err != nil || n != 1 {
			t.Fatalf("without crm_sync, an opt-out queued %d (%v), want 1", n, err)
		}
	})
}

// TestStaleConsentStateIsNotSent: a consent state queued before a later
// change of that consent (a grant whose delivery waited while the customer
// withdrew) is dropped at delivery, so the CRM keeps the opt-out; seen
// failing (the property flipped back to "false") without the delivery's
// check of StateOf (security review). It is cancelled CONSENT_STATE_STALE,
// not CONSENT_WITHDRAWN (seen failing with the old reason).
func TestStaleConsentStateIsNotSent(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		c := h.customer("sub_cststale", true)
		for _, d := range h.record(c, nil).GetDeliveries() {
			h.until(time.Second, "her first change delivered", func() bool {
				return h.state(d.GetDeliveryId()) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED
			})
		}
		optOut := func() string { r, _ := h.hubspot.Record(c.subject); return r["sotto_marketing_opt_out"] }
		h.consent.set(c.subject, "marketing", false)
		if n, err := h.app.Delivery.ConsentChanged(ctx, c.subject, "marketing", false, "rec_withdrawn"); err != nil || n != 1 {
			t.Fatalf("the withdrawal queued %d (%v)", n, err)
		}
		h.until(time.Second, "HubSpot's opt-out property set", func() bool { return optOut() == "true" })

		// The grant that preceded the withdrawal, delivered only now.
		if n, err := h.app.Delivery.ConsentChanged(ctx, c.subject, "marketing", true, "rec_granted_before"); err != nil || n != 1 {
			t.Fatalf("the stale grant queued %d (%v)", n, err)
		}
		sum := sha256.Sum256([]byte("crmsync/consent-change\x00rec_granted_before\x00marketing"))
		ds, err := h.app.Store.ByEvent(ctx, h.app.Store.DB(), "shop", "cst_"+hex.EncodeToString(sum[:20]))
		if err != nil || len(ds) != 1 {
			t.Fatalf("the stale grant's delivery: %v %v", ds, err)
		}
		h.until(time.Second, "the stale grant cancelled", func() bool {
			return h.state(ds[0].ID) == crmsyncv1.DeliveryState_DELIVERY_STATE_CANCELLED
		})
		// Its own reason: the customer withdrew nothing it was sent under.
		if d := h.delivery(ds[0].ID); d.GetReason() != reasons.ConsentStateStale {
			t.Fatalf("the stale grant's reason %q, want %s", d.GetReason(), reasons.ConsentStateStale)
		}
		if got := optOut(); got != "true" {
			t.Fatalf("HubSpot's opt-out property after a stale grant: %q, want true", got)
		}
	})
}

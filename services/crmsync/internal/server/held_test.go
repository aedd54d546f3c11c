package server_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/crmsync/internal/config"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
	"github.com/sottohq/sotto/services/crmsync/migrations"
)

// held counts the customer's held events (crm_held_events rows).
func (h *harness) held(subject string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRow(`SELECT COUNT(*) FROM crm_held_events WHERE subject = $1`, subject).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// followed starts the consent feed's follower and waits until it has
// reached the feed.
func (h *harness) followed() {
	h.t.Helper()
	h.follow()
	h.caughtUp()
}

// caughtUp waits (real time: the follower does not run on the runner's
// clock) until the follower has acted on every change of the feed.
func (h *harness) caughtUp() {
	h.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		h.consent.mu.Lock()
		want := strconv.Itoa(len(h.consent.changes))
		h.consent.mu.Unlock()
		if cur, err := h.app.Store.FeedCursor(context.Background()); err == nil && cur == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatal("the follower never caught up with the feed")
		}
	}
}

// releasesSettled: no release job is waiting or running.
func (h *harness) releasesSettled() bool {
	var n int
	if err := h.db.QueryRow(`SELECT COUNT(*) FROM jobs WHERE kind = 'crmsync.release' AND state NOT IN ('completed', 'dead')`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n == 0
}

// TestHeldEventReleasedOnGrant: a customer's sign-up recorded before they
// allowed crm_sync queues nothing and reaches no CRM; it is held, sealed
// (no token in the database files), and a newer refused event (the
// customer's state) replaces it, so a field removed meanwhile is never sent. When the customer grants crm_sync, the consent feed's
// grant releases it: both CRMs get the customer with exactly the mapped
// fields in the mapped forms, the newer event's, once; the
// held event is gone. Seen failing (never in HubSpot) with the release on
// a grant removed from ConsentChanged.
func TestHeldEventReleasedOnGrant(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_held01", false)
		h.followed()
		resp := h.record(c, nil)
		if len(resp.GetDeliveries()) != 0 || len(resp.GetSkipped()) != 2 || resp.GetSkipped()[0].GetReason() != reasons.ConsentDenied {
			t.Fatalf("the sign-up without crm_sync: %v", resp)
		}
		if n := h.held(c.subject); n != 1 {
			t.Fatalf("%d held events, want 1", n)
		}
		// A newer refused event, the customer's state now: a new last
		// name, and no first name (she removed it).
		newLast := h.vault.tokenize(c.subject, "name", "Quimby")
		if resp := h.record(c, map[string]string{"email": c.tEmail, "last_name": newLast, "phone": c.tPhone}); len(resp.GetDeliveries()) != 0 {
			t.Fatalf("the update without crm_sync: %v", resp)
		}
		if n := h.held(c.subject); n != 1 {
			t.Fatalf("%d held events after a newer one, want 1", n)
		}
		stored := storetest.StoredBytes(t, h.db)
		for _, canary := range []string{c.email, c.first, c.last, c.phone, c.tEmail, c.tFirst, c.tLast, c.tPhone, newLast} {
			if bytes.Contains(stored, []byte(canary)) {
				t.Fatalf("the database holds %q while held", canary)
			}
		}
		if n := h.hubspot.Counts().Requests + h.sf.Counts().Requests; n != 0 {
			t.Fatalf("%d requests reached the CRMs before the grant", n)
		}

		h.consent.set(c.subject, "crm_sync", true)
		h.until(time.Second, "both CRMs have her", func() bool {
			_, hs := h.hubspot.Record(c.subject)
			_, sf := h.sf.Record(c.subject)
			return hs && sf
		})
		hs, _ := h.hubspot.Record(c.subject)
		// The newer event replaced the held one: the removed first name
		// never reaches the CRM (seen failing with the events merged).
		want := map[string]string{"sotto_subject": c.subject, "email": c.email, "lastname": newLast}
		if len(hs) != len(want) {
			t.Fatalf("hubspot holds %v, want %v", hs, want)
		}
		for k, v := range want {
			if hs[k] != v {
				t.Fatalf("hubspot %s = %q, want %q", k, hs[k], v)
			}
		}
		if sf, _ := h.sf.Record(c.subject); len(sf) != 1 || sf["Email"] != c.tEmail {
			t.Fatalf("salesforce holds %v, want only Email as the token", sf)
		}
		h.until(time.Second, "the release settled and both delivered", func() bool {
			ds, err := h.app.Store.OfSubject(context.Background(), h.db, "shop", c.subject)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.State != storage.Delivered {
					return false
				}
			}
			return len(ds) == 2 && h.releasesSettled()
		})
		if n := h.held(c.subject); n != 0 {
			t.Fatalf("%d held events after the release", n)
		}
		// The feed's redelivery of the grant, or another grant, sends
		// nothing more.
		if _, err := h.app.Delivery.ConsentChanged(context.Background(), c.subject, "crm_sync", true, "rec_again"); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Minute)
		time.Sleep(50 * time.Millisecond)
		if got := h.hubspot.Counts(); got.Creates != 1 || got.Updates != 0 || len(h.hubspot.Seen(c.subject)) != 1 {
			t.Fatalf("HubSpot counts %+v: want her created once and nothing more; seen %v", got, h.hubspot.Seen(c.subject))
		}
	})
}

// TestHeldEventWithdrawnBeforeRelease: a customer who grants crm_sync and
// withdraws it before the release has run is never sent, and their held
// event is deleted by the withdrawal. Seen failing (the held event kept)
// with the deletion removed from Withdrawn.
func TestHeldEventWithdrawnBeforeRelease(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_held02", false)
		h.followed()
		h.record(c, nil)
		if n := h.held(c.subject); n != 1 {
			t.Fatalf("%d held events, want 1", n)
		}
		// The runner's clock stands still while the follower acts on both,
		// so the release job (if it is not already done) runs after the
		// withdrawal.
		h.consent.set(c.subject, "crm_sync", true)
		h.consent.set(c.subject, "crm_sync", false)
		h.caughtUp()
		if n := h.held(c.subject); n != 0 {
			t.Fatalf("%d held events after the withdrawal", n)
		}
		h.until(time.Second, "the release settled", h.releasesSettled)
		h.clock.Advance(time.Hour)
		time.Sleep(50 * time.Millisecond)
		if n := h.hubspot.Counts().Requests + h.sf.Counts().Requests; n != 0 {
			t.Fatalf("%d requests reached the CRMs for a customer who withdrew", n)
		}
	})
}

// TestErasureDeletesTheHeldEvent: a customer's erasure deletes their held
// event (the row is gone, the evidence counts it), and a later grant
// sends nothing. Seen failing (the row kept) with the erasure's deletion
// of it removed.
func TestErasureDeletesTheHeldEvent(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_held03", false)
		h.followed()
		h.record(c, nil)
		if n := h.held(c.subject); n != 1 {
			t.Fatalf("%d held events, want 1", n)
		}
		resp, err := h.privacy.Erase(context.Background(), &privacyv1.EraseRequest{Subject: shopSubject(c.subject), RequestId: "dsr-erase-held"})
		if err != nil {
			t.Fatal(err)
		}
		if n := h.held(c.subject); n != 0 {
			t.Fatalf("%d held events after the erasure", n)
		}
		if ev := resp.GetEvidence(); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetCounts()["held_events_erased"] != 1 {
			t.Fatalf("evidence %v", ev)
		}
		h.consent.set(c.subject, "crm_sync", true)
		h.caughtUp()
		h.until(time.Second, "the release settled", h.releasesSettled)
		h.clock.Advance(time.Hour)
		time.Sleep(50 * time.Millisecond)
		if n := h.hubspot.Counts().Requests + h.sf.Counts().Requests; n != 0 {
			t.Fatalf("%d requests reached the CRMs for an erased customer", n)
		}
	})
}

// TestErasureLeavesNoCopyInSQLite: after an erasure neither SQLite's
// database file nor its -wal holds the erased customer's held event (its
// event id, its wrapped data key): they are in the files before it, so the
// search is not blind. Fails without the WAL scrub after the erasure.
func TestErasureLeavesNoCopyInSQLite(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t, migrations.FS))
	ctx := context.Background()
	c := h.customer("sub_held_wal", false)
	h.followed()
	h.record(c, nil)
	var eventID, wrapped string
	if err := h.db.QueryRowContext(ctx, `SELECT event_id, wrapped_key FROM crm_held_events WHERE subject = $1`, c.subject).Scan(&eventID, &wrapped); err != nil {
		t.Fatal(err)
	}
	canaries := map[string][]byte{"event id": []byte(eventID), "wrapped key": []byte(wrapped)}
	before := storetest.StoredBytes(t, h.db) // the database file and its -wal
	for what, s := range canaries {
		if !bytes.Contains(before, s) {
			t.Fatalf("the held event's %s is not in the database files before the erasure: the search is blind", what)
		}
	}
	resp, err := h.privacy.Erase(ctx, &privacyv1.EraseRequest{Subject: shopSubject(c.subject), RequestId: "dsr-erase-wal"})
	if err != nil || resp.GetEvidence().GetCounts()["held_events_erased"] != 1 {
		t.Fatalf("erase: %v %v", resp, err)
	}
	after := storetest.StoredBytes(t, h.db)
	for what, s := range canaries {
		if n := bytes.Count(after, s); n != 0 {
			t.Errorf("the erased held event's %s is in the database files (%d hits)", what, n)
		}
	}
}

// TestHeldEventsExpire: a refused event is held for a grant only until
// CRMSYNC_HELD_TTL has passed since it was last refreshed; the reconcile
// deletes older ones and keeps younger ones. Seen failing with the expiry
// left out of Reconcile.
func TestHeldEventsExpire(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		old, young := h.customer("sub_held_old", false), h.customer("sub_held_young", false)
		h.followed()
		h.record(old, nil)
		h.clock.Advance(45 * time.Minute)
		h.record(young, nil)
		if h.held(old.subject) != 1 || h.held(young.subject) != 1 {
			t.Fatalf("held before the reconcile: %d and %d, want 1 and 1", h.held(old.subject), h.held(young.subject))
		}
		h.clock.Advance(30 * time.Minute)
		if err := h.app.Delivery.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := h.held(old.subject); n != 0 {
			t.Errorf("%d held events for the customer refused 75 min ago (TTL 1 h)", n)
		}
		if n := h.held(young.subject); n != 1 {
			t.Errorf("%d held events for the customer refused 30 min ago (TTL 1 h), want 1", n)
		}
	}, func(c *config.Config) { c.HeldTTL = time.Hour })
}

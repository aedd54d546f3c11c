package delivery_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
)

// TestBatchDropsACustomerErasedWhileItIsPrepared: an erasure's marker
// placed after the batch's first check of a delivery (here while consent
// is checked again, so inside prepare) keeps the customer out of the
// upsert: the batch looks at the marker again right before the CRM call.
// The delivery is cancelled SUBJECT_ERASED and HubSpot never gets the
// customer. Seen failing with that second look removed from sendBatch
// (delivered, HubSpot had the record).
func TestBatchDropsACustomerErasedWhileItIsPrepared(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		i := int(seq.Add(1))
		r.record(t, i)
		var armed atomic.Bool
		armed.Store(true)
		r.consent = func(subj, _ string) bool {
			if subj == subject(i) && armed.CompareAndSwap(true, false) {
				// The row PrivacyErase writes first ("erase:" and its
				// request id).
				if _, err := storage.New(db).Restrict(context.Background(), db, "shop", subj, "erase:dsr-marker-1", time.Now()); err != nil {
					t.Error(err)
				}
			}
			return true
		}
		r.run(t)
		counts, why := r.states(t)
		if counts[storage.Cancelled] != 1 || why[subject(i)] != reasons.SubjectErased {
			t.Fatalf("states %v, reason %q: want the delivery cancelled %s", counts, why[subject(i)], reasons.SubjectErased)
		}
		if _, ok := r.api.Record(subject(i)); ok {
			t.Fatal("HubSpot got a customer whose erasure marker was placed before the upsert")
		}
	})
}

// TestNothingHeldForACustomerErasedMeanwhile: an erasure's marker placed
// after the event's restrictions were read (here while consent is asked,
// which refuses) keeps the refused event from being held: an erased
// customer's event must not wait in crmsync for a grant. Seen failing with
// the hold's look at the restrictions removed (one held row).
func TestNothingHeldForACustomerErasedMeanwhile(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		i := int(seq.Add(1))
		marked := false
		r.consent = func(subj, _ string) bool {
			if subj == subject(i) && !marked {
				marked = true
				if _, err := storage.New(db).Restrict(context.Background(), db, "shop", subj, "erase:dsr-marker-held", time.Now()); err != nil {
					t.Error(err)
				}
			}
			return false
		}
		r.record(t, i)
		if !marked {
			t.Fatal("consent was never asked: the marker was not placed mid-record")
		}
		var held, queued int
		if err := db.QueryRow(`SELECT COUNT(*) FROM crm_held_events WHERE subject = $1`, subject(i)).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT COUNT(*) FROM crm_deliveries WHERE subject = $1`, subject(i)).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if held != 0 || queued != 0 {
			t.Fatalf("%d held events and %d deliveries for a customer erased while the event was recorded", held, queued)
		}
	})
}

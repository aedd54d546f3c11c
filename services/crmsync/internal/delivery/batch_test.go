package delivery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
	"github.com/sottohq/sotto/services/crmsync/migrations"
)

func dialects(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, storetest.SQLite(t, migrations.FS)) })
	t.Run("postgres", func(t *testing.T) { f(t, storetest.Postgres(t, migrations.FS)) })
}

// run runs r's job runner until the test ends.
func (r *rig) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.jobs.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// states waits until none of the shop's deliveries is queued and returns
// how many are in each state, and each delivery's reason by subject.
func (r *rig) states(t *testing.T) (map[int]int, map[string]string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var queued int
		if err := r.db.QueryRow(`SELECT COUNT(*) FROM crm_deliveries WHERE state = $1`, storage.Queued).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still queued", queued)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rows, err := r.db.Query(`SELECT subject, state, reason FROM crm_deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts, reasons := map[int]int{}, map[string]string{}
	for rows.Next() {
		var subject, reason string
		var state int
		if err := rows.Scan(&subject, &state, &reason); err != nil {
			t.Fatal(err)
		}
		counts[state]++
		reasons[subject] = reason
	}
	return counts, reasons
}

func subject(i int) string { return fmt.Sprintf("sub_bench_%09d", i) }

// TestBatchesAcrossDeliveries: 250 deliveries queued for one shop's
// HubSpot go out in batch upserts of up to 100 (a handful of requests, not
// 250), each customer created once and sent once. Fails without batching
// (250 requests).
func TestBatchesAcrossDeliveries(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		const n = 250
		base := int(seq.Add(n))
		for i := range n {
			r.record(t, base+i)
		}
		r.run(t)
		counts, _ := r.states(t)
		if counts[storage.Delivered] != n {
			t.Fatalf("states %v, want %d delivered", counts, n)
		}
		got := r.api.Counts()
		if got.Creates != n || got.Updates != 0 {
			t.Fatalf("counts %+v, want %d creates and no update", got, n)
		}
		// Batches of up to 100; the runner's 8 handlers may each lead a
		// smaller one at the start.
		if got.Requests > 2*8+n/100 {
			t.Fatalf("%d requests for %d deliveries: not batched", got.Requests, n)
		}
		for i := range n {
			if s := r.api.Seen(subject(base + i)); len(s) != 1 {
				t.Fatalf("customer %d sent %d times", i, len(s))
			}
		}
	})
}

// TestBatchOutcomesPerRecord: Salesforce refuses two records of a batch
// (a validation rule; sObject Collections answers success false for them).
// Those two are dead-lettered CRM_REJECTED on their own; the other eight
// of the same request are delivered, once. A customer whose consent was
// withdrawn after queueing is taken out of the batch at delivery (the
// second check, per record) and never reaches the CRM. Fails with an
// all-or-none batch (all ten dead) and without the per-record consent
// check (the withdrawn customer sent).
func TestBatchOutcomesPerRecord(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		r := newRigWith(t, db, "salesforce", 0)
		const n = 11
		base := int(seq.Add(n))
		for i := range n {
			r.record(t, base+i)
		}
		r.sf.Reject(subject(base+3), subject(base+7))
		withdrawn := subject(base + 5)
		r.consent = func(s, _ string) bool { return s != withdrawn }
		r.run(t)
		counts, reasons := r.states(t)
		if counts[storage.Delivered] != n-3 || counts[storage.DeadLettered] != 2 || counts[storage.Cancelled] != 1 {
			t.Fatalf("states %v, want %d delivered, 2 dead-lettered, 1 cancelled", counts, n-3)
		}
		for _, i := range []int{3, 7} {
			if got := reasons[subject(base+i)]; got != "CRM_REJECTED" {
				t.Fatalf("refused record's reason %q", got)
			}
		}
		if got := reasons[withdrawn]; got != "CONSENT_WITHDRAWN" {
			t.Fatalf("withdrawn customer's reason %q", got)
		}
		if s := r.sf.Seen(withdrawn); len(s) != 0 {
			t.Fatal("a customer whose consent was withdrawn reached the CRM")
		}
		if got := r.sf.Counts(); got.Creates != n-3 {
			t.Fatalf("counts %+v, want %d creates", got, n-3)
		}
		for i := range n {
			if i == 3 || i == 5 || i == 7 {
				continue
			}
			if s := r.sf.Seen(subject(base + i)); len(s) != 1 {
				t.Fatalf("customer %d sent %d times", i, len(s))
			}
		}
	})
}

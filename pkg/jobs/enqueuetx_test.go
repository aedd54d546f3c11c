package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// TestJobEnqueuedInATransactionRunsAfterItCommits: EnqueueTx wakes the
// runner before the caller's transaction commits, so the poll that wake-up
// starts can find nothing; the job must still run soon after the commit,
// without waiting for the next poll (the clock here never moves, so the
// next poll never comes). Fails without EnqueueTx's second wake-up.
func TestJobEnqueuedInATransactionRunsAfterItCommits(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		r := newRunner(t, db, clk, "a", nil)
		ran := make(chan struct{}, 1)
		if err := r.Register("send", func(context.Context, Job) error { ran <- struct{}{}; return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(ctx) }()
		defer func() { cancel(); clk.Advance(time.Minute); <-done }()
		blockUntil(t, clk, 1) // the runner waits on its poll timer

		tx, err := db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.EnqueueTx(t.Context(), tx, "send", nil, EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		// The wake-up's poll runs now and cannot see the uncommitted job.
		time.Sleep(txWakeDelay / 4)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatal("a job enqueued in a transaction did not run after the commit")
		}
	})
}

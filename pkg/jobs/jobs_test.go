package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/wait"
)

// t0 is the fake clocks' start: 30s into a minute, so a one-minute periodic
// job's first occurrence is already due.
var t0 = time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC)

func newRunner(t *testing.T, db *store.DB, clk clockwork.Clock, worker string, mutate func(*Config)) *Runner {
	t.Helper()
	cfg := Config{Worker: worker, Clock: clk, Lease: 30 * time.Second, ShutdownGrace: 10 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	r, err := New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// drain runs one poll of r and waits for the handlers it started.
func drain(t *testing.T, r *Runner) {
	t.Helper()
	if err := r.tick(t.Context()); err != nil {
		t.Fatalf("tick: %v", err)
	}
	r.handlers.Wait()
}

func get(t *testing.T, r *Runner, id int64) Info {
	t.Helper()
	i, err := r.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%d): %v", id, err)
	}
	return i
}

func countJobs(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// blockUntil waits (in real time, bounded) until n timers or tickers wait
// on clk, so that advancing it fires them.
func blockUntil(t *testing.T, clk *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("waiting for %d waiters on the clock: %v", n, err)
	}
}

// Two replicas on one database, each trying to enqueue and claim every
// occurrence of a periodic job, run each occurrence exactly once. Each
// replica polls after the other's run has completed, so only the
// occurrence's unique key stops the second from enqueueing it again.
func TestPeriodicOccurrenceRunsOnceAcrossReplicas(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		var mu sync.Mutex
		runs := map[time.Time][]string{} // occurrence -> workers that ran it
		replicas := make([]*Runner, 2)
		for i, name := range []string{"a", "b"} {
			r := newRunner(t, db, clk, name, nil)
			err := r.Periodic("sweep", time.Minute, func(ctx context.Context, j Job) error {
				mu.Lock()
				defer mu.Unlock()
				runs[j.RunAt] = append(runs[j.RunAt], name)
				return nil
			}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			replicas[i] = r
		}
		const occurrences = 6
		for step := range occurrences {
			first, second := replicas[step%2], replicas[1-step%2]
			drain(t, first)
			drain(t, second)
			clk.Advance(time.Minute)
		}
		want := map[time.Time]int{}
		for i := range occurrences {
			want[t0.Truncate(time.Minute).Add(time.Duration(i)*time.Minute)] = 1
		}
		got := map[time.Time]int{}
		ranOn := map[string]bool{}
		for occ, workers := range runs {
			got[occ] = len(workers)
			for _, w := range workers {
				ranOn[w] = true
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("runs per occurrence (-want +got):\n%s", diff)
		}
		if !ranOn["a"] || !ranOn["b"] {
			t.Errorf("occurrences ran on %v; want both replicas to have run some", ranOn)
		}
	})
}

// An occurrence is skipped while the previous run of the kind is still
// pending, so runs of a periodic kind never overlap.
func TestPeriodicRunsDoNotOverlap(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		r := newRunner(t, db, clk, "a", nil)
		if err := r.Periodic("sweep", time.Minute, func(context.Context, Job) error { return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		// Enqueue the first occurrence without running it (no free slot).
		if err := r.schedule(t.Context(), clk.Now()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if err := r.schedule(t.Context(), clk.Now()); err != nil {
			t.Fatal(err)
		}
		if n := countJobs(t, db); n != 1 {
			t.Errorf("%d jobs after a second occurrence came due with the first pending; want 1", n)
		}
		if err := r.Trigger(t.Context(), "sweep"); err != nil {
			t.Fatal(err)
		}
		if n := countJobs(t, db); n != 1 {
			t.Errorf("%d jobs after a Trigger with a run pending; want 1", n)
		}
	})
}

// Concurrent claims by two replicas take disjoint jobs.
func TestConcurrentRunnersRunEachJobOnce(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		var mu sync.Mutex
		runs := map[int64]int{}
		var replicas []*Runner
		for _, name := range []string{"a", "b"} {
			r := newRunner(t, db, clk, name, func(c *Config) { c.Concurrency = 3 })
			if err := r.Register("work", func(_ context.Context, j Job) error {
				mu.Lock()
				defer mu.Unlock()
				runs[j.ID]++
				return nil
			}, Options{}); err != nil {
				t.Fatal(err)
			}
			replicas = append(replicas, r)
		}
		const n = 60
		for i := range n {
			if _, err := replicas[0].Enqueue(t.Context(), "work", []byte(fmt.Sprint(i)), EnqueueOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					if err := r.tick(t.Context()); err != nil {
						t.Error(err)
						return
					}
					r.handlers.Wait()
					mu.Lock()
					done := len(runs) == n
					mu.Unlock()
					if done {
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(runs) != n {
			t.Fatalf("%d of %d jobs ran", len(runs), n)
		}
		for id, c := range runs {
			if c != 1 {
				t.Errorf("job %d ran %d times", id, c)
			}
		}
	})
}

// A job whose runner died after claiming it is retaken by another once the
// lease has run out, and not before.
func TestDeadWorkersJobIsRetaken(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		var ranOnB atomic.Int32
		var attempt atomic.Int32
		dead := newRunner(t, db, clk, "a", nil)
		b := newRunner(t, db, clk, "b", nil)
		for _, r := range []*Runner{dead, b} {
			if err := r.Register("work", func(_ context.Context, j Job) error {
				if r == b {
					ranOnB.Add(1)
					attempt.Store(int32(j.Attempt))
				}
				return nil
			}, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		e, err := b.Enqueue(t.Context(), "work", nil, EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// "a" claims the job and dies: no handler, no heartbeat.
		if got, err := dead.claim(t.Context(), clk.Now(), dead.kindNames(), 1); err != nil || len(got) != 1 {
			t.Fatalf("claim by a: %v, %v", got, err)
		}
		clk.Advance(29 * time.Second)
		drain(t, b)
		if n := ranOnB.Load(); n != 0 {
			t.Fatalf("b ran the job %d times while a's lease held", n)
		}
		clk.Advance(2 * time.Second)
		drain(t, b)
		if n := ranOnB.Load(); n != 1 {
			t.Fatalf("b ran the job %d times after a's lease ran out; want 1", n)
		}
		if a := attempt.Load(); a != 2 {
			t.Errorf("retaken as attempt %d; want 2", a)
		}
		if i := get(t, b, e.ID); i.State != Completed {
			t.Errorf("state %s; want completed", i.State)
		}
	})
}

// A job whose runner died on its last attempt is dead-lettered when the
// lease runs out, not run again.
func TestDeadWorkersLastAttemptIsDeadLettered(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		var runs atomic.Int32
		a := newRunner(t, db, clk, "a", nil)
		b := newRunner(t, db, clk, "b", nil)
		for _, r := range []*Runner{a, b} {
			if err := r.Register("work", func(context.Context, Job) error { runs.Add(1); return nil }, Options{MaxAttempts: 1}); err != nil {
				t.Fatal(err)
			}
		}
		e, err := a.Enqueue(t.Context(), "work", nil, EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := a.claim(t.Context(), clk.Now(), a.kindNames(), 1); err != nil || len(got) != 1 {
			t.Fatalf("claim by a: %v, %v", got, err)
		}
		clk.Advance(31 * time.Second)
		drain(t, b)
		i := get(t, b, e.ID)
		if runs.Load() != 0 || i.State != Dead || i.LastErrorReason != ReasonLeaseExpired {
			t.Errorf("after the lease ran out on the last attempt: %d runs, state %s, reason %q; want 0, dead, %s",
				runs.Load(), i.State, i.LastErrorReason, ReasonLeaseExpired)
		}
	})
}

// A running handler's lease is renewed, so a second runner does not take
// the job however long it runs.
func TestHeartbeatKeepsTheLease(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		release := make(chan struct{})
		var ranOnB atomic.Int32
		a := newRunner(t, db, clk, "a", nil)
		b := newRunner(t, db, clk, "b", nil)
		if err := a.Register("work", func(ctx context.Context, j Job) error { <-release; return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Register("work", func(context.Context, Job) error { ranOnB.Add(1); return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		e, err := a.Enqueue(t.Context(), "work", nil, EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		leaseUntil := func() int64 {
			var us sql.NullInt64
			if err := db.QueryRowContext(t.Context(), `SELECT lease_until_us FROM jobs WHERE id = $1`, e.ID).Scan(&us); err != nil {
				t.Fatal(err)
			}
			return us.Int64
		}
		// The attempt's timeout and its heartbeat ticker.
		blockUntil(t, clk, 2)
		for range 9 { // three leases' worth
			clk.Advance(10 * time.Second)
			want := clk.Now().Add(30 * time.Second).UnixMicro()
			wait.For(t, "the lease renewed", func() bool { return leaseUntil() == want })
			drain(t, b)
		}
		close(release)
		a.handlers.Wait()
		if n := ranOnB.Load(); n != 0 {
			t.Errorf("b ran the job %d times while a held it", n)
		}
		if i := get(t, a, e.ID); i.State != Completed || i.Attempt != 1 {
			t.Errorf("state %s attempt %d; want completed on attempt 1", i.State, i.Attempt)
		}
	})
}

// A runner that lost a job's lease (its lease ran out and another runner
// took the job) changes nothing in the job's row: whether its heartbeat
// notices first (and cancels the handler) or the handler returns first.
func TestLostLeaseChangesNothing(t *testing.T) {
	for _, heartbeatFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("heartbeat first %v", heartbeatFirst), func(t *testing.T) {
			storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
				clk := clockwork.NewFakeClockAt(t0)
				a := newRunner(t, db, clk, "a", nil)
				takeOver := func(id int64) {
					if _, err := db.ExecContext(context.Background(), `UPDATE jobs SET leased_by = 'b', attempt = 2 WHERE id = $1`, id); err != nil {
						t.Error(err)
					}
				}
				cause := make(chan error, 1)
				if err := a.Register("work", func(ctx context.Context, j Job) error {
					if !heartbeatFirst {
						takeOver(j.ID)
						return errors.New("failed, but the job is b's now")
					}
					<-ctx.Done()
					cause <- context.Cause(ctx)
					return ctx.Err()
				}, Options{}); err != nil {
					t.Fatal(err)
				}
				e, err := a.Enqueue(t.Context(), "work", nil, EnqueueOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := a.tick(t.Context()); err != nil {
					t.Fatal(err)
				}
				if heartbeatFirst {
					takeOver(e.ID)
					blockUntil(t, clk, 2) // the attempt's timeout and heartbeat ticker
					clk.Advance(10 * time.Second)
				}
				a.handlers.Wait()
				if heartbeatFirst {
					if c := <-cause; !errors.Is(c, errLeaseLost) {
						t.Errorf("handler canceled by %v; want lease lost", c)
					}
				}
				if i := get(t, a, e.ID); i.State != Running || i.LeasedBy != "b" || i.Attempt != 2 || i.LastErrorReason != "" {
					t.Errorf("row after a lost the lease: %+v; want b's running attempt 2, untouched", i)
				}
			})
		})
	}
}

// A failing job is retried after growing, jittered delays, then kept as
// dead with its error's reason and not its text; Retry re-queues it.
func TestFailingJobBacksOffThenDies(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		var runs atomic.Int32
		r := newRunner(t, db, clk, "a", func(c *Config) { c.BackoffBase = 10 * time.Second })
		if err := r.Register("deliver", func(context.Context, Job) error {
			runs.Add(1)
			return errs.E(errs.Unavailable, "UPSTREAM_DOWN", "cannot deliver to alice@example.com")
		}, Options{MaxAttempts: 3}); err != nil {
			t.Fatal(err)
		}
		e, err := r.Enqueue(t.Context(), "deliver", []byte(`{"request":"r-1"}`), EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for attempt, maxDelay := range []time.Duration{10 * time.Second, 20 * time.Second} {
			drain(t, r)
			i := get(t, r, e.ID)
			if i.State != Retryable || i.Attempt != attempt+1 || i.LastErrorReason != "UPSTREAM_DOWN" {
				t.Fatalf("after attempt %d: %+v; want retryable with reason UPSTREAM_DOWN", attempt+1, i)
			}
			delay := i.RunAt.Sub(clk.Now())
			if delay < maxDelay/2 || delay > maxDelay {
				t.Errorf("retry %d after %v; want between %v and %v", attempt+1, delay, maxDelay/2, maxDelay)
			}
			// Not before its time.
			clk.Advance(delay - time.Microsecond)
			drain(t, r)
			if n := runs.Load(); n != int32(attempt+1) {
				t.Fatalf("%d runs before the backoff elapsed; want %d", n, attempt+1)
			}
			clk.Advance(time.Microsecond)
		}
		drain(t, r)
		i := get(t, r, e.ID)
		if i.State != Dead || i.Attempt != 3 || i.LastErrorReason != "UPSTREAM_DOWN" || runs.Load() != 3 {
			t.Fatalf("after the last attempt: %+v, %d runs; want dead after 3", i, runs.Load())
		}
		clk.Advance(24 * time.Hour)
		drain(t, r)
		if n := runs.Load(); n != 3 {
			t.Errorf("a dead job ran again: %d runs", n)
		}
		dead, err := r.Dead(t.Context(), 0, 10)
		if err != nil || len(dead) != 1 || dead[0].ID != e.ID {
			t.Errorf("Dead = %+v, %v; want the job", dead, err)
		}
		assertNoPII(t, db)

		if err := r.Retry(t.Context(), e.ID); err != nil {
			t.Fatal(err)
		}
		drain(t, r)
		if i := get(t, r, e.ID); runs.Load() != 4 || i.State != Retryable || i.Attempt != 1 {
			t.Errorf("after Retry: %+v, %d runs; want a fresh first attempt", i, runs.Load())
		}
		if err := r.Retry(t.Context(), e.ID); errs.ReasonOf(err) != "DEAD_JOB_NOT_FOUND" {
			t.Errorf("Retry of a job that is not dead: %v", err)
		}
	})
}

// assertNoPII checks that no text column of the jobs table holds the
// handlers' error text.
func assertNoPII(t *testing.T, db *store.DB) {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT kind, state, COALESCE(leased_by, ''),
		COALESCE(last_error_reason, ''), COALESCE(unique_key, '') FROM jobs`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var cols [5]string
		if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if strings.Contains(c, "alice") || strings.Contains(c, "cannot") {
				t.Errorf("the jobs table holds error text: %q", c)
			}
		}
	}
}

// Errors without an errs reason, and panics, are recorded by fixed reasons;
// Permanent skips the retries.
func TestFailureReasons(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		r := newRunner(t, db, clk, "a", nil)
		handlers := map[string]Handler{
			"plain": func(context.Context, Job) error { return errors.New("cannot reach alice@example.com") },
			"panic": func(context.Context, Job) error { panic("alice@example.com") },
			"permanent": func(context.Context, Job) error {
				return Permanent(errs.E(errs.InvalidArgument, "BAD_ARGS", "alice@example.com"))
			},
			"bad-reason": func(context.Context, Job) error {
				return errs.E(errs.Internal, "alice@example.com", "x")
			},
		}
		want := map[string]string{"plain": ReasonHandlerFailed, "panic": ReasonPanic, "permanent": "BAD_ARGS", "bad-reason": ReasonHandlerFailed}
		ids := map[string]int64{}
		for k, h := range handlers {
			if err := r.Register(k, h, Options{MaxAttempts: 5}); err != nil {
				t.Fatal(err)
			}
		}
		for k := range handlers {
			e, err := r.Enqueue(t.Context(), k, nil, EnqueueOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids[k] = e.ID
		}
		drain(t, r)
		for k, id := range ids {
			i := get(t, r, id)
			wantState := Retryable
			if k == "permanent" {
				wantState = Dead
			}
			if i.LastErrorReason != want[k] || i.State != wantState {
				t.Errorf("%s: state %s reason %q; want %s %q", k, i.State, i.LastErrorReason, wantState, want[k])
			}
		}
		assertNoPII(t, db)
	})
}

// A job enqueued in a transaction that rolls back does not exist; one whose
// transaction commits does, and runs.
func TestEnqueueFollowsTheTransaction(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		var runs atomic.Int32
		r := newRunner(t, db, clk, "a", nil)
		if err := r.Register("erase", func(context.Context, Job) error { runs.Add(1); return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		errRollback := errors.New("the state change failed")
		err := db.InTx(t.Context(), func(tx *sql.Tx) error {
			if _, err := r.EnqueueTx(t.Context(), tx, "erase", nil, EnqueueOptions{UniqueKey: "req-1"}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx: %v", err)
		}
		drain(t, r)
		if n := countJobs(t, db); n != 0 || runs.Load() != 0 {
			t.Fatalf("after rollback: %d jobs, %d runs; want none", n, runs.Load())
		}
		err = db.InTx(t.Context(), func(tx *sql.Tx) error {
			_, err := r.EnqueueTx(t.Context(), tx, "erase", nil, EnqueueOptions{UniqueKey: "req-1"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, r)
		if n := countJobs(t, db); n != 1 || runs.Load() != 1 {
			t.Fatalf("after commit: %d jobs, %d runs; want 1 and 1", n, runs.Load())
		}
	})
}

// A unique key makes enqueueing idempotent, in and out of transactions.
func TestUniqueKeyDedups(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		r := newRunner(t, db, clk, "a", nil)
		for _, k := range []string{"deliver", "notify"} {
			if err := r.Register(k, func(context.Context, Job) error { return nil }, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		first, err := r.Enqueue(t.Context(), "deliver", []byte("1"), EnqueueOptions{UniqueKey: "order-1"})
		if err != nil || first.Duplicate {
			t.Fatalf("first enqueue: %+v, %v", first, err)
		}
		again, err := r.Enqueue(t.Context(), "deliver", []byte("2"), EnqueueOptions{UniqueKey: "order-1"})
		if err != nil || !again.Duplicate || again.ID != first.ID {
			t.Errorf("same key: %+v, %v; want duplicate of %d", again, err, first.ID)
		}
		err = db.InTx(t.Context(), func(tx *sql.Tx) error {
			inTx, err := r.EnqueueTx(t.Context(), tx, "deliver", nil, EnqueueOptions{UniqueKey: "order-1"})
			if err == nil && (!inTx.Duplicate || inTx.ID != first.ID) {
				t.Errorf("same key in a transaction: %+v; want duplicate of %d", inTx, first.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// Keys are per kind; no key never dedups.
		for _, c := range []struct{ kind, key string }{{"notify", "order-1"}, {"deliver", "order-2"}, {"deliver", ""}, {"deliver", ""}} {
			e, err := r.Enqueue(t.Context(), c.kind, nil, EnqueueOptions{UniqueKey: c.key})
			if err != nil || e.Duplicate {
				t.Errorf("Enqueue(%s, %q) = %+v, %v; want a new job", c.kind, c.key, e, err)
			}
		}
		if n := countJobs(t, db); n != 5 {
			t.Errorf("%d jobs; want 5", n)
		}
		// Completing a job keeps its key taken.
		drain(t, r)
		if e, err := r.Enqueue(t.Context(), "deliver", nil, EnqueueOptions{UniqueKey: "order-1"}); err != nil || !e.Duplicate {
			t.Errorf("same key after completion: %+v, %v; want duplicate", e, err)
		}
	})
}

// Shutdown waits for a running handler: without canceling it while the
// grace period lasts (the handler completes the job), and with its context
// canceled once the grace period has passed (the job goes back to the
// queue, the attempt not counted).
func TestShutdownWaitsForRunningHandlers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		finish    bool // the handler finishes within the grace period
		wantState State
		wantTries int
	}{
		{"finishes within grace", true, Completed, 1},
		{"canceled after grace", false, Available, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
				clk := clockwork.NewFakeClockAt(t0)
				r := newRunner(t, db, clk, "a", nil)
				started := make(chan context.Context, 1)
				release := make(chan struct{})
				var returned atomic.Bool
				if err := r.Register("work", func(ctx context.Context, j Job) error {
					defer returned.Store(true)
					started <- ctx
					select {
					case <-release:
						return nil
					case <-ctx.Done():
						// Winding down takes (fake) time: Run must wait
						// for it after canceling.
						clk.Sleep(time.Second)
						return ctx.Err()
					}
				}, Options{}); err != nil {
					t.Fatal(err)
				}
				e, err := r.Enqueue(t.Context(), "work", nil, EnqueueOptions{})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				runDone := make(chan error, 1)
				go func() { runDone <- r.Run(ctx) }()
				hctx := <-started
				// Poll timer, heartbeat ticker and attempt timeout.
				blockUntil(t, clk, 3)
				cancel()
				// ... and the grace timer.
				blockUntil(t, clk, 4)
				select {
				case <-runDone:
					t.Fatal("Run returned while a handler was running")
				default:
				}
				if hctx.Err() != nil {
					t.Fatal("the handler's context was canceled before the grace period passed")
				}
				if tc.finish {
					close(release)
				} else {
					clk.Advance(10 * time.Second)
					// The grace and poll timers have fired; the handler
					// winds down (heartbeat, timeout and its sleep wait).
					blockUntil(t, clk, 3)
					select {
					case <-runDone:
						t.Fatal("Run returned while a canceled handler was still winding down")
					default:
					}
					clk.Advance(time.Second)
				}
				if err := <-runDone; err != nil {
					t.Fatalf("Run: %v", err)
				}
				if !returned.Load() {
					t.Fatal("Run returned before the handler")
				}
				i := get(t, r, e.ID)
				if i.State != tc.wantState || i.Attempt != tc.wantTries {
					t.Errorf("job after shutdown: state %s attempt %d; want %s %d", i.State, i.Attempt, tc.wantState, tc.wantTries)
				}
			})
		})
	}
}

// Run works enqueued jobs and periodic occurrences as the clock moves.
func TestRun(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		wake := make(chan struct{})
		r := newRunner(t, db, clk, "a", nil)
		var periodic, oneOff atomic.Int32
		if err := r.Periodic("sweep", time.Hour, func(context.Context, Job) error { periodic.Add(1); return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := r.TriggerOn(wake, "sweep"); err != nil {
			t.Fatal(err)
		}
		if err := r.Register("work", func(context.Context, Job) error { oneOff.Add(1); return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		runDone := make(chan error, 1)
		go func() { runDone <- r.Run(ctx) }()
		wait.For(t, "the first occurrence", func() bool { return periodic.Load() == 1 })
		if _, err := r.Enqueue(t.Context(), "work", nil, EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		wait.For(t, "the enqueued job", func() bool { return oneOff.Load() == 1 })
		wake <- struct{}{}
		wait.For(t, "the woken run", func() bool { return periodic.Load() == 2 })
		if err := r.Register("late", func(context.Context, Job) error { return nil }, Options{}); errs.ReasonOf(err) != "JOBS_STARTED" {
			t.Errorf("Register after Run: %v; want JOBS_STARTED", err)
		}
		cancel()
		if err := <-runDone; err != nil {
			t.Fatal(err)
		}
	})
}

// Completed jobs, and dead occurrences of periodic kinds, are deleted once
// older than the retention; other dead jobs are kept.
func TestRetention(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		clk := clockwork.NewFakeClockAt(t0)
		r := newRunner(t, db, clk, "a", func(c *Config) { c.Retention = 24 * time.Hour })
		fail := func(context.Context, Job) error { return errors.New("x") }
		for _, reg := range []error{
			r.Periodic("sweep", time.Hour, fail, Options{MaxAttempts: 1}),
			r.Register("ok", func(context.Context, Job) error { return nil }, Options{}),
			r.Register("bad", fail, Options{MaxAttempts: 1}),
		} {
			if reg != nil {
				t.Fatal(reg)
			}
		}
		for _, k := range []string{"ok", "bad"} {
			if _, err := r.Enqueue(t.Context(), k, nil, EnqueueOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		drain(t, r)
		states := func() map[string]State {
			rows, err := db.QueryContext(t.Context(), `SELECT kind, state FROM jobs`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]State{}
			for rows.Next() {
				var k string
				var s State
				if err := rows.Scan(&k, &s); err != nil {
					t.Fatal(err)
				}
				out[k] = s
			}
			return out
		}
		want := map[string]State{"sweep": Dead, "ok": Completed, "bad": Dead}
		if diff := cmp.Diff(want, states()); diff != "" {
			t.Fatalf("before the retention (-want +got):\n%s", diff)
		}
		clk.Advance(25 * time.Hour)
		drain(t, r) // runs (and kills) the current occurrence, purges the old rows
		want = map[string]State{"sweep": Dead, "bad": Dead}
		if diff := cmp.Diff(want, states()); diff != "" {
			t.Errorf("after the retention (-want +got):\n%s", diff)
		}
		if n := countJobs(t, db); n != 2 {
			t.Errorf("%d jobs after the retention; want the new occurrence and the dead one-off", n)
		}
	})
}

func TestInvalidUse(t *testing.T) {
	db := storetest.SQLite(t, nil)
	r := newRunner(t, db, clockwork.NewFakeClockAt(t0), "a", nil)
	noop := func(context.Context, Job) error { return nil }
	if err := r.Periodic("sweep", time.Minute, noop, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("work", noop, Options{}); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"bad kind":        r.Register("Bad Kind", noop, Options{}),
		"twice":           r.Register("work", noop, Options{}),
		"nil handler":     r.Register("other", nil, Options{}),
		"trigger one-off": r.TriggerOn(make(chan struct{}), "work"),
		"trigger unknown": r.TriggerOn(make(chan struct{}), "nope"),
		"zero interval":   r.Periodic("other", 0, noop, Options{}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for name, call := range map[string]func() error{
		"unknown kind":  func() error { _, err := r.Enqueue(t.Context(), "nope", nil, EnqueueOptions{}); return err },
		"periodic kind": func() error { _, err := r.Enqueue(t.Context(), "sweep", nil, EnqueueOptions{}); return err },
		"long key": func() error {
			_, err := r.Enqueue(t.Context(), "work", nil, EnqueueOptions{UniqueKey: strings.Repeat("k", 201)})
			return err
		},
		"trigger one-off":  func() error { return r.Trigger(t.Context(), "work") },
		"retry unknown id": func() error { return r.Retry(t.Context(), 42) },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		} else if k := errs.KindOf(err); k != errs.InvalidArgument && k != errs.NotFound {
			t.Errorf("%s: %v; want InvalidArgument or NotFound", name, err)
		}
	}
}

package jobs

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/store"
)

// Run works jobs until ctx is done, then shuts down: it claims nothing more,
// waits for the running handlers, cancels their context once
// Config.ShutdownGrace has passed, and returns when every handler has
// returned. Database errors are logged and retried on the next poll (the
// service's readiness check reports the database). Run may be called once.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errs.E(errs.FailedPrecondition, "JOBS_STARTED", "jobs: Run called twice")
	}
	r.started = true
	triggers := r.triggers
	r.mu.Unlock()

	for _, tr := range triggers {
		go r.forward(ctx, tr)
	}
	timer := r.clock.NewTimer(r.cfg.PollInterval)
	defer timer.Stop()
	for ctx.Err() == nil {
		if err := r.tick(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("jobs: poll failed", logging.Err(err))
		}
		timer.Reset(r.cfg.PollInterval)
		select {
		case <-ctx.Done():
		case <-timer.Chan():
		case <-r.wake:
		}
	}
	r.shutdown()
	return nil
}

func (r *Runner) shutdown() {
	done := make(chan struct{})
	go func() {
		r.handlers.Wait()
		close(done)
	}()
	grace := r.clock.NewTimer(r.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.Chan():
	}
	r.cancelBase(errShutdown)
	// A handler that ignores its context holds shutdown up; its lease runs
	// out and another replica retakes the job if the process is killed.
	<-done
}

// forward triggers tr's kinds on every receive from its channel.
func (r *Runner) forward(ctx context.Context, tr trigger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tr.ch:
		}
		for _, k := range tr.kinds {
			if err := r.Trigger(ctx, k); err != nil && ctx.Err() == nil {
				r.log.Warn("jobs: trigger failed", "component", k, logging.Err(err))
			}
		}
	}
}

// poke makes Run poll at once.
func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// tick is one poll: dead-letter jobs whose runner died on their last
// attempt, enqueue due periodic occurrences, delete old completed jobs, and
// claim and start as many due jobs as there are free handler slots.
func (r *Runner) tick(ctx context.Context) error {
	now := r.clock.Now()
	names := r.kindNames()
	if len(names) == 0 {
		return nil
	}
	var errList []error
	errList = append(errList, r.reap(ctx, now, names), r.schedule(ctx, now), r.purge(ctx, now))
	free := r.reserve()
	if free == 0 {
		return errors.Join(errList...)
	}
	claimed, err := r.claim(ctx, now, names, free)
	r.release(free - len(claimed))
	for _, j := range claimed {
		r.start(j)
	}
	return errors.Join(append(errList, err)...)
}

// reserve takes every free handler slot; release gives back those unused.
func (r *Runner) reserve() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	free := r.cfg.Concurrency - r.active
	r.active = r.cfg.Concurrency
	return free
}

func (r *Runner) release(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active -= n
}

// kindsIn returns "$from, $from+1, ..." for names, and the arguments.
func kindsIn(from int, names []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(names))
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
		args[i] = n
	}
	return b.String(), args
}

// claim leases up to limit due jobs: available or retryable ones whose time
// has come, and running ones whose lease ran out (their runner died) with
// attempts left.
//
// On PostgreSQL, FOR UPDATE SKIP LOCKED makes concurrent claims take
// disjoint rows without waiting for each other: without it, two runners
// could pick the same row in the subquery and both update it. SQLite has no
// row locks and needs none: a write statement holds the database's single
// write lock from start to end, so claims are serialised whole.
func (r *Runner) claim(ctx context.Context, now time.Time, names []string, limit int) ([]Job, error) {
	in, kindArgs := kindsIn(5, names)
	lock := ""
	if r.db.Dialect == store.Postgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	q := `
		UPDATE jobs SET state = 'running', attempt = attempt + 1, leased_by = $1, lease_until_us = $2
		WHERE id IN (
			SELECT id FROM jobs
			WHERE kind IN (` + in + `) AND (
				(state IN ('available', 'retryable') AND run_at_us <= $3)
				OR (state = 'running' AND lease_until_us <= $3 AND attempt < max_attempts))
			ORDER BY run_at_us, id
			LIMIT $4
			` + lock + `)
		RETURNING id, kind, args, attempt, max_attempts, run_at_us`
	args := append([]any{r.cfg.Worker, now.Add(r.cfg.Lease).UnixMicro(), now.UnixMicro(), limit}, kindArgs...)
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		var runAt int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.Args, &j.Attempt, &j.MaxAttempts, &runAt); err != nil {
			return out, store.MapError(err)
		}
		j.RunAt = time.UnixMicro(runAt).UTC()
		out = append(out, j)
	}
	return out, store.MapError(rows.Err())
}

// reap dead-letters running jobs whose lease ran out on their last attempt:
// their runner died (or hung) each time, and another try would too.
func (r *Runner) reap(ctx context.Context, now time.Time, names []string) error {
	in, kindArgs := kindsIn(3, names)
	rows, err := r.db.QueryContext(ctx, `
		UPDATE jobs SET state = 'dead', last_error_reason = $1, leased_by = NULL, lease_until_us = NULL, finished_us = $2
		WHERE kind IN (`+in+`) AND state = 'running' AND lease_until_us <= $2 AND attempt >= max_attempts
		RETURNING kind`, append([]any{ReasonLeaseExpired, now.UnixMicro()}, kindArgs...)...)
	if err != nil {
		return store.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return store.MapError(err)
		}
		r.m.outcome(ctx, k, outcomeDead, 0)
		r.log.Warn("jobs: dead-lettered a job whose runner died on its last attempt", "component", k, "reason", ReasonLeaseExpired)
	}
	return store.MapError(rows.Err())
}

// schedule enqueues the current occurrence of each periodic kind, once per
// occurrence per runner; the occurrence's unique key makes it once across
// runners.
func (r *Runner) schedule(ctx context.Context, now time.Time) error {
	r.mu.Lock()
	var due []*kind
	for _, k := range r.kinds {
		if k.every != 0 && now.UnixMicro()/k.every.Microseconds() > k.last {
			due = append(due, k)
		}
	}
	r.mu.Unlock()
	var errList []error
	for _, k := range due {
		n := now.UnixMicro() / k.every.Microseconds()
		if _, err := r.enqueueSingleton(ctx, k, occurrenceKey(n), time.UnixMicro(n*k.every.Microseconds())); err != nil {
			errList = append(errList, err)
			continue
		}
		r.mu.Lock()
		k.last = n
		r.mu.Unlock()
	}
	return errors.Join(errList...)
}

// purge deletes completed jobs, and dead occurrences of periodic kinds (a
// later occurrence supersedes them), once they are older than the
// retention; at most once per hour of retention and a thousand rows at a
// time, so that one poll stays short. Other dead jobs stay until an
// operator deals with them.
func (r *Runner) purge(ctx context.Context, now time.Time) error {
	r.mu.Lock()
	if !r.lastPurge.IsZero() && now.Sub(r.lastPurge) < r.cfg.Retention/24 {
		r.mu.Unlock()
		return nil
	}
	r.lastPurge = now
	var periodic []string
	for _, k := range r.kinds {
		if k.every != 0 {
			periodic = append(periodic, k.name)
		}
	}
	r.mu.Unlock()
	dead := ""
	args := []any{now.Add(-r.cfg.Retention).UnixMicro()}
	if len(periodic) > 0 {
		in, kindArgs := kindsIn(2, periodic)
		dead = ` OR (state = 'dead' AND kind IN (` + in + `))`
		args = append(args, kindArgs...)
	}
	_, err := r.db.ExecContext(ctx, `
		DELETE FROM jobs WHERE id IN (
			SELECT id FROM jobs WHERE finished_us < $1 AND (state = 'completed'`+dead+`) LIMIT 1000)`,
		args...)
	return store.MapError(err)
}

// start runs a claimed job's handler in its own goroutine; its slot was
// reserved by tick.
func (r *Runner) start(j Job) {
	k, err := r.kind(j.Kind)
	if err != nil {
		// claim filters by registered kinds; kinds are never unregistered.
		panic(err)
	}
	r.handlers.Add(1)
	go func() {
		defer r.handlers.Done()
		defer r.poke() // a slot is free: look for more work
		defer r.release(1)
		r.work(k, j)
	}()
}

// work runs one attempt and records its outcome.
func (r *Runner) work(k *kind, j Job) {
	ctx, cancel := context.WithCancelCause(r.base)
	defer cancel(nil)
	timeout := r.clock.AfterFunc(k.opts.Timeout, func() { cancel(errTimeout) })
	defer timeout.Stop()
	stopBeat := make(chan struct{})
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		r.heartbeat(j, cancel, stopBeat)
	}()
	started := r.clock.Now()
	err := call(ctx, k.handler, j)
	close(stopBeat)
	<-beatDone
	r.finish(k, j, err, context.Cause(ctx), r.clock.Since(started))
}

type panicError struct{ stack []byte }

func (p *panicError) Error() string { return "jobs: handler panicked" }

// call runs h, turning a panic into an error: one job must not take the
// service down. The panic value is not kept (it may hold personal data);
// the stack holds none.
func call(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{stack: debug.Stack()}
		}
	}()
	return h(ctx, j)
}

// heartbeat renews j's lease every Lease/3 until stop is closed, and cancels
// the handler (errLeaseLost) once the lease cannot be shown to be held: the
// row is no longer leased to this attempt, or renewals have failed until
// the lease ran out. From then on another runner may run the job.
func (r *Runner) heartbeat(j Job, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	leaseUntil := r.clock.Now().Add(r.cfg.Lease)
	t := r.clock.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.Chan():
		}
		now := r.clock.Now()
		ctx, done := context.WithTimeout(context.Background(), r.cfg.Lease/3)
		res, err := r.db.ExecContext(ctx, `
			UPDATE jobs SET lease_until_us = $1
			WHERE id = $2 AND leased_by = $3 AND attempt = $4 AND state = 'running'`,
			now.Add(r.cfg.Lease).UnixMicro(), j.ID, r.cfg.Worker, j.Attempt)
		done()
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		switch {
		case err == nil && n == 1:
			leaseUntil = now.Add(r.cfg.Lease)
		case err == nil:
			cancel(errLeaseLost)
			return
		case !now.Before(leaseUntil):
			r.log.Warn("jobs: lease expired while renewals failed", "component", j.Kind, logging.Err(store.MapError(err)))
			cancel(errLeaseLost)
			return
		}
	}
}

// Outcomes of an attempt, as the metrics name them.
const (
	outcomeCompleted   = "completed"
	outcomeRetried     = "retried"
	outcomeDead        = "dead"
	outcomeInterrupted = "interrupted"
	outcomeLeaseLost   = "lease_lost"
)

// finish records an attempt's outcome. Every update is conditional on the
// lease still being this attempt's, so a runner that lost the job changes
// nothing. If the update itself fails, the lease runs out and the job is
// retaken: at least once.
func (r *Runner) finish(k *kind, j Job, herr, cause error, took time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := r.clock.Now()
	lease := []any{j.ID, r.cfg.Worker, j.Attempt}
	const held = ` WHERE id = $1 AND leased_by = $2 AND attempt = $3 AND state = 'running'`
	var (
		outcome, reason string
		q               string
		args            []any
	)
	switch {
	case errors.Is(cause, errLeaseLost):
		r.m.outcome(ctx, j.Kind, outcomeLeaseLost, took)
		r.log.Warn("jobs: lost a job's lease while running it", "component", j.Kind, "attempt", j.Attempt)
		return
	case herr == nil:
		outcome = outcomeCompleted
		q = `UPDATE jobs SET state = 'completed', leased_by = NULL, lease_until_us = NULL, finished_us = $4` + held
		args = append(lease, now.UnixMicro())
	case errors.Is(cause, errShutdown):
		// Given up because the process is stopping, not because the job
		// failed: back in the queue at once, the attempt not counted.
		outcome, reason = outcomeInterrupted, ReasonInterrupted
		q = `UPDATE jobs SET state = 'available', attempt = attempt - 1, leased_by = NULL, lease_until_us = NULL,
			run_at_us = $4, last_error_reason = $5` + held
		args = append(lease, now.UnixMicro(), reason)
	default:
		reason = reasonOf(herr, cause)
		var perm *permanentError
		if errors.As(herr, &perm) || j.Attempt >= j.MaxAttempts {
			outcome = outcomeDead
			q = `UPDATE jobs SET state = 'dead', leased_by = NULL, lease_until_us = NULL, finished_us = $4,
				last_error_reason = $5` + held
			args = append(lease, now.UnixMicro(), reason)
		} else {
			outcome = outcomeRetried
			q = `UPDATE jobs SET state = 'retryable', leased_by = NULL, lease_until_us = NULL, run_at_us = $4,
				last_error_reason = $5` + held
			args = append(lease, now.Add(r.backoff(j.Attempt)).UnixMicro(), reason)
		}
	}
	res, err := r.db.ExecContext(ctx, q, args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	switch {
	case err != nil:
		r.log.Error("jobs: cannot record an attempt's outcome; the job will be retaken when its lease runs out",
			"component", j.Kind, "attempt", j.Attempt, logging.Err(store.MapError(err)))
		return
	case n == 0:
		outcome = outcomeLeaseLost
	}
	r.m.outcome(ctx, j.Kind, outcome, took)
	switch outcome {
	case outcomeRetried, outcomeDead:
		attrs := []any{"component", j.Kind, "attempt", j.Attempt, "reason", reason}
		var p *panicError
		if errors.As(herr, &p) {
			attrs = append(attrs, "stack", string(p.stack))
		}
		msg := "jobs: attempt failed; will retry"
		if outcome == outcomeDead {
			msg = "jobs: job failed for good; dead-lettered"
		}
		r.log.Warn(msg, attrs...)
	}
}

// backoff is the delay before the attempt after attempt n (n >= 1):
// exponential, capped, with "equal jitter" (half fixed, half random), so
// replicas retrying together spread out while the delay still grows.
func (r *Runner) backoff(n int) time.Duration {
	d := r.cfg.BackoffBase
	for i := 1; i < n && d < r.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, r.cfg.BackoffMax)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// Info is a job as the table holds it, for operators.
type Info struct {
	ID          int64
	Kind        string
	State       State
	Attempt     int
	MaxAttempts int
	RunAt       time.Time
	// LeasedBy is the runner holding a running job.
	LeasedBy string
	// LastErrorReason is the reason of the last failed attempt.
	LastErrorReason string
	Created         time.Time
	Finished        time.Time
}

const infoColumns = `id, kind, state, attempt, max_attempts, run_at_us, leased_by, last_error_reason, created_us, finished_us`

func scanInfo(sc interface{ Scan(...any) error }) (Info, error) {
	var (
		i                Info
		runAt, created   int64
		leasedBy, reason sql.NullString
		finished         sql.NullInt64
	)
	if err := sc.Scan(&i.ID, &i.Kind, &i.State, &i.Attempt, &i.MaxAttempts, &runAt, &leasedBy, &reason, &created, &finished); err != nil {
		return Info{}, err
	}
	i.RunAt, i.Created = time.UnixMicro(runAt).UTC(), time.UnixMicro(created).UTC()
	i.LeasedBy, i.LastErrorReason = leasedBy.String, reason.String
	if finished.Valid {
		i.Finished = time.UnixMicro(finished.Int64).UTC()
	}
	return i, nil
}

// Get returns job id.
func (r *Runner) Get(ctx context.Context, id int64) (Info, error) {
	i, err := scanInfo(r.db.QueryRowContext(ctx, `SELECT `+infoColumns+` FROM jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Info{}, errs.E(errs.NotFound, "JOB_NOT_FOUND", "no job %d", id)
	}
	return i, store.MapError(err)
}

// Dead lists up to limit dead jobs, oldest first, after the job with ID
// after (0 starts).
func (r *Runner) Dead(ctx context.Context, after int64, limit int) ([]Info, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := r.db.QueryContext(ctx, `SELECT `+infoColumns+` FROM jobs
		WHERE state = 'dead' AND id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Info
	for rows.Next() {
		i, err := scanInfo(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, i)
	}
	return out, store.MapError(rows.Err())
}

// Retry re-queues dead job id with its attempts reset, to run now.
func (r *Runner) Retry(ctx context.Context, id int64) error {
	res, err := r.db.ExecContext(ctx, `
		UPDATE jobs SET state = 'available', attempt = 0, run_at_us = $2, finished_us = NULL
		WHERE id = $1 AND state = 'dead'`, id, r.clock.Now().UnixMicro())
	if err != nil {
		return store.MapError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.MapError(err)
	} else if n == 0 {
		return errs.E(errs.NotFound, "DEAD_JOB_NOT_FOUND", "no dead job %d", id)
	}
	r.poke()
	return nil
}

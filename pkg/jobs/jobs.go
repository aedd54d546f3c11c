// Package jobs runs durable background work on a service's own database
// (pkg/store, SQLite or PostgreSQL; the jobs table is in the platform schema,
// pkg/migrations). Every replica of a service runs a Runner on the same
// database, and a job runs on one of them at a time:
//
//   - A runner claims due jobs under a lease (leased_by, lease_until) that it
//     renews while the handler runs. A job whose runner died is claimed again
//     once its lease has run out; one that has used all its attempts that way
//     is dead-lettered (reason LEASE_EXPIRED), so a job that kills its worker
//     cannot loop forever.
//   - A failed attempt is retried after an exponential backoff with jitter,
//     up to the kind's MaxAttempts; then the job is kept as dead, visible
//     (Dead) and re-queueable (Retry). The table records the error's
//     machine-readable reason (errs.ReasonOf) and never its text, which may
//     carry personal data.
//   - Enqueue can run in the caller's transaction, so a job exists exactly
//     when the state change that asks for it committed, and can carry an
//     idempotency key: a second enqueue with the same key is a no-op.
//   - Periodic kinds run every interval. Each occurrence is a row whose
//     unique key is the occurrence's number, so however many replicas try
//     to enqueue it, it runs once; and an occurrence is skipped while an
//     earlier run of the kind is still pending, so runs never overlap.
//   - Run works jobs until its context ends, then waits for the handlers
//     that are running; after the shutdown grace period their context is
//     canceled, and a job they give up is put back, its attempt not counted.
//
// Delivery is at least once: a handler may run again after a crash or a
// lost lease, so handlers must be idempotent.
//
// Job arguments are stored in the clear: they should reference data (a
// request ID), not carry personal data.
//
// This package is hand-written rather than built on River
// (github.com/riverqueue/river); docs/adr/0006-durable-jobs.md records the
// evaluation. In short: River's SQLite driver is early and asks for a
// single-connection pool, which the embedded default does not have; it
// rescues a crashed worker's job by wall-clock age, without heartbeats or an
// injectable clock; it stores error text and stack traces; and its schema
// lives outside the platform's goose migrations.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
)

// State is where a job is in its life.
type State string

// The states of a job.
const (
	// Available: waiting for its run time (run_at), then for a runner.
	Available State = "available"
	// Running: leased by a runner until lease_until.
	Running State = "running"
	// Retryable: an attempt failed; it runs again at run_at.
	Retryable State = "retryable"
	// Completed: done; deleted after Config.Retention.
	Completed State = "completed"
	// Dead: every attempt failed (or it failed permanently); kept until an
	// operator re-queues it (Runner.Retry).
	Dead State = "dead"
)

// Handler does one attempt of a job. Returning nil completes the job; an
// error fails the attempt (see Permanent). ctx is canceled when the attempt
// times out, when the runner loses the job's lease, and at shutdown after
// the grace period.
type Handler func(ctx context.Context, job Job) error

// Job is one attempt of a job, as a handler sees it.
type Job struct {
	ID   int64
	Kind string
	Args []byte
	// Attempt counts from 1.
	Attempt     int
	MaxAttempts int
	// RunAt is when the job was due; for a periodic job, the occurrence.
	RunAt time.Time
}

// Options are a kind's settings.
type Options struct {
	// MaxAttempts before the job is dead (default 10).
	MaxAttempts int
	// Timeout of one attempt, on the runner's clock (default 15 minutes).
	Timeout time.Duration
}

// Defaults of Options and Config.
const (
	DefaultMaxAttempts   = 10
	DefaultTimeout       = 15 * time.Minute
	DefaultConcurrency   = 4
	DefaultPollInterval  = time.Second
	DefaultLease         = 30 * time.Second
	DefaultShutdownGrace = 10 * time.Second
	DefaultBackoffBase   = time.Second
	DefaultBackoffMax    = time.Hour
	DefaultRetention     = 24 * time.Hour
)

// Config of a Runner. The zero value of each field means its default.
type Config struct {
	// Worker names this runner in the leases it takes (default: host name
	// and a random suffix, unique per process).
	Worker string
	// Concurrency is how many handlers run at once.
	Concurrency int
	// PollInterval is how often the runner looks for due jobs when it has
	// not been woken.
	PollInterval time.Duration
	// Lease is how long a claim lasts without renewal; a running handler's
	// lease is renewed every Lease/3. A dead runner's jobs are retaken
	// after at most Lease.
	Lease time.Duration
	// ShutdownGrace is how long Run waits, once its context ends, before it
	// cancels the handlers still running (and then waits for them to return).
	ShutdownGrace time.Duration
	// BackoffBase and BackoffMax bound the delay before a retry: attempt n
	// waits min(BackoffMax, BackoffBase·2^(n-1)), jittered to between half of
	// that and all of it.
	BackoffBase, BackoffMax time.Duration
	// Retention is how long completed jobs (and their unique keys) are kept.
	Retention time.Duration
	// Clock is the runner's clock (default the real one); tests pass a
	// clockwork.FakeClock.
	Clock clockwork.Clock
	// Logger (PII-safe, pkg/logging) for failures; nil discards.
	Logger *slog.Logger
	// Meter for the runner's metrics (see metrics.go); nil records none.
	Meter metric.MeterProvider
}

// Runner claims and runs the jobs of the kinds registered on it.
type Runner struct {
	db    *store.DB
	cfg   Config
	clock clockwork.Clock
	log   *slog.Logger
	m     *metrics

	mu       sync.Mutex
	kinds    map[string]*kind
	triggers []trigger
	started  bool
	active   int // handlers running
	// lastPurge is when completed jobs were last deleted.
	lastPurge time.Time

	wake chan struct{}
	// base is the parent of every handler's context: Run's context does not
	// cancel handlers; the end of the shutdown grace period does.
	base       context.Context
	cancelBase context.CancelCauseFunc
	handlers   sync.WaitGroup
}

// trigger runs periodic kinds early on every receive from ch.
type trigger struct {
	ch    <-chan struct{}
	kinds []string
}

type kind struct {
	name    string
	handler Handler
	opts    Options
	// every is the period of a periodic kind; 0 for others.
	every time.Duration
	// last is the last occurrence this runner enqueued (or found enqueued).
	last int64
}

// New returns a runner of jobs on db. Register kinds, then call Run.
func New(db *store.DB, cfg Config) (*Runner, error) {
	if db == nil {
		return nil, invalid("jobs: nil database")
	}
	if cfg.Worker == "" {
		w, err := defaultWorker()
		if err != nil {
			return nil, err
		}
		cfg.Worker = w
	}
	setDefault(&cfg.Concurrency, DefaultConcurrency)
	setDefault(&cfg.PollInterval, DefaultPollInterval)
	setDefault(&cfg.Lease, DefaultLease)
	setDefault(&cfg.ShutdownGrace, DefaultShutdownGrace)
	setDefault(&cfg.BackoffBase, DefaultBackoffBase)
	setDefault(&cfg.BackoffMax, DefaultBackoffMax)
	setDefault(&cfg.Retention, DefaultRetention)
	switch {
	case cfg.Concurrency < 0, cfg.PollInterval < 0, cfg.Lease < 0, cfg.ShutdownGrace < 0,
		cfg.BackoffBase < 0, cfg.BackoffMax < 0, cfg.Retention < 0:
		return nil, invalid("jobs: negative setting")
	case cfg.Lease < 3*time.Millisecond:
		return nil, invalid("jobs: lease shorter than 3ms")
	case cfg.BackoffMax < cfg.BackoffBase:
		return nil, invalid("jobs: BackoffMax below BackoffBase")
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mp := cfg.Meter
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	r := &Runner{
		db: db, cfg: cfg, clock: cfg.Clock, log: log,
		kinds: map[string]*kind{}, wake: make(chan struct{}, 1),
	}
	r.base, r.cancelBase = context.WithCancelCause(context.Background())
	m, err := newMetrics(mp, r)
	if err != nil {
		return nil, err
	}
	r.m = m
	return r, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func defaultWorker() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	// A restarted container keeps its host name and often its PID (1), so
	// only randomness tells this process's leases from its predecessor's.
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("jobs: worker id: %w", err)
	}
	return host + "-" + hex.EncodeToString(b), nil
}

// Worker is the name this runner leases jobs under.
func (r *Runner) Worker() string { return r.cfg.Worker }

var kindName = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,99}$`)

// Register makes the runner run jobs of kind with h. Call it before Run.
func (r *Runner) Register(kind string, h Handler, opts Options) error {
	return r.register(kind, h, opts, 0)
}

// Periodic makes the runner run h every interval, starting with the
// occurrence current when Run starts. Occurrences are aligned to multiples
// of every since the Unix epoch, so every replica computes the same ones;
// each runs once across replicas, and none starts while an earlier run of
// the kind is pending or running (that occurrence is skipped). A periodic
// kind cannot be enqueued; Trigger runs it early.
func (r *Runner) Periodic(kind string, every time.Duration, h Handler, opts Options) error {
	if every < time.Millisecond {
		return invalid("jobs: periodic interval below 1ms")
	}
	return r.register(kind, h, opts, every)
}

func (r *Runner) register(name string, h Handler, opts Options, every time.Duration) error {
	if !kindName.MatchString(name) {
		return invalid("jobs: kind must match " + kindName.String())
	}
	if h == nil {
		return invalid("jobs: nil handler")
	}
	setDefault(&opts.MaxAttempts, DefaultMaxAttempts)
	setDefault(&opts.Timeout, DefaultTimeout)
	if opts.MaxAttempts < 0 || opts.Timeout < 0 {
		return invalid("jobs: negative MaxAttempts or Timeout")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errs.E(errs.FailedPrecondition, "JOBS_STARTED", "jobs: register kinds before Run")
	}
	if _, ok := r.kinds[name]; ok {
		return errs.E(errs.AlreadyExists, "JOB_KIND_EXISTS", "jobs: kind %s registered twice", name)
	}
	r.kinds[name] = &kind{name: name, handler: h, opts: opts, every: every, last: -1}
	return nil
}

// TriggerOn makes Run trigger the periodic kinds (see Trigger) on every
// receive from ch: a state change that creates work for them (a key
// rotation) need not wait for the next occurrence. Call it before Run.
func (r *Runner) TriggerOn(ch <-chan struct{}, kinds ...string) error {
	if ch == nil || len(kinds) == 0 {
		return invalid("jobs: TriggerOn needs a channel and kinds")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errs.E(errs.FailedPrecondition, "JOBS_STARTED", "jobs: call TriggerOn before Run")
	}
	for _, name := range kinds {
		if k, ok := r.kinds[name]; !ok || k.every == 0 {
			return errs.E(errs.InvalidArgument, "NOT_PERIODIC_JOB_KIND", "jobs: %s is not a registered periodic kind", name)
		}
	}
	r.triggers = append(r.triggers, trigger{ch: ch, kinds: kinds})
	return nil
}

// kind returns a registered kind.
func (r *Runner) kind(name string) (*kind, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.kinds[name]
	if !ok {
		return nil, errs.E(errs.InvalidArgument, "UNKNOWN_JOB_KIND", "jobs: kind %s is not registered", name)
	}
	return k, nil
}

// kindNames returns the registered kinds, for the claim's filter: a runner
// never claims a kind it cannot run (another version of the service may
// enqueue kinds this one does not know).
func (r *Runner) kindNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		out = append(out, n)
	}
	return out
}

// Permanent marks err as a failure no retry can fix (malformed arguments, a
// record that no longer exists): the job is dead at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Reasons recorded in last_error_reason besides the handlers' own.
const (
	ReasonHandlerFailed = "HANDLER_FAILED" // an error without a valid errs reason
	ReasonPanic         = "PANIC"
	ReasonTimeout       = "TIMEOUT"
	ReasonLeaseExpired  = "LEASE_EXPIRED" // its runner died on the last attempt
	ReasonInterrupted   = "INTERRUPTED"   // given up at shutdown; not counted
)

var (
	errTimeout   = errors.New("jobs: attempt timed out")
	errLeaseLost = errors.New("jobs: lease lost")
	errShutdown  = errors.New("jobs: runner shut down")
)

var reasonPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// reasonOf is what the table records about a failed attempt: a reason from
// a fixed vocabulary, never error text.
func reasonOf(err, cause error) string {
	var p *panicError
	switch {
	case errors.As(err, &p):
		return ReasonPanic
	case errors.Is(cause, errTimeout):
		return ReasonTimeout
	}
	if reason := errs.ReasonOf(err); reasonPattern.MatchString(reason) {
		return reason
	}
	return ReasonHandlerFailed
}

func invalid(msg string) *errs.Error {
	return errs.E(errs.InvalidArgument, "INVALID_JOB_CONFIG", "%s", msg)
}

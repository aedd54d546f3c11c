package jobs

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
)

// EnqueueOptions are the optional settings of one job.
type EnqueueOptions struct {
	// UniqueKey makes the enqueue idempotent: while a job of the same kind
	// with this key is kept (completed jobs for Config.Retention, dead jobs
	// until deleted), enqueueing it again returns that job.
	UniqueKey string
	// RunAt delays the job (default: now).
	RunAt time.Time
	// MaxAttempts overrides the kind's.
	MaxAttempts int
}

// Enqueued is the job an enqueue made or found.
type Enqueued struct {
	ID int64
	// Duplicate reports that a job with the same unique key already existed
	// and nothing was added.
	Duplicate bool
}

// execer is what enqueueing needs from a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const maxUniqueKey = 200

// Enqueue adds a job of a registered, non-periodic kind.
func (r *Runner) Enqueue(ctx context.Context, kind string, args []byte, opts EnqueueOptions) (Enqueued, error) {
	return r.enqueue(ctx, r.db, kind, args, opts)
}

// EnqueueTx adds a job in the caller's transaction: it exists only if tx
// commits, and no runner sees it before then.
func (r *Runner) EnqueueTx(ctx context.Context, tx *sql.Tx, kind string, args []byte, opts EnqueueOptions) (Enqueued, error) {
	if tx == nil {
		return Enqueued{}, invalid("jobs: nil transaction")
	}
	e, err := r.enqueue(ctx, tx, kind, args, opts)
	if err == nil && !e.Duplicate {
		// enqueue's wake-up may reach the runner before tx commits, and a
		// poll then finds nothing: wake it again shortly after, when the
		// commit has most likely happened, rather than leave the job to the
		// next poll (PollInterval later; never, on a stopped test clock).
		time.AfterFunc(txWakeDelay, r.poke)
	}
	return e, err
}

// txWakeDelay is how long after EnqueueTx the runner is woken again.
const txWakeDelay = 100 * time.Millisecond

func (r *Runner) enqueue(ctx context.Context, q execer, kindName string, args []byte, opts EnqueueOptions) (Enqueued, error) {
	k, err := r.kind(kindName)
	if err != nil {
		return Enqueued{}, err
	}
	if k.every != 0 {
		return Enqueued{}, errs.E(errs.InvalidArgument, "PERIODIC_JOB_KIND", "jobs: %s is periodic: use Trigger", kindName)
	}
	if len(opts.UniqueKey) > maxUniqueKey {
		return Enqueued{}, errs.E(errs.InvalidArgument, "INVALID_UNIQUE_KEY", "jobs: unique key longer than %d bytes", maxUniqueKey)
	}
	if opts.MaxAttempts < 0 {
		return Enqueued{}, invalid("jobs: negative MaxAttempts")
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = k.opts.MaxAttempts
	}
	now := r.clock.Now()
	runAt := opts.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	if args == nil {
		args = []byte{} // the column is NOT NULL
	}
	var key sql.NullString
	if opts.UniqueKey != "" {
		key = sql.NullString{String: opts.UniqueKey, Valid: true}
	}
	var id int64
	err = q.QueryRowContext(ctx, `
		INSERT INTO jobs (kind, args, state, attempt, max_attempts, run_at_us, unique_key, created_us)
		VALUES ($1, $2, 'available', 0, $3, $4, $5, $6)
		ON CONFLICT (kind, unique_key) DO NOTHING
		RETURNING id`,
		kindName, args, maxAttempts, runAt.UnixMicro(), key, now.UnixMicro()).Scan(&id)
	if err == nil {
		r.poke()
		return Enqueued{ID: id}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) || !key.Valid {
		return Enqueued{}, store.MapError(err)
	}
	// DO NOTHING returns no row: the key is taken.
	err = q.QueryRowContext(ctx, `SELECT id FROM jobs WHERE kind = $1 AND unique_key = $2`, kindName, key).Scan(&id)
	if err != nil {
		return Enqueued{}, store.MapError(err)
	}
	return Enqueued{ID: id, Duplicate: true}, nil
}

// Trigger runs a periodic kind now, unless a run of it is already pending
// or running (which will see the same state of the world).
func (r *Runner) Trigger(ctx context.Context, kindName string) error {
	k, err := r.kind(kindName)
	if err != nil {
		return err
	}
	if k.every == 0 {
		return errs.E(errs.InvalidArgument, "NOT_PERIODIC_JOB_KIND", "jobs: %s is not periodic", kindName)
	}
	_, err = r.enqueueSingleton(ctx, k, sql.NullString{}, r.clock.Now())
	if err == nil {
		r.poke()
	}
	return err
}

// lockClass is the first key of the two-key PostgreSQL advisory locks
// enqueueSingleton takes (the second is the kind's hash). Two-key locks
// never collide with one-key ones such as pkg/events'.
const lockClass = 0x6a6f6273 // "jobs"

// enqueueSingleton adds a run of a periodic kind due at runAt, under key,
// unless a run of the kind is pending or running. It reports whether it
// added one.
func (r *Runner) enqueueSingleton(ctx context.Context, k *kind, key sql.NullString, runAt time.Time) (bool, error) {
	added := false
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		if r.db.Dialect == store.Postgres {
			// Two replicas enqueueing different runs (an occurrence and a
			// Trigger) would otherwise both see none pending under READ
			// COMMITTED. On SQLite, BEGIN IMMEDIATE already serialises.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, k.name); err != nil {
				return err
			}
		}
		var pending bool
		err := tx.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = $1 AND state IN ('available', 'running', 'retryable'))`,
			k.name).Scan(&pending)
		if err != nil || pending {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO jobs (kind, args, state, attempt, max_attempts, run_at_us, unique_key, created_us)
			VALUES ($1, $2, 'available', 0, $3, $4, $5, $6)
			ON CONFLICT (kind, unique_key) DO NOTHING`,
			k.name, []byte{}, k.opts.MaxAttempts, runAt.UnixMicro(), key, r.clock.Now().UnixMicro())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		added = n == 1
		return err
	})
	return added, store.MapError(err)
}

// occurrenceKey is the unique key of a periodic kind's occurrence n.
func occurrenceKey(n int64) sql.NullString {
	return sql.NullString{String: "@" + strconv.FormatInt(n, 10), Valid: true}
}

// Package leader elects the audit log's sequencer among replicas that share
// one PostgreSQL database (ADR 0017): the replica holding a session-level
// advisory lock sequences; the others stand by, campaigning every Poll, and
// the lock passes the moment the leader's database session ends (a clean
// stop, a crash, kill -9: PostgreSQL drops the session's locks with it).
//
// The lock is for liveness, not safety. A leader cut off from the database
// may not know for up to Check that it lost the lock; if another replica
// has taken over meanwhile, the tree head's compare-and-set
// (ledger.Store.Append) refuses the stale leader's commit, so the log never
// forks. SQLite (one process) needs no election.
package leader

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// Sequencer is what leadership switches on and off (ledger.Log).
type Sequencer interface {
	// Lead takes over the log: load the tree, start accepting appends.
	Lead(ctx context.Context) error
	// StepDown stops accepting appends.
	StepDown()
}

// Options tune the election.
type Options struct {
	// Poll is how often a standby tries for the lock.
	Poll time.Duration
	// Check is how often the leader checks that its session (and with it
	// the lock) is alive.
	Check time.Duration
	// SessionTimeout is how long PostgreSQL keeps an idle election session
	// (and the lock with it) before ending it: how long a replica that
	// vanished without closing its connection blocks failover. It must
	// outlast any pause of a live replica (taking over signs a checkpoint,
	// which may wait on Vault; a loaded node stalls), or a healthy leader
	// loses its session and the log changes hands for nothing. Never
	// shorter than three Checks or Polls.
	SessionTimeout time.Duration
}

// Elector campaigns for the sequencer's lock on behalf of one replica.
type Elector struct {
	db     *sql.DB
	seq    Sequencer
	logger *slog.Logger
	opts   Options
}

// New builds an elector over db (PostgreSQL) for seq.
func New(db *sql.DB, seq Sequencer, logger *slog.Logger, opts Options) *Elector {
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Check <= 0 {
		opts.Check = time.Second
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 30 * time.Second
	}
	opts.SessionTimeout = max(opts.SessionTimeout, 3*opts.Check, 3*opts.Poll)
	return &Elector{db: db, seq: seq, logger: logger, opts: opts}
}

// lockKey names the lock per schema: replicas of one log share it, and two
// logs in one database (a schema each) do not.
const lockKey = `hashtextextended('sotto.audit.sequencer:' || current_schema(), 0)`

// Run campaigns until ctx is done; while this replica holds the lock, seq
// leads. It returns nil when ctx ends, having stepped down and released
// the lock, so a standby takes over at once.
func (e *Elector) Run(ctx context.Context) error {
	for {
		err := e.term(ctx)
		if ctx.Err() != nil {
			return nil
		}
		e.logger.Warn("sequencer election interrupted; campaigning again", "error_kind", errs.KindOf(err).String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(e.opts.Poll):
		}
	}
}

// term is one session: campaign on a dedicated connection, lead while it
// lives, and end the session (releasing the lock) on the way out.
func (e *Elector) term(ctx context.Context) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	// Never hand the session back to the pool: it may hold the lock, and
	// only ending the session is sure to release it.
	defer func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}()
	// A replica that vanishes without closing its connection (a node lost,
	// a partition) would keep its session, and the lock, until PostgreSQL's
	// TCP keepalive notices: two hours by default, with no replica able to
	// sequence meanwhile. PostgreSQL ends a session idle for longer than
	// idle_session_timeout; the leader's checks (every Check) and a standby's
	// polls (every Poll) keep a live session busy well within it.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`SET idle_session_timeout = %d`, e.opts.SessionTimeout.Milliseconds())); err != nil {
		return err
	}
	for {
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`).Scan(&got); err != nil {
			return err
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(e.opts.Poll):
		}
	}
	// Taking over must end well within the session's timeout: the session
	// lies idle meanwhile, and once PostgreSQL ends it the lock is free for
	// a standby while this replica would still accept appends (the tree
	// head's compare-and-set keeps the log whole, but two sequencers
	// contend). A checkpoint that waits on a hung Vault is left to the
	// ticker (ledger.Log.Lead logs its failure and leads on).
	leadCtx, cancelLead := context.WithTimeout(ctx, e.opts.SessionTimeout/2)
	err = e.seq.Lead(leadCtx)
	cancelLead()
	if err != nil {
		e.seq.StepDown()
		return err
	}
	e.logger.Info("sequencing the audit log")
	defer func() {
		e.seq.StepDown()
		e.logger.Info("stopped sequencing the audit log")
	}()
	t := time.NewTicker(e.opts.Check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		// Still holding it? (The session could have been terminated by an
		// administrator, or the connection lost.)
		checkCtx, cancel := context.WithTimeout(ctx, e.opts.Check*3)
		var held bool
		err := conn.QueryRowContext(checkCtx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted)`).Scan(&held)
		cancel()
		if err != nil {
			return err
		}
		if !held {
			return errors.New("advisory lock lost")
		}
	}
}

package store

import (
	"context"
	"database/sql/driver"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// TruncateWAL makes SQLite's write-ahead log forget what it holds: every page
// in it is copied into the database file and the log is truncated to zero
// bytes. Until then the log keeps the page images of earlier transactions,
// so a row deleted or overwritten in the database file (secure_delete) is
// still readable from the -wal file: call it after a transaction that must
// not leave such copies behind (an erasure). On PostgreSQL it does nothing;
// there the equivalent copies (WAL segments, dead tuples, backups) are out
// of the application's reach, which is why erasure relies on retiring the
// key-encryption key versions (docs/adr/0007).
//
// Readers that still use the log and a writer in progress block the
// truncation; it is retried, with backoff, until it succeeds or ctx ends
// (then Unavailable WAL_BUSY). Each attempt waits only briefly, because a
// pending checkpoint holds up new writers.
func (db *DB) TruncateWAL(ctx context.Context) error {
	return db.truncateWAL(ctx, nil)
}

// Timing of TruncateWAL's attempts.
const (
	walAttemptWait = 100 * time.Millisecond // busy_timeout of one attempt
	walBackoffMin  = 10 * time.Millisecond
	walBackoffMax  = time.Second
)

// truncateWAL is TruncateWAL; attempted, when set, sees each attempt's
// outcome (tests).
func (db *DB) truncateWAL(ctx context.Context, attempted func(busy bool)) error {
	if db.Dialect != SQLite {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return MapError(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.Itoa(int(walAttemptWait/time.Millisecond))); err != nil {
		return MapError(err)
	}
	defer func() {
		// The connection goes back to the pool: it must wait for locks as
		// every other one does, or it is dropped.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA busy_timeout = "+strconv.Itoa(busyTimeoutMS)); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	backoff := walBackoffMin
	for {
		// busy is 1 when readers or a writer kept the checkpoint from
		// completing; the log is then left as it was.
		var busy, logged, moved int
		err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved)
		if err != nil && ctx.Err() == nil && !isBusy(err) {
			return MapError(err)
		}
		done := err == nil && busy == 0
		if attempted != nil {
			attempted(!done)
		}
		if done {
			return nil
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return errs.Wrap(ctx.Err(), errs.Unavailable, "WAL_BUSY", "the write-ahead log is in use and was not truncated")
		case <-t.C:
		}
		backoff = min(2*backoff, walBackoffMax)
	}
}

// A Scrubber empties the write-ahead log after erasures (TruncateWAL) and
// remembers one it could not finish, for a background loop to finish
// (Retry). A service's erasure commits first and scrubs after: the
// erasure is done whatever happens here, and its caller may have gone, so
// a scrub is detached from the caller's cancellation and bounded by its own
// timeout instead.
type Scrubber struct {
	db      *DB
	timeout time.Duration
	// owed counts the scrubs asked for, done the highest of them a
	// successful truncation covered: a scrub is pending while done < owed.
	// (Counters, not a flag: a scrub that began before an erasure and
	// succeeds after it must not clear the erasure's own.)
	owed, done atomic.Uint64
}

// NewScrubber returns a Scrubber of db whose attempts last at most timeout
// each.
func NewScrubber(db *DB, timeout time.Duration) *Scrubber {
	return &Scrubber{db: db, timeout: timeout}
}

// Scrub truncates the log; on failure (readers held it past the timeout)
// the scrub stays pending for Retry, and the error says why.
func (s *Scrubber) Scrub(ctx context.Context) error {
	return s.scrub(ctx, s.owed.Add(1))
}

// scrub truncates the log and, if it succeeds, marks every scrub up to
// want as done: those were asked for after their erasures committed.
func (s *Scrubber) scrub(ctx context.Context, want uint64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	if err := s.db.TruncateWAL(ctx); err != nil {
		return err
	}
	for {
		d := s.done.Load()
		if d >= want || s.done.CompareAndSwap(d, want) {
			return nil
		}
	}
}

// Retry scrubs if an earlier Scrub did not finish.
func (s *Scrubber) Retry(ctx context.Context) error {
	want := s.owed.Load()
	if s.done.Load() >= want {
		return nil
	}
	return s.scrub(ctx, want)
}

// Pending reports whether a scrub is still owed.
func (s *Scrubber) Pending() bool { return s.done.Load() < s.owed.Load() }

package store

import (
	"context"
	"database/sql/driver"
	"strconv"
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

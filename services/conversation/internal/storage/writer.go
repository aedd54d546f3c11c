package storage

import (
	"context"
	"database/sql"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/groupcommit"
	"github.com/sottohq/sotto/pkg/store"
)

// On SQLite every read-write transaction of the Store goes through one
// writer that commits the transactions of concurrent callers together
// (pkg/groupcommit), each inside a savepoint of its own, so that one
// caller's failure (a placeholder number another post took) rolls back its
// own statements only. SQLite has one writer at a time anyway; without this,
// concurrent posts queue for its lock in its busy handler, which sleeps
// (1, 2, 5, 10 ... ms) instead of waiting its turn, and every transaction
// pays a commit of its own (a write to the WAL). PostgreSQL takes
// concurrent writers as they come: there InTx is store.DB.InTx.
//
// What this changes for a caller: its transaction may commit with others'
// (never partly: its savepoint is all or nothing), and a caller whose
// context ends while its transaction is queued or committing gets the
// context's error although the transaction may have committed (as with any
// call whose answer is lost). A transaction is never nested inside another
// (fn uses only its tx), as before: on SQLite a nested one waited for the
// outer one's lock until it failed.

// maxWriteBatch bounds the transactions committed together: a commit of 64
// posts holds the write lock for a few milliseconds.
const maxWriteBatch = 64

// WriteFunc is one caller's transaction: ctx is the one to run its
// statements with (the writer's, on SQLite: a caller's cancelled context
// would interrupt a statement, and SQLite then rolls back the whole shared
// transaction).
type WriteFunc func(ctx context.Context, tx *sql.Tx) error

func newWriter(s *Store) *groupcommit.Batcher[WriteFunc, struct{}] {
	if s.db.Dialect != store.SQLite {
		return nil
	}
	return groupcommit.New(s.commitWrites, groupcommit.Options[WriteFunc]{MaxBatch: maxWriteBatch})
}

// Write runs fn in a read-write transaction (see the top of this file).
func (s *Store) Write(ctx context.Context, fn WriteFunc) error {
	if s.writes == nil {
		return s.db.InTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	_, err := s.writes.Submit(ctx, fn)
	return err
}

const (
	savepointSQL  = `SAVEPOINT write`
	rollbackToSQL = `ROLLBACK TO SAVEPOINT write`
	releaseSQL    = `RELEASE SAVEPOINT write`
)

// commitWrites commits a batch in one transaction, each in its savepoint
// (a batch of one needs none).
func (s *Store) commitWrites(ctx context.Context, batch []WriteFunc) ([]groupcommit.Result[struct{}], error) {
	results := make([]groupcommit.Result[struct{}], len(batch))
	if len(batch) == 1 {
		results[0].Err = s.db.InTx(ctx, func(tx *sql.Tx) error { return run(ctx, tx, batch[0]) })
		return results, nil
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		q := s.db.Prepared(tx)
		for i, fn := range batch {
			if _, err := q.ExecContext(ctx, savepointSQL); err != nil {
				return store.MapError(err)
			}
			if err := run(ctx, tx, fn); err != nil {
				results[i].Err = err
				if _, err := q.ExecContext(ctx, rollbackToSQL); err != nil {
					return store.MapError(err)
				}
			}
			if _, err := q.ExecContext(ctx, releaseSQL); err != nil {
				return store.MapError(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err // the commit failed: every caller gets its error
	}
	return results, nil
}

// run is fn, with a panic turned into its error: it runs on the writer's
// goroutine, where a panic would end the process instead of the call.
func run(ctx context.Context, tx *sql.Tx, fn WriteFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errs.E(errs.Internal, store.ReasonInternal, "a transaction panicked")
		}
	}()
	return fn(ctx, tx)
}

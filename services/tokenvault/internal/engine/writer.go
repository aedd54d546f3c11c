package engine

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/groupcommit"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
)

// writeJob is one Tokenize request's rows and audit event.
type writeJob struct {
	ctx             context.Context // the caller's: commitEach skips a job whose caller gave up
	tenant, subject string
	dekVersion      int
	rows            []storage.Token
	event           auditclient.Sealed // sealed by the caller, off the writer
}

// maxGroupRows bounds how many rows one group commit writes.
const maxGroupRows = 5000

// writer is the engine's group commit. Concurrent Tokenize calls share one
// transaction: SQLite admits one writer at a time, and every commit costs
// the same whether it carries one request or fifty.
type writer = groupcommit.Batcher[*writeJob, struct{}]

func (e *Engine) newWriter() *writer {
	return groupcommit.New(e.commitGroup, groupcommit.Options[*writeJob]{
		MaxBatch: maxGroupRows,
		Weight:   func(j *writeJob) int { return len(j.rows) },
	})
}

// write hands a job to the writer and waits until it is durably committed
// (or refused).
func (e *Engine) write(ctx context.Context, j *writeJob) error {
	j.ctx = ctx
	_, err := e.writer.Submit(ctx, j)
	if errors.Is(err, groupcommit.ErrStopped) {
		return errs.Wrap(err, errs.Unavailable, reasons.ShuttingDown, "tokenvault is shutting down")
	}
	// On a context error the job may still commit; its tokens were never
	// acknowledged, so the caller simply has fewer tokens than it asked for.
	return err
}

// RunWriter stops the writer when ctx is done: writes still queued then
// fail as Unavailable. Start it once per engine (cmd/tokenvault does).
func (e *Engine) RunWriter(ctx context.Context) error {
	return e.writer.Run(ctx)
}

// commitGroup writes a group in one transaction. It first tries the whole
// group at once (the common case: nothing conflicts), with every row in
// shared multi-row INSERTs; if anything fails it rolls back and writes each
// job inside its own savepoint, so that one job's failure (a taken token, a
// subject erased or rotated meanwhile) fails that job alone.
func (e *Engine) commitGroup(ctx context.Context, batch []*writeJob) ([]groupcommit.Result[struct{}], error) {
	err := e.commitAll(ctx, batch)
	var se statementError
	switch {
	case len(batch) == 1 && errors.As(err, &se):
		// A group of one needs no savepoints to tell whose job failed.
		err = se.error
	case err != nil && errors.As(err, &se):
		// A statement failed: something in the group conflicts. Find out
		// which job, one savepoint each.
		return e.commitEach(ctx, batch)
	}
	e.outbox.Notify()
	// Committed, refused, or the commit itself failed: then it is unknown
	// whether the rows are stored, and writing them again would report
	// false collisions. The callers see an error and retry.
	if err != nil {
		return nil, err
	}
	return make([]groupcommit.Result[struct{}], len(batch)), nil
}

// statementError marks a failure of a statement inside commitAll, as
// opposed to the failure of its COMMIT.
type statementError struct{ error }

func (s statementError) Unwrap() error { return s.error }

// commitAll writes every job of the group together; any error rolls back
// all of them.
func (e *Engine) commitAll(ctx context.Context, batch []*writeJob) error {
	return e.store.DB().InTx(ctx, func(tx *sql.Tx) error {
		var rows []storage.Token
		var events []auditclient.Sealed
		var subjects []storage.SubjectVersion
		for _, j := range batch {
			subjects = append(subjects, storage.SubjectVersion{Tenant: j.tenant, Subject: j.subject, Version: j.dekVersion})
			rows = append(rows, j.rows...)
			events = append(events, j.event)
		}
		if err := e.store.CheckSubjects(ctx, tx, subjects); err != nil {
			return statementError{err}
		}
		if err := e.store.InsertRows(ctx, tx, rows); err != nil {
			return statementError{err}
		}
		if err := e.outbox.EnqueueSealed(ctx, tx, events...); err != nil {
			return statementError{err}
		}
		return nil
	})
}

// commitEach writes each job in its own savepoint.
func (e *Engine) commitEach(ctx context.Context, batch []*writeJob) ([]groupcommit.Result[struct{}], error) {
	results := make([]groupcommit.Result[struct{}], len(batch))
	err := e.store.DB().InTx(ctx, func(tx *sql.Tx) error {
		for i, j := range batch {
			if j.ctx.Err() != nil {
				results[i].Err = j.ctx.Err()
				continue
			}
			// One name for every job: reusing it after RELEASE is valid, and
			// the savepoint statements are prepared once, not per job.
			const sp = "job"
			if err := e.store.Exec(ctx, tx, "SAVEPOINT "+sp); err != nil {
				return err
			}
			err := e.store.InsertTokens(ctx, tx, j.tenant, j.subject, j.dekVersion, j.rows)
			if err == nil {
				err = e.outbox.EnqueueSealed(ctx, tx, j.event)
			}
			if err != nil {
				results[i].Err = err
				if rerr := e.store.Exec(ctx, tx, "ROLLBACK TO SAVEPOINT "+sp); rerr != nil {
					return rerr
				}
			}
			if err := e.store.Exec(ctx, tx, "RELEASE SAVEPOINT "+sp); err != nil {
				return err
			}
		}
		return nil
	})
	e.outbox.Notify()
	if err != nil {
		return nil, err
	}
	return results, nil
}

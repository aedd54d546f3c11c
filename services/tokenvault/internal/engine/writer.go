package engine

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
)

// writeJob is one Tokenize request's rows and audit event.
type writeJob struct {
	ctx             context.Context
	tenant, subject string
	dekVersion      int
	rows            []storage.Token
	event           auditclient.Sealed // sealed by the caller, off the writer
	done            chan error
}

// maxGroupRows bounds how many rows one group commit writes.
const maxGroupRows = 5000

// write hands a job to the writer and waits until it is durably committed
// (or refused). Concurrent Tokenize calls share one transaction (group
// commit): SQLite admits one writer at a time, and every commit costs the
// same whether it carries one request or fifty.
func (e *Engine) write(ctx context.Context, j *writeJob) error {
	j.ctx, j.done = ctx, make(chan error, 1)
	select {
	case e.writes <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		// The job may still commit; its tokens were never acknowledged, so
		// the caller simply has fewer tokens than it asked for.
		return ctx.Err()
	}
}

// RunWriter commits queued Tokenize writes until ctx is done. Start it once
// per engine (cmd/tokenvault does).
func (e *Engine) RunWriter(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case j := <-e.writes:
					j.done <- errs.E(errs.Unavailable, "SHUTTING_DOWN", "tokenvault is shutting down")
				default:
					return nil
				}
			}
		case j := <-e.writes:
			batch, rows := []*writeJob{j}, len(j.rows)
		gather:
			for rows < maxGroupRows {
				select {
				case k := <-e.writes:
					batch = append(batch, k)
					rows += len(k.rows)
				default:
					break gather
				}
			}
			e.commitGroup(ctx, batch)
		}
	}
}

// commitGroup writes a group in one transaction. It first tries the whole
// group at once (the common case: nothing conflicts), with every row in
// shared multi-row INSERTs; if anything fails it rolls back and writes each
// job inside its own savepoint, so that one job's failure (a taken token, a
// subject erased or rotated meanwhile) fails that job alone.
func (e *Engine) commitGroup(ctx context.Context, batch []*writeJob) {
	var live []*writeJob
	for _, j := range batch {
		if j.ctx.Err() != nil {
			j.done <- j.ctx.Err()
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	err := e.commitAll(ctx, live)
	var se statementError
	switch {
	case len(live) == 1 && errors.As(err, &se):
		// A group of one needs no savepoints to tell whose job failed.
		err = se.error
	case err != nil && errors.As(err, &se):
		// A statement failed: something in the group conflicts. Find out
		// which job, one savepoint each.
		e.commitEach(ctx, live)
		return
	}
	// Committed, refused, or the commit itself failed: then it is unknown
	// whether the rows are stored, and writing them again would report
	// false collisions. The callers see an error and retry.
	for _, j := range live {
		j.done <- err
	}
	e.outbox.Notify()
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
func (e *Engine) commitEach(ctx context.Context, batch []*writeJob) {
	results := make([]error, len(batch))
	err := e.store.DB().InTx(ctx, func(tx *sql.Tx) error {
		for i, j := range batch {
			if j.ctx.Err() != nil {
				results[i] = j.ctx.Err()
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
				results[i] = err
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
	for i, j := range batch {
		if err != nil {
			results[i] = err
		}
		j.done <- results[i]
	}
	e.outbox.Notify()
}

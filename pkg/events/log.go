package events

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/store"
)

// head is the highest seq committed (or trimmed): every lower seq has
// committed or rolled back, so a reader that has seen everything up to head
// may move its cursor there even when none of it matched its topics.
func (o *Outbox) head(ctx context.Context) (int64, error) {
	var head int64
	err := o.db.QueryRowContext(ctx, `SELECT MAX(h) FROM (
    SELECT COALESCE(MAX(seq), 0) AS h FROM event_outbox
    UNION ALL
    SELECT trimmed_through FROM event_log WHERE singleton = 1) AS heads`).Scan(&head)
	return head, store.MapError(err)
}

func (o *Outbox) trimmedThrough(ctx context.Context) (int64, error) {
	var t int64
	err := o.db.QueryRowContext(ctx, `SELECT trimmed_through FROM event_log WHERE singleton = 1`).Scan(&t)
	return t, store.MapError(err)
}

// read returns up to limit events of topics after pos, oldest first, and
// how far it has read: the last event's seq for a full batch, else head.
//
// The order of the statements is what makes this safe on PostgreSQL, where
// each one sees the database as of its own start: head first, so every seq
// up to it has committed before the events are read; the trim horizon last,
// so a trim that deleted events after pos before they were read is seen
// (a trim deletes and moves the horizon in one transaction).
func (o *Outbox) read(ctx context.Context, topics []string, pos int64, limit int) ([]Record, int64, error) {
	head, err := o.head(ctx)
	if err != nil {
		return nil, 0, err
	}
	if head <= pos {
		return nil, pos, o.checkHorizon(ctx, pos)
	}
	ph := func(i int) string { return o.db.Placeholders(i, 1) }
	q := `SELECT seq, event_id, topic, event_key, payload, key_version, published_at FROM event_outbox
WHERE seq > ` + ph(1) + ` AND seq <= ` + ph(2) + ` AND topic IN (` + o.db.Placeholders(3, len(topics)) + `)
ORDER BY seq LIMIT ` + ph(3+len(topics))
	args := make([]any, 0, 3+len(topics))
	args = append(args, pos, head)
	for _, t := range topics {
		args = append(args, t)
	}
	args = append(args, limit)
	rows, err := o.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, store.MapError(err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var payload []byte
		var version int
		var published int64
		if err := rows.Scan(&r.Seq, &r.ID, &r.Topic, &r.Key, &payload, &version, &published); err != nil {
			return nil, 0, store.MapError(err)
		}
		r.PublishedAt = time.UnixMicro(published).UTC()
		if r.Payload, err = o.open(ctx, r, payload, version); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, store.MapError(err)
	}
	if err := o.checkHorizon(ctx, pos); err != nil {
		return nil, 0, err
	}
	through := head
	if len(out) == limit {
		through = out[len(out)-1].Seq
	}
	return out, through, nil
}

// checkHorizon refuses a position some of whose following events may have
// been trimmed.
func (o *Outbox) checkHorizon(ctx context.Context, pos int64) error {
	trimmed, err := o.trimmedThrough(ctx)
	if err != nil {
		return err
	}
	if pos < trimmed {
		return errExpired()
	}
	return nil
}

func errExpired() error {
	return errs.E(errs.FailedPrecondition, ReasonCursorExpired,
		"cursor is older than the events kept; resynchronise and start a new feed")
}

func (o *Outbox) open(ctx context.Context, r Record, payload []byte, version int) ([]byte, error) {
	if version == 0 {
		// An outbox that seals never writes a plaintext row: one found in
		// its table was written by someone else, and is not delivered.
		if o.opts.Sealer != nil {
			return nil, errs.E(errs.Internal, ReasonOpenFailed, "event payload is not sealed but this outbox seals every event")
		}
		return payload, nil
	}
	if o.opts.Sealer == nil {
		return nil, errs.E(errs.Internal, ReasonOpenFailed, "event payload is sealed and this outbox has no sealer")
	}
	return o.opts.Sealer.open(ctx, payload, version, aad(r.ID, r.Topic, r.Key))
}

// Trim deletes the events that are older than the retention and that every
// consumer has passed, and returns how many. Only a prefix of the log is
// ever deleted (up to the first event still needed), so "trimmed through
// seq N" is exact and feeds at or after N lose nothing.
func (o *Outbox) Trim(ctx context.Context) (int64, error) {
	cutoff := o.opts.Now().Add(-o.opts.Retention).UnixMicro()
	var deleted int64
	err := o.db.InTx(ctx, func(tx *sql.Tx) error {
		// Locks the log row against a consumer registering meanwhile (at
		// the horizon this trim is about to move). SQLite's write
		// transactions are serialised already.
		lock := ""
		if o.db.Dialect == store.Postgres {
			lock = " FOR UPDATE"
		}
		var trimmed int64
		if err := tx.QueryRowContext(ctx, `SELECT trimmed_through FROM event_log WHERE singleton = 1`+lock).Scan(&trimmed); err != nil {
			return store.MapError(err)
		}
		var maxSeq, firstYoung, minConsumer sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM event_outbox`).Scan(&maxSeq); err != nil {
			return store.MapError(err)
		}
		// Walks the primary key from the oldest event, passing only events
		// past the retention (which trims remove), so published_at needs no
		// index of its own to be maintained on every publish.
		err := tx.QueryRowContext(ctx, `SELECT seq FROM event_outbox WHERE published_at >= $1 ORDER BY seq LIMIT 1`, cutoff).Scan(&firstYoung)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return store.MapError(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT MIN(seq) FROM event_consumers`).Scan(&minConsumer); err != nil {
			return store.MapError(err)
		}
		if !maxSeq.Valid {
			return nil
		}
		upto := maxSeq.Int64
		if firstYoung.Valid {
			upto = min(upto, firstYoung.Int64-1)
		}
		if minConsumer.Valid {
			upto = min(upto, minConsumer.Int64)
		}
		if upto <= trimmed {
			return nil
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM event_outbox WHERE seq <= $1`, upto)
		if err != nil {
			return store.MapError(err)
		}
		if deleted, err = res.RowsAffected(); err != nil {
			return store.MapError(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE event_log SET trimmed_through = $1 WHERE singleton = 1`, upto)
		return store.MapError(err)
	})
	return deleted, err
}

// RunTrim trims every interval until ctx is done. A failed trim is logged
// and tried again at the next tick: events are kept longer, nothing is lost.
func (o *Outbox) RunTrim(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := o.Trim(ctx); err != nil && ctx.Err() == nil {
			o.opts.Logger.Warn("event trim failed", "component", "events", logging.Err(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

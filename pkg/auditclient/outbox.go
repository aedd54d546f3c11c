package auditclient

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/store"
)

// OutboxSchema is the DDL of the outbox table, per dialect. A service that
// uses the outbox includes it in one of its own migrations.
var OutboxSchema = map[store.Dialect]string{
	store.SQLite: `CREATE TABLE audit_outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT    NOT NULL UNIQUE,
    payload  BLOB    NOT NULL
);`,
	store.Postgres: `CREATE TABLE audit_outbox (
    seq      BIGSERIAL PRIMARY KEY,
    event_id TEXT      NOT NULL UNIQUE,
    payload  BYTEA     NOT NULL
);`,
}

// Outbox stores events in the service's database and relays them to the
// audit service.
type Outbox struct {
	db       *store.DB
	client   *Client
	logger   *slog.Logger
	batch    int
	interval time.Duration
	wake     chan struct{}
}

// NewOutbox relays from db's audit_outbox table through client.
func NewOutbox(db *store.DB, client *Client, logger *slog.Logger) *Outbox {
	return &Outbox{db: db, client: client, logger: logger, batch: 500, interval: time.Second, wake: make(chan struct{}, 1)}
}

// Enqueue records events in tx, the transaction that makes the state change
// they describe: both commit or neither does.
func (o *Outbox) Enqueue(ctx context.Context, tx *sql.Tx, events ...Event) error {
	for _, e := range events {
		if e.ID == "" || e.Time.IsZero() {
			return errs.E(errs.InvalidArgument, "AUDIT_EVENT_INCOMPLETE", "audit event needs an ID and a time (use auditclient.New)")
		}
		payload, err := proto.Marshal(e.proto())
		if err != nil {
			return errs.Wrap(err, errs.Internal, "ENCODE_FAILED", "cannot encode audit event")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_outbox (event_id, payload) VALUES ($1, $2)`, e.ID, payload); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// Notify asks the relay to run now rather than at its next tick (call it
// after committing a transaction that enqueued events).
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is done, backing off while the audit service is down.
func (o *Outbox) Run(ctx context.Context) error {
	backoff := o.interval
	for {
		n, err := o.Flush(ctx)
		switch {
		case err != nil:
			o.logger.Warn("audit outbox relay failed", logging.Err(err))
			backoff = min(backoff*2, 30*time.Second)
		case n > 0:
			backoff = o.interval
			continue // more may be waiting
		default:
			backoff = o.interval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.wake:
		case <-time.After(backoff):
		}
	}
}

// Flush relays one batch and returns how many events were delivered. An
// event is deleted only after the audit service confirmed it, so a crash
// between the two re-sends it, and the audit service deduplicates by ID.
func (o *Outbox) Flush(ctx context.Context) (int, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT seq, payload FROM audit_outbox ORDER BY seq LIMIT $1`, o.batch)
	if err != nil {
		return 0, store.MapError(err)
	}
	var seqs []int64
	req := &auditv1.AppendEventsRequest{}
	for rows.Next() {
		var seq int64
		var payload []byte
		if err := rows.Scan(&seq, &payload); err != nil {
			rows.Close()
			return 0, store.MapError(err)
		}
		in := &auditv1.EventInput{}
		if err := proto.Unmarshal(payload, in); err != nil {
			rows.Close()
			return 0, errs.Wrap(err, errs.Internal, "OUTBOX_CORRUPT", "outbox row cannot be decoded")
		}
		seqs = append(seqs, seq)
		req.Events = append(req.Events, in)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, store.MapError(err)
	}
	rows.Close()
	if len(seqs) == 0 {
		return 0, nil
	}
	ctx2, cancel := context.WithTimeout(ctx, o.client.timeout)
	defer cancel()
	if _, err := o.client.rpc.AppendEvents(ctx2, req); err != nil {
		return 0, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log unavailable")
	}
	if _, err := o.db.ExecContext(ctx, `DELETE FROM audit_outbox WHERE seq <= $1`, seqs[len(seqs)-1]); err != nil {
		return 0, store.MapError(err)
	}
	return len(seqs), nil
}

// Pending counts undelivered events (for readiness and metrics).
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_outbox`).Scan(&n)
	return n, store.MapError(err)
}

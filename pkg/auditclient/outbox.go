package auditclient

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
    payload  BLOB    NOT NULL,
    rejected BOOLEAN NOT NULL DEFAULT FALSE
);`,
	store.Postgres: `CREATE TABLE audit_outbox (
    seq      BIGSERIAL PRIMARY KEY,
    event_id TEXT      NOT NULL UNIQUE,
    payload  BYTEA     NOT NULL,
    rejected BOOLEAN   NOT NULL DEFAULT FALSE
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
	linger   time.Duration // how long a woken relay waits for more events
	wake     chan struct{}
}

// NewOutbox relays from db's audit_outbox table through client.
func NewOutbox(db *store.DB, client *Client, logger *slog.Logger) *Outbox {
	return &Outbox{db: db, client: client, logger: logger, batch: 500, interval: time.Second, linger: 20 * time.Millisecond, wake: make(chan struct{}, 1)}
}

// Enqueue records events in tx, the transaction that makes the state change
// they describe: both commit or neither does. Events are checked against the
// audit service's own rules first, so that a malformed event fails the
// caller's transaction instead of blocking the relay later.
func (o *Outbox) Enqueue(ctx context.Context, tx *sql.Tx, events ...Event) error {
	sealed, err := Seal(events...)
	if err != nil {
		return err
	}
	return o.EnqueueSealed(ctx, tx, sealed...)
}

// Sealed is an event checked against the audit service's rules and encoded,
// ready for EnqueueSealed.
type Sealed struct {
	id      string
	payload []byte
}

// Seal checks and encodes events. Callers that hold a lock or a single
// writer while they enqueue seal beforehand: validation is most of the
// cost of enqueueing an event.
func Seal(events ...Event) ([]Sealed, error) {
	out := make([]Sealed, len(events))
	for i, e := range events {
		in, err := validated(e)
		if err != nil {
			return nil, err
		}
		payload, err := proto.Marshal(in)
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, "ENCODE_FAILED", "cannot encode audit event")
		}
		out[i] = Sealed{id: e.ID, payload: payload}
	}
	return out, nil
}

// EnqueueSealed is Enqueue for events already sealed.
func (o *Outbox) EnqueueSealed(ctx context.Context, tx *sql.Tx, events ...Sealed) error {
	if len(events) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO audit_outbox (event_id, payload) VALUES `)
	args := make([]any, 0, 2*len(events))
	for i, e := range events {
		if e.id == "" {
			// A programming error, not the client's.
			return errs.E(errs.Internal, "AUDIT_EVENT_UNSEALED", "audit event was not sealed (use auditclient.Seal)")
		}
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(" + o.db.Placeholders(len(args)+1, 2) + ")")
		args = append(args, e.id, e.payload)
	}
	// One statement for all events (a group commit enqueues many). A plain
	// statement on the transaction: preparing on the pool from inside a
	// transaction could wait for a connection that waiting transactions hold.
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return store.MapError(err)
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
			// Let the commits that follow this one join its delivery: one
			// AppendEvents and one delete for many events, not one each.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(o.linger):
			}
		case <-time.After(backoff):
		}
	}
}

type outboxRow struct {
	seq int64
	in  *auditv1.EventInput
}

// Flush relays one batch and returns how many events were delivered. A row
// is deleted only after the audit service confirmed it, so a crash between
// the two re-sends it, and the audit service deduplicates by ID. A row the
// audit service refuses as invalid is marked rejected (kept, logged, no
// longer sent) so that it cannot hold up every event behind it.
func (o *Outbox) Flush(ctx context.Context) (int, error) {
	rows, err := o.pending(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	err = o.send(ctx, rows)
	if err == nil {
		return len(rows), o.delete(ctx, rows)
	}
	if !refused(err) {
		return 0, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log unavailable")
	}
	// Something in the batch is refused: find it by sending one at a time.
	delivered := 0
	for _, r := range rows {
		err := o.send(ctx, []outboxRow{r})
		switch {
		case err == nil:
			if err := o.delete(ctx, []outboxRow{r}); err != nil {
				return delivered, err
			}
			delivered++
		case refused(err):
			o.logger.Error("audit event rejected by the audit service; kept in the outbox as rejected",
				"event_id", r.in.GetEventId(), "code", status.Code(err).String())
			if _, err := o.db.ExecContext(ctx, `UPDATE audit_outbox SET rejected = TRUE WHERE seq = $1`, r.seq); err != nil {
				return delivered, store.MapError(err)
			}
		default:
			return delivered, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log unavailable")
		}
	}
	return delivered, nil
}

func refused(err error) bool {
	c := status.Code(err)
	return c == codes.InvalidArgument || c == codes.AlreadyExists
}

func (o *Outbox) pending(ctx context.Context) ([]outboxRow, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT seq, payload FROM audit_outbox WHERE NOT rejected ORDER BY seq LIMIT $1`, o.batch)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		var payload []byte
		if err := rows.Scan(&r.seq, &payload); err != nil {
			return nil, store.MapError(err)
		}
		r.in = &auditv1.EventInput{}
		if err := proto.Unmarshal(payload, r.in); err != nil {
			return nil, errs.Wrap(err, errs.Internal, "OUTBOX_CORRUPT", "outbox row cannot be decoded")
		}
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

func (o *Outbox) send(ctx context.Context, rows []outboxRow) error {
	req := &auditv1.AppendEventsRequest{Events: make([]*auditv1.EventInput, len(rows))}
	for i, r := range rows {
		req.Events[i] = r.in
	}
	ctx, cancel := context.WithTimeout(ctx, o.client.timeout)
	defer cancel()
	resp, err := o.client.rpc.AppendEvents(ctx, req)
	if err != nil {
		return err
	}
	// A row is deleted only on an answer that accounts for exactly it (as
	// Client.append requires).
	if len(resp.GetResults()) != len(rows) {
		return status.Error(codes.Unavailable, "incomplete answer")
	}
	for i, r := range resp.GetResults() {
		if r.GetEventId() != rows[i].in.GetEventId() {
			return status.Error(codes.Unavailable, "answer for other events")
		}
	}
	return nil
}

// delete removes exactly the rows that were delivered. (Deleting "up to the
// highest sequence number" would lose rows of transactions that took a lower
// number but committed after the batch was read.)
func (o *Outbox) delete(ctx context.Context, rows []outboxRow) error {
	args := make([]any, len(rows))
	for i, r := range rows {
		args[i] = r.seq
	}
	_, err := o.db.ExecContext(ctx, `DELETE FROM audit_outbox WHERE seq IN (`+o.db.Placeholders(1, len(rows))+`)`, args...)
	return store.MapError(err)
}

// Pending counts events waiting for delivery.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_outbox WHERE NOT rejected`).Scan(&n)
	return n, store.MapError(err)
}

// Rejected counts events the audit service refused; each needs a look.
func (o *Outbox) Rejected(ctx context.Context) (int, error) {
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_outbox WHERE rejected`).Scan(&n)
	return n, store.MapError(err)
}

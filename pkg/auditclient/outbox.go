package auditclient

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/store"
)

// Outbox stores events in the service's database (the audit_outbox table of
// the platform schema) and relays them to the audit service with an
// events.Relay over that table.
type Outbox struct {
	db     *store.DB
	client *Client
	logger *slog.Logger
	relay  *events.Relay[outboxRow]
}

// NewOutbox relays from db's audit_outbox table through client.
func NewOutbox(db *store.DB, client *Client, logger *slog.Logger) *Outbox {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{db: db, client: client, logger: logger}
	o.relay = events.NewRelay(events.Queue[outboxRow](outboxQueue{o}), o.send, events.RelayOptions{
		Name: "audit-outbox", Batch: 500, Interval: time.Second, Linger: 20 * time.Millisecond,
		Refused: refused, Logger: logger,
	})
	return o
}

// Enqueue records events in tx, the transaction that makes the state change
// they describe: both commit or neither does. Events are checked against the
// audit service's own rules first, so that a malformed event fails the
// caller's transaction instead of blocking the relay later.
func (o *Outbox) Enqueue(ctx context.Context, tx *sql.Tx, evs ...Event) error {
	sealed, err := Seal(evs...)
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
func Seal(evs ...Event) ([]Sealed, error) {
	out := make([]Sealed, len(evs))
	for i, e := range evs {
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
func (o *Outbox) EnqueueSealed(ctx context.Context, tx *sql.Tx, sealed ...Sealed) error {
	if len(sealed) == 0 {
		return nil
	}
	// One prepared statement per event (store.DB.Prepared): parsing a
	// statement per call was a tenth of tokenvault's and audit's CPU.
	q := o.db.Prepared(tx)
	for _, e := range sealed {
		if e.id == "" {
			// A programming error, not the client's.
			return errs.E(errs.Internal, "AUDIT_EVENT_UNSEALED", "audit event was not sealed (use auditclient.Seal)")
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO audit_outbox (event_id, payload) VALUES ($1, $2)`, e.id, e.payload); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// Notify asks the relay to run now rather than at its next tick (call it
// after committing a transaction that enqueued events).
func (o *Outbox) Notify() { o.relay.Notify() }

// Run relays until ctx is done, backing off while the audit service is down.
func (o *Outbox) Run(ctx context.Context) error { return o.relay.Run(ctx) }

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
	n, err := o.relay.Flush(ctx)
	var e *errs.Error
	if err != nil && !errors.As(err, &e) {
		// The audit service's answer (the store's errors are typed already).
		err = errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log unavailable")
	}
	return n, err
}

func refused(err error) bool {
	c := status.Code(err)
	return c == codes.InvalidArgument || c == codes.AlreadyExists
}

// outboxQueue is the audit_outbox table as the relay's queue.
type outboxQueue struct{ o *Outbox }

func (q outboxQueue) Pending(ctx context.Context, limit int) ([]outboxRow, error) {
	o := q.o
	rows, err := o.db.Prepared(o.db).QueryContext(ctx, `SELECT seq, payload FROM audit_outbox WHERE NOT rejected ORDER BY seq LIMIT $1`, limit)
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

// send delivers rows in one AppendEvents call; nil means the audit service
// confirmed exactly these events.
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

// Done deletes exactly the rows that were delivered. (Deleting "up to the
// highest sequence number" would lose rows of transactions that took a lower
// number but committed after the batch was read.)
func (q outboxQueue) Done(ctx context.Context, rows []outboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	o := q.o
	// Prepared, with the list padded to a power of two by repeating the
	// last number (which deletes nothing more): a prepared statement per
	// exact batch size would be kept on every pool connection, a few
	// dozen texts where a handful do (store.PaddedSize).
	n := store.PaddedSize(len(rows))
	args := make([]any, n)
	for i := range args {
		args[i] = rows[min(i, len(rows)-1)].seq
	}
	_, err := o.db.Prepared(o.db).ExecContext(ctx, `DELETE FROM audit_outbox WHERE seq IN (`+o.db.Placeholders(1, n)+`)`, args...)
	return store.MapError(err)
}

// SetAside marks a refused row rejected: kept for a look, no longer sent.
func (q outboxQueue) SetAside(ctx context.Context, r outboxRow, cause error) error {
	q.o.logger.Error("audit event rejected by the audit service; kept in the outbox as rejected",
		"event_id", r.in.GetEventId(), "code", status.Code(cause).String())
	_, err := q.o.db.ExecContext(ctx, `UPDATE audit_outbox SET rejected = TRUE WHERE seq = $1`, r.seq)
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

package events

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
)

// Consumer is a named reader of the log with a cursor in the database (the
// last seq it has dealt with), shared by every replica: a Queue of the
// events of its topics after its cursor. Trim keeps every event a consumer
// has not passed.
type Consumer struct {
	o      *Outbox
	name   string
	topics []string
}

var _ Queue[Record] = (*Consumer)(nil)

// Consumer registers (or finds) the consumer name reading topics. A new
// consumer starts at the oldest event the log still holds: delivery is at
// least once, so it gets what was published before it first ran rather
// than missing it.
func (o *Outbox) Consumer(ctx context.Context, name string, topics []string) (*Consumer, error) {
	if name == "" || len(name) > maxTopicLen {
		return nil, errs.E(errs.InvalidArgument, "EVENT_CONSUMER_INVALID", "consumer name must be 1 to %d bytes", maxTopicLen)
	}
	if len(topics) == 0 {
		return nil, errs.E(errs.InvalidArgument, ReasonTopicInvalid, "consumer has no topics")
	}
	for _, t := range topics {
		if len(t) > maxTopicLen || !topicRE.MatchString(t) {
			return nil, errs.E(errs.InvalidArgument, ReasonTopicInvalid, "consumer topic is not a topic")
		}
	}
	err := o.db.InTx(ctx, func(tx *sql.Tx) error {
		// Under the log row's lock, so a concurrent Trim cannot move the
		// horizon past the position this consumer starts at.
		lock := ""
		if o.db.Dialect == store.Postgres {
			lock = " FOR UPDATE"
		}
		var trimmed int64
		if err := tx.QueryRowContext(ctx, `SELECT trimmed_through FROM event_log WHERE singleton = 1`+lock).Scan(&trimmed); err != nil {
			return store.MapError(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO event_consumers (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, trimmed)
		return store.MapError(err)
	})
	if err != nil {
		return nil, err
	}
	return &Consumer{o: o, name: name, topics: slices.Clone(topics)}, nil
}

// Position is the last seq the consumer has dealt with.
func (c *Consumer) Position(ctx context.Context) (int64, error) {
	var pos int64
	err := c.o.db.QueryRowContext(ctx, `SELECT seq FROM event_consumers WHERE name = $1`, c.name).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.E(errs.FailedPrecondition, "EVENT_CONSUMER_UNKNOWN", "event consumer is not registered")
	}
	return pos, store.MapError(err)
}

// Pending returns the consumer's next events. When none of the events after
// its cursor are of its topics, the cursor moves past them, so that a
// consumer of a quiet topic does not hold back Trim.
func (c *Consumer) Pending(ctx context.Context, limit int) ([]Record, error) {
	pos, err := c.Position(ctx)
	if err != nil {
		return nil, err
	}
	recs, through, err := c.o.read(ctx, c.topics, pos, limit)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 && through > pos {
		return nil, c.advance(ctx, c.o.db, through)
	}
	return recs, nil
}

// Done moves the cursor to the last of recs.
func (c *Consumer) Done(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	return c.advance(ctx, c.o.db, recs[len(recs)-1].Seq)
}

// SetAside records that the destination refused rec and moves the cursor
// past it, in one transaction. The record names the event; its payload
// stays in the log until the retention trims it.
func (c *Consumer) SetAside(ctx context.Context, rec Record, cause error) error {
	c.o.opts.Logger.Error("event refused by its destination; set aside",
		"component", c.name, "event_id", rec.ID, "code", status.Code(cause).String())
	return c.o.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_rejections (consumer, seq, event_id, topic) VALUES ($1, $2, $3, $4)
ON CONFLICT (consumer, seq) DO NOTHING`, c.name, rec.Seq, rec.ID, rec.Topic); err != nil {
			return store.MapError(err)
		}
		return c.advance(ctx, tx, rec.Seq)
	})
}

// Rejected counts the events set aside for this consumer; each needs a look.
func (c *Consumer) Rejected(ctx context.Context) (int, error) {
	var n int
	err := c.o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_rejections WHERE consumer = $1`, c.name).Scan(&n)
	return n, store.MapError(err)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// advance only ever moves the cursor forward: two replicas relaying for the
// same consumer may both deliver an event (at least once), but a slow one
// never moves the cursor back over events the other delivered since.
func (c *Consumer) advance(ctx context.Context, db execer, to int64) error {
	_, err := db.ExecContext(ctx, `UPDATE event_consumers SET seq = $1 WHERE name = $2 AND seq < $1`, to, c.name)
	return store.MapError(err)
}

// Relay registers the consumer name and returns a relay that delivers its
// events of topics through deliver, in order, at least once; run it with
// Run (pkg/service's RelayEvents does, as a background task). Notify wakes
// it. opts.Name defaults to name.
func (o *Outbox) Relay(ctx context.Context, name string, topics []string, deliver Deliver[Record], opts RelayOptions) (*Relay[Record], *Consumer, error) {
	c, err := o.Consumer(ctx, name, topics)
	if err != nil {
		return nil, nil, err
	}
	if opts.Name == "" {
		opts.Name = name
	}
	if opts.Logger == nil {
		opts.Logger = o.opts.Logger
	}
	r := NewRelay(Queue[Record](c), deliver, opts)
	o.mu.Lock()
	o.relays = append(o.relays, r)
	o.mu.Unlock()
	return r, c, nil
}

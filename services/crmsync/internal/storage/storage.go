// Package storage is the crmsync service's database: its deliveries
// (crm_deliveries). The queue that runs them is pkg/jobs' table, in the
// same database.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// States of a delivery: sotto.crmsync.v1.DeliveryState's numbers.
const (
	Queued       = 1
	Delivered    = 2
	DeadLettered = 3
	Cancelled    = 4
	Discarded    = 5
)

// Delivery is a row of crm_deliveries.
type Delivery struct {
	ID         string
	Tenant     string
	Connector  string
	EventID    string
	Subject    string
	Kind       int
	State      int
	Attempts   int
	Reason     string
	Purposes   []string
	Properties []string
	// OptOut: the delivery carries a consent mapping's withdrawn value,
	// which a withdrawal of the purpose it is sent under does not stop.
	OptOut bool
	JobID  int64
	// WrappedKey and Payload are the encrypted payload; empty once the
	// delivery is finished.
	WrappedKey string
	Payload    []byte
	CreateTime time.Time
	UpdateTime time.Time
}

// Store reads and writes deliveries.
type Store struct{ db *store.DB }

// New returns the store over db.
func New(db *store.DB) *Store { return &Store{db: db} }

// DB is the database, for transactions that also enqueue jobs.
func (s *Store) DB() *store.DB { return s.db }

const columns = `delivery_id, tenant, connector, event_id, subject, kind, state, attempts, reason, purposes, properties,
	job_id, wrapped_key, payload, create_time, update_time, opt_out`

// Insert adds a delivery in tx. A second delivery of the same event to the
// same connector is store.IsUniqueViolation.
func (s *Store) Insert(ctx context.Context, tx *sql.Tx, d Delivery) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO crm_deliveries (`+columns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		d.ID, d.Tenant, d.Connector, d.EventID, d.Subject, d.Kind, d.State, d.Attempts, d.Reason,
		strings.Join(d.Purposes, ","), strings.Join(d.Properties, ","), d.JobID, nullString(d.WrappedKey), d.Payload,
		store.Micros(d.CreateTime), store.Micros(d.UpdateTime), boolInt(d.OptOut))
	return err
}

// SetJob records the job that runs the delivery's next attempt.
func (s *Store) SetJob(ctx context.Context, q store.Q, id string, job int64) error {
	_, err := q.ExecContext(ctx, `UPDATE crm_deliveries SET job_id = $2 WHERE delivery_id = $1`, id, job)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func scan(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var purposes, props string
	var wrapped sql.NullString
	var created, updated, optOut int64
	err := row.Scan(&d.ID, &d.Tenant, &d.Connector, &d.EventID, &d.Subject, &d.Kind, &d.State, &d.Attempts, &d.Reason,
		&purposes, &props, &d.JobID, &wrapped, &d.Payload, &created, &updated, &optOut)
	if err != nil {
		return Delivery{}, err
	}
	d.Purposes, d.Properties = split(purposes), split(props)
	d.WrappedKey = wrapped.String
	d.OptOut = optOut != 0
	d.CreateTime, d.UpdateTime = store.FromMicros(created), store.FromMicros(updated)
	return d, nil
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Get returns delivery id (NotFound DELIVERY_NOT_FOUND).
func (s *Store) Get(ctx context.Context, q store.Q, id string) (Delivery, error) {
	d, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM crm_deliveries WHERE delivery_id = $1`, id))
	if err != nil {
		return Delivery{}, store.NotFound(err, reasons.DeliveryNotFound, "delivery")
	}
	return d, nil
}

// ByEvent returns the deliveries of an event.
func (s *Store) ByEvent(ctx context.Context, q store.Q, tenant, eventID string) ([]Delivery, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM crm_deliveries WHERE tenant = $1 AND event_id = $2
		ORDER BY connector`, tenant, eventID)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

func collect(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Cursor is where a page of List starts: after this (create_time, id).
type Cursor struct {
	CreateTime int64
	ID         string
}

// Filter narrows List; zero values match everything.
type Filter struct {
	State  int
	Tenant string
}

// List returns up to limit deliveries, newest first, after cur.
func (s *Store) List(ctx context.Context, f Filter, cur *Cursor, limit int) ([]Delivery, error) {
	where, args := []string{"1=1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.State != 0 {
		add("state = ?", f.State)
	}
	if f.Tenant != "" {
		add("tenant = ?", f.Tenant)
	}
	if cur != nil {
		args = append(args, cur.CreateTime, cur.ID)
		n := len(args)
		where = append(where, "(create_time < $"+strconv.Itoa(n-1)+" OR (create_time = $"+strconv.Itoa(n-1)+" AND delivery_id < $"+strconv.Itoa(n)+"))")
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM crm_deliveries WHERE `+strings.Join(where, " AND ")+`
		ORDER BY create_time DESC, delivery_id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// Attempted records a failed attempt that will be retried.
func (s *Store) Attempted(ctx context.Context, q store.Q, id string, attempts int, reason string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE crm_deliveries SET attempts = $2, reason = $3, update_time = $4
		WHERE delivery_id = $1 AND state = $5`, id, attempts, reason, store.Micros(now), Queued)
	return err
}

// ErrNotQueued is returned by Finish when the delivery was no longer
// queued (an operator discarded it meanwhile).
var ErrNotQueued = errors.New("delivery is not queued")

// Finish moves a delivery from one of from to state with reason and, unless
// it is dead-lettered (kept for a replay), deletes its payload and key.
func (s *Store) Finish(ctx context.Context, q store.Q, id string, from []int, state, attempts int, reason string, now time.Time) error {
	set := `state = $2, attempts = $3, reason = $4, update_time = $5`
	if state != DeadLettered {
		set += `, wrapped_key = NULL, payload = NULL`
	}
	args := []any{id, state, attempts, reason, store.Micros(now)}
	var in []string
	for _, f := range from {
		args = append(args, f)
		in = append(in, "$"+strconv.Itoa(len(args)))
	}
	ok, err := store.Affected(q.ExecContext(ctx, `UPDATE crm_deliveries SET `+set+` WHERE delivery_id = $1 AND state IN (`+strings.Join(in, ",")+`)`, args...))
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotQueued
	}
	return nil
}

// Requeue puts a dead-lettered delivery back in the queue, attempts reset.
func (s *Store) Requeue(ctx context.Context, q store.Q, id string, now time.Time) (bool, error) {
	return store.Affected(q.ExecContext(ctx, `UPDATE crm_deliveries SET state = $2, attempts = 0, reason = '', update_time = $3
		WHERE delivery_id = $1 AND state = $4`, id, Queued, store.Micros(now), DeadLettered))
}

// QueuedFor lists the queued deliveries of a subject (a consent change
// cancels those whose purpose it withdrew).
func (s *Store) QueuedFor(ctx context.Context, subject string) ([]Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM crm_deliveries WHERE subject = $1 AND state = $2`, subject, Queued)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// ByJob returns the queued delivery whose current attempt is job, if any.
func (s *Store) ByJob(ctx context.Context, job int64) (Delivery, bool, error) {
	d, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM crm_deliveries WHERE job_id = $1 AND state = $2`, job, Queued))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, err
	}
	return d, true, nil
}

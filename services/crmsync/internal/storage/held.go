package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// Held is a customer's last customer event that queued nothing for want of
// consent (crm_held_events): sealed, like a delivery's payload.
type Held struct {
	Tenant     string
	Subject    string
	EventID    string
	WrappedKey string
	Payload    []byte
	UpdateTime time.Time
}

// Hold keeps h as the customer's held event, in place of any before it.
func (s *Store) Hold(ctx context.Context, q store.Q, h Held) error {
	_, err := q.ExecContext(ctx, `INSERT INTO crm_held_events (tenant, subject, event_id, wrapped_key, payload, update_time)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, subject) DO UPDATE SET event_id = excluded.event_id,
		wrapped_key = excluded.wrapped_key, payload = excluded.payload, update_time = excluded.update_time`,
		h.Tenant, h.Subject, h.EventID, h.WrappedKey, h.Payload, store.Micros(h.UpdateTime))
	return err
}

// HeldEvent returns a shop's customer's held event, if any.
func (s *Store) HeldEvent(ctx context.Context, q store.Q, tenant, subject string) (Held, bool, error) {
	h := Held{Tenant: tenant, Subject: subject}
	var t int64
	err := q.QueryRowContext(ctx, `SELECT event_id, wrapped_key, payload, update_time FROM crm_held_events
		WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&h.EventID, &h.WrappedKey, &h.Payload, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return Held{}, false, nil
	}
	if err != nil {
		return Held{}, false, err
	}
	h.UpdateTime = store.FromMicros(t)
	return h, true, nil
}

// HeldTenants lists the shops that hold an event of a customer.
func (s *Store) HeldTenants(ctx context.Context, q store.Q, subject string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT tenant FROM crm_held_events WHERE subject = $1 ORDER BY tenant`, subject)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Unhold deletes a customer's held event; eventID, if not empty, deletes
// it only while it is that event (a newer one replaced it otherwise).
func (s *Store) Unhold(ctx context.Context, q store.Q, tenant, subject, eventID string) (bool, error) {
	if eventID == "" {
		return store.Affected(q.ExecContext(ctx, `DELETE FROM crm_held_events WHERE tenant = $1 AND subject = $2`, tenant, subject))
	}
	return store.Affected(q.ExecContext(ctx, `DELETE FROM crm_held_events WHERE tenant = $1 AND subject = $2 AND event_id = $3`,
		tenant, subject, eventID))
}

// ExpireHeld deletes the held events last updated before cutoff and says
// how many.
func (s *Store) ExpireHeld(ctx context.Context, q store.Q, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM crm_held_events WHERE update_time < $1`, store.Micros(cutoff))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

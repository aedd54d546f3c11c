package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// SetSent keeps what a delivery sent, sealed (the export's ledger).
func (s *Store) SetSent(ctx context.Context, q store.Q, id, key string, sent []byte) error {
	_, err := q.ExecContext(ctx, `UPDATE crm_deliveries SET sent_key = $2, sent = $3 WHERE delivery_id = $1`, id, key, sent)
	return err
}

// Sent returns a delivery's sealed ledger entry (empty if it sent nothing).
func (s *Store) Sent(ctx context.Context, q store.Q, id string) (string, []byte, error) {
	var key sql.NullString
	var sent []byte
	err := q.QueryRowContext(ctx, `SELECT sent_key, sent FROM crm_deliveries WHERE delivery_id = $1`, id).Scan(&key, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	return key.String, sent, err
}

// OfSubject lists every delivery of a shop's customer, oldest first (ids
// are UUIDv7s).
func (s *Store) OfSubject(ctx context.Context, q store.Q, tenant, subject string) ([]Delivery, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM crm_deliveries WHERE tenant = $1 AND subject = $2
		ORDER BY delivery_id`, tenant, subject)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// DeleteSubject deletes every delivery of a shop's customer (payloads,
// ledger and keys with them), their held event and the CRM record ids
// bound to the customer.
func (s *Store) DeleteSubject(ctx context.Context, q store.Q, tenant, subject string) (int64, error) {
	if _, err := q.ExecContext(ctx, `DELETE FROM crm_records WHERE tenant = $1 AND subject = $2`, tenant, subject); err != nil {
		return 0, err
	}
	if _, err := s.Unhold(ctx, q, tenant, subject, ""); err != nil {
		return 0, err
	}
	res, err := q.ExecContext(ctx, `DELETE FROM crm_deliveries WHERE tenant = $1 AND subject = $2`, tenant, subject)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Restricted says whether a shop's customer is restricted.
func (s *Store) Restricted(ctx context.Context, q store.Q, tenant, subject string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_restrictions WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&n)
	return n > 0, err
}

// Restrict records a restriction; false if there was one already.
func (s *Store) Restrict(ctx context.Context, q store.Q, tenant, subject, requestID string, now time.Time) (bool, error) {
	return store.Affected(q.ExecContext(ctx, `INSERT INTO crm_restrictions (tenant, subject, request_id, create_time)
		VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, subject) DO NOTHING`, tenant, subject, requestID, store.Micros(now)))
}

// Lift ends a restriction; false if there was none.
func (s *Store) Lift(ctx context.Context, q store.Q, tenant, subject string) (bool, error) {
	return store.Affected(q.ExecContext(ctx, `DELETE FROM crm_restrictions WHERE tenant = $1 AND subject = $2`, tenant, subject))
}

// Op is the recorded answer to one operation of a data-subject request.
type Op struct {
	SubjectDigest string
	Evidence      string
	Done          time.Time
}

// PrivacyOp returns the recorded answer to (request, op), if any.
func (s *Store) PrivacyOp(ctx context.Context, q store.Q, requestID string, op int) (Op, bool, error) {
	var o Op
	var done int64
	err := q.QueryRowContext(ctx, `SELECT subject_digest, evidence, done_time FROM crm_privacy_ops WHERE request_id = $1 AND op = $2`,
		requestID, op).Scan(&o.SubjectDigest, &o.Evidence, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return Op{}, false, nil
	}
	if err != nil {
		return Op{}, false, err
	}
	o.Done = store.FromMicros(done)
	return o, true, nil
}

// PutPrivacyOp records the answer to (request, op). A concurrent answer
// recorded first is store.IsUniqueViolation.
func (s *Store) PutPrivacyOp(ctx context.Context, q store.Q, requestID string, op int, o Op) error {
	_, err := q.ExecContext(ctx, `INSERT INTO crm_privacy_ops (request_id, op, subject_digest, evidence, done_time)
		VALUES ($1, $2, $3, $4, $5)`, requestID, op, o.SubjectDigest, o.Evidence, store.Micros(o.Done))
	return err
}

// Erasure is one CRM's confirmation that a record is gone.
type Erasure struct {
	Connector        string
	ExternalIDDigest string
	NotFound         time.Time
}

// PutErasure records a CRM's confirmation (again: no change).
func (s *Store) PutErasure(ctx context.Context, q store.Q, requestID, tenant string, e Erasure) error {
	_, err := q.ExecContext(ctx, `INSERT INTO crm_erasures (request_id, tenant, connector, external_id_digest, not_found_time)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, connector) DO NOTHING`,
		requestID, tenant, e.Connector, e.ExternalIDDigest, store.Micros(e.NotFound))
	return err
}

// Erasures returns the confirmations recorded for a request, by connector.
func (s *Store) Erasures(ctx context.Context, q store.Q, requestID string) ([]Erasure, error) {
	rows, err := q.QueryContext(ctx, `SELECT connector, external_id_digest, not_found_time FROM crm_erasures
		WHERE request_id = $1 ORDER BY connector`, requestID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Erasure
	for rows.Next() {
		var e Erasure
		var t int64
		if err := rows.Scan(&e.Connector, &e.ExternalIDDigest, &t); err != nil {
			return nil, err
		}
		e.NotFound = store.FromMicros(t)
		out = append(out, e)
	}
	return out, rows.Err()
}

// FeedCursor is where crmsync is in the consent change feed ("" from now).
func (s *Store) FeedCursor(ctx context.Context) (string, error) {
	var c string
	err := s.db.QueryRowContext(ctx, `SELECT cursor FROM crm_consent_feed WHERE singleton = 1`).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c, err
}

// SetFeedCursor records the position after a change crmsync acted on.
func (s *Store) SetFeedCursor(ctx context.Context, cursor string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO crm_consent_feed (singleton, cursor) VALUES (1, $1)
		ON CONFLICT (singleton) DO UPDATE SET cursor = excluded.cursor`, cursor)
	return err
}

// SentTo lists, per shop, the connectors a customer has been delivered to
// (a consent change updates only CRMs that have the customer).
func (s *Store) SentTo(ctx context.Context, q store.Q, subject string) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT tenant, connector FROM crm_deliveries WHERE subject = $1 AND state = $2`, subject, Delivered)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var tenant, conn string
		if err := rows.Scan(&tenant, &conn); err != nil {
			return nil, err
		}
		out[tenant] = append(out[tenant], conn)
	}
	return out, rows.Err()
}

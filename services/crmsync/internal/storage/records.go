package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// BindRecord keeps the CRM's own record id of a subject's record, as the
// CRM answered a delivery. The latest answer wins: a record the shop
// deleted and crmsync created again has a new id.
func (s *Store) BindRecord(ctx context.Context, q store.Q, tenant, conn, subject, recordID string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO crm_records (tenant, connector, subject, record_id, update_time)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, connector, subject) DO UPDATE
		SET record_id = excluded.record_id, update_time = excluded.update_time`,
		tenant, conn, subject, recordID, store.Micros(now))
	return err
}

// RecordOf is the CRM record id bound to a subject ("" when none is).
func (s *Store) RecordOf(ctx context.Context, q store.Q, tenant, conn, subject string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT record_id FROM crm_records WHERE tenant = $1 AND connector = $2 AND subject = $3`,
		tenant, conn, subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// SetLinkConfirmation records that identityID was asked to confirm linking
// with the code whose digest is codeDigest, until expire; a newer request
// replaces an older one.
func (s *Store) SetLinkConfirmation(ctx context.Context, q Q, identityID, codeDigest string, expire, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO channel_link_confirmations (identity_id, code_digest, create_time, expire_time)
VALUES ($1, $2, $3, $4) ON CONFLICT (identity_id) DO UPDATE SET code_digest = excluded.code_digest,
create_time = excluded.create_time, expire_time = excluded.expire_time`, identityID, codeDigest, us(now), us(expire))
	return store.MapError(err)
}

// LinkConfirmation returns the code digest identityID was asked to confirm,
// if that request has not expired at now.
func (s *Store) LinkConfirmation(ctx context.Context, q Q, identityID string, now time.Time) (string, bool, error) {
	var d string
	err := q.QueryRowContext(ctx, `SELECT code_digest FROM channel_link_confirmations WHERE identity_id = $1 AND expire_time > $2`,
		identityID, us(now)).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, store.MapError(err)
	}
	return d, true, nil
}

// DeleteLinkConfirmation ends identityID's pending confirmation.
func (s *Store) DeleteLinkConfirmation(ctx context.Context, q Q, identityID string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM channel_link_confirmations WHERE identity_id = $1`, identityID)
	return store.MapError(err)
}

// LatestConversation is a customer's newest conversation on channel in a
// shop; false when they have none.
func (s *Store) LatestConversation(ctx context.Context, q Q, tenant, subject string, channel int32) (Conversation, bool, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations
WHERE tenant = $1 AND customer_subject = $2 AND channel = $3 ORDER BY create_time DESC, conversation_id DESC LIMIT 1`, tenant, subject, channel))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, false, nil
	}
	if err != nil {
		return Conversation{}, false, store.MapError(err)
	}
	return c, true, nil
}

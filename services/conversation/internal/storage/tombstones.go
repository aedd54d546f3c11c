package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// TombstoneChannelMessages keeps, in tx, the keyed digests of the replay
// records of a customer's linked platform users (before DeleteChannelLinks
// deletes them) in channel_message_tombstones, without identity, subject
// or conversation: a platform retrying a message after the erasure finds
// it taken and does not create the person again. It returns how many.
func (s *Store) TombstoneChannelMessages(ctx context.Context, tx *sql.Tx, tenant, subject string, now time.Time) (int64, error) {
	if ok, err := s.tableExists(ctx, tx, "channel_message_tombstones"); err != nil || !ok {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO channel_message_tombstones (message_digest, erase_time)
SELECT message_digest, CAST($3 AS BIGINT) FROM channel_messages WHERE identity_id IN (
SELECT identity_id FROM channel_identities WHERE tenant = $1 AND subject = $2 AND linked = 1)
ON CONFLICT (message_digest) DO NOTHING`, tenant, subject, us(now))
	if err != nil {
		return 0, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n, store.MapError(err)
}

// ChannelMessageErased reports whether a platform message's digest is one
// an erasure left behind.
func (s *Store) ChannelMessageErased(ctx context.Context, q Q, digest string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM channel_message_tombstones WHERE message_digest = $1`, digest).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, store.MapError(err)
}

// PruneChannelMessageTombstones deletes the tombstones of erasures before
// cutoff: past it, platforms no longer retry.
func (s *Store) PruneChannelMessageTombstones(ctx context.Context, q Q, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM channel_message_tombstones WHERE erase_time < $1`, us(cutoff))
	if err != nil {
		return 0, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n, store.MapError(err)
}

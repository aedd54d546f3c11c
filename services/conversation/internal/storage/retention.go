package storage

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// IdleCursor is the last conversation a retention pass looked at: (update
// time, id).
type IdleCursor struct {
	UpdateTime int64
	ID         string
}

// IdleConversations returns up to limit conversations of a channel idle
// since before cutoff (update time earlier), oldest first, after cur (nil:
// from the oldest). tenant "" selects every shop but those in exclude;
// otherwise only that shop.
func (s *Store) IdleConversations(ctx context.Context, tenant string, exclude []string, channel int32, cutoff time.Time,
	cur *IdleCursor, limit int) ([]Conversation, error) {
	query := `SELECT ` + conversationCols + ` FROM conversations WHERE channel = $1 AND update_time < $2`
	args := []any{channel, us(cutoff)}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if tenant != "" {
		query += ` AND tenant = ` + arg(tenant)
	} else if len(exclude) > 0 {
		marks := make([]string, len(exclude))
		for i, t := range exclude {
			marks[i] = arg(t)
		}
		query += ` AND tenant NOT IN (` + strings.Join(marks, ", ") + `)`
	}
	if cur != nil {
		t, id := arg(cur.UpdateTime), arg(cur.ID)
		query += ` AND (update_time > ` + t + ` OR (update_time = ` + t + ` AND conversation_id > ` + id + `))`
	}
	query += ` ORDER BY update_time, conversation_id LIMIT ` + itoa(limit)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, c)
	}
	return out, store.MapError(rows.Err())
}

// MarkModelImprovement records that a conversation is kept for model
// improvement, with the customer's consent as checked at now.
func (s *Store) MarkModelImprovement(ctx context.Context, tx *sql.Tx, conversationID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO model_improvement (conversation_id, check_time) VALUES ($1, $2)
ON CONFLICT (conversation_id) DO UPDATE SET check_time = excluded.check_time`, conversationID, us(now))
	return store.MapError(err)
}

// ModelImprovementMark returns when a conversation's consent to model
// improvement was last confirmed, or false when it is not kept for it.
func (s *Store) ModelImprovementMark(ctx context.Context, q Q, conversationID string) (time.Time, bool, error) {
	var t int64
	err := q.QueryRowContext(ctx, `SELECT check_time FROM model_improvement WHERE conversation_id = $1`, conversationID).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, store.MapError(err)
	}
	return fromUS(t), true, nil
}

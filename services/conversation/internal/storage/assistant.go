package storage

import (
	"context"

	"github.com/sottohq/sotto/pkg/store"
)

// RecentMessages returns a conversation's last n messages, oldest first:
// the context the assistant answers in.
func (s *Store) RecentMessages(ctx context.Context, conversationID string, n int) ([]Message, error) {
	rows, err := s.db.Prepared(s.db.DB).QueryContext(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1
ORDER BY seq DESC LIMIT `+itoa(n), conversationID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, store.MapError(err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

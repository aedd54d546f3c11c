package storage

import (
	"context"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// HandOff moves an open conversation to waitingState with reason; it
// reports whether it did (false: the conversation was not in openState,
// e.g. already waiting or closed). The condition is in the statement, so
// two hand-offs racing change it once.
func (s *Store) HandOff(ctx context.Context, q Q, id string, openState, waitingState, reason int32, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE conversations SET state = $1, hand_off_reason = $2, update_time = $3
WHERE conversation_id = $4 AND state = $5`, waitingState, reason, us(now), id, openState)
	return store.Affected(res, err)
}

// Assign gives a conversation waiting in waitingState to agent; it reports
// whether it did (false: not waiting, or another agent holds it). The
// condition that no agent holds it is in the statement, so of two agents
// racing for one conversation exactly one gets it, on every replica.
func (s *Store) Assign(ctx context.Context, q Q, id, agent string, waitingState int32, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE conversations SET agent_subject = $1, update_time = $2
WHERE conversation_id = $3 AND state = $4 AND agent_subject = ''`, agent, us(now), id, waitingState)
	return store.Affected(res, err)
}

// PlaceholderOf returns one entry of a conversation's placeholder map
// (NotFound PLACEHOLDER_NOT_FOUND when the conversation never gave it out).
func (s *Store) PlaceholderOf(ctx context.Context, conversationID, placeholder string) (Placeholder, error) {
	var p Placeholder
	err := s.db.QueryRowContext(ctx, `SELECT placeholder, pii_type, number, token, value_digest FROM placeholders
WHERE conversation_id = $1 AND placeholder = $2`, conversationID, placeholder).Scan(&p.Placeholder, &p.Type, &p.Number, &p.Token, &p.ValueDigest)
	if err != nil {
		return Placeholder{}, store.NotFound(err, reasons.PlaceholderNotFound, "placeholder")
	}
	return p, nil
}

package storage

import (
	"context"
	"database/sql"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// SignalEvent is one counted event: a message, or a distinct value (its
// keyed digest) of a kind, seen over one scope key (the keyed digest of a
// conversation, visitor, account or client address).
type SignalEvent struct {
	ScopeKey    string
	Kind        int32
	ValueDigest string
	// Since is the start of the longest window counting the event: the
	// same event recorded after it is not recorded again.
	Since time.Time
}

// AddSignalEvents records events at now, each unless the same event (scope
// key, kind, value digest) is already recorded after its Since: a value
// seen again within the window counts once, and a retried post adds
// nothing.
func (s *Store) AddSignalEvents(ctx context.Context, evs []SignalEvent, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, e := range evs {
			_, err := tx.ExecContext(ctx, `INSERT INTO signal_events (scope_key, kind, value_digest, create_time)
SELECT CAST($1 AS TEXT), CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM signal_events
WHERE scope_key = $1 AND kind = $2 AND value_digest = $3 AND create_time > $5)`,
				e.ScopeKey, e.Kind, e.ValueDigest, us(now), us(e.Since))
			if err != nil {
				return store.MapError(err)
			}
		}
		return nil
	})
}

// CountSignalEvents counts the distinct events of a kind over a scope key
// after since.
func (s *Store) CountSignalEvents(ctx context.Context, scopeKey string, kind int32, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT value_digest) FROM signal_events
WHERE scope_key = $1 AND kind = $2 AND create_time > $3`, scopeKey, kind, us(since)).Scan(&n)
	return n, store.MapError(err)
}

// PruneSignalEvents deletes events at or before before (older than every
// rule's window).
func (s *Store) PruneSignalEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM signal_events WHERE create_time <= $1`, us(before))
	if err != nil {
		return 0, store.MapError(err)
	}
	return res.RowsAffected()
}

// Signal is one row of signals. ScopeKey is the keyed digest of what it
// counted over; ExpireTime is when a lasting action (throttle, step-up,
// block) ends (zero: it does not last); ClearTime when a staff member
// cleared it (zero: not cleared).
type Signal struct {
	ID             string
	Tenant         string
	Kind           int32
	Scope          int32
	ScopeKey       string
	ConversationID string
	Action         int32
	Count          int
	CreateTime     time.Time
	ExpireTime     time.Time
	ClearTime      time.Time
}

const signalCols = `signal_id, tenant, kind, scope, scope_key, conversation_id, action, count, create_time, expire_time, clear_time`

func scanSignal(row interface{ Scan(...any) error }) (Signal, error) {
	var g Signal
	var created, expires, cleared int64
	err := row.Scan(&g.ID, &g.Tenant, &g.Kind, &g.Scope, &g.ScopeKey, &g.ConversationID, &g.Action, &g.Count, &created, &expires, &cleared)
	g.CreateTime = fromUS(created)
	if expires != 0 {
		g.ExpireTime = fromUS(expires)
	}
	if cleared != 0 {
		g.ClearTime = fromUS(cleared)
	}
	return g, err
}

func usOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return us(t)
}

// InsertSignal adds a signal.
func (s *Store) InsertSignal(ctx context.Context, q Q, g Signal) error {
	_, err := q.ExecContext(ctx, `INSERT INTO signals (`+signalCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		g.ID, g.Tenant, g.Kind, g.Scope, g.ScopeKey, g.ConversationID, g.Action, g.Count, us(g.CreateTime), usOrZero(g.ExpireTime), usOrZero(g.ClearTime))
	return store.MapError(err)
}

// SignalLive reports whether a signal of a kind and action over a scope
// key was raised after since and is neither cleared nor expired at now:
// a rule raises one signal per window, not one per message.
func (s *Store) SignalLive(ctx context.Context, scopeKey string, kind, action int32, since, now time.Time) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM signals WHERE scope_key = $1 AND kind = $2 AND action = $3
AND create_time > $4 AND clear_time = 0 AND (expire_time = 0 OR expire_time > $5)`, scopeKey, kind, action, us(since), us(now)).Scan(&n)
	return n > 0, store.MapError(err)
}

// ActiveSignals returns the signals over any of the scope keys whose
// lasting action (throttle, step-up, block: expire_time set) is in force
// at now, newest first.
func (s *Store) ActiveSignals(ctx context.Context, scopeKeys []string, now time.Time) ([]Signal, error) {
	if len(scopeKeys) == 0 {
		return nil, nil
	}
	query := `SELECT ` + signalCols + ` FROM signals WHERE clear_time = 0 AND expire_time > $1 AND scope_key IN (`
	args := []any{us(now)}
	for i, k := range scopeKeys {
		if i > 0 {
			query += ", "
		}
		args = append(args, k)
		query += "$" + itoa(len(args))
	}
	query += `) ORDER BY create_time DESC, signal_id DESC LIMIT 20`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Signal
	for rows.Next() {
		g, err := scanSignal(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, g)
	}
	return out, store.MapError(rows.Err())
}

// SignalCursor is the last row of a page: (create time, id).
type SignalCursor struct {
	CreateTime int64
	ID         string
}

// ListSignals returns up to limit signals after cur (nil: from the
// newest), newest first, only a conversation's when conversationID is set.
func (s *Store) ListSignals(ctx context.Context, conversationID string, cur *SignalCursor, limit int) ([]Signal, error) {
	query := `SELECT ` + signalCols + ` FROM signals WHERE ($1 = '' OR conversation_id = $1)`
	args := []any{conversationID}
	if cur != nil {
		query += ` AND (create_time < $2 OR (create_time = $2 AND signal_id < $3))`
		args = append(args, cur.CreateTime, cur.ID)
	}
	query += ` ORDER BY create_time DESC, signal_id DESC LIMIT ` + itoa(limit)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Signal
	for rows.Next() {
		g, err := scanSignal(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, g)
	}
	return out, store.MapError(rows.Err())
}

// GetSignal returns a signal (NotFound SIGNAL_NOT_FOUND).
func (s *Store) GetSignal(ctx context.Context, q Q, id string) (Signal, error) {
	g, err := scanSignal(q.QueryRowContext(ctx, `SELECT `+signalCols+` FROM signals WHERE signal_id = $1`, id))
	if err != nil {
		return Signal{}, store.NotFound(err, reasons.SignalNotFound, "signal")
	}
	return g, nil
}

// ClearSignal marks a signal cleared at now (a staff member lifted its
// throttle, step-up or block); clearing a cleared signal changes nothing.
func (s *Store) ClearSignal(ctx context.Context, q Q, id string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE signals SET clear_time = $1 WHERE signal_id = $2 AND clear_time = 0`, us(now), id)
	return store.MapError(err)
}

package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// SingleProcess reports a store only this process writes: SQLite, whose
// file one process owns (its lock keeps a second one out of the writer).
// The signals count in memory there (signals.CountAuto).
func (s *Store) SingleProcess() bool { return s.db.Dialect == store.SQLite }

// SignalEvent is one counted event: a message, or a distinct value (its
// keyed digest) of a kind, seen over one scope key (the keyed digest of a
// conversation, visitor, account or client address).
type SignalEvent struct {
	ScopeKey    string
	Kind        int32
	ValueDigest string
}

// AddSignalEvents records events at now, in one statement. A value seen
// again is another row; CountSignalEvents counts distinct digests, so it
// counts once (and a retried post adds nothing to the count).
func (s *Store) AddSignalEvents(ctx context.Context, evs []SignalEvent, now time.Time) error {
	if len(evs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO signal_events (scope_key, kind, value_digest, create_time) VALUES `)
	args := make([]any, 0, 3*len(evs)+1)
	args = append(args, us(now))
	for i, e := range evs {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, e.ScopeKey, e.Kind, e.ValueDigest)
		n := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $1)", n-2, n-1, n)
	}
	// Through the writer, which commits the events of concurrent posts
	// together (writer.go).
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.db.Prepared(tx).ExecContext(ctx, b.String(), args...)
		return store.MapError(err)
	})
}

// CountSignalEvents counts the distinct events of a kind over a scope key
// after since, up to limit: a rule needs to know whether its threshold is
// reached, and a busy scope (one address behind a carrier's NAT) must not
// cost a scan of its whole window per message.
func (s *Store) CountSignalEvents(ctx context.Context, scopeKey string, kind int32, since time.Time, limit int) (int, error) {
	var n int
	err := s.db.Prepared(s.db.DB).QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT DISTINCT value_digest FROM signal_events
WHERE scope_key = $1 AND kind = $2 AND create_time > $3 LIMIT `+itoa(limit)+`) AS counted`, scopeKey, kind, us(since)).Scan(&n)
	return n, store.MapError(err)
}

// SignalCount is one CountSignalEvents of CountSignalEventsEach.
type SignalCount struct {
	ScopeKey string
	Kind     int32
	Since    time.Time
	Limit    int
}

// CountSignalEventsEach is CountSignalEvents for each of cs, in one
// statement (one row, a column per count): a message is counted against
// several rules, and each statement costs more than its counting.
func (s *Store) CountSignalEventsEach(ctx context.Context, cs []SignalCount) ([]int, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	args := make([]any, 0, 3*len(cs))
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, c.ScopeKey, c.Kind, us(c.Since))
		n := len(args)
		fmt.Fprintf(&b, `(SELECT COUNT(*) FROM (SELECT DISTINCT value_digest FROM signal_events
WHERE scope_key = $%d AND kind = $%d AND create_time > $%d LIMIT %s) AS counted%d)`, n-2, n-1, n, itoa(c.Limit), i)
	}
	out := make([]int, len(cs))
	dst := make([]any, len(cs))
	for i := range out {
		dst[i] = &out[i]
	}
	if err := s.db.Prepared(s.db.DB).QueryRowContext(ctx, b.String(), args...).Scan(dst...); err != nil {
		return nil, store.MapError(err)
	}
	return out, nil
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
	_, err := s.db.Prepared(q).ExecContext(ctx, `INSERT INTO signals (`+signalCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		g.ID, g.Tenant, g.Kind, g.Scope, g.ScopeKey, g.ConversationID, g.Action, g.Count, us(g.CreateTime), usOrZero(g.ExpireTime), usOrZero(g.ClearTime))
	return store.MapError(err)
}

// RecentSignals returns the signals over any of the scope keys that are
// not cleared and were raised after since or last beyond now: those whose
// throttle, step-up or block may be in force, and those that keep their
// rule from raising again within its window. Newest first.
func (s *Store) RecentSignals(ctx context.Context, scopeKeys []string, since, now time.Time) ([]Signal, error) {
	if len(scopeKeys) == 0 {
		return nil, nil
	}
	args := []any{us(since), us(now)}
	for _, k := range scopeKeys {
		args = append(args, k)
	}
	rows, err := s.db.Prepared(s.db.DB).QueryContext(ctx, recentSignalsSQL(len(scopeKeys)), args...)
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

// recentSignalsSQL is RecentSignals' statement for n scope keys ($3 on).
// Each side of its OR is a range of an index (signals_by_key_time,
// signals_by_key_expiry): TestRecentSignalsReadsRanges.
func recentSignalsSQL(n int) string {
	query := `SELECT ` + signalCols + ` FROM signals WHERE clear_time = 0 AND (create_time > $1 OR expire_time > $2) AND scope_key IN (`
	for i := range n {
		if i > 0 {
			query += ", "
		}
		query += "$" + itoa(i+3)
	}
	return query + `) ORDER BY create_time DESC, signal_id DESC LIMIT 200`
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

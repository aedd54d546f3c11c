package storage

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/store"
)

// ConversationsOf returns a customer's conversations in a shop, by id:
// theirs, and those of the messaging-platform users linked to their
// account (a WhatsApp user's conversations from before the link are held
// under a pseudonymous subject).
func (s *Store) ConversationsOf(ctx context.Context, q Q, tenant, subject string) ([]Conversation, error) {
	query := `SELECT ` + conversationCols + ` FROM conversations WHERE tenant = $1 AND customer_subject = $2`
	linked, err := s.tableExists(ctx, q, "channel_conversations")
	if err != nil {
		return nil, err
	}
	if linked {
		query = `SELECT ` + conversationCols + ` FROM conversations WHERE tenant = $1 AND (customer_subject = $2 OR conversation_id IN (
SELECT cc.conversation_id FROM channel_conversations cc JOIN channel_identities ci ON ci.identity_id = cc.identity_id
WHERE ci.tenant = $1 AND ci.subject = $2 AND ci.linked = 1))`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY conversation_id`, tenant, subject)
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

// OwnConversationsOf returns the conversations a customer had as
// themselves in a shop, by id: not those a messaging-platform user linked
// to the account had as a stranger before the link. Whoever linked a chat
// (perhaps with a code someone else was made to send) must not receive
// what its user wrote before it in an export; erasure still takes those
// (ConversationsOf).
func (s *Store) OwnConversationsOf(ctx context.Context, q Q, tenant, subject string) ([]Conversation, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+conversationCols+` FROM conversations WHERE tenant = $1 AND customer_subject = $2
ORDER BY conversation_id`, tenant, subject)
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

// AllMessages returns every message of a conversation, oldest first.
func (s *Store) AllMessages(ctx context.Context, q Q, conversationID string) ([]Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 ORDER BY seq`, conversationID)
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
	return out, store.MapError(rows.Err())
}

// conversationTables lists the tables with a conversation_id column that
// is a foreign key to conversations, each after every one of them that
// references it, so that deleting in this order satisfies the foreign
// keys: rows that belong to a conversation in tables added later (channel
// conversations, the model-improvement mark) are deleted with it without
// this list being kept by hand. conversations comes last.
func (s *Store) conversationTables(ctx context.Context, q Q) ([]string, error) {
	var tablesQ, refsQ string
	if s.db.Dialect == store.SQLite {
		tablesQ = `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND p.name = 'conversation_id' ORDER BY m.name`
		refsQ = `SELECT m.name, f."table" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`
	} else {
		tablesQ = `SELECT table_name FROM information_schema.columns
WHERE table_schema = current_schema() AND column_name = 'conversation_id' ORDER BY table_name`
		refsQ = `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()`
	}
	candidates, err := strings1(ctx, q, tablesQ)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, refsQ)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	// referencedBy[t]: tables with a foreign key to t.
	referencedBy := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			return nil, store.MapError(err)
		}
		child, parent = strings.Trim(child, `"`), strings.Trim(parent, `"`)
		if child != parent {
			referencedBy[parent] = append(referencedBy[parent], child)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, store.MapError(err)
	}
	// Only tables whose rows belong to a conversation by a foreign key: a
	// table that names a conversation without one (signals) keeps its rows
	// when the conversation goes, by its owner's choice.
	var tables []string
	for _, t := range candidates {
		if t == "conversations" || slices.Contains(referencedBy["conversations"], t) {
			tables = append(tables, t)
		}
	}
	// Depth-first: a table is listed after the tables that reference it.
	var out []string
	seen := map[string]bool{}
	var visit func(t string)
	visit = func(t string) {
		if seen[t] {
			return
		}
		seen[t] = true
		for _, c := range referencedBy[t] {
			if slices.Contains(tables, c) {
				visit(c)
			}
		}
		out = append(out, t)
	}
	for _, t := range tables {
		if t != "conversations" {
			visit(t)
		}
	}
	if !slices.Contains(tables, "conversations") {
		return nil, errors.New("storage: no conversations table")
	}
	visit("conversations")
	return out, nil
}

func strings1(ctx context.Context, q Q, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, v)
	}
	return out, store.MapError(rows.Err())
}

// DeleteConversations deletes conversations and every row of every table
// that references them by conversation_id (messages, placeholder maps, the
// model-improvement mark, and the tables of later features), in tx. It
// returns the rows deleted per table. Tokens the placeholders named stay in
// the token vault (see docs/adr/0014, "Data-subject requests and
// retention").
func (s *Store) DeleteConversations(ctx context.Context, tx *sql.Tx, ids []string) (map[string]int64, error) {
	counts := map[string]int64{}
	if len(ids) == 0 {
		return counts, nil
	}
	tables, err := s.conversationTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i], args[i] = "$"+strconv.Itoa(i+1), id
	}
	in := strings.Join(marks, ", ")
	for _, t := range tables {
		res, err := tx.ExecContext(ctx, `DELETE FROM "`+t+`" WHERE conversation_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, store.MapError(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, store.MapError(err)
		}
		counts[t] = n
	}
	return counts, nil
}

// Restriction returns when a customer's processing was restricted, or false.
func (s *Store) Restriction(ctx context.Context, q Q, tenant, subject string) (time.Time, bool, error) {
	var since int64
	err := s.db.Prepared(q).QueryRowContext(ctx, `SELECT since FROM subject_restrictions WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, store.MapError(err)
	}
	return fromUS(since), true, nil
}

// Restrict records a restriction; false when there was one already.
func (s *Store) Restrict(ctx context.Context, tx *sql.Tx, tenant, subject, requestID string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO subject_restrictions (tenant, subject, request_id, since) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant, subject) DO NOTHING`, tenant, subject, requestID, us(now))
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, store.MapError(err)
}

// Unrestrict removes a restriction; false when there was none.
func (s *Store) Unrestrict(ctx context.Context, tx *sql.Tx, tenant, subject string) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM subject_restrictions WHERE tenant = $1 AND subject = $2`, tenant, subject)
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, store.MapError(err)
}

// RecordRequest records that a data-subject request's operation was
// carried out; false when it had been already.
func (s *Store) RecordRequest(ctx context.Context, tx *sql.Tx, requestID string, op int32, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO privacy_requests (request_id, operation, done_time) VALUES ($1, $2, $3)
ON CONFLICT (request_id, operation) DO NOTHING`, requestID, op, us(now))
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, store.MapError(err)
}

// RequestDone returns when a request's operation was carried out, or false.
func (s *Store) RequestDone(ctx context.Context, q Q, requestID string, op int32) (time.Time, bool, error) {
	var done int64
	err := q.QueryRowContext(ctx, `SELECT done_time FROM privacy_requests WHERE request_id = $1 AND operation = $2`, requestID, op).Scan(&done)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, store.MapError(err)
	}
	return fromUS(done), true, nil
}

// tableExists reports whether the schema has a table (the tables of
// features that may not be migrated in every build).
func (s *Store) tableExists(ctx context.Context, q Q, name string) (bool, error) {
	query := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	if s.db.Dialect != store.SQLite {
		query = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := q.QueryRowContext(ctx, query, name).Scan(&n); err != nil {
		return false, store.MapError(err)
	}
	return n > 0, nil
}

// LinkedChannelUser is a messaging-platform user linked to a customer's
// account, as the export shows it: the platform's id only as its token.
type LinkedChannelUser struct {
	ID         string
	Channel    int32
	UserToken  string
	LinkTime   time.Time
	CreateTime time.Time
}

// LinkedChannelUsers returns the platform users linked to a
// customer's account, by id (none when the channels' tables do not exist).
func (s *Store) LinkedChannelUsers(ctx context.Context, q Q, tenant, subject string) ([]LinkedChannelUser, error) {
	if ok, err := s.tableExists(ctx, q, "channel_identities"); err != nil || !ok {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT identity_id, channel, user_token, COALESCE(link_time, 0), create_time FROM channel_identities
WHERE tenant = $1 AND subject = $2 AND linked = 1 ORDER BY identity_id`, tenant, subject)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []LinkedChannelUser
	for rows.Next() {
		var c LinkedChannelUser
		var linked, created int64
		if err := rows.Scan(&c.ID, &c.Channel, &c.UserToken, &linked, &created); err != nil {
			return nil, store.MapError(err)
		}
		if linked != 0 {
			c.LinkTime = fromUS(linked)
		}
		c.CreateTime = fromUS(created)
		out = append(out, c)
	}
	return out, store.MapError(rows.Err())
}

// DeleteChannelLinks deletes, in tx, a customer's linked platform users
// (their tokenised platform ids), the replay records of their messages,
// what is left of their conversations' links, and the customer's link
// codes. Nothing when the channels' tables do not exist.
func (s *Store) DeleteChannelLinks(ctx context.Context, tx *sql.Tx, tenant, subject string) (map[string]int64, error) {
	counts := map[string]int64{}
	if ok, err := s.tableExists(ctx, tx, "channel_identities"); err != nil || !ok {
		return counts, err
	}
	ids := `SELECT identity_id FROM channel_identities WHERE tenant = $1 AND subject = $2 AND linked = 1`
	for _, st := range []struct{ table, query string }{
		{"channel_messages", `DELETE FROM channel_messages WHERE identity_id IN (` + ids + `)`},
		{"channel_conversations", `DELETE FROM channel_conversations WHERE identity_id IN (` + ids + `)`},
		{"channel_identities", `DELETE FROM channel_identities WHERE tenant = $1 AND subject = $2 AND linked = 1`},
		{"channel_link_codes", `DELETE FROM channel_link_codes WHERE tenant = $1 AND subject = $2`},
	} {
		res, err := tx.ExecContext(ctx, st.query, tenant, subject)
		if err != nil {
			return nil, store.MapError(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, store.MapError(err)
		}
		counts[st.table] = n
	}
	return counts, nil
}

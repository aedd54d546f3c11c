// Package storage is the conversation service's database: conversations,
// their messages (placeholder text only) and each conversation's
// placeholder map (placeholder → tokenvault token, with a keyed digest of
// the value so that a value seen again keeps its placeholder), in SQLite
// or PostgreSQL through the same SQL.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/groupcommit"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// Q is what the methods run their statements on: *sql.DB or *sql.Tx.
type Q = store.Q

// Store is the conversation service's storage.
type Store struct {
	db *store.DB
	// writes commits transactions together on SQLite (writer.go).
	writes *groupcommit.Batcher[WriteFunc, struct{}]
}

// New wraps an opened, migrated database.
func New(db *store.DB) *Store {
	s := &Store{db: db}
	ctx := context.Background()
	db.PrepareAll(ctx, txStatements...)
	if s.writes = newWriter(s); s.writes != nil {
		db.PrepareAll(ctx, savepointSQL, rollbackToSQL, releaseSQL)
	}
	return s
}

// txStatements are the statements the message path runs in its
// transaction, prepared before its first (store.DB.Prepared).
var txStatements = []string{insertPlaceholderSQL, insertMessageSQL, touchSQL}

// DB is the database, for statements outside a transaction.
func (s *Store) DB() *sql.DB { return s.db.DB }

// InTx runs fn in one read-write transaction (see store.DB.InTx), on
// SQLite through the writer (writer.go). fn must run its statements with
// the ctx it is given, not its caller's: on SQLite that is the writer's, and
// a caller's context ending mid-statement would interrupt SQLite, which then
// rolls back the whole shared transaction and every other caller's work with
// it. Callers name the parameter ctx so that it shadows their own.
func (s *Store) InTx(ctx context.Context, fn WriteFunc) error {
	return s.Write(ctx, fn)
}

var (
	us     = store.Micros
	fromUS = store.FromMicros
)

// Conversation is one row of conversations. Channel and State hold the
// proto enums' numbers.
type Conversation struct {
	ID              string
	Tenant          string
	Channel         int32
	State           int32
	CustomerSubject string
	CreateTime      time.Time
	UpdateTime      time.Time
	// AgentSubject is the support agent who took it ("" before);
	// HandOffReason why it was handed off (the proto enum's number, 0
	// before). See agent.go.
	AgentSubject  string
	HandOffReason int32
}

// Message is one row of messages. Text is placeholder text.
type Message struct {
	Seq            int64
	ID             string
	ConversationID string
	Author         int32
	Text           string
	CreateTime     time.Time
	// ChannelDigest is the keyed digest of the channel's message id, "" if
	// none; ReplyTo the customer message an assistant reply answers.
	ChannelDigest string
	ReplyTo       string
	// RequiredAction is what an assistant reply asks the customer to do
	// (conversationv1.RequiredAction's number; 0 nothing).
	RequiredAction int32
}

// Placeholder is one entry of a conversation's map.
type Placeholder struct {
	Placeholder string
	Type        string
	Number      int
	Token       string
	ValueDigest string
}

const conversationCols = `conversation_id, tenant, channel, state, customer_subject, create_time, update_time, agent_subject, hand_off_reason`

func scanConversation(row interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	var created, updated int64
	err := row.Scan(&c.ID, &c.Tenant, &c.Channel, &c.State, &c.CustomerSubject, &created, &updated, &c.AgentSubject, &c.HandOffReason)
	c.CreateTime, c.UpdateTime = fromUS(created), fromUS(updated)
	return c, err
}

// InsertConversation adds a conversation.
func (s *Store) InsertConversation(ctx context.Context, q Q, c Conversation) error {
	_, err := s.db.Prepared(q).ExecContext(ctx, `INSERT INTO conversations (`+conversationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.Tenant, c.Channel, c.State, c.CustomerSubject, us(c.CreateTime), us(c.UpdateTime), c.AgentSubject, c.HandOffReason)
	return store.MapError(err)
}

const getConversationSQL = `SELECT ` + conversationCols + ` FROM conversations WHERE conversation_id = $1`

// GetConversation returns a conversation (NotFound CONVERSATION_NOT_FOUND).
func (s *Store) GetConversation(ctx context.Context, q Q, id string) (Conversation, error) {
	c, err := scanConversation(s.db.Prepared(q).QueryRowContext(ctx, getConversationSQL, id))
	if err != nil {
		return Conversation{}, store.NotFound(err, reasons.ConversationNotFound, "conversation")
	}
	return c, nil
}

const getConversationForPostSQL = `SELECT ` + conversationCols + `, EXISTS (SELECT 1 FROM subject_restrictions r
WHERE r.tenant = c.tenant AND r.subject = c.customer_subject) FROM conversations c WHERE conversation_id = $1`

// GetConversationForPost is GetConversation and whether its customer's
// data is restricted (Restriction), in one statement: a posted message
// needs both, and each statement is a round through SQLite's VM.
func (s *Store) GetConversationForPost(ctx context.Context, q Q, id string) (Conversation, bool, error) {
	var c Conversation
	var created, updated int64
	var restricted bool
	err := s.db.Prepared(q).QueryRowContext(ctx, getConversationForPostSQL, id).Scan(&c.ID, &c.Tenant, &c.Channel, &c.State,
		&c.CustomerSubject, &created, &updated, &c.AgentSubject, &c.HandOffReason, &restricted)
	if err != nil {
		return Conversation{}, false, store.NotFound(err, reasons.ConversationNotFound, "conversation")
	}
	c.CreateTime, c.UpdateTime = fromUS(created), fromUS(updated)
	return c, restricted, nil
}

// SetState changes a conversation's state and update time.
func (s *Store) SetState(ctx context.Context, q Q, id string, state int32, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE conversations SET state = $1, update_time = $2 WHERE conversation_id = $3`, state, us(now), id)
	return store.MapError(err)
}

const touchSQL = `UPDATE conversations SET update_time = $1 WHERE conversation_id = $2`

// Touch moves a conversation's update time.
func (s *Store) Touch(ctx context.Context, q Q, id string, now time.Time) error {
	_, err := s.db.Prepared(q).ExecContext(ctx, touchSQL, us(now), id)
	return store.MapError(err)
}

// ConversationFilter selects conversations; zero fields select all.
type ConversationFilter struct {
	CustomerSubject string
	State           int32
	Channel         int32
}

// ConversationCursor is the last row of a page: (create time, id).
type ConversationCursor struct {
	CreateTime int64
	ID         string
}

// ListConversations returns up to limit conversations after cur (nil: from
// the newest), newest first.
func (s *Store) ListConversations(ctx context.Context, f ConversationFilter, cur *ConversationCursor, limit int) ([]Conversation, error) {
	query := `SELECT ` + conversationCols + ` FROM conversations WHERE ($1 = '' OR customer_subject = $1)
AND ($2 = 0 OR state = $2) AND ($3 = 0 OR channel = $3)`
	args := []any{f.CustomerSubject, f.State, f.Channel}
	if cur != nil {
		query += ` AND (create_time < $4 OR (create_time = $4 AND conversation_id < $5))`
		args = append(args, cur.CreateTime, cur.ID)
	}
	query += ` ORDER BY create_time DESC, conversation_id DESC LIMIT ` + itoa(limit)
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

const messageCols = `seq, message_id, conversation_id, author, text, create_time, COALESCE(channel_digest, ''), COALESCE(reply_to, ''), required_action`

func scanMessage(row interface{ Scan(...any) error }) (Message, error) {
	var m Message
	var created int64
	err := row.Scan(&m.Seq, &m.ID, &m.ConversationID, &m.Author, &m.Text, &created, &m.ChannelDigest, &m.ReplyTo, &m.RequiredAction)
	m.CreateTime = fromUS(created)
	return m, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const insertMessageSQL = `INSERT INTO messages (message_id, conversation_id, author, text, create_time, channel_digest, reply_to, required_action)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// InsertMessage adds a message. A channel digest the conversation already
// has is a unique violation (errs.AlreadyExists).
func (s *Store) InsertMessage(ctx context.Context, q Q, m Message) error {
	_, err := s.db.Prepared(q).ExecContext(ctx, insertMessageSQL, m.ID, m.ConversationID, m.Author, m.Text, us(m.CreateTime), nullable(m.ChannelDigest), nullable(m.ReplyTo), m.RequiredAction)
	return store.MapError(err)
}

// MessageByDigest returns the customer message with a channel digest and
// the reply to it (zero when there is none); found is false when the
// conversation has no such message.
func (s *Store) MessageByDigest(ctx context.Context, conversationID, digest string) (msg, reply Message, found bool, err error) {
	msg, err = scanMessage(s.db.Prepared(s.db.DB).QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 AND channel_digest = $2`,
		conversationID, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, Message{}, false, nil
	}
	if err != nil {
		return Message{}, Message{}, false, store.MapError(err)
	}
	reply, err = scanMessage(s.db.Prepared(s.db.DB).QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 AND reply_to = $2`,
		conversationID, msg.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return msg, Message{}, true, nil
	}
	if err != nil {
		return Message{}, Message{}, false, store.MapError(err)
	}
	return msg, reply, true, nil
}

// MessageSeq returns the position of a message in its conversation
// (NotFound MESSAGE_NOT_FOUND).
func (s *Store) MessageSeq(ctx context.Context, conversationID, messageID string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT seq FROM messages WHERE conversation_id = $1 AND message_id = $2`, conversationID, messageID).Scan(&seq)
	if err != nil {
		return 0, store.NotFound(err, reasons.MessageNotFound, "message")
	}
	return seq, nil
}

// ListMessages returns up to limit messages of a conversation after seq
// afterSeq, oldest first.
func (s *Store) ListMessages(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]Message, error) {
	// The limit is a parameter: the page size is the client's, and a
	// prepared statement is kept per query text.
	rows, err := s.db.Prepared(s.db.DB).QueryContext(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 AND seq > $2
ORDER BY seq LIMIT $3`, conversationID, afterSeq, limit)
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

// Placeholders returns a conversation's placeholder map.
func (s *Store) Placeholders(ctx context.Context, q Q, conversationID string) ([]Placeholder, error) {
	rows, err := s.db.Prepared(q).QueryContext(ctx, `SELECT placeholder, pii_type, number, token, value_digest FROM placeholders
WHERE conversation_id = $1 ORDER BY pii_type, number`, conversationID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Placeholder
	for rows.Next() {
		var p Placeholder
		if err := rows.Scan(&p.Placeholder, &p.Type, &p.Number, &p.Token, &p.ValueDigest); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, p)
	}
	return out, store.MapError(rows.Err())
}

const insertPlaceholderSQL = `INSERT INTO placeholders (conversation_id, placeholder, pii_type, number, token, value_digest, create_time)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// InsertPlaceholders adds entries to a conversation's map. A number or
// digest another post took first is a unique violation
// (errs.AlreadyExists): the caller starts over with the map as it is now.
func (s *Store) InsertPlaceholders(ctx context.Context, q Q, conversationID string, now time.Time, ps []Placeholder) error {
	pq := s.db.Prepared(q)
	for _, p := range ps {
		_, err := pq.ExecContext(ctx, insertPlaceholderSQL, conversationID, p.Placeholder, p.Type, p.Number, p.Token, p.ValueDigest, us(now))
		if err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// IsConflict reports whether err is a unique violation.
func IsConflict(err error) bool {
	return errs.Is(err, errs.AlreadyExists) || store.IsUniqueViolation(err)
}

func itoa(n int) string {
	if n <= 0 {
		n = 1
	}
	return strconv.Itoa(n)
}

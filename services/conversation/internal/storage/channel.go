package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// ChannelIdentity is one row of channel_identities: a messaging-platform
// user of one shop and channel. The platform's id is only in the token
// vault (UserToken) and as a keyed digest (UserDigest).
type ChannelIdentity struct {
	ID         string
	Tenant     string
	Channel    int32
	UserDigest string
	UserToken  string
	// Subject is the linked account, or a pseudonymous channel subject
	// while Linked is false.
	Subject          string
	Linked           bool
	LinkTime         time.Time
	LinkFailures     int
	LinkBlockedUntil time.Time
	CreateTime       time.Time
	UpdateTime       time.Time
}

const identityCols = `identity_id, tenant, channel, user_digest, user_token, subject, linked, COALESCE(link_time, 0),
link_failures, link_blocked_until, create_time, update_time`

func scanIdentity(row interface{ Scan(...any) error }) (ChannelIdentity, error) {
	var c ChannelIdentity
	var linked, linkTime, blocked, created, updated int64
	err := row.Scan(&c.ID, &c.Tenant, &c.Channel, &c.UserDigest, &c.UserToken, &c.Subject, &linked, &linkTime,
		&c.LinkFailures, &blocked, &created, &updated)
	c.Linked = linked != 0
	if linkTime != 0 {
		c.LinkTime = fromUS(linkTime)
	}
	if blocked != 0 {
		c.LinkBlockedUntil = fromUS(blocked)
	}
	c.CreateTime, c.UpdateTime = fromUS(created), fromUS(updated)
	return c, err
}

// InsertChannelIdentity adds an identity; one with the same digest in the
// shop and channel is a unique violation (errs.AlreadyExists).
func (s *Store) InsertChannelIdentity(ctx context.Context, q Q, c ChannelIdentity) error {
	_, err := q.ExecContext(ctx, `INSERT INTO channel_identities (identity_id, tenant, channel, user_digest, user_token, subject,
linked, link_failures, link_blocked_until, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, $7, $8)`,
		c.ID, c.Tenant, c.Channel, c.UserDigest, c.UserToken, c.Subject, us(c.CreateTime), us(c.UpdateTime))
	return store.MapError(err)
}

// ChannelIdentityByDigest finds an identity by its user digest; found is
// false when there is none.
func (s *Store) ChannelIdentityByDigest(ctx context.Context, q Q, tenant string, channel int32, digest string) (c ChannelIdentity, found bool, err error) {
	c, err = scanIdentity(q.QueryRowContext(ctx, `SELECT `+identityCols+` FROM channel_identities
WHERE tenant = $1 AND channel = $2 AND user_digest = $3`, tenant, channel, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return ChannelIdentity{}, false, nil
	}
	if err != nil {
		return ChannelIdentity{}, false, store.MapError(err)
	}
	return c, true, nil
}

// ChannelIdentity returns an identity by id (NotFound
// CHANNEL_IDENTITY_NOT_FOUND).
func (s *Store) ChannelIdentity(ctx context.Context, q Q, id string) (ChannelIdentity, error) {
	c, err := scanIdentity(q.QueryRowContext(ctx, `SELECT `+identityCols+` FROM channel_identities WHERE identity_id = $1`, id))
	if err != nil {
		return ChannelIdentity{}, store.NotFound(err, reasons.ChannelIdentityNotFound, "channel identity")
	}
	return c, nil
}

// LinkChannelIdentity makes an unlinked identity its account's: subject,
// the user id's token under that subject, and the link time; the
// pseudonymous subject it had is kept as previous_subject, so that the
// account's erasure erases it in the token vault too. It changes nothing
// (and returns false) if the identity was linked meanwhile.
func (s *Store) LinkChannelIdentity(ctx context.Context, q Q, id, subject, userToken string, now time.Time) (bool, error) {
	// SET reads the row as it was: previous_subject gets the pseudonym.
	res, err := q.ExecContext(ctx, `UPDATE channel_identities SET previous_subject = subject, subject = $1, user_token = $2, linked = 1, link_time = $3,
link_failures = 0, link_blocked_until = 0, update_time = $3 WHERE identity_id = $4 AND linked = 0`, subject, userToken, us(now), id)
	return affected(res, err)
}

// FailChannelLink counts a failed link attempt; at max failures the
// identity may not try again until blockedUntil (and the count restarts).
func (s *Store) FailChannelLink(ctx context.Context, q Q, id string, max int, blockedUntil, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE channel_identities SET
link_blocked_until = CASE WHEN link_failures + 1 >= $1 THEN $2 ELSE link_blocked_until END,
link_failures = CASE WHEN link_failures + 1 >= $1 THEN 0 ELSE link_failures + 1 END,
update_time = $3 WHERE identity_id = $4`, max, us(blockedUntil), us(now), id)
	return store.MapError(err)
}

// LinkCode is one row of channel_link_codes.
type LinkCode struct {
	Digest     string
	Tenant     string
	Channel    int32
	Subject    string
	CreateTime time.Time
	ExpireTime time.Time
}

// InsertLinkCode adds a code (by its digest).
func (s *Store) InsertLinkCode(ctx context.Context, q Q, c LinkCode) error {
	_, err := q.ExecContext(ctx, `INSERT INTO channel_link_codes (code_digest, tenant, channel, subject, create_time, expire_time)
VALUES ($1, $2, $3, $4, $5, $6)`, c.Digest, c.Tenant, c.Channel, c.Subject, us(c.CreateTime), us(c.ExpireTime))
	return store.MapError(err)
}

// PeekLinkCode returns the account of a code that exists for the shop and
// channel, is unused and has not expired at now, without using it; found
// is false otherwise.
func (s *Store) PeekLinkCode(ctx context.Context, q Q, digest, tenant string, channel int32, now time.Time) (subject string, found bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT subject FROM channel_link_codes
WHERE code_digest = $1 AND tenant = $2 AND channel = $3 AND used_time IS NULL AND expire_time > $4`,
		digest, tenant, channel, us(now)).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, store.MapError(err)
	}
	return subject, true, nil
}

// UseLinkCode marks a code used if it exists for the shop and channel, is
// unused and has not expired at now, and returns its account; found is
// false otherwise. Once used, a code never matches again.
func (s *Store) UseLinkCode(ctx context.Context, q Q, digest, tenant string, channel int32, now time.Time) (subject string, found bool, err error) {
	err = q.QueryRowContext(ctx, `UPDATE channel_link_codes SET used_time = $1
WHERE code_digest = $2 AND tenant = $3 AND channel = $4 AND used_time IS NULL AND expire_time > $1
RETURNING subject`, us(now), digest, tenant, channel).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, store.MapError(err)
	}
	return subject, true, nil
}

// DeleteExpiredLinkCodes removes codes that expired or were used before
// cutoff.
func (s *Store) DeleteExpiredLinkCodes(ctx context.Context, cutoff time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM channel_link_codes WHERE expire_time < $1 OR used_time < $1`, us(cutoff))
	return store.MapError(err)
}

// ChannelMessage is one row of channel_messages: an inbound platform
// message taken, by the keyed digest of its id.
type ChannelMessage struct {
	Digest         string
	IdentityID     string
	ConversationID string
	MessageID      string
	CreateTime     time.Time
}

// InsertChannelMessage records an inbound message. A digest recorded
// before is a unique violation (errs.AlreadyExists): the message is a
// replay.
func (s *Store) InsertChannelMessage(ctx context.Context, q Q, m ChannelMessage) error {
	_, err := q.ExecContext(ctx, `INSERT INTO channel_messages (message_digest, identity_id, conversation_id, message_id, create_time)
VALUES ($1, $2, $3, $4, $5)`, m.Digest, m.IdentityID, m.ConversationID, m.MessageID, us(m.CreateTime))
	return store.MapError(err)
}

// ChannelMessageByDigest finds a recorded inbound message; found is false
// when there is none.
func (s *Store) ChannelMessageByDigest(ctx context.Context, q Q, digest string) (m ChannelMessage, found bool, err error) {
	var created int64
	err = q.QueryRowContext(ctx, `SELECT message_digest, identity_id, conversation_id, message_id, create_time
FROM channel_messages WHERE message_digest = $1`, digest).Scan(&m.Digest, &m.IdentityID, &m.ConversationID, &m.MessageID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return ChannelMessage{}, false, nil
	}
	if err != nil {
		return ChannelMessage{}, false, store.MapError(err)
	}
	m.CreateTime = fromUS(created)
	return m, true, nil
}

// OpenIdentityConversation returns the newest conversation of a channel
// identity under subject that is not closed; found is false when there is
// none.
func (s *Store) OpenIdentityConversation(ctx context.Context, q Q, identityID, subject string, closed int32) (c Conversation, found bool, err error) {
	c, err = scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations
WHERE conversation_id IN (SELECT conversation_id FROM channel_conversations WHERE identity_id = $1)
AND customer_subject = $2 AND state <> $3 ORDER BY create_time DESC, conversation_id DESC LIMIT 1`, identityID, subject, closed))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, false, nil
	}
	if err != nil {
		return Conversation{}, false, store.MapError(err)
	}
	return c, true, nil
}

// OpenIdentityConversations returns the ids of a channel identity's
// conversations that are not closed.
func (s *Store) OpenIdentityConversations(ctx context.Context, q Q, identityID string, closed int32) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.conversation_id FROM channel_conversations i
JOIN conversations c ON c.conversation_id = i.conversation_id WHERE i.identity_id = $1 AND c.state <> $2`, identityID, closed)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, id)
	}
	return out, store.MapError(rows.Err())
}

// InsertConversationIdentity records that a conversation is a channel
// identity's.
func (s *Store) InsertConversationIdentity(ctx context.Context, q Q, conversationID, identityID string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO channel_conversations (conversation_id, identity_id, create_time) VALUES ($1, $2, $3)`,
		conversationID, identityID, us(now))
	return store.MapError(err)
}

// ConversationIdentity returns the channel identity a conversation is
// for; found is false for conversations outside messaging channels.
func (s *Store) ConversationIdentity(ctx context.Context, q Q, conversationID string) (identityID string, found bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT identity_id FROM channel_conversations WHERE conversation_id = $1`, conversationID).Scan(&identityID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, store.MapError(err)
	}
	return identityID, true, nil
}

// Message returns one message of a conversation (NotFound
// MESSAGE_NOT_FOUND).
func (s *Store) Message(ctx context.Context, q Q, conversationID, messageID string) (Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 AND message_id = $2`,
		conversationID, messageID))
	if err != nil {
		return Message{}, store.NotFound(err, reasons.MessageNotFound, "message")
	}
	return m, nil
}

func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, store.MapError(err)
	}
	return n > 0, nil
}

package storage

import (
	"context"
	"database/sql"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Session is one session row.
type Session struct {
	ID        string
	AccountID string
	AAL       int
	AMR       []string
	AuthTime  time.Time
	Created   time.Time
	LastUsed  time.Time
	Expires   time.Time
	Revoked   time.Time // zero unless revoked
	UserAgent string
}

// Live reports whether the session may still be used at now.
func (s Session) Live(now time.Time) bool { return s.Revoked.IsZero() && now.Before(s.Expires) }

const sessionColumns = `session_id, account_id, aal, amr, auth_time_us, created_us, last_used_us, expires_us, revoked_us, user_agent`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var x Session
	var amr string
	var authTime, created, lastUsed, expires, revoked int64
	if err := row.Scan(&x.ID, &x.AccountID, &x.AAL, &amr, &authTime, &created, &lastUsed, &expires, &revoked, &x.UserAgent); err != nil {
		return Session{}, err
	}
	x.AMR = splitList(amr)
	x.AuthTime, x.Created, x.LastUsed, x.Expires, x.Revoked =
		fromUS(authTime), fromUS(created), fromUS(lastUsed), fromUS(expires), fromUS(revoked)
	return x, nil
}

// InsertSession starts a session.
func (s *Store) InsertSession(ctx context.Context, q Q, x Session) error {
	if x.ID == "" || x.AccountID == "" || x.Expires.IsZero() || x.AuthTime.IsZero() {
		return errInternal("session without id, account, expiry or auth time")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO sessions (session_id, account_id, aal, amr, auth_time_us, created_us, last_used_us,
		expires_us, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)`,
		x.ID, x.AccountID, x.AAL, joinList(x.AMR), us(x.AuthTime), us(x.Created), us(x.Expires), x.UserAgent)
	return store.MapError(err)
}

// Session returns a session (live or not); NotFound SESSION_NOT_FOUND.
func (s *Store) Session(ctx context.Context, q Q, id string) (Session, error) {
	x, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE session_id = $1`, id))
	if err != nil {
		return Session{}, notFound(err, reasons.SessionNotFound, "session")
	}
	return x, nil
}

// ElevateSession records a step-up: the session's level, methods and
// authentication time, only while it is live.
func (s *Store) ElevateSession(ctx context.Context, q Q, id string, aal int, amr []string, authTime time.Time) error {
	ok, err := affected(q.ExecContext(ctx, `UPDATE sessions SET aal = $2, amr = $3, auth_time_us = $4, last_used_us = $4
		WHERE session_id = $1 AND revoked_us = 0 AND expires_us > $4`, id, aal, joinList(amr), us(authTime)))
	if err == nil && !ok {
		err = errs.E(errs.Unauthenticated, reasons.SessionRevoked, "the session ended; log in again")
	}
	return err
}

// RevokeSession revokes a live session and reports whether it did (false:
// already revoked, or unknown).
func (s *Store) RevokeSession(ctx context.Context, q Q, id string, now time.Time) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE sessions SET revoked_us = $2 WHERE session_id = $1 AND revoked_us = 0`, id, us(now)))
}

// RevokeAccountSessions revokes every live session of the account except
// keep ("" for none) and returns their ids.
func (s *Store) RevokeAccountSessions(ctx context.Context, q Q, accountID, keep string, now time.Time) ([]string, error) {
	rows, err := q.QueryContext(ctx, `UPDATE sessions SET revoked_us = $3
		WHERE account_id = $1 AND session_id <> $2 AND revoked_us = 0 AND expires_us > $3 RETURNING session_id`,
		accountID, keep, us(now))
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, store.MapError(err)
		}
		ids = append(ids, id)
	}
	return ids, store.MapError(rows.Err())
}

// SessionCursor is where a page of ListSessions starts: after the session
// created at Created with id ID (newest first).
type SessionCursor struct {
	Created time.Time
	ID      string
}

// ListSessions returns up to limit live sessions of the account, newest
// first, after cursor (nil: from the newest).
func (s *Store) ListSessions(ctx context.Context, q Q, accountID string, now time.Time, after *SessionCursor, limit int) ([]Session, error) {
	query := `SELECT ` + sessionColumns + ` FROM sessions WHERE account_id = $1 AND revoked_us = 0 AND expires_us > $2`
	args := []any{accountID, us(now), limit}
	if after != nil {
		query += ` AND (created_us < $4 OR (created_us = $4 AND session_id < $5))`
		args = append(args, us(after.Created), after.ID)
	}
	query += ` ORDER BY created_us DESC, session_id DESC LIMIT $3`
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, x)
	}
	return out, store.MapError(rows.Err())
}

// SessionsOf returns every session of the account that is still stored
// (live, revoked or ended, until pruned), by id.
func (s *Store) SessionsOf(ctx context.Context, q Q, accountID string) ([]Session, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE account_id = $1 ORDER BY session_id`, accountID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, x)
	}
	return out, store.MapError(rows.Err())
}

// InsertRefreshToken records a refresh token (its SHA-256) of a session.
func (s *Store) InsertRefreshToken(ctx context.Context, q Q, hash, sessionID string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_us) VALUES ($1, $2, $3)`,
		hash, sessionID, us(now))
	return store.MapError(err)
}

// Rotation is the outcome of presenting a refresh token.
type Rotation int

// Rotations.
const (
	// RotationUnknown: no such token.
	RotationUnknown Rotation = iota
	// RotationOK: the token was unspent and is now spent.
	RotationOK
	// RotationReused: the token was spent before: a replay.
	RotationReused
)

// SpendRefreshToken spends the refresh token with hash, once: the first
// caller gets RotationOK, every later one RotationReused, both with the
// token's session.
func (s *Store) SpendRefreshToken(ctx context.Context, q Q, hash string, now time.Time) (string, Rotation, error) {
	var sessionID string
	err := q.QueryRowContext(ctx, `UPDATE refresh_tokens SET rotated_us = $2 WHERE token_hash = $1 AND rotated_us = 0
		RETURNING session_id`, hash, us(now)).Scan(&sessionID)
	if err == nil {
		return sessionID, RotationOK, nil
	}
	if err != sql.ErrNoRows {
		return "", RotationUnknown, store.MapError(err)
	}
	err = q.QueryRowContext(ctx, `SELECT session_id FROM refresh_tokens WHERE token_hash = $1`, hash).Scan(&sessionID)
	switch {
	case err == sql.ErrNoRows:
		return "", RotationUnknown, nil
	case err != nil:
		return "", RotationUnknown, store.MapError(err)
	}
	return sessionID, RotationReused, nil
}

// TouchSession records a refresh of a live session, and only of a live
// one: the update's condition is re-checked on the row's latest version
// (PostgreSQL waits for a concurrent revocation's commit, then finds the
// row revoked), so a refresh racing a revocation either commits before it
// (its token is then refused by the revocation) or fails here. A session
// that is revoked, expired or gone is Unauthenticated SESSION_REVOKED.
func (s *Store) TouchSession(ctx context.Context, q Q, id string, now time.Time) error {
	ok, err := affected(q.ExecContext(ctx, `UPDATE sessions SET last_used_us = $2
		WHERE session_id = $1 AND revoked_us = 0 AND expires_us > $2`, id, us(now)))
	if err == nil && !ok {
		err = errs.E(errs.Unauthenticated, reasons.SessionRevoked, "the session ended; log in again")
	}
	return err
}

// Revocation kinds.
const (
	RevokedSession = "session"
	RevokedClient  = "client"
)

// Revocation says that tokens of a session or client issued up to Revoked
// are refused; it matters until Expires (the last such token's expiry).
type Revocation struct {
	Kind     string
	TargetID string
	Revoked  time.Time
	Expires  time.Time
}

// InsertRevocation records a revocation (a second one of the same target
// moves its times).
func (s *Store) InsertRevocation(ctx context.Context, q Q, r Revocation) error {
	_, err := q.ExecContext(ctx, `INSERT INTO revocations (kind, target_id, revoked_us, expires_us) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, target_id) DO UPDATE SET revoked_us = excluded.revoked_us, expires_us = excluded.expires_us`,
		r.Kind, r.TargetID, us(r.Revoked), us(r.Expires))
	return store.MapError(err)
}

// ActiveRevocations returns the revocations that still matter at now.
func (s *Store) ActiveRevocations(ctx context.Context, q Q, now time.Time) ([]Revocation, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, target_id, revoked_us, expires_us FROM revocations WHERE expires_us > $1
		ORDER BY revoked_us`, us(now))
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Revocation
	for rows.Next() {
		var r Revocation
		var revoked, expires int64
		if err := rows.Scan(&r.Kind, &r.TargetID, &revoked, &expires); err != nil {
			return nil, store.MapError(err)
		}
		r.Revoked, r.Expires = fromUS(revoked), fromUS(expires)
		out = append(out, r)
	}
	return out, store.MapError(rows.Err())
}

// PruneSessions deletes sessions (and their refresh tokens) that ended
// before `before`, and revocations that stopped mattering.
func (s *Store) PruneSessions(ctx context.Context, q Q, before time.Time) error {
	b := us(before)
	for _, stmt := range []string{
		`DELETE FROM refresh_tokens WHERE session_id IN (SELECT session_id FROM sessions
			WHERE expires_us < $1 OR (revoked_us > 0 AND revoked_us < $1))`,
		`DELETE FROM sessions WHERE expires_us < $1 OR (revoked_us > 0 AND revoked_us < $1)`,
		`DELETE FROM revocations WHERE expires_us < $1`,
		`DELETE FROM webauthn_ceremonies WHERE expires_us < $1`,
		`DELETE FROM client_assertions WHERE expires_us < $1`,
	} {
		if _, err := q.ExecContext(ctx, stmt, b); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

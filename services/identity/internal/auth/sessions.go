package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// TopicRevocation is the event topic of revocations.
const TopicRevocation = "identity.revocation"

// revocationPayload is a revocation event's payload.
type revocationPayload struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	RevokedUS int64  `json:"revoked_us"`
	ExpiresUS int64  `json:"expires_us"`
}

// startSession creates a session with its first refresh token in tx and
// signs its access token (inside the transaction: if signing fails, no
// session exists).
func (s *Service) startSession(ctx context.Context, tx *sql.Tx, a storage.Account, aal int, amr []string, o Origin, now time.Time) (Tokens, storage.Session, error) {
	id, err := newID("ses")
	if err != nil {
		return Tokens{}, storage.Session{}, err
	}
	refresh, err := newSecret()
	if err != nil {
		return Tokens{}, storage.Session{}, err
	}
	sess := storage.Session{
		ID: id, AccountID: a.ID, AAL: aal, AMR: amr, AuthTime: now, Created: now, LastUsed: now,
		Expires: now.Add(s.sessionLifetime(a.Kind)), UserAgent: o.UserAgent,
	}
	if err := s.Store.InsertSession(ctx, tx, sess); err != nil {
		return Tokens{}, storage.Session{}, err
	}
	if err := s.Store.InsertRefreshToken(ctx, tx, hashSecret(refresh), id, now); err != nil {
		return Tokens{}, storage.Session{}, err
	}
	access, exp, err := s.issue(ctx, a, sess)
	if err != nil {
		return Tokens{}, storage.Session{}, err
	}
	return Tokens{AccessToken: access, AccessExpires: exp, RefreshToken: refresh, SessionExpires: sess.Expires,
		SessionID: id, AAL: aal}, sess, nil
}

// revoke records revocations of targets in tx and publishes their events.
// It must be the last thing a transaction writes (events.Outbox.Publish
// takes the log's ordering lock until the commit); call notify after it.
func (s *Service) revoke(ctx context.Context, tx *sql.Tx, kind string, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	exp := s.revocationExpiry(now)
	evs := make([]events.Event, 0, len(ids))
	for _, id := range ids {
		r := storage.Revocation{Kind: kind, TargetID: id, Revoked: now, Expires: exp}
		if err := s.Store.InsertRevocation(ctx, tx, r); err != nil {
			return err
		}
		payload, err := json.Marshal(revocationPayload{Kind: kind, ID: id, RevokedUS: now.UnixMicro(), ExpiresUS: exp.UnixMicro()})
		if err != nil {
			return errs.Wrap(err, errs.Internal, reasons.Internal, "cannot encode the revocation")
		}
		evs = append(evs, events.Event{Topic: TopicRevocation, Key: kind + ":" + id, Payload: payload})
	}
	return s.Events.Publish(ctx, tx, evs...)
}

// notify wakes this process's revocation feeds after a commit.
func (s *Service) notify() { s.Events.Notify() }

// liveSession returns the caller's session if it is live and theirs:
// identity checks its own store, not only the revocation feed, so a revoked
// session's token stops working here at once.
func (s *Service) liveSession(ctx context.Context, q storage.Q, c Caller) (storage.Session, error) {
	sess, err := s.Store.Session(ctx, q, c.SessionID)
	if err != nil || sess.AccountID != c.AccountID || !sess.Live(s.now()) {
		return storage.Session{}, errs.E(errs.Unauthenticated, reasons.SessionRevoked, "the session ended; log in again")
	}
	return sess, nil
}

// callerAccount returns the caller's live session and account.
func (s *Service) callerAccount(ctx context.Context, c Caller) (storage.Session, storage.Account, error) {
	sess, err := s.liveSession(ctx, s.Store.DB(), c)
	if err != nil {
		return storage.Session{}, storage.Account{}, err
	}
	a, err := s.Store.Account(ctx, s.Store.DB(), c.AccountID)
	if err != nil {
		return storage.Session{}, storage.Account{}, errs.E(errs.Unauthenticated, reasons.SessionRevoked, "the account is gone")
	}
	return sess, a, nil
}

// Refresh rotates a refresh token: the presented one is spent and a new one
// returned with a new access token. A spent token presented again is a
// replay (it was stolen, or the client is broken): the whole session (the
// family) is revoked, recorded and announced, and the answer is
// Unauthenticated REFRESH_TOKEN_REUSED.
func (s *Service) Refresh(ctx context.Context, refresh string, o Origin) (Tokens, error) {
	now := s.now()
	var out Tokens
	var reused bool
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		sessionID, r, err := s.Store.SpendRefreshToken(ctx, tx, hashSecret(refresh), now)
		if err != nil {
			return err
		}
		switch r {
		case storage.RotationUnknown:
			return errs.E(errs.Unauthenticated, reasons.RefreshTokenInvalid, "the refresh token is not valid; log in again")
		case storage.RotationReused:
			reused = true
			sess, err := s.Store.Session(ctx, tx, sessionID)
			if errs.Is(err, errs.NotFound) {
				return errs.E(errs.Unauthenticated, reasons.RefreshTokenInvalid, "the refresh token is not valid; log in again")
			}
			if err != nil {
				return err
			}
			revoked, err := s.Store.RevokeSession(ctx, tx, sessionID, now)
			if err != nil {
				return err
			}
			if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionRefreshReuse, auditclient.Denied, sess.AccountID,
				ResourceSession, sessionID, reasons.RefreshTokenReused)); err != nil {
				return err
			}
			if revoked {
				return s.revoke(ctx, tx, storage.RevokedSession, []string{sessionID}, now)
			}
			return nil
		}
		// The touch comes first and is conditional (storage.TouchSession):
		// it takes the session's row, so a revocation committed meanwhile
		// is seen, and one that comes later waits for this commit.
		if err := s.Store.TouchSession(ctx, tx, sessionID, now); err != nil {
			if errs.ReasonOf(err) == reasons.SessionRevoked {
				return errs.E(errs.Unauthenticated, reasons.RefreshTokenInvalid, "the session ended; log in again")
			}
			return err
		}
		sess, err := s.Store.Session(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if !sess.Live(now) {
			return errs.E(errs.Unauthenticated, reasons.RefreshTokenInvalid, "the session ended; log in again")
		}
		a, err := s.Store.Account(ctx, tx, sess.AccountID)
		if err != nil {
			return errs.E(errs.Unauthenticated, reasons.RefreshTokenInvalid, "the session ended; log in again")
		}
		next, err := newSecret()
		if err != nil {
			return err
		}
		if err := s.Store.InsertRefreshToken(ctx, tx, hashSecret(next), sess.ID, now); err != nil {
			return err
		}
		access, exp, err := s.issue(ctx, a, sess)
		if err != nil {
			return err
		}
		out = Tokens{AccessToken: access, AccessExpires: exp, RefreshToken: next, SessionExpires: sess.Expires,
			SessionID: sess.ID, AAL: sess.AAL}
		return nil
	})
	if err != nil {
		return Tokens{}, err
	}
	if reused {
		s.Metrics.Reuse.Inc()
		s.notify()
		return Tokens{}, errs.E(errs.Unauthenticated, reasons.RefreshTokenReused,
			"this refresh token was used before; the session was ended for safety, log in again")
	}
	return out, nil
}

// Logout revokes the caller's session.
func (s *Service) Logout(ctx context.Context, c Caller) error {
	now := s.now()
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		revoked, err := s.Store.RevokeSession(ctx, tx, c.SessionID, now)
		if err != nil || !revoked {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionLogout, auditclient.Success, c.AccountID, ResourceSession, c.SessionID, "")); err != nil {
			return err
		}
		return s.revoke(ctx, tx, storage.RevokedSession, []string{c.SessionID}, now)
	})
	if err == nil {
		s.notify()
	}
	return err
}

// canManageSessions: staff who may list and revoke other accounts'
// sessions (support and admins, at aal2).
func canManageSessions(c Caller) bool {
	return c.Kind == accesstoken.KindStaff && c.AAL >= accesstoken.AAL2 &&
		(c.HasRole(accesstoken.RoleSupportAgent) || c.HasRole(accesstoken.RoleAdmin))
}

// SessionPage is a page of ListSessions.
type SessionPage struct {
	Sessions []storage.Session
	// Next is where the next page starts; nil at the end.
	Next *storage.SessionCursor
}

// ListSessions lists the live sessions of the caller's account, or of
// another account (staff with a support or admin role at aal2), newest first.
func (s *Service) ListSessions(ctx context.Context, c Caller, accountID string, after *storage.SessionCursor, limit int) (SessionPage, error) {
	if _, _, err := s.callerAccount(ctx, c); err != nil {
		return SessionPage{}, err
	}
	if err := s.requireEnrolled(ctx, c); err != nil {
		return SessionPage{}, err
	}
	if accountID == "" {
		accountID = c.AccountID
	}
	if accountID != c.AccountID && !canManageSessions(c) {
		return SessionPage{}, errs.E(errs.PermissionDenied, reasons.RoleRequired, "listing another account's sessions needs a support or admin role at aal2")
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	rows, err := s.Store.ListSessions(ctx, s.Store.DB(), accountID, s.now(), after, limit+1)
	if err != nil {
		return SessionPage{}, err
	}
	page := SessionPage{Sessions: rows}
	if len(rows) > limit {
		page.Sessions = rows[:limit]
		last := page.Sessions[limit-1]
		page.Next = &storage.SessionCursor{Created: last.Created, ID: last.ID}
	}
	return page, nil
}

// RevokeSession revokes one session: one of the caller's, or any (staff
// with a support or admin role at aal2). Another account's session looks
// like a missing one to anyone else.
func (s *Service) RevokeSession(ctx context.Context, c Caller, sessionID string) error {
	if _, _, err := s.callerAccount(ctx, c); err != nil {
		return err
	}
	if err := s.requireEnrolled(ctx, c); err != nil {
		return err
	}
	now := s.now()
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		sess, err := s.Store.Session(ctx, tx, sessionID)
		if err != nil || (sess.AccountID != c.AccountID && !canManageSessions(c)) {
			return errs.E(errs.NotFound, reasons.SessionNotFound, "no such session")
		}
		revoked, err := s.Store.RevokeSession(ctx, tx, sessionID, now)
		if err != nil || !revoked {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionRevokeSession, auditclient.Success, sess.AccountID, ResourceSession, sessionID, "")); err != nil {
			return err
		}
		return s.revoke(ctx, tx, storage.RevokedSession, []string{sessionID}, now)
	})
	if err == nil {
		s.notify()
	}
	return err
}

// Revocation is one message of the revocation feed: a revocation, or a
// heartbeat (Kind "").
type Revocation struct {
	Cursor   string
	Kind     string
	TargetID string
	Revoked  time.Time
	Expires  time.Time
}

// WatchRevocations streams revocations after cursor. With an empty cursor
// it first sends every revocation that may still matter (from the
// revocations table, read after the feed fixed its starting point, so
// nothing committed in between is missed; a duplicate is harmless), then a
// heartbeat, then live ones. With a cursor it resumes from the event log.
func (s *Service) WatchRevocations(ctx context.Context, cursor string, send func(Revocation) error) error {
	backlog := cursor == ""
	return s.Events.Feed(ctx, events.Subscription{Topics: []string{TopicRevocation}, Cursor: cursor}, func(ch events.Change) error {
		if backlog {
			backlog = false
			active, err := s.Store.ActiveRevocations(ctx, s.Store.DB(), s.now())
			if err != nil {
				return err
			}
			for _, r := range active {
				if err := send(Revocation{Cursor: ch.Cursor, Kind: r.Kind, TargetID: r.TargetID, Revoked: r.Revoked, Expires: r.Expires}); err != nil {
					return err
				}
			}
		}
		if ch.Event == nil {
			return send(Revocation{Cursor: ch.Cursor})
		}
		var p revocationPayload
		if err := json.Unmarshal(ch.Event.Payload, &p); err != nil {
			return errs.Wrap(err, errs.Internal, reasons.Internal, "a revocation event does not decode")
		}
		return send(Revocation{Cursor: ch.Cursor, Kind: p.Kind, TargetID: p.ID,
			Revoked: time.UnixMicro(p.RevokedUS).UTC(), Expires: time.UnixMicro(p.ExpiresUS).UTC()})
	})
}

// JWKS is the token verification keys and how long they may be cached.
func (s *Service) JWKS(ctx context.Context) ([]byte, time.Duration, error) {
	b, err := s.Tokens.JWKS(ctx)
	return b, accesstoken.JWKSMaxAge, err
}

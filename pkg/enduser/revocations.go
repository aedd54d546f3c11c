package enduser

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
)

// Revocation is one change from identity's revocation feed. A heartbeat has
// neither SessionID nor ClientID.
type Revocation struct {
	// Cursor is the feed position after this change; empty keeps the last.
	Cursor string
	// SessionID is a revoked session (a token's sid).
	SessionID string
	// ClientID is a revoked integrator (a client token's sub).
	ClientID string
	// RevokeTime is when the session or client was revoked (kept for the
	// record and for ordering; the check does not compare it with iat).
	RevokeTime time.Time
	// ExpireTime: after it (plus the skew) no token it could refuse is
	// still valid, so it is forgotten.
	ExpireTime time.Time
}

// RevocationSource is identity's revocation feed.
type RevocationSource interface {
	// Watch calls fn with each change after cursor (from the start of what
	// may still matter when cursor is empty), in order, until ctx ends, the
	// feed breaks, or fn fails. It returns why it stopped.
	//
	// The feed must send a heartbeat once it has sent the backlog (that is
	// how the set knows it is complete) and then at least every
	// HeartbeatInterval, so that a silent connection reads as down.
	Watch(ctx context.Context, cursor string, fn func(Revocation) error) error
}

// ErrCursorInvalid is what a RevocationSource returns when the feed no
// longer knows the cursor (its events were trimmed); Run then starts over
// from the backlog.
var ErrCursorInvalid = errors.New("revocation feed cursor no longer valid")

// HeartbeatInterval is the longest a healthy feed stays silent.
const HeartbeatInterval = 30 * time.Second

// Revocations is the set of revoked sessions and clients that could still
// matter, kept from a RevocationSource (ADR 0009). Check refuses every token
// whose sid (or client sub) is in the set, whatever its iat: sessions and
// clients are never un-revoked, so no token of a revoked one is good, and
// comparing iat (whole seconds) with the revoke time would let through a
// token signed in a later second by a request that raced the revocation.
// It is compact: an entry is forgotten once every token it could refuse has
// expired (identity signs no token for a session or client after its
// revocation committed, so the last one expires within a token lifetime
// plus the skew).
//
// It fails closed. Until the feed has delivered its backlog, and whenever
// it has been silent (no change, no heartbeat) for longer than the stale
// bound (a token's lifetime by default), Check answers Unavailable
// REVOCATIONS_STALE: a session revoked meanwhile could otherwise pass.
type Revocations struct {
	src     RevocationSource
	clock   clockwork.Clock
	stale   time.Duration
	skew    time.Duration
	logger  *slog.Logger
	backoff func() backoff.BackOff

	mu       sync.RWMutex
	sessions map[string]entry
	clients  map[string]entry
	cursor   string
	synced   bool      // a heartbeat came after the backlog
	contact  time.Time // last message of a live feed
	pruned   time.Time
}

type entry struct{ revoked, expires time.Time }

// RevocationsOption configures Revocations.
type RevocationsOption func(*Revocations)

// WithRevocationsClock sets the clock (tests).
func WithRevocationsClock(c clockwork.Clock) RevocationsOption {
	return func(r *Revocations) { r.clock = c }
}

// WithStaleAfter sets how long the feed may be silent before Check fails
// closed (default accesstoken.DefaultLifetime, ADR 0009).
func WithStaleAfter(d time.Duration) RevocationsOption { return func(r *Revocations) { r.stale = d } }

// WithRevocationsLogger logs feed interruptions.
func WithRevocationsLogger(l *slog.Logger) RevocationsOption {
	return func(r *Revocations) { r.logger = l }
}

// WithReconnectBackoff sets the delays between reconnects (default
// exponential from 250 ms to 10 s, jittered).
func WithReconnectBackoff(initial, maxDelay time.Duration) RevocationsOption {
	return func(r *Revocations) {
		r.backoff = func() backoff.BackOff {
			b := backoff.NewExponentialBackOff()
			b.InitialInterval, b.MaxInterval = initial, maxDelay
			return b
		}
	}
}

// NewRevocations keeps a set from src; Run feeds it.
func NewRevocations(src RevocationSource, opts ...RevocationsOption) *Revocations {
	r := &Revocations{
		src: src, clock: clockwork.NewRealClock(), stale: accesstoken.DefaultLifetime,
		skew: accesstoken.DefaultSkew, logger: slog.New(slog.DiscardHandler),
		sessions: map[string]entry{}, clients: map[string]entry{},
	}
	WithReconnectBackoff(250*time.Millisecond, 10*time.Second)(r)
	for _, o := range opts {
		o(r)
	}
	return r
}

// Check returns nil when the token's session (or client) is not revoked,
// Unauthenticated TOKEN_REVOKED when it is, and Unavailable
// REVOCATIONS_STALE when the set cannot say.
func (r *Revocations) Check(c *accesstoken.Claims) error {
	now := r.clock.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.synced || now.Sub(r.contact) > r.stale {
		return errs.E(errs.Unavailable, ReasonRevocationsStale, "session revocations cannot be checked right now; retry later")
	}
	if _, ok := r.sessions[c.SessionID]; ok {
		return errs.E(errs.Unauthenticated, accesstoken.ReasonTokenRevoked, "access token revoked")
	}
	if c.Kind == accesstoken.KindClient {
		if _, ok := r.clients[c.Subject]; ok {
			return errs.E(errs.Unauthenticated, accesstoken.ReasonTokenRevoked, "access token revoked")
		}
	}
	return nil
}

// Ready is Check's staleness rule as a readiness check.
func (r *Revocations) Ready(context.Context) error {
	now := r.clock.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.synced || now.Sub(r.contact) > r.stale {
		return errs.E(errs.Unavailable, ReasonRevocationsStale, "revocation feed is not current")
	}
	return nil
}

// Len is how many revocations the set holds.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.sessions) + len(r.clients)
}

// Run follows the feed until ctx ends, resuming from the last cursor after a
// break, with backoff (reset once a connection delivers something). It
// returns ctx's error.
func (r *Revocations) Run(ctx context.Context) error {
	b := r.backoff()
	for {
		delivered := false
		err := r.src.Watch(ctx, r.currentCursor(), func(rev Revocation) error {
			delivered = true
			r.apply(rev)
			return nil
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if delivered {
			b.Reset()
		}
		if errors.Is(err, ErrCursorInvalid) {
			// Start over: the backlog holds every revocation that may still
			// matter, and the set keeps what it has meanwhile.
			r.mu.Lock()
			r.cursor = ""
			r.mu.Unlock()
		}
		r.logger.WarnContext(ctx, "revocation feed interrupted; reconnecting", logging.Err(orEOF(err)))
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			wait = 10 * time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait): // real time: the delay is not what tests control
		}
	}
}

func orEOF(err error) error {
	if err == nil {
		return errors.New("feed ended")
	}
	return err
}

func (r *Revocations) currentCursor() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cursor
}

// apply records one change. A revocation without times is taken at its
// most cautious: revoked now (every token issued so far), kept for as long
// as any token lives.
func (r *Revocations) apply(rev Revocation) {
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.contact = now
	if rev.Cursor != "" {
		r.cursor = rev.Cursor
	}
	if rev.SessionID == "" && rev.ClientID == "" {
		r.synced = true // a heartbeat: the backlog has been delivered
	} else {
		e := entry{revoked: rev.RevokeTime, expires: rev.ExpireTime}
		if e.revoked.IsZero() {
			e.revoked = now
		}
		if e.expires.IsZero() || e.expires.Before(e.revoked) {
			e.expires = now.Add(accesstoken.DefaultMaxLifetime)
		}
		if rev.SessionID != "" {
			r.sessions[rev.SessionID] = later(r.sessions[rev.SessionID], e)
		}
		if rev.ClientID != "" {
			r.clients[rev.ClientID] = later(r.clients[rev.ClientID], e)
		}
	}
	if now.Sub(r.pruned) >= time.Minute {
		r.prune(now)
	}
}

// later merges two revocations of one session: the later revoke time
// refuses more, the later expiry keeps it longer.
func later(a, b entry) entry {
	if a.revoked.After(b.revoked) {
		b.revoked = a.revoked
	}
	if a.expires.After(b.expires) {
		b.expires = a.expires
	}
	return b
}

// prune forgets what no valid token could match: entries past their expiry
// and the skew a verifier allows on exp.
func (r *Revocations) prune(now time.Time) {
	r.pruned = now
	for _, m := range []map[string]entry{r.sessions, r.clients} {
		for id, e := range m {
			if now.After(e.expires.Add(r.skew)) {
				delete(m, id)
			}
		}
	}
}

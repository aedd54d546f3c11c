package accesstoken

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/errs"
)

// KeySource gives a Verifier the public key a token names.
type KeySource interface {
	// Key returns the Ed25519 public key of kid. An unknown kid is
	// Unauthenticated TOKEN_INVALID (a source may refresh first, rate
	// limited); a source with no current keys is Unavailable
	// KEYS_UNAVAILABLE.
	Key(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// KeySet is a parsed JWK Set: a KeySource that never changes.
type KeySet struct {
	keys map[string]ed25519.PublicKey
}

var _ KeySource = (*KeySet)(nil)

// maxJWKSBytes bounds what ParseJWKS reads; a real set holds two keys.
const maxJWKSBytes = 64 << 10

// ParseJWKS parses a JWK Set. Every key must be an OKP/Ed25519 public key
// with a kid, "use" sig (or none) and "alg" EdDSA (or none); anything else
// makes the whole set InvalidArgument JWKS_INVALID, since a set with a key
// of another kind is not one identity made.
func ParseJWKS(data []byte) (*KeySet, error) {
	if len(data) > maxJWKSBytes {
		return nil, errs.E(errs.InvalidArgument, ReasonJWKSInvalid, "JWK Set is too large")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, ReasonJWKSInvalid, "JWK Set does not parse")
	}
	ks := &KeySet{keys: make(map[string]ed25519.PublicKey, len(set.Keys))}
	for _, k := range set.Keys {
		pub, ok := k.Key.(ed25519.PublicKey)
		switch {
		case !ok || len(pub) != ed25519.PublicKeySize:
			return nil, errs.E(errs.InvalidArgument, ReasonJWKSInvalid, "JWK Set holds a key that is not an Ed25519 public key")
		case k.KeyID == "":
			return nil, errs.E(errs.InvalidArgument, ReasonJWKSInvalid, "JWK Set holds a key without kid")
		case k.Use != "" && k.Use != "sig", k.Algorithm != "" && k.Algorithm != string(jose.EdDSA):
			return nil, errs.E(errs.InvalidArgument, ReasonJWKSInvalid, "JWK Set holds a key not for EdDSA signatures")
		}
		if _, dup := ks.keys[k.KeyID]; dup {
			return nil, errs.E(errs.InvalidArgument, ReasonJWKSInvalid, "JWK Set holds two keys with one kid")
		}
		ks.keys[k.KeyID] = pub
	}
	return ks, nil
}

// Key implements KeySource.
func (s *KeySet) Key(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if pub, ok := s.keys[kid]; ok {
		return pub, nil
	}
	return nil, invalid("token signed by an unknown key")
}

// Len is the number of keys.
func (s *KeySet) Len() int { return len(s.keys) }

// FetchFunc fetches the current JWK Set and how long it may be cached.
type FetchFunc func(ctx context.Context) (jwks []byte, maxAge time.Duration, err error)

// RemoteKeys is a KeySource over a JWK Set fetched from identity: cached for
// its max age, refetched at most once per minimum interval when a token
// names an unknown kid (a new version after a rotation), and kept in use
// while identity cannot be reached for at most the grace period after it
// expired (ADR 0009: the token lifetime); after that it fails closed.
type RemoteKeys struct {
	fetch       FetchFunc
	clock       clockwork.Clock
	minInterval time.Duration
	grace       time.Duration
	maxMaxAge   time.Duration

	cur atomic.Pointer[fetched]
	// mu serialises fetches, so a burst of tokens with a new kid (or an
	// expired set under load) costs one call to identity, not one each.
	mu          sync.Mutex
	lastAttempt time.Time
	lastErr     error
}

type fetched struct {
	set     *KeySet
	at      time.Time
	expires time.Time
}

var _ KeySource = (*RemoteKeys)(nil)

// RemoteOption configures RemoteKeys.
type RemoteOption func(*RemoteKeys)

// WithRemoteClock sets the clock (tests).
func WithRemoteClock(c clockwork.Clock) RemoteOption { return func(r *RemoteKeys) { r.clock = c } }

// WithMinRefreshInterval bounds how often an unknown kid may cause a fetch
// (default 5 s): tokens with made-up kids must not turn into a flood of
// calls to identity.
func WithMinRefreshInterval(d time.Duration) RemoteOption {
	return func(r *RemoteKeys) { r.minInterval = d }
}

// WithGrace sets how long an expired set stays in use while fetching fails
// (default DefaultLifetime).
func WithGrace(d time.Duration) RemoteOption { return func(r *RemoteKeys) { r.grace = d } }

// NewRemoteKeys returns a KeySource over fetch. It fetches lazily; call
// Refresh at start-up to fail fast, and Run to keep the set fresh in the
// background so that requests rarely wait for a fetch.
func NewRemoteKeys(fetch FetchFunc, opts ...RemoteOption) *RemoteKeys {
	r := &RemoteKeys{
		fetch: fetch, clock: clockwork.NewRealClock(), minInterval: 5 * time.Second,
		grace: DefaultLifetime, maxMaxAge: 10 * time.Minute,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Key implements KeySource.
func (r *RemoteKeys) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	now := r.clock.Now()
	f := r.cur.Load()
	if f == nil || !now.Before(f.expires) {
		// Expired (or never fetched): fetch now; a failure keeps the old set
		// for the grace period.
		if err := r.refresh(ctx, false); err != nil {
			f = r.cur.Load()
			if f == nil || !now.Before(f.expires.Add(r.grace)) {
				return nil, errs.Wrap(err, errs.Unavailable, ReasonKeysUnavailable, "token verification keys are unavailable")
			}
		}
		f = r.cur.Load()
	}
	if pub, ok := f.set.keys[kid]; ok {
		return pub, nil
	}
	// Unknown kid: perhaps a version newer than our copy. Ask again, but not
	// more often than minInterval.
	// A caller refused by the rate limit may still find the key: the fetch
	// it waited for may have been for this very kid.
	_ = r.refresh(ctx, true)
	if pub, ok := r.cur.Load().set.keys[kid]; ok {
		return pub, nil
	}
	return nil, invalid("token signed by an unknown key")
}

// Refresh fetches the set now.
func (r *RemoteKeys) Refresh(ctx context.Context) error { return r.refresh(ctx, false) }

// Ready reports whether the set is current enough to verify with: fetched,
// and not past its max age plus the grace period.
func (r *RemoteKeys) Ready(context.Context) error {
	f := r.cur.Load()
	if f == nil {
		return errs.E(errs.Unavailable, ReasonKeysUnavailable, "token verification keys not fetched yet")
	}
	if !r.clock.Now().Before(f.expires.Add(r.grace)) {
		return errs.E(errs.Unavailable, ReasonKeysUnavailable, "token verification keys are stale")
	}
	return nil
}

// Run fetches the set at once if it has none, then refreshes it at half its
// max age until ctx ends; failures are retried at the minimum interval. It
// returns ctx's error.
func (r *RemoteKeys) Run(ctx context.Context) error {
	if r.cur.Load() == nil {
		_ = r.refresh(ctx, false)
	}
	for {
		wait := r.minInterval
		if f := r.cur.Load(); f != nil {
			if half := f.expires.Sub(f.at) / 2; half > wait {
				wait = half
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.clock.After(wait):
		}
		_ = r.refresh(ctx, false) // a failure shows in Ready and in Key
	}
}

// refresh fetches the set, at most once per minInterval: within it, a
// caller gets the last attempt's error (an outage must not turn every
// request into a call to identity that waits for its timeout), and for an
// unknown kid (limited) a rate-limit error. A caller that waited for another
// caller's fetch so takes its result.
func (r *RemoteKeys) refresh(ctx context.Context, limited bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	if !r.lastAttempt.IsZero() && now.Sub(r.lastAttempt) < r.minInterval {
		switch {
		case r.lastErr != nil:
			return r.lastErr
		case limited:
			return errs.E(errs.Unavailable, ReasonKeysUnavailable, "key refresh rate limited")
		}
		return nil
	}
	r.lastAttempt = now
	r.lastErr = r.fetchOnce(ctx)
	return r.lastErr
}

func (r *RemoteKeys) fetchOnce(ctx context.Context) error {
	data, maxAge, err := r.fetch(ctx)
	if err != nil {
		return err
	}
	set, err := ParseJWKS(data)
	if err != nil {
		return err
	}
	if set.Len() == 0 {
		return errs.E(errs.Unavailable, ReasonKeysUnavailable, "JWK Set is empty")
	}
	// A max age of zero (or nonsense) from identity must not mean "fetch on
	// every request" nor "keep for ever".
	maxAge = min(max(maxAge, r.minInterval), r.maxMaxAge)
	now := r.clock.Now()
	r.cur.Store(&fetched{set: set, at: now, expires: now.Add(maxAge)})
	return nil
}

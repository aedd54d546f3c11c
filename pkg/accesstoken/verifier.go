package accesstoken

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/errs"
)

// MaxTokenBytes bounds the tokens a Verifier looks at; a real one is under
// 1 KiB.
const MaxTokenBytes = 8 << 10

// DefaultCacheSize is how many verified tokens a Verifier remembers.
const DefaultCacheSize = 10_000

// DefaultMaxLifetime bounds exp - iat of an accepted token: a token that
// claims to live longer than any identity issues is not one of its tokens,
// and a revocation is forgotten after the last token's expiry, which this
// bound keeps honest.
const DefaultMaxLifetime = 15 * time.Minute

// allowedAlgs pins the algorithm: "none", HMAC (with the public key as the
// secret) and RSA/ECDSA headers are refused before any key is looked up.
var allowedAlgs = []jose.SignatureAlgorithm{jose.EdDSA}

// Verifier checks access tokens (ADR 0009): the algorithm is EdDSA, the kid
// is known to the KeySource, the signature verifies, typ is at+jwt, iss is
// the trusted issuer, aud contains the audience, exp and nbf hold within the
// skew. It does not check revocation or step-up (pkg/enduser does).
//
// A token that verified once is remembered (a bounded LRU keyed by the
// SHA-256 of the exact token), so presenting it again costs a hash and the
// time checks instead of an Ed25519 verification: a session presents the
// same token on every request for its few minutes. A hit still checks that
// its key is the KeySource's key for the kid (a key taken out of the set
// stops its tokens at once) and the times.
type Verifier struct {
	keys        KeySource
	issuer      string
	audience    string
	skew        time.Duration
	maxLifetime time.Duration
	clock       clockwork.Clock
	cache       *lru.Cache[[sha256.Size]byte, cachedToken]
	cacheSize   int
}

type cachedToken struct {
	claims *Claims // never handed out: callers get clones
	kid    string
	pub    ed25519.PublicKey
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithClock sets the clock times are checked against (tests).
func WithClock(c clockwork.Clock) VerifierOption { return func(v *Verifier) { v.clock = c } }

// WithAllowedSkew sets the clock skew allowed on exp, nbf and iat (default
// DefaultSkew).
func WithAllowedSkew(d time.Duration) VerifierOption { return func(v *Verifier) { v.skew = d } }

// WithAudience sets the audience a token must name (default DefaultAudience).
func WithAudience(aud string) VerifierOption { return func(v *Verifier) { v.audience = aud } }

// WithMaxLifetime sets the longest exp - iat accepted (default
// DefaultMaxLifetime).
func WithMaxLifetime(d time.Duration) VerifierOption { return func(v *Verifier) { v.maxLifetime = d } }

// WithCacheSize sets how many verified tokens are remembered (default
// DefaultCacheSize); 0 verifies every presentation from scratch.
func WithCacheSize(n int) VerifierOption { return func(v *Verifier) { v.cacheSize = n } }

// NewVerifier accepts tokens of issuer whose keys keys gives.
func NewVerifier(keys KeySource, issuer string, opts ...VerifierOption) (*Verifier, error) {
	if keys == nil || issuer == "" {
		return nil, errs.E(errs.InvalidArgument, "VERIFIER_INVALID", "verifier needs a key source and an issuer")
	}
	v := &Verifier{
		keys: keys, issuer: issuer, audience: DefaultAudience, skew: DefaultSkew,
		maxLifetime: DefaultMaxLifetime, clock: clockwork.NewRealClock(), cacheSize: DefaultCacheSize,
	}
	for _, o := range opts {
		o(v)
	}
	if v.skew < 0 || v.maxLifetime <= 0 || v.audience == "" || v.cacheSize < 0 {
		return nil, errs.E(errs.InvalidArgument, "VERIFIER_INVALID", "verifier needs a skew >= 0, a max lifetime > 0 and an audience")
	}
	if v.cacheSize > 0 {
		c, err := lru.New[[sha256.Size]byte, cachedToken](v.cacheSize)
		if err != nil {
			return nil, errs.Wrap(err, errs.InvalidArgument, "VERIFIER_INVALID", "verifier cache")
		}
		v.cache = c
	}
	return v, nil
}

// Skew is the clock skew the verifier allows.
func (v *Verifier) Skew() time.Duration { return v.skew }

// Verify returns the claims of a valid token, or an Unauthenticated error
// with a Reason* reason (Unavailable KEYS_UNAVAILABLE when there are no
// current keys to check with). The returned claims are the caller's own.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, unauthenticated(ReasonTokenMissing, "access token missing")
	}
	if len(token) > MaxTokenBytes {
		return nil, unauthenticated(ReasonTokenMalformed, "access token too large")
	}
	var sum [sha256.Size]byte
	if v.cache != nil {
		sum = sha256.Sum256([]byte(token))
		if e, ok := v.cache.Get(sum); ok {
			if pub, err := v.keys.Key(ctx, e.kid); err == nil && pub.Equal(e.pub) {
				if err := v.checkTimes(e.claims); err != nil {
					return nil, err
				}
				return e.claims.Clone(), nil
			}
			// Its key left the set (or changed): verify from scratch, which
			// refuses it.
			v.cache.Remove(sum)
		}
	}
	c, kid, pub, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.Add(sum, cachedToken{claims: c, kid: kid, pub: pub})
	}
	return c.Clone(), nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*Claims, string, ed25519.PublicKey, error) {
	jws, err := jose.ParseSignedCompact(token, allowedAlgs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, "", nil, invalid("access token algorithm is not EdDSA")
		}
		return nil, "", nil, unauthenticated(ReasonTokenMalformed, "access token is not a signed JWT")
	}
	if len(jws.Signatures) != 1 {
		return nil, "", nil, unauthenticated(ReasonTokenMalformed, "access token is not a signed JWT")
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(jose.EdDSA) {
		return nil, "", nil, invalid("access token algorithm is not EdDSA")
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !isAccessTokenType(typ) {
		return nil, "", nil, invalid("token is not an access token (typ)")
	}
	if h.KeyID == "" {
		return nil, "", nil, invalid("access token names no key")
	}
	pub, err := v.keys.Key(ctx, h.KeyID)
	if err != nil {
		return nil, "", nil, err
	}
	// A typed Ed25519 key: go-jose verifies it only under EdDSA, a second
	// lock on the algorithm.
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, "", nil, invalid("access token signature does not verify")
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, "", nil, unauthenticated(ReasonTokenMalformed, "access token claims do not decode")
	}
	c := w.claims()
	switch {
	case c.Issuer != v.issuer:
		return nil, "", nil, invalid("access token issuer is not trusted")
	case !c.HasAudience(v.audience):
		return nil, "", nil, invalid("access token is not for this audience")
	}
	if msg := c.check(); msg != "" {
		return nil, "", nil, invalid("access token claims: " + msg)
	}
	maxLifetime := v.maxLifetime
	if c.Kind == KindVisitor {
		maxLifetime = max(maxLifetime, MaxVisitorLifetime)
	}
	if c.Expiry.Sub(c.IssuedAt) > maxLifetime {
		return nil, "", nil, invalid("access token lives longer than allowed")
	}
	if err := v.checkTimes(c); err != nil {
		return nil, "", nil, err
	}
	return c, h.KeyID, pub, nil
}

// checkTimes applies exp, nbf and iat with the skew.
func (v *Verifier) checkTimes(c *Claims) error {
	now := v.clock.Now()
	if !now.Before(c.Expiry.Add(v.skew)) {
		return unauthenticated(ReasonTokenExpired, "access token expired")
	}
	early := now.Add(v.skew)
	if early.Before(c.IssuedAt) || (!c.NotBefore.IsZero() && early.Before(c.NotBefore)) {
		return unauthenticated(ReasonTokenNotYetValid, "access token not valid yet")
	}
	return nil
}

// isAccessTokenType accepts RFC 9068's typ, which RFC 7515 lets carry its
// media type's "application/" prefix, in any case.
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == TokenType || typ == "application/"+TokenType
}

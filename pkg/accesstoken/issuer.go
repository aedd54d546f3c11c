package accesstoken

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

// Defaults of ADR 0009.
const (
	// DefaultLifetime is how long an access token lives.
	DefaultLifetime = 5 * time.Minute
	// DefaultSkew is the clock skew a verifier allows on exp and nbf.
	DefaultSkew = 30 * time.Second
	// JWKSMaxAge is how long a verifier may cache the JWK Set. Short, so a
	// version taken out of the set (after its overlap, or at once after a
	// compromise) stops verifying everywhere within a minute; a new version
	// is picked up sooner, on its first unknown kid.
	JWKSMaxAge = time.Minute
	// TokenType is the typ header of RFC 9068 access tokens.
	TokenType = "at+jwt"
	// KeyName is the KeyManager key identity signs with.
	KeyName = "identity-token"
)

// KeyID is the kid of a key version: "<key name>.v<version>".
func KeyID(keyName string, version int) string { return keyName + ".v" + strconv.Itoa(version) }

// Issuer mints access tokens signed through a KeyManager: the private key
// never leaves it (Vault Transit in production).
type Issuer struct {
	km       keys.KeyManager
	keyName  string
	issuer   string
	audience []string
	lifetime time.Duration
	// visitorLifetime is a visitor token's lifetime (KindVisitor).
	visitorLifetime time.Duration
	skew            time.Duration
	clock           clockwork.Clock

	// version is the key version the last signature was made with: the kid
	// of the next token, checked against the version that signs it.
	version atomic.Int64

	mu   sync.Mutex
	pubs map[int]ed25519.PublicKey // versions never change: cached for good
}

// IssuerOption configures an Issuer.
type IssuerOption func(*Issuer)

// WithIssuerClock sets the clock tokens are dated by (tests).
func WithIssuerClock(c clockwork.Clock) IssuerOption { return func(i *Issuer) { i.clock = c } }

// WithLifetime sets the tokens' lifetime (default DefaultLifetime).
func WithLifetime(d time.Duration) IssuerOption { return func(i *Issuer) { i.lifetime = d } }

// WithVisitorLifetime sets the lifetime of visitor tokens (KindVisitor;
// default the tokens' lifetime), at most MaxVisitorLifetime. The previous
// key stays in the JWK Set after a rotation for the longer of the two
// lifetimes, so a visitor's token keeps verifying until it expires.
func WithVisitorLifetime(d time.Duration) IssuerOption {
	return func(i *Issuer) { i.visitorLifetime = d }
}

// WithSkew sets the skew verifiers allow (default DefaultSkew); it is part
// of how long a rotated-out version stays in the JWK Set.
func WithSkew(d time.Duration) IssuerOption { return func(i *Issuer) { i.skew = d } }

// NewIssuer mints tokens for issuer (spiffe://<trust-domain>/identity),
// signed by km's ed25519 key keyName (normally KeyName), which must exist
// (km.EnsureKey). The audience is DefaultAudience.
func NewIssuer(km keys.KeyManager, keyName, issuer string, opts ...IssuerOption) (*Issuer, error) {
	if km == nil || keyName == "" || issuer == "" {
		return nil, errs.E(errs.InvalidArgument, ReasonClaimsInvalid, "issuer needs a key manager, a key name and an issuer")
	}
	i := &Issuer{
		km: km, keyName: keyName, issuer: issuer, audience: []string{DefaultAudience},
		lifetime: DefaultLifetime, skew: DefaultSkew, clock: clockwork.NewRealClock(),
		pubs: map[int]ed25519.PublicKey{},
	}
	for _, o := range opts {
		o(i)
	}
	if i.visitorLifetime == 0 {
		i.visitorLifetime = min(i.lifetime, MaxVisitorLifetime)
	}
	if i.lifetime <= 0 || i.skew < 0 {
		return nil, errs.E(errs.InvalidArgument, ReasonClaimsInvalid, "token lifetime must be positive and skew not negative")
	}
	if i.visitorLifetime < 0 || i.visitorLifetime > MaxVisitorLifetime {
		return nil, errs.E(errs.InvalidArgument, ReasonClaimsInvalid, "visitor token lifetime must be positive and at most %s", MaxVisitorLifetime)
	}
	return i, nil
}

// Lifetime is how long the tokens it issues live.
func (i *Issuer) Lifetime() time.Duration { return i.lifetime }

// VisitorLifetime is how long the visitor tokens it issues live.
func (i *Issuer) VisitorLifetime() time.Duration { return i.visitorLifetime }

// lifetimeOf is how long a token of kind lives.
func (i *Issuer) lifetimeOf(k Kind) time.Duration {
	if k == KindVisitor {
		return i.visitorLifetime
	}
	return i.lifetime
}

// Issue signs c as an access token; see IssueClaims.
func (i *Issuer) Issue(ctx context.Context, c Claims) (string, error) {
	tok, _, err := i.IssueClaims(ctx, c)
	return tok, err
}

// IssueClaims signs c and returns the token with the claims it carries. The
// issuer sets iss, aud, iat, nbf (now), jti (random) and exp: now plus the
// lifetime, or c.Expiry when that is earlier (a session that ends sooner).
// The caller sets sub, kind, tenant, sid, aal, amr, auth_time, roles and
// scope. Claims no verifier would accept are InvalidArgument
// CLAIMS_INVALID.
func (i *Issuer) IssueClaims(ctx context.Context, c Claims) (string, Claims, error) {
	now := i.clock.Now().Truncate(time.Second)
	c.Issuer = i.issuer
	c.Audience = i.audience
	c.IssuedAt, c.NotBefore = now, now
	if exp := now.Add(i.lifetimeOf(c.Kind)); c.Expiry.IsZero() || c.Expiry.After(exp) {
		c.Expiry = exp
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", Claims{}, errs.Wrap(err, errs.Internal, "RANDOM_UNAVAILABLE", "cannot make a token id")
	}
	c.ID = base64.RawURLEncoding.EncodeToString(jti[:])
	// auth_time is compared in whole seconds like every other time.
	c.AuthTime = c.AuthTime.Truncate(time.Second)
	if msg := c.check(); msg != "" {
		return "", Claims{}, errs.E(errs.InvalidArgument, ReasonClaimsInvalid, "access token claims: %s", msg)
	}
	payload, err := json.Marshal(c.wire())
	if err != nil {
		return "", Claims{}, errs.Wrap(err, errs.Internal, ReasonClaimsInvalid, "cannot encode claims")
	}
	tok, err := i.sign(ctx, payload)
	if err != nil {
		return "", Claims{}, err
	}
	return tok, c, nil
}

// sign makes the JWS. The kid goes into the protected header before the
// KeyManager signs, and the KeyManager signs with whatever version is
// latest then; so the header names the version last seen, and a signature
// made by another one (a rotation in between) is thrown away and redone
// under the right kid. A token never names a key that did not sign it.
func (i *Issuer) sign(ctx context.Context, payload []byte) (string, error) {
	version := int(i.version.Load())
	if version == 0 {
		v, err := i.km.LatestVersion(ctx, i.keyName)
		if err != nil {
			return "", err
		}
		version = v
	}
	for range 3 {
		s := &kmSigner{ctx: ctx, km: i.km, keyName: i.keyName}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: s}, &jose.SignerOptions{
			ExtraHeaders: map[jose.HeaderKey]any{
				jose.HeaderType: TokenType,
				"kid":           KeyID(i.keyName, version),
			},
		})
		if err != nil {
			return "", errs.Wrap(err, errs.Internal, "TOKEN_SIGNING_FAILED", "cannot sign the access token")
		}
		jws, err := signer.Sign(payload)
		if err != nil {
			if s.err != nil {
				return "", s.err // the KeyManager's own (typed) error
			}
			return "", errs.Wrap(err, errs.Internal, "TOKEN_SIGNING_FAILED", "cannot sign the access token")
		}
		i.version.Store(int64(s.version))
		if s.version == version {
			return jws.CompactSerialize()
		}
		version = s.version
	}
	return "", errs.E(errs.Unavailable, "TOKEN_SIGNING_FAILED", "signing key keeps rotating; try again")
}

// kmSigner is a jose.OpaqueSigner over KeyManager.Sign for one signature;
// it records which version signed.
type kmSigner struct {
	ctx     context.Context
	km      keys.KeyManager
	keyName string

	version int
	err     error
}

// Public returns nil: the kid is set as a header (it must name the version
// that signs, which only the signature says), and no key is embedded.
func (s *kmSigner) Public() *jose.JSONWebKey { return nil }

func (s *kmSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.EdDSA} }

func (s *kmSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.EdDSA {
		return nil, jose.ErrUnsupportedAlgorithm
	}
	sig, err := s.km.Sign(s.ctx, s.keyName, payload)
	if err != nil {
		s.err = err
		return nil, err
	}
	if len(sig.Sig) != ed25519.SignatureSize || sig.KeyVersion < 1 {
		s.err = errs.E(errs.Internal, "TOKEN_SIGNING_FAILED", "key manager returned a malformed signature")
		return nil, s.err
	}
	s.version = sig.KeyVersion
	return sig.Sig, nil
}

// JWKS returns the JWK Set verifiers need: the latest version of the key,
// and the previous one while tokens it signed may still be live (its
// overlap: the lifetime plus the skew since the latest was made). Keys are
// OKP/Ed25519 with kid, "use": "sig" and "alg": "EdDSA". Verifiers may cache
// it for JWKSMaxAge. The overlap uses the longer of the two lifetimes
// (people's and visitors').
func (i *Issuer) JWKS(ctx context.Context) ([]byte, error) {
	d, err := i.km.Describe(ctx, i.keyName)
	if err != nil {
		return nil, err
	}
	versions := []int{d.Latest}
	if prev := d.Latest - 1; prev >= d.MinDecryption && prev >= 1 &&
		i.clock.Now().Before(d.LatestCreated.Add(max(i.lifetime, i.visitorLifetime)+i.skew)) {
		versions = append(versions, prev)
	}
	set := jose.JSONWebKeySet{}
	for _, v := range versions {
		pub, err := i.publicKey(ctx, v)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: pub, KeyID: KeyID(i.keyName, v), Algorithm: string(jose.EdDSA), Use: "sig",
		})
	}
	return json.Marshal(set)
}

func (i *Issuer) publicKey(ctx context.Context, version int) (ed25519.PublicKey, error) {
	i.mu.Lock()
	pub, ok := i.pubs[version]
	i.mu.Unlock()
	if ok {
		return pub, nil
	}
	pub, err := i.km.PublicKey(ctx, i.keyName, version)
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	i.pubs[version] = pub
	i.mu.Unlock()
	return pub, nil
}

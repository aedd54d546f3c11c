package accesstoken_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

const testIssuer = "spiffe://sotto.local/identity"

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// newKeyring is a real local keyring with the identity-token key.
func newKeyring(t testing.TB) *keys.Local {
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), accesstoken.KeyName, keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	return km
}

type fixture struct {
	km       *keys.Local
	clock    *clockwork.FakeClock
	issuer   *accesstoken.Issuer
	verifier *accesstoken.Verifier
}

// newFixture issues and verifies on one fake clock; the verifier's keys are
// the issuer's JWK Set, re-read on every lookup (the set as it is now).
func newFixture(t testing.TB, vopts ...accesstoken.VerifierOption) *fixture {
	t.Helper()
	f := &fixture{km: newKeyring(t), clock: clockwork.NewFakeClockAt(t0)}
	var err error
	f.issuer, err = accesstoken.NewIssuer(f.km, accesstoken.KeyName, testIssuer, accesstoken.WithIssuerClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	f.verifier, err = accesstoken.NewVerifier(liveJWKS{f.issuer}, testIssuer,
		append([]accesstoken.VerifierOption{accesstoken.WithClock(f.clock)}, vopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// liveJWKS is a KeySource that parses the issuer's current JWK Set on every
// lookup: no caching to reason about in tests of the verifier itself.
type liveJWKS struct{ iss *accesstoken.Issuer }

func (l liveJWKS) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	data, err := l.iss.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	set, err := accesstoken.ParseJWKS(data)
	if err != nil {
		return nil, err
	}
	return set.Key(ctx, kid)
}

func customer() accesstoken.Claims {
	return accesstoken.Claims{
		Subject: "acc_123", Kind: accesstoken.KindCustomer, Tenant: "shop1", SessionID: "ses_1",
		AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}, AuthTime: t0.Add(-time.Minute),
	}
}

func (f *fixture) issue(t testing.TB, c accesstoken.Claims) string {
	t.Helper()
	tok, err := f.issuer.Issue(context.Background(), c)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

func wantReason(t *testing.T, err error, kind errs.Kind, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("verified; want %s %s", kind, reason)
	}
	if errs.KindOf(err) != kind || errs.ReasonOf(err) != reason {
		t.Fatalf("error = %v; want %s %s", err, kind, reason)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tok, issued, err := f.issuer.IssueClaims(ctx, customer())
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.verifier.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := customer()
	want.Issuer, want.Audience = testIssuer, []string{"sotto"}
	want.IssuedAt, want.NotBefore, want.Expiry = t0, t0, t0.Add(5*time.Minute)
	want.ID = issued.ID
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&issued, got); diff != "" {
		t.Errorf("IssueClaims differs from the verified claims (-issued +got):\n%s", diff)
	}
	if len(issued.ID) < 20 {
		t.Errorf("jti %q is too short to be unique", issued.ID)
	}

	// The header is the ADR's, with the kid of the version that signed.
	hdr := header(t, tok)
	wantHdr := map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "identity-token.v1"}
	if diff := cmp.Diff(wantHdr, hdr); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	// The claims on the wire use the registered names.
	var wire map[string]any
	if err := json.Unmarshal(segment(t, tok, 1), &wire); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iss", "aud", "sub", "kind", "tenant", "sid", "aal", "amr", "auth_time", "iat", "nbf", "exp", "jti"} {
		if _, ok := wire[k]; !ok {
			t.Errorf("claim %q missing on the wire: %v", k, wire)
		}
	}

	// Verified claims are the caller's own: changing them changes nothing.
	got.AMR[0] = "changed"
	again, err := f.verifier.Verify(ctx, tok)
	if err != nil || again.AMR[0] != "pwd" {
		t.Errorf("second Verify = %v, %v; the cached claims were modified", again, err)
	}
}

func TestIssueKinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	staff := accesstoken.Claims{
		Subject: "acc_9", Kind: accesstoken.KindStaff, SessionID: "ses_9", AAL: 2,
		AMR: []string{"pwd", "hwk"}, AuthTime: t0, Roles: []string{accesstoken.RoleAdmin},
	}
	client := accesstoken.Claims{
		Subject: "cli_1", Kind: accesstoken.KindClient, Tenant: "shop1", SessionID: "grant_1",
		Scope: "conversation.write audit.read",
	}
	for _, c := range []accesstoken.Claims{staff, client} {
		got, err := f.verifier.Verify(ctx, f.issue(t, c))
		if err != nil {
			t.Fatalf("Verify(%s): %v", c.Kind, err)
		}
		if got.Kind != c.Kind || got.Subject != c.Subject {
			t.Errorf("got %s %s", got.Kind, got.Subject)
		}
	}
	got, _ := f.verifier.Verify(ctx, f.issue(t, client))
	if !got.HasScope("audit.read") || got.HasScope("audit") || got.HasRole("admin") {
		t.Errorf("scopes %q roles %q", got.Scopes(), got.Roles)
	}

	// A session that ends sooner shortens the token; a later Expiry does not
	// lengthen it.
	short := customer()
	short.Expiry = t0.Add(time.Minute)
	_, c, err := f.issuer.IssueClaims(ctx, short)
	if err != nil || !c.Expiry.Equal(t0.Add(time.Minute)) {
		t.Errorf("short token exp = %v, %v", c.Expiry, err)
	}
	long := customer()
	long.Expiry = t0.Add(time.Hour)
	_, c, err = f.issuer.IssueClaims(ctx, long)
	if err != nil || !c.Expiry.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("long token exp = %v, %v", c.Expiry, err)
	}
}

func TestIssueRefusesClaimsNoVerifierAccepts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, mutate := range map[string]func(c *accesstoken.Claims){
		"no subject":          func(c *accesstoken.Claims) { c.Subject = "" },
		"unknown kind":        func(c *accesstoken.Claims) { c.Kind = "robot" },
		"no session":          func(c *accesstoken.Claims) { c.SessionID = "" },
		"customer at aal0":    func(c *accesstoken.Claims) { c.AAL = 0 },
		"aal out of range":    func(c *accesstoken.Claims) { c.AAL = 7 },
		"no auth_time":        func(c *accesstoken.Claims) { c.AuthTime = time.Time{} },
		"auth_time in future": func(c *accesstoken.Claims) { c.AuthTime = t0.Add(time.Hour) },
		"customer with roles": func(c *accesstoken.Claims) { c.Roles = []string{"admin"} },
		"client with aal": func(c *accesstoken.Claims) {
			c.Kind = accesstoken.KindClient
		},
	} {
		c := customer()
		mutate(&c)
		_, err := f.issuer.Issue(context.Background(), c)
		if errs.KindOf(err) != errs.InvalidArgument || errs.ReasonOf(err) != accesstoken.ReasonClaimsInvalid {
			t.Errorf("%s: Issue = %v; want InvalidArgument CLAIMS_INVALID", name, err)
		}
	}
}

// segment decodes part i of a compact JWS.
func segment(t testing.TB, tok string, i int) []byte {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(t testing.TB, tok string) map[string]any {
	t.Helper()
	var h map[string]any
	if err := json.Unmarshal(segment(t, tok, 0), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRaw makes a token with any header and claims, signed by the genuine
// key through the KeyManager: what the claim checks refuse must be refused
// on their own, not because a signature fails.
func signRaw(t testing.TB, km keys.KeyManager, hdr, claims map[string]any) string {
	t.Helper()
	input := b64json(t, hdr) + "." + b64json(t, claims)
	sig, err := km.Sign(context.Background(), accesstoken.KeyName, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig.Sig)
}

func goodHeader() map[string]any {
	return map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "identity-token.v1"}
}

func goodClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": []string{"sotto"}, "sub": "acc_123", "kind": "customer",
		"tenant": "shop1", "sid": "ses_1", "aal": 1, "amr": []string{"pwd"},
		"auth_time": t0.Unix(), "iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(5 * time.Minute).Unix(),
		"jti": "jti-1",
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// TestSignRawIsAccepted proves the helper makes valid tokens, so that each
// refusal below is the one changed field's doing.
func TestSignRawIsAccepted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.verifier.Verify(context.Background(), signRaw(t, f.km, goodHeader(), goodClaims())); err != nil {
		t.Fatalf("a well-made raw token was refused: %v", err)
	}
	// The audience may be a single string (RFC 7519), and typ may carry its
	// media type prefix, in any case.
	tok := signRaw(t, f.km, with(goodHeader(), "typ", "application/AT+JWT"), with(goodClaims(), "aud", "sotto"))
	if _, err := f.verifier.Verify(context.Background(), tok); err != nil {
		t.Fatalf("aud as a string / typ with prefix refused: %v", err)
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, accesstoken.WithCacheSize(0))
	ctx := context.Background()
	good := f.issue(t, customer())
	parts := strings.Split(good, ".")
	pub, err := f.km.PublicKey(ctx, accesstoken.KeyName, 1)
	if err != nil {
		t.Fatal(err)
	}
	jwksJSON, err := f.issuer.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Tampered payload: the same header and signature, aal raised.
	var claims map[string]any
	if err := json.Unmarshal(segment(t, good, 1), &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "acc_someone_else"
	tampered := parts[0] + "." + b64json(t, claims) + "." + parts[2]

	// alg none, with and without a signature.
	noneHdr := b64json(t, with(goodHeader(), "alg", "none"))
	algNone := noneHdr + "." + parts[1] + "."
	algNoneSig := noneHdr + "." + parts[1] + "." + parts[2]

	// HS256 with the public key (raw bytes, and the JWK Set's JSON) as the
	// HMAC secret: the classic key-confusion attack.
	hs256 := func(secret []byte) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, &jose.SignerOptions{
			ExtraHeaders: map[jose.HeaderKey]any{"typ": "at+jwt", "kid": "identity-token.v1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		jws, err := s.Sign(segment(t, good, 1))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	// RS256 with an attacker's RSA key under the genuine kid.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}, &jose.SignerOptions{
		ExtraHeaders: map[jose.HeaderKey]any{"typ": "at+jwt", "kid": "identity-token.v1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rsJWS, err := rs.Sign(segment(t, good, 1))
	if err != nil {
		t.Fatal(err)
	}
	rs256, _ := rsJWS.CompactSerialize()

	// Another keyring's identity-token.v1: same kid, another key.
	other := newFixture(t)
	otherIssuer, err := accesstoken.NewIssuer(other.km, accesstoken.KeyName, testIssuer, accesstoken.WithIssuerClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := otherIssuer.Issue(ctx, customer())
	if err != nil {
		t.Fatal(err)
	}
	// The right key, the right claims, an issuer nobody trusts.
	evilIssuer, err := accesstoken.NewIssuer(f.km, accesstoken.KeyName, "spiffe://evil.example/identity", accesstoken.WithIssuerClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	wrongIssuer, err := evilIssuer.Issue(ctx, customer())
	if err != nil {
		t.Fatal(err)
	}

	gc := goodClaims()
	tests := []struct {
		name   string
		token  string
		kind   errs.Kind
		reason string
	}{
		{"empty", "", errs.Unauthenticated, accesstoken.ReasonTokenMissing},
		{"garbage", "not-a-jwt", errs.Unauthenticated, accesstoken.ReasonTokenMalformed},
		{"too large", strings.Repeat("a", accesstoken.MaxTokenBytes+1), errs.Unauthenticated, accesstoken.ReasonTokenMalformed},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, errs.Unauthenticated, accesstoken.ReasonTokenMalformed},
		{"tampered payload", tampered, errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"truncated signature", good[:len(good)-4], errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"alg none", algNone, errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"alg none with signature", algNoneSig, errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"HS256 with public key", hs256(pub), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"HS256 with JWKS JSON", hs256(jwksJSON), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"RS256", rs256, errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"ES256 header", signRaw(t, f.km, with(goodHeader(), "alg", "ES256"), gc), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"alg in lower case", signRaw(t, f.km, with(goodHeader(), "alg", "eddsa"), gc), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"wrong key", wrongKey, errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"wrong issuer", wrongIssuer, errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"unknown kid", signRaw(t, f.km, with(goodHeader(), "kid", "identity-token.v9"), gc), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"no kid", signRaw(t, f.km, with(goodHeader(), "kid", nil), gc), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"unknown crit header", signRaw(t, f.km, with(with(goodHeader(), "crit", []string{"x"}), "x", 1), gc), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"typ JWT", signRaw(t, f.km, with(goodHeader(), "typ", "JWT"), gc), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"no typ", signRaw(t, f.km, with(goodHeader(), "typ", nil), gc), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"wrong audience", signRaw(t, f.km, goodHeader(), with(gc, "aud", []string{"other"})), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"no audience", signRaw(t, f.km, goodHeader(), with(gc, "aud", nil)), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"issuer claim changed", signRaw(t, f.km, goodHeader(), with(gc, "iss", "spiffe://sotto.local/gateway")), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"claims not JSON", signRawPayload(t, f.km, goodHeader(), []byte("not json")), errs.Unauthenticated, accesstoken.ReasonTokenMalformed},
		{"exp as a string", signRaw(t, f.km, goodHeader(), with(gc, "exp", "tomorrow")), errs.Unauthenticated, accesstoken.ReasonTokenMalformed},
		{"no exp", signRaw(t, f.km, goodHeader(), with(gc, "exp", nil)), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"lives too long", signRaw(t, f.km, goodHeader(), with(gc, "exp", t0.Add(24*time.Hour).Unix())), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"no sid", signRaw(t, f.km, goodHeader(), with(gc, "sid", nil)), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"unknown kind", signRaw(t, f.km, goodHeader(), with(gc, "kind", "root")), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"auth_time after iat", signRaw(t, f.km, goodHeader(), with(gc, "auth_time", t0.Add(time.Minute).Unix())), errs.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"expired", signRaw(t, f.km, goodHeader(), with(with(with(gc, "iat", t0.Add(-10*time.Minute).Unix()), "auth_time", t0.Add(-10*time.Minute).Unix()), "exp", t0.Add(-31*time.Second).Unix())), errs.Unauthenticated, accesstoken.ReasonTokenExpired},
		{"not yet valid (nbf)", signRaw(t, f.km, goodHeader(), with(gc, "nbf", t0.Add(31*time.Second).Unix())), errs.Unauthenticated, accesstoken.ReasonTokenNotYetValid},
		{"not yet valid (iat)", signRaw(t, f.km, goodHeader(), with(with(gc, "iat", t0.Add(time.Minute).Unix()), "nbf", nil)), errs.Unauthenticated, accesstoken.ReasonTokenNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.verifier.Verify(ctx, tt.token)
			wantReason(t, err, tt.kind, tt.reason)
			// Algorithm confusion is refused by the pin itself, before a key
			// is looked up, not only because no signature happens to verify.
			if strings.HasPrefix(tt.name, "alg") || strings.HasPrefix(tt.name, "HS256") || strings.HasPrefix(tt.name, "RS256") || strings.HasPrefix(tt.name, "ES256") {
				if !strings.Contains(err.Error(), "algorithm is not EdDSA") {
					t.Errorf("refused by %q, not by the algorithm pin", err)
				}
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error text contains the token")
			}
			if len(parts[2]) > 0 && strings.Contains(errs.Detailed(err), parts[2]) {
				t.Errorf("error causes contain a signature")
			}
		})
	}
}

func signRawPayload(t testing.TB, km keys.KeyManager, hdr map[string]any, payload []byte) string {
	t.Helper()
	input := b64json(t, hdr) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := km.Sign(context.Background(), accesstoken.KeyName, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig.Sig)
}

// TestTimes checks exp and nbf at the edges of the 30 s skew, from the
// cache as well as from scratch.
func TestTimes(t *testing.T) {
	t.Parallel()
	for _, cache := range []int{0, 16} {
		f := newFixture(t, accesstoken.WithCacheSize(cache))
		ctx := context.Background()
		tok := f.issue(t, customer())
		// Seen once, so the cached run checks its times from the cache.
		if _, err := f.verifier.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(5*time.Minute + 29*time.Second)
		if _, err := f.verifier.Verify(ctx, tok); err != nil {
			t.Errorf("cache %d: refused within the skew after exp: %v", cache, err)
		}
		f.clock.Advance(time.Second)
		_, err := f.verifier.Verify(ctx, tok)
		wantReason(t, err, errs.Unauthenticated, accesstoken.ReasonTokenExpired)

		// A verifier whose clock is behind the issuer's.
		behind := clockwork.NewFakeClockAt(t0.Add(-29 * time.Second))
		v, err := accesstoken.NewVerifier(liveJWKS{f.issuer}, testIssuer, accesstoken.WithClock(behind), accesstoken.WithCacheSize(cache))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("cache %d: refused within the skew before nbf: %v", cache, err)
		}
		behind.Advance(-2 * time.Second)
		_, err = v.Verify(ctx, tok)
		wantReason(t, err, errs.Unauthenticated, accesstoken.ReasonTokenNotYetValid)
	}
}

// swappableKeys is a KeySource whose set a test replaces.
type swappableKeys struct {
	mu  sync.Mutex
	set accesstoken.KeySource
}

func (s *swappableKeys) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.Key(ctx, kid)
}

// TestCacheFollowsTheKeySet: a remembered token stops verifying when its key
// leaves the set, or when the kid now names another key.
func TestCacheFollowsTheKeySet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	data, err := f.issuer.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := accesstoken.ParseJWKS(data)
	if err != nil {
		t.Fatal(err)
	}
	src := &swappableKeys{set: set}
	v, err := accesstoken.NewVerifier(src, testIssuer, accesstoken.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	tok := f.issue(t, customer())
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	empty, _ := accesstoken.ParseJWKS([]byte(`{"keys":[]}`))
	src.set = empty
	_, err = v.Verify(ctx, tok)
	wantReason(t, err, errs.Unauthenticated, accesstoken.ReasonTokenInvalid)

	// The same kid in another keyring (a keyring recreated): the token's
	// signature is checked again, and fails.
	otherData, err := newFixture(t).issuer.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.set = set
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	otherSet, err := accesstoken.ParseJWKS(otherData)
	if err != nil {
		t.Fatal(err)
	}
	src.set = otherSet
	_, err = v.Verify(ctx, tok)
	wantReason(t, err, errs.Unauthenticated, accesstoken.ReasonTokenInvalid)
}

func TestRotationWithOverlap(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Dated by the keyring's clock (real time), since the overlap is
	// measured from when the keyring made v2.
	f.clock.Advance(time.Since(f.clock.Now()))
	c1 := customer()
	c1.AuthTime = f.clock.Now()
	tokV1 := f.issue(t, c1)
	kids := func() []string {
		data, err := f.issuer.JWKS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(data, &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			if k.Use != "sig" || k.Algorithm != "EdDSA" || !k.IsPublic() {
				t.Errorf("key %s: use %q alg %q public %v", k.KeyID, k.Use, k.Algorithm, k.IsPublic())
			}
			out = append(out, k.KeyID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"identity-token.v1"}, kids()); diff != "" {
		t.Errorf("JWKS before rotation (-want +got):\n%s", diff)
	}

	// The keyring records when v2 was made in real time; the fixture's
	// clock follows it so that the overlap is measured from there.
	if err := f.km.Rotate(ctx, accesstoken.KeyName); err != nil {
		t.Fatal(err)
	}
	d, err := f.km.Describe(ctx, accesstoken.KeyName)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(d.LatestCreated.Sub(f.clock.Now()))

	// The issuer still remembers v1 as the version it signs with: the kid
	// must follow the version that actually signed.
	c := customer()
	c.AuthTime = f.clock.Now()
	tokV2 := f.issue(t, c)
	if kid := header(t, tokV2)["kid"]; kid != "identity-token.v2" {
		t.Fatalf("kid after rotation = %v; want identity-token.v2", kid)
	}
	pub2, err := f.km.PublicKey(ctx, accesstoken.KeyName, 2)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tokV2, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(pub2); err != nil {
		t.Fatalf("token with kid v2 is not signed by v2: %v", err)
	}

	if diff := cmp.Diff([]string{"identity-token.v2", "identity-token.v1"}, kids()); diff != "" {
		t.Errorf("JWKS during the overlap (-want +got):\n%s", diff)
	}
	// A verifier that cached nothing (v1 tokens are not remembered) accepts
	// both while v1 is in the set.
	fresh, err := accesstoken.NewVerifier(liveJWKS{f.issuer}, testIssuer, accesstoken.WithClock(f.clock), accesstoken.WithCacheSize(0))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"v1": tokV1, "v2": tokV2} {
		if _, err := fresh.Verify(ctx, tok); err != nil {
			t.Errorf("%s token refused during the overlap: %v", name, err)
		}
	}
	// After the overlap (lifetime + skew) v1 leaves the set.
	f.clock.Advance(5*time.Minute + 30*time.Second)
	if diff := cmp.Diff([]string{"identity-token.v2"}, kids()); diff != "" {
		t.Errorf("JWKS after the overlap (-want +got):\n%s", diff)
	}
}

// TestKidIsTheSigningVersionUnderConcurrentRotation: tokens issued while
// the key rotates under them each name the version that signed them.
func TestKidIsTheSigningVersionUnderConcurrentRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for range 5 {
			select {
			case <-stop:
				return
			default:
			}
			if err := f.km.Rotate(ctx, accesstoken.KeyName); err != nil {
				t.Error(err)
			}
		}
	})
	var toks []string
	for range 40 {
		// Back-to-back rotations may outrun the retries: then Issue says so
		// (Unavailable) rather than ship a token with the wrong kid.
		tok, err := f.issuer.Issue(ctx, customer())
		if err != nil {
			if errs.KindOf(err) != errs.Unavailable {
				t.Errorf("Issue: %v", err)
			}
			continue
		}
		toks = append(toks, tok)
	}
	close(stop)
	wg.Wait()
	if len(toks) == 0 {
		t.Fatal("no token issued")
	}
	for _, tok := range toks {
		kid, _ := header(t, tok)["kid"].(string)
		var v int
		if _, err := fmt.Sscanf(kid, "identity-token.v%d", &v); err != nil {
			t.Fatal(err)
		}
		pub, err := f.km.PublicKey(ctx, accesstoken.KeyName, v)
		if err != nil {
			t.Fatal(err)
		}
		jws, _ := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
		if _, err := jws.Verify(pub); err != nil {
			t.Errorf("token with kid %s is not signed by that version", kid)
		}
	}
}

// TestKidMismatchIsRedone: an issuer that last signed with v1 signs after
// three rotations; the KeyManager signs with v4, so the token must say v4.
func TestKidMismatchIsRedone(t *testing.T) {
	t.Parallel()
	km := newKeyring(t)
	ctx := context.Background()
	iss, err := accesstoken.NewIssuer(km, accesstoken.KeyName, testIssuer, accesstoken.WithIssuerClock(clockwork.NewFakeClockAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Issue(ctx, customer()); err != nil { // learns v1
		t.Fatal(err)
	}
	for range 3 {
		if err := km.Rotate(ctx, accesstoken.KeyName); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := iss.Issue(ctx, customer())
	if err != nil {
		t.Fatal(err)
	}
	if kid := header(t, tok)["kid"]; kid != "identity-token.v4" {
		t.Errorf("kid = %v; want identity-token.v4 (the signing version)", kid)
	}
}

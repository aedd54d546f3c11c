package accesstoken_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
)

// jwksServer stands in for identity's GetJwks: it serves whatever set a test
// puts there and counts the fetches.
type jwksServer struct {
	mu      sync.Mutex
	data    []byte
	maxAge  time.Duration
	err     error
	fetches atomic.Int32
}

func (s *jwksServer) fetch(context.Context) ([]byte, time.Duration, error) {
	s.fetches.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data, s.maxAge, s.err
}

func (s *jwksServer) set(data []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data, s.err = data, err
}

func jwksOf(t *testing.T, kids ...string) ([]byte, map[string]ed25519.PublicKey) {
	t.Helper()
	set := jose.JSONWebKeySet{}
	pubs := map[string]ed25519.PublicKey{}
	for _, kid := range kids {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pubs[kid] = pub
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: kid, Use: "sig", Algorithm: "EdDSA"})
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return data, pubs
}

func TestRemoteKeysCachesAndRefreshes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(t0)
	v1, pubs1 := jwksOf(t, "k.v1")
	srv := &jwksServer{data: v1, maxAge: time.Minute}
	rk := accesstoken.NewRemoteKeys(srv.fetch, accesstoken.WithRemoteClock(clock),
		accesstoken.WithMinRefreshInterval(5*time.Second), accesstoken.WithGrace(5*time.Minute))

	if err := rk.Ready(ctx); errs.ReasonOf(err) != accesstoken.ReasonKeysUnavailable {
		t.Errorf("Ready before any fetch = %v", err)
	}
	pub, err := rk.Key(ctx, "k.v1")
	if err != nil || !pub.Equal(pubs1["k.v1"]) {
		t.Fatalf("Key = %v, %v", pub, err)
	}
	for range 10 {
		if _, err := rk.Key(ctx, "k.v1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("fetches within max age = %d; want 1", n)
	}

	// An unknown kid fetches once, then not again within the interval, however
	// many tokens name it.
	clock.Advance(6 * time.Second)
	for range 20 {
		_, err := rk.Key(ctx, "made-up")
		wantReason(t, err, errs.Unauthenticated, accesstoken.ReasonTokenInvalid)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("fetches after 20 unknown kids = %d; want 2", n)
	}

	// A rotation: the new kid is found by the refresh it causes, once the
	// interval has passed.
	both, pubs2 := jwksOf(t, "k.v2")
	var set jose.JSONWebKeySet
	_ = json.Unmarshal(both, &set)
	var old jose.JSONWebKeySet
	_ = json.Unmarshal(v1, &old)
	set.Keys = append(set.Keys, old.Keys...)
	data, _ := json.Marshal(set)
	srv.set(data, nil)
	clock.Advance(5 * time.Second)
	pub, err = rk.Key(ctx, "k.v2")
	if err != nil || !pub.Equal(pubs2["k.v2"]) {
		t.Fatalf("new kid after rotation: %v, %v", pub, err)
	}
	if _, err := rk.Key(ctx, "k.v1"); err != nil {
		t.Errorf("previous kid during the overlap: %v", err)
	}

	// Past max age it refetches; while identity is down the old set serves
	// for the grace period, then verification fails closed.
	srv.set(nil, errs.E(errs.Unavailable, "DOWN", "identity down"))
	clock.Advance(time.Minute)
	if _, err := rk.Key(ctx, "k.v2"); err != nil {
		t.Errorf("within grace: %v", err)
	}
	if err := rk.Ready(ctx); err != nil {
		t.Errorf("Ready within grace: %v", err)
	}
	clock.Advance(5 * time.Minute)
	_, err = rk.Key(ctx, "k.v2")
	wantReason(t, err, errs.Unavailable, accesstoken.ReasonKeysUnavailable)
	if err := rk.Ready(ctx); errs.ReasonOf(err) != accesstoken.ReasonKeysUnavailable {
		t.Errorf("Ready after grace = %v", err)
	}
	// Back: the next attempt (after the interval) restores it.
	srv.set(data, nil)
	clock.Advance(5 * time.Second)
	if _, err := rk.Key(ctx, "k.v2"); err != nil {
		t.Errorf("after identity came back: %v", err)
	}
}

// TestRemoteKeysOutageDoesNotFlood: with identity down and the set expired,
// requests do not each call identity.
func TestRemoteKeysOutageDoesNotFlood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(t0)
	srv := &jwksServer{err: errors.New("connection refused")}
	rk := accesstoken.NewRemoteKeys(srv.fetch, accesstoken.WithRemoteClock(clock))
	for range 100 {
		_, err := rk.Key(ctx, "k.v1")
		wantReason(t, err, errs.Unavailable, accesstoken.ReasonKeysUnavailable)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("fetches during an outage = %d; want 1", n)
	}
}

func TestRemoteKeysBurstOfNewKidFetchesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(t0)
	v1, _ := jwksOf(t, "k.v1")
	srv := &jwksServer{data: v1, maxAge: time.Minute}
	rk := accesstoken.NewRemoteKeys(srv.fetch, accesstoken.WithRemoteClock(clock))
	if err := rk.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	v2, _ := jwksOf(t, "k.v2")
	srv.set(v2, nil)
	clock.Advance(10 * time.Second)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := rk.Key(ctx, "k.v2"); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d; want 2 (start-up and one refresh)", n)
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of 50 requests with the new kid failed", n)
	}
}

func TestRemoteKeysRefusesBadSets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(t0)
	good, _ := jwksOf(t, "k.v1")
	srv := &jwksServer{data: good, maxAge: 0} // zero max age is clamped, not "always refetch"
	rk := accesstoken.NewRemoteKeys(srv.fetch, accesstoken.WithRemoteClock(clock))
	if err := rk.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := rk.Key(ctx, "k.v1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("fetches with max age 0 = %d; want 1", n)
	}
	// A set that does not parse is refused and the current one kept.
	srv.set([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k.v1"}]}`), nil)
	clock.Advance(10 * time.Second)
	if err := rk.Refresh(ctx); errs.ReasonOf(err) != accesstoken.ReasonJWKSInvalid {
		t.Errorf("Refresh with a symmetric key = %v; want JWKS_INVALID", err)
	}
	if _, err := rk.Key(ctx, "k.v1"); err != nil {
		t.Errorf("current set dropped after a bad fetch: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	good, _ := jwksOf(t, "k.v1", "k.v2")
	if s, err := accesstoken.ParseJWKS(good); err != nil || s.Len() != 2 {
		t.Fatalf("ParseJWKS = %v, %v", s, err)
	}
	ecKey := `{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"k"}`
	dup := `{"keys":[` + jwkOf(t, "k") + `,` + jwkOf(t, "k") + `]}`
	for name, data := range map[string]string{
		"not JSON":  `nope`,
		"symmetric": `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k"}]}`,
		"EC":        `{"keys":[` + ecKey + `]}`,
		"private":   privateJWK(t),
		"no kid":    `{"keys":[` + jwkOf(t, "") + `]}`,
		"enc use":   `{"keys":[` + withField(t, jwkOf(t, "k"), "use", "enc") + `]}`,
		"RS256 alg": `{"keys":[` + withField(t, jwkOf(t, "k"), "alg", "RS256") + `]}`,
		"dup kid":   dup,
	} {
		if _, err := accesstoken.ParseJWKS([]byte(data)); errs.ReasonOf(err) != accesstoken.ReasonJWKSInvalid {
			t.Errorf("%s: ParseJWKS = %v; want JWKS_INVALID", name, err)
		}
	}
}

func jwkOf(t *testing.T, kid string) string {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	b, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func withField(t *testing.T, jwk, k, v string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(jwk), &m); err != nil {
		t.Fatal(err)
	}
	m[k] = v
	b, _ := json.Marshal(m)
	return string(b)
}

func privateJWK(t *testing.T) string {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv, KeyID: "k"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package integratorclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tokenEndpoint answers the client-credentials grant for client "cli_1"
// with secret "s3cret/+ x" (reserved characters, which Basic auth must
// carry URL-encoded, RFC 6749 section 2.3.1) and counts the grants.
func tokenEndpoint(t *testing.T, grants *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.ParseForm() != nil || !ok || id != "cli_1" || secret != "s3cret%2F%2B+x" ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "conversation.ingest conversation.watch" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		n := grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"tok` + string(rune('0'+n)) + `","token_type":"Bearer","expires_in":300}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTokensAreKeptUntilNearExpiry: one grant serves calls until a minute
// before the token expires (on the injected clock), then a new one is
// fetched; every call carries it as a bearer token.
func TestTokensAreKeptUntilNearExpiry(t *testing.T) {
	var grants atomic.Int64
	srv := tokenEndpoint(t, &grants)
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	c := &ClientCredentials{TokenURL: srv.URL, ClientID: "cli_1", ClientSecret: "s3cret/+ x",
		Scopes: []string{"conversation.ingest", "conversation.watch"}, Now: func() time.Time { return now }}
	for range 3 {
		md, err := c.GetRequestMetadata(context.Background())
		if err != nil || md["authorization"] != "Bearer tok1" {
			t.Fatalf("metadata %v, %v", md, err)
		}
	}
	now = now.Add(4*time.Minute + time.Second) // 59 s left
	if tok, err := c.Token(context.Background()); err != nil || tok != "tok2" || grants.Load() != 2 {
		t.Fatalf("near expiry: %q, %v, %d grants", tok, err, grants.Load())
	}
	if !c.RequireTransportSecurity() {
		t.Fatal("tokens would travel in plaintext")
	}
	bad := &ClientCredentials{TokenURL: srv.URL, ClientID: "cli_1", ClientSecret: "wrong", Scopes: c.Scopes}
	if _, err := bad.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("a refused grant: %v", err)
	}
}

// TestPinnedTLSTrustsOnlyThePinnedCertificate: the pinned certificate's
// server is reached; another fingerprint is refused at the handshake.
func TestPinnedTLSTrustsOnlyThePinnedCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().Raw)
	get := func(fingerprint string) error {
		cfg, err := PinnedTLS(fingerprint)
		if err != nil {
			return err
		}
		resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get("sha256:" + hex.EncodeToString(sum[:])); err != nil {
		t.Fatalf("the pinned certificate: %v", err)
	}
	sum[0] ^= 1
	if err := get(hex.EncodeToString(sum[:])); err == nil || !strings.Contains(err.Error(), "not the pinned one") {
		t.Fatalf("another fingerprint: %v", err)
	}
	if _, err := PinnedTLS("sha256:abc"); err == nil {
		t.Fatal("a short fingerprint was taken")
	}
}

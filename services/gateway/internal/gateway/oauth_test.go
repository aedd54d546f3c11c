package gateway

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
)

// tokenIdentity answers IssueClientToken and keeps the requests it got.
type tokenIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
	mu   sync.Mutex
	reqs []*identityv1.IssueClientTokenRequest
}

func (s *tokenIdentity) IssueClientToken(_ context.Context, req *identityv1.IssueClientTokenRequest) (*identityv1.IssueClientTokenResponse, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	return &identityv1.IssueClientTokenResponse{AccessToken: "client-access-token", TokenType: "Bearer", ExpiresIn: 300, Scope: req.GetScope()}, nil
}

func tokenGateway(t *testing.T) (*httptest.Server, *tokenIdentity) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	id := &tokenIdentity{}
	gs := grpc.NewServer()
	identityv1.RegisterIdentityServiceServer(gs, id)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	h, err := New(context.Background(), []Backend{testBackend(t, "identity", lis.Addr().String())}, Options{MaxBodyBytes: 4096, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, id
}

// TestStandardOAuthClients: golang.org/x/oauth2's client-credentials flow
// (form-encoded body; the client authenticated with HTTP Basic, or in the
// body) gets a token from the edge, and identity receives exactly the
// client's credentials and scopes.
func TestStandardOAuthClients(t *testing.T) {
	srv, id := tokenGateway(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := clientcredentials.Config{
			ClientID: "cli_shop1", ClientSecret: "s3cret with+reserved/chars", TokenURL: srv.URL + "/v1/oauth/token",
			Scopes: []string{"tokenvault.tokenize", "audit.verify"}, AuthStyle: style,
		}
		tok, err := cfg.Token(context.Background())
		if err != nil {
			t.Fatalf("auth style %v: %v", style, err)
		}
		if tok.AccessToken != "client-access-token" || tok.TokenType != "Bearer" {
			t.Fatalf("auth style %v: token %+v", style, tok)
		}
	}
	if len(id.reqs) != 2 {
		t.Fatalf("identity got %d requests, want 2", len(id.reqs))
	}
	for _, r := range id.reqs {
		if r.GetGrantType() != "client_credentials" || r.GetClientId() != "cli_shop1" ||
			r.GetClientSecret() != "s3cret with+reserved/chars" || r.GetScope() != "tokenvault.tokenize audit.verify" {
			t.Errorf("identity got %+v", r)
		}
	}
}

// TestTokenRequestAuthenticatedTwice: HTTP Basic and a secret in the body
// at once is refused (one method per request), as is a repeated parameter,
// and identity sees neither.
func TestTokenRequestAuthenticatedTwice(t *testing.T) {
	srv, id := tokenGateway(t)
	for name, build := range map[string]func() *http.Request{
		"basic and body": func() *http.Request {
			form := url.Values{"grant_type": {"client_credentials"}, "client_secret": {"other"}}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/oauth/token", strings.NewReader(form.Encode()))
			req.SetBasicAuth("cli_shop1", "s3cret")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		},
		"repeated parameter": func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/oauth/token",
				strings.NewReader("grant_type=client_credentials&client_id=a&client_id=b&client_secret=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		},
	} {
		resp, err := http.DefaultClient.Do(build())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
	if len(id.reqs) != 0 {
		t.Fatalf("identity saw %d refused requests", len(id.reqs))
	}
}

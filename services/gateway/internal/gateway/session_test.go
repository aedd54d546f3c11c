package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
)

// sessionIdentity answers Login, RefreshSession and Logout as identity
// does, and keeps the refresh tokens it was sent.
type sessionIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
	mu        sync.Mutex
	refreshes []string
}

func (s *sessionIdentity) tokens(refresh string) *identityv1.Tokens {
	return &identityv1.Tokens{AccessToken: "access", RefreshToken: refresh, SessionId: "ses_1", Aal: 1,
		SessionExpiresAt: timestamppb.New(time.Now().Add(time.Hour))}
}

func (s *sessionIdentity) Login(context.Context, *identityv1.LoginRequest) (*identityv1.LoginResponse, error) {
	return &identityv1.LoginResponse{Tokens: s.tokens("refresh-token-number-one")}, nil
}

func (s *sessionIdentity) RefreshSession(_ context.Context, req *identityv1.RefreshSessionRequest) (*identityv1.RefreshSessionResponse, error) {
	s.mu.Lock()
	s.refreshes = append(s.refreshes, req.GetRefreshToken())
	s.mu.Unlock()
	return &identityv1.RefreshSessionResponse{Tokens: s.tokens("refresh-token-number-two")}, nil
}

func (s *sessionIdentity) Logout(context.Context, *identityv1.LogoutRequest) (*identityv1.LogoutResponse, error) {
	return &identityv1.LogoutResponse{}, nil
}

func sessionGateway(t *testing.T) (http.Handler, *sessionIdentity) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	id := &sessionIdentity{}
	gs := grpc.NewServer()
	identityv1.RegisterIdentityServiceServer(gs, id)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	h, err := New(context.Background(), []Backend{testBackend(t, "identity", lis.Addr().String())}, Options{MaxBodyBytes: 4096, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	return h, id
}

func post(h http.Handler, path, body string, set func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://gw.example"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if set != nil {
		set(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestBrowserSessionCookie: in cookie mode the refresh token goes into an
// HttpOnly, Secure, SameSite=Strict __Host- cookie and out of the body; a
// refresh with the cookie and the header works; logout clears it. API
// clients (no header) get the token in the body.
func TestBrowserSessionCookie(t *testing.T) {
	h, id := sessionGateway(t)
	cookieMode := func(r *http.Request) { r.Header.Set(sessionModeHeader, sessionModeCookie) }

	rec := post(h, "/v1/sessions:login", `{"email":"a@b.c","password":"x"}`, cookieMode)
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("a token response with Cache-Control %q, want no-store", cc)
	}
	if strings.Contains(rec.Body.String(), "refresh-token-number-one") {
		t.Fatalf("cookie-mode login body holds the refresh token: %s", rec.Body)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v, want one", cookies)
	}
	c := cookies[0]
	if c.Name != sessionCookie || c.Value != "refresh-token-number-one" || !c.HttpOnly || !c.Secure ||
		c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || c.MaxAge <= 0 {
		t.Fatalf("cookie %+v", c)
	}

	rec = post(h, "/v1/sessions:refresh", ``, func(r *http.Request) {
		cookieMode(r)
		r.Header.Set("Origin", "http://gw.example")
		r.AddCookie(c)
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh with the cookie: %d %s", rec.Code, rec.Body)
	}
	if got := id.refreshes; len(got) != 1 || got[0] != "refresh-token-number-one" {
		t.Fatalf("identity was sent %v, want the cookie's token", got)
	}
	if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].Value != "refresh-token-number-two" {
		t.Fatalf("rotated cookie %v", cs)
	}

	// API clients: the token in the body, no cookie.
	rec = post(h, "/v1/sessions:login", `{"email":"a@b.c","password":"x"}`, nil)
	var body map[string]any
	json.Unmarshal(rec.Body.Bytes(), &body)
	if tok, _ := body["tokens"].(map[string]any); tok["refresh_token"] != "refresh-token-number-one" || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("API login: %s, cookies %v", rec.Body, rec.Result().Cookies())
	}

	rec = post(h, "/v1/sessions:logout", `{}`, func(r *http.Request) {
		cookieMode(r)
		r.Header.Set("Authorization", "Bearer "+customerToken(t))
		r.AddCookie(c)
	})
	if cs := rec.Result().Cookies(); rec.Code != http.StatusOK || len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Fatalf("logout: %d, cookies %v, want the cookie deleted", rec.Code, cs)
	}
}

// TestSessionCookieCSRF: a request that carries the session cookie without
// the custom header (a cross-site form or fetch can attach the cookie, not
// the header) or from a foreign Origin is refused, and identity never sees
// the token.
func TestSessionCookieCSRF(t *testing.T) {
	h, id := sessionGateway(t)
	cookie := &http.Cookie{Name: sessionCookie, Value: "refresh-token-number-one"}
	for name, set := range map[string]func(*http.Request){
		"no header": func(r *http.Request) { r.AddCookie(cookie) },
		"foreign origin": func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set(sessionModeHeader, sessionModeCookie)
			r.Header.Set("Origin", "https://evil.example")
		},
		"null origin": func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set(sessionModeHeader, sessionModeCookie)
			r.Header.Set("Origin", "null")
		},
	} {
		t.Run(name, func(t *testing.T) {
			rec := post(h, "/v1/sessions:refresh", `{}`, set)
			var body map[string]any
			json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusForbidden || reason(body) != reasonCSRFRejected {
				t.Fatalf("%d %s, want 403 %s", rec.Code, rec.Body, reasonCSRFRejected)
			}
		})
	}
	if len(id.refreshes) != 0 {
		t.Fatalf("identity saw refreshes %v", id.refreshes)
	}
}

// overIdentity is the gateway in front of srv, an identity service that
// answers over plain gRPC on loopback.
func overIdentity(t *testing.T, srv identityv1.IdentityServiceServer) http.Handler {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	identityv1.RegisterIdentityServiceServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	h, err := New(context.Background(), []Backend{testBackend(t, "identity", lis.Addr().String())}, Options{MaxBodyBytes: 4096, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// throttledIdentity refuses every login as identity's lockout does.
type throttledIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
}

func (throttledIdentity) Login(context.Context, *identityv1.LoginRequest) (*identityv1.LoginResponse, error) {
	st, _ := status.New(codes.ResourceExhausted, "too many attempts").WithDetails(&errdetails.ErrorInfo{
		Reason: "LOGIN_THROTTLED", Domain: "identity.sotto.dev", Metadata: map[string]string{"retry_after_seconds": "42"}})
	return nil, st.Err()
}

// TestThrottledLoginSaysWhenToRetry: identity's retry delay (ErrorInfo
// metadata) becomes the 429's Retry-After.
func TestThrottledLoginSaysWhenToRetry(t *testing.T) {
	h := overIdentity(t, throttledIdentity{})
	rec := post(h, "/v1/sessions:login", `{"email":"a@b.c","password":"x"}`, nil)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "42" {
		t.Fatalf("%d Retry-After %q, want 429 with 42", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// overloadedIdentity answers as a service shedding load (pkg/server).
type overloadedIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
}

func (overloadedIdentity) Login(context.Context, *identityv1.LoginRequest) (*identityv1.LoginResponse, error) {
	st, _ := status.New(codes.Unavailable, "the service is answering as many calls as it can; retry shortly").WithDetails(&errdetails.ErrorInfo{
		Reason: "OVERLOADED", Domain: "identity.sotto.dev", Metadata: map[string]string{"retry_after_seconds": "1"}})
	return nil, st.Err()
}

// TestOverloadedServiceSaysWhenToRetry: a service's load-shedding refusal
// becomes a 503 with its Retry-After, so HTTP clients back off instead of
// retrying at once.
func TestOverloadedServiceSaysWhenToRetry(t *testing.T) {
	h := overIdentity(t, overloadedIdentity{})
	rec := post(h, "/v1/sessions:login", `{"email":"a@b.c","password":"x"}`, nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d Retry-After %q, want 503 with 1", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// stepUpIdentity answers as a service whose step-up rule the token fails.
type stepUpIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
}

func (stepUpIdentity) DeleteAccount(context.Context, *identityv1.DeleteAccountRequest) (*identityv1.DeleteAccountResponse, error) {
	st, _ := status.New(codes.FailedPrecondition, "step-up required").WithDetails(&errdetails.ErrorInfo{
		Reason: "STEP_UP_REQUIRED", Domain: "identity.sotto.dev",
		Metadata: map[string]string{"required_aal": "2", "max_age_seconds": "300", "internal_note": "not for clients"}})
	return nil, st.Err()
}

// TestStepUpIsAnRFC9470Challenge: STEP_UP_REQUIRED reaches an HTTP client
// as 401 with an insufficient_user_authentication challenge and the level
// and age in the body's details; metadata not on the allow-list stays
// behind.
func TestStepUpIsAnRFC9470Challenge(t *testing.T) {
	h := overIdentity(t, stepUpIdentity{})
	rec := post(h, "/v1/account:delete", `{}`, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+customerToken(t)) })
	var body struct {
		Error struct {
			Reason  string            `json:"reason"`
			Details map[string]string `json:"details"`
		} `json:"error"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusUnauthorized || body.Error.Reason != "STEP_UP_REQUIRED" {
		t.Fatalf("%d %s, want 401 STEP_UP_REQUIRED", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_user_authentication"`) || !strings.Contains(got, "max_age=300") {
		t.Fatalf("WWW-Authenticate %q", got)
	}
	if body.Error.Details["required_aal"] != "2" || body.Error.Details["max_age_seconds"] != "300" || body.Error.Details["internal_note"] != "" {
		t.Fatalf("details %v", body.Error.Details)
	}
}

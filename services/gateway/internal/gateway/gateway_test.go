package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sottohq/sotto/pkg/accesstoken"
)

// newTestGateway points at an address where nothing listens, so these tests
// cover what the gateway itself decides.
func newTestGateway(t *testing.T) http.Handler {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	plain := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	h, err := New(context.Background(), []Backend{testBackend(t, "audit", dead, plain...), testBackend(t, "tokenvault", dead, plain...), testBackend(t, "identity", dead, plain...)},
		Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, path, token, body string) (int, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func reason(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	r, _ := e["reason"].(string)
	return r
}

func TestGatewayEdge(t *testing.T) {
	h := newTestGateway(t)
	admin := adminToken(t)
	tests := []struct {
		name, method, path, token, body string
		code                            int
		reason                          string
	}{
		{"oversized body", http.MethodPost, "/v1/audit/events", admin, strings.Repeat("x", 2048), http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE"},
		{"no token", http.MethodGet, "/v1/audit/events", "", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"wrong token", http.MethodGet, "/v1/audit/events", "guess", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"backend down", http.MethodGet, "/v1/audit/events", admin, "", http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"unknown route", http.MethodGet, "/v2/nothing", admin, "", http.StatusNotFound, "ROUTE_NOT_FOUND"},
		{"unknown route without token", http.MethodGet, "/v2/nothing", "", "", http.StatusNotFound, "ROUTE_NOT_FOUND"},
		{"customer on an operator route", http.MethodGet, "/v1/audit/events", customerToken(t), "", http.StatusForbidden, "FORBIDDEN"},
		{"staff at aal1 on an operator route", http.MethodGet, "/v1/audit/events", tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindStaff, Roles: []string{accesstoken.RoleAdmin}, AAL: accesstoken.AAL1, AMR: []string{"pwd"}}), "", http.StatusForbidden, "FORBIDDEN"},
		{"support agent on the audit log", http.MethodGet, "/v1/audit/events", tokens(t).token(t, accesstoken.Claims{Kind: accesstoken.KindStaff, Roles: []string{accesstoken.RoleSupportAgent}, AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}}), "", http.StatusForbidden, "FORBIDDEN"},
		{"privacy officer may tokenize nothing", http.MethodPost, "/v1/tokens:tokenize", operatorToken(t), "{}", http.StatusForbidden, "FORBIDDEN"},
		{"customer may ask for masked values", http.MethodPost, "/v1/tokens:mask", customerToken(t), `{"tokens":["tok_x"]}`, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"login needs no token", http.MethodPost, "/v1/sessions:login", "", `{"email":"a@b.c","password":"x"}`, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"a bad token on a public route is still refused", http.MethodPost, "/v1/sessions:login", "not-a-token", `{"email":"a@b.c","password":"x"}`, http.StatusUnauthorized, "UNAUTHENTICATED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(h, tc.method, tc.path, tc.token, tc.body)
			if code != tc.code || reason(body) != tc.reason {
				t.Fatalf("got %d %v, want %d %s", code, body, tc.code, tc.reason)
			}
		})
	}
	// The status is spelled as in google.rpc.Code.
	if _, body := do(h, http.MethodGet, "/v2/nothing", admin, ""); body["error"].(map[string]any)["status"] != "NOT_FOUND" {
		t.Fatalf("status of an unknown route: %v, want NOT_FOUND", body)
	}
}

// TestChunkedOversizedBody: a body without a Content-Length is cut off while
// grpc-gateway decodes it; that too is 413, not a parse error.
func TestChunkedOversizedBody(t *testing.T) {
	h := newTestGateway(t)
	body := `{"tokens":["` + strings.Repeat("x", 2048) + `"]}`
	req := httptest.NewRequest(http.MethodPost, "/v1/tokens:mask", io.MultiReader(strings.NewReader(body)))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1 // unknown length, as with chunked transfer encoding
	req.Header.Set("Authorization", "Bearer "+adminToken(t))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code != http.StatusRequestEntityTooLarge || reason(out) != "REQUEST_TOO_LARGE" {
		t.Fatalf("chunked oversized body: %d %v, want 413 REQUEST_TOO_LARGE", rec.Code, out)
	}
}

// TestNoAuthenticatorNoGateway: without a way to verify access tokens the
// gateway does not start (it would otherwise serve only what it cannot
// check, or everything).
func TestNoAuthenticatorNoGateway(t *testing.T) {
	_, err := New(context.Background(), []Backend{testBackend(t, "audit", "127.0.0.1:1")}, Options{MaxBodyBytes: 1024})
	if err == nil {
		t.Fatal("New without an Authenticator succeeded")
	}
}

// TestMalformedAuthorizationRefused: an empty bearer, another scheme, two
// headers or a token with spaces never reach the verifier's "valid" path.
func TestMalformedAuthorizationRefused(t *testing.T) {
	h := newTestGateway(t)
	admin := adminToken(t)
	for name, set := range map[string]func(http.Header){
		"empty bearer": func(hd http.Header) { hd.Set("Authorization", "Bearer ") },
		"basic":        func(hd http.Header) { hd.Set("Authorization", "Basic "+admin) },
		"two headers": func(hd http.Header) {
			hd.Add("Authorization", "Bearer "+admin)
			hd.Add("Authorization", "Bearer "+admin)
		},
		"trailing junk": func(hd http.Header) { hd.Set("Authorization", "Bearer "+admin+" x") },
		"token only":    func(hd http.Header) { hd.Set("Authorization", admin) },
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil)
			set(req.Header)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("%s: %d %s, want 401", name, rec.Code, rec.Body)
			}
		})
	}
}

func TestOpenAPIServed(t *testing.T) {
	h := newTestGateway(t)
	req := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var doc map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || doc["paths"] == nil {
		t.Fatalf("openapi: %d", rec.Code)
	}
}

// TestEncodedPathsCannotDodgeTheGuard: every API path, however encoded, is
// behind the operator token.
func TestEncodedPathsCannotDodgeTheGuard(t *testing.T) {
	h := newTestGateway(t)
	for _, path := range []string{
		"/v1%2Faudit/events", "/v1/audit%2Fevents", "/v1/audit/events%2F", "/%761/audit/events",
		"/v1/%61udit/events", "//v1/audit/events", "/v1/audit/../audit/events", "/V1/audit/events",
	} {
		t.Run(path, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "http://gw"+path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == http.StatusOK || rec.Code == http.StatusServiceUnavailable {
				t.Fatalf("%s without a token reached the backend: %d %s", path, rec.Code, rec.Body)
			}
		})
	}
}

func TestMalformedURLsAre400(t *testing.T) {
	h := newTestGateway(t)
	admin := adminToken(t)
	for _, path := range []string{
		"/v1/audit/events?subject=%FF", "/v1/audit/events/%FF", "/v1/audit/events?subjet=cus_1", "/v1/audit/events?page_size=abc",
	} {
		t.Run(path, func(t *testing.T) {
			code, body := do(h, http.MethodGet, path, admin, "")
			if code != http.StatusBadRequest || reason(body) != "MALFORMED_REQUEST" {
				t.Fatalf("got %d %v, want 400 MALFORMED_REQUEST", code, body)
			}
		})
	}
}

// TestNoMethodFallback: grpc-gateway would route a form POST, or a POST
// with X-HTTP-Method-Override: GET, to a GET route; both must be refused
// before they reach a backend (which here is down, so reaching it is 503).
func TestNoMethodFallback(t *testing.T) {
	h := newTestGateway(t)
	for name, set := range map[string]func(*http.Request){
		"form post":       func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") },
		"method override": func(r *http.Request) { r.Header.Set("X-HTTP-Method-Override", http.MethodGet) },
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/audit/events", strings.NewReader("page_size=1"))
			req.Header.Set("Authorization", "Bearer "+adminToken(t))
			set(req)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
				t.Fatalf("POST to a GET route: %d %s, want 405 or 404", rec.Code, rec.Body.String())
			}
		})
	}
}

// TestTrailingDataRefused: a body is one JSON value; anything after it but
// white space is 400 MALFORMED_REQUEST before the service is called (the
// backend here is down: a body that passes gets 503), and data cut off by
// the size limit while looking is still 413.
func TestTrailingDataRefused(t *testing.T) {
	h := newTestGateway(t)
	customer := customerToken(t)
	for _, tc := range []struct {
		name, body string
		code       int
		reason     string
	}{
		{"garbage after the value", `{"tokens":["tok_x"]} garbage`, http.StatusBadRequest, "MALFORMED_REQUEST"},
		{"a second value", `{"tokens":["tok_x"]}{"tokens":["tok_y"]}`, http.StatusBadRequest, "MALFORMED_REQUEST"},
		{"a stray bracket", `{"tokens":["tok_x"]}]`, http.StatusBadRequest, "MALFORMED_REQUEST"},
		{"white space after the value", "{\"tokens\":[\"tok_x\"]} \r\n\t\n", http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"oversized trailing data", `{"tokens":["tok_x"]}` + strings.Repeat(" ", 2048) + "x", http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/tokens:mask", io.MultiReader(strings.NewReader(tc.body)))
			req.ContentLength = -1 // read as it comes, so the size limit bites in the decoder
			req.Header.Set("Authorization", "Bearer "+customer)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var out map[string]any
			json.Unmarshal(rec.Body.Bytes(), &out)
			if rec.Code != tc.code || reason(out) != tc.reason {
				t.Fatalf("%q: %d %v, want %d %s", tc.body, rec.Code, out, tc.code, tc.reason)
			}
		})
	}
}

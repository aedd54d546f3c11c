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
	h, err := New(context.Background(), []Backend{testBackend(t, "audit", dead, plain...), testBackend(t, "tokenvault", dead, plain...)},
		Options{MaxBodyBytes: 1024, AdminToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, path, token, body string) (int, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
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
	tests := []struct {
		name, method, path, token, body string
		code                            int
		reason                          string
	}{
		{"oversized body", http.MethodPost, "/v1/audit/events", "secret", strings.Repeat("x", 2048), http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE"},
		{"no token", http.MethodGet, "/v1/audit/events", "", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"wrong token", http.MethodGet, "/v1/audit/events", "guess", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"backend down", http.MethodGet, "/v1/audit/events", "secret", "", http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"unknown route", http.MethodGet, "/v2/nothing", "secret", "", http.StatusNotFound, "ROUTE_NOT_FOUND"},
		{"unknown route without token", http.MethodGet, "/v2/nothing", "", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
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
	if _, body := do(h, http.MethodGet, "/v2/nothing", "secret", ""); body["error"].(map[string]any)["status"] != "NOT_FOUND" {
		t.Fatalf("status of an unknown route: %v, want NOT_FOUND", body)
	}
}

// TestChunkedOversizedBody: a body without a Content-Length is cut off while
// grpc-gateway decodes it; that too is 413, not a parse error.
func TestChunkedOversizedBody(t *testing.T) {
	h := newTestGateway(t)
	body := `{"tokens":["` + strings.Repeat("x", 2048) + `"]}`
	req := httptest.NewRequest(http.MethodPost, "/v1/tokens:mask", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1 // unknown length, as with chunked transfer encoding
	req.Header.Set("Authorization", "Bearer secret")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code != http.StatusRequestEntityTooLarge || reason(out) != "REQUEST_TOO_LARGE" {
		t.Fatalf("chunked oversized body: %d %v, want 413 REQUEST_TOO_LARGE", rec.Code, out)
	}
}

func TestOperatorRoutesClosedWithoutToken(t *testing.T) {
	h, err := New(context.Background(), []Backend{testBackend(t, "audit", "127.0.0.1:1", []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}...)},
		Options{MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	// An empty configured token must not match an empty presented one.
	if code, _ := do(h, http.MethodGet, "/v1/audit/events", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("no token configured: %d", code)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/audit/events", nil)
	req.Header.Set("Authorization", "Bearer ")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("empty bearer with no token configured: %d", rec.Code)
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
	for _, path := range []string{
		"/v1/audit/events?subject=%FF", "/v1/audit/events/%FF", "/v1/audit/events?subjet=cus_1", "/v1/audit/events?page_size=abc",
	} {
		t.Run(path, func(t *testing.T) {
			code, body := do(h, http.MethodGet, path, "secret", "")
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
			req.Header.Set("Authorization", "Bearer secret")
			set(req)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
				t.Fatalf("POST to a GET route: %d %s, want 405 or 404", rec.Code, rec.Body.String())
			}
		})
	}
}

package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMethodNotAllowedSaysAllow: a 405 names the methods the path is
// served for (RFC 9110 section 15.5.6), in the usual error body.
func TestMethodNotAllowedSaysAllow(t *testing.T) {
	var backends []Backend
	for _, name := range []string{"audit", "identity", "consent", "conversation"} {
		backends = append(backends, testBackend(t, name, "127.0.0.1:1"))
	}
	h, err := New(context.Background(), backends, Options{MaxBodyBytes: 1024, Auth: tokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodDelete, "/v1/audit/events", "GET"},
		{http.MethodPut, "/v1/audit/events/0193a5b0-0000-7000-8000-000000000000", "GET"},
		{http.MethodGet, "/v1/sessions:refresh", "POST"},
		{http.MethodDelete, "/v1/consent/purposes", "GET, POST"},
		{http.MethodPost, "/v1/consent/purposes/marketing", "GET, PATCH"},
		// The event stream, which the gateway serves itself (sse.go).
		{http.MethodHead, "/v1/conversations/0193a5b0-0000-7000-8000-000000000000/events", "GET"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s, want 405", tc.method, tc.path, rec.Code, rec.Body)
			continue
		}
		if got := rec.Header().Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if tc.method != http.MethodHead && !strings.Contains(rec.Body.String(), `"reason":"METHOD_NOT_ALLOWED"`) {
			t.Errorf("%s %s: body %s, want the error body with METHOD_NOT_ALLOWED", tc.method, tc.path, rec.Body)
		}
	}
}

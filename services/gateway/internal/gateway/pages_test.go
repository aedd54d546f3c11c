package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPagesAreMounted: the gateway serves the web front (internal/web) with
// its headers beside the API, and a widget origin that would change the
// pages' CSP stops the start.
func TestPagesAreMounted(t *testing.T) {
	h, err := New(context.Background(), nil, Options{MaxBodyBytes: 1024, Auth: tokens(t), WidgetOrigins: []string{"https://shop.example", "other=https://other.example"}})
	if err != nil {
		t.Fatal(err)
	}
	for path, ancestors := range map[string]string{
		"/widget/?tenant=shop":  "frame-ancestors https://shop.example;",
		"/widget/?tenant=other": "frame-ancestors https://shop.example https://other.example;",
		"/widget/":              "frame-ancestors 'none';",
		"/privacy/":             "frame-ancestors 'none';",
		"/console/inbox":        "frame-ancestors 'none';",
		"/widget/embed.js":      "frame-ancestors 'none';",
		"/static/base.css":      "frame-ancestors 'none';",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Security-Policy"), ancestors) {
			t.Errorf("%s: %d, CSP %q", path, rec.Code, rec.Header().Get("Content-Security-Policy"))
		}
	}
	// The API is still the API.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/nothing", nil))
	if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Security-Policy") != "" {
		t.Errorf("/v1/nothing: %d %v", rec.Code, rec.Header())
	}
	if _, err := New(context.Background(), nil, Options{MaxBodyBytes: 1024, Auth: tokens(t), WidgetOrigins: []string{"https://shop.example;script-src"}}); err == nil {
		t.Error("a widget origin with a ';' was accepted")
	}
}

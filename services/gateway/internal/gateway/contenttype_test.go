package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBodiesMustBeJSON: a body declared as anything but application/json
// (charset=utf-8 allowed) is 415 CONTENT_TYPE_UNSUPPORTED in the usual
// error body before the service is called; JSON bodies, bodiless calls, the
// token endpoint's form and a cookie refresh pass the edge (the backend
// here is down: passing is 503).
func TestBodiesMustBeJSON(t *testing.T) {
	h := newTestGateway(t)
	customer := customerToken(t)
	const mask, body = "/v1/tokens:mask", `{"tokens":["tok_x"]}`
	for _, tc := range []struct {
		name, path, body string
		contentType      []string
		hdr              map[string]string
		code             int
		reason           string
	}{
		{"text/plain", mask, body, []string{"text/plain"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"text/plain from a form", mask, body, []string{"text/plain; charset=utf-8"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"xml", mask, body, []string{"application/xml"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"multipart", mask, body, []string{"multipart/form-data; boundary=x"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"none", mask, body, nil, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"form off the token route", mask, body, []string{"application/x-www-form-urlencoded"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"a +json type", mask, body, []string{"application/merge-patch+json"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"another charset", mask, body, []string{"application/json; charset=iso-8859-1"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"another parameter", mask, body, []string{"application/json; x=1"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"two types", mask, body, []string{"application/json", "text/plain"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"malformed", mask, body, []string{"application/json;;"}, nil, http.StatusUnsupportedMediaType, "CONTENT_TYPE_UNSUPPORTED"},
		{"json", mask, body, []string{"application/json"}, nil, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"json in utf-8, as browsers spell it", mask, body, []string{"Application/JSON; charset=UTF-8"}, nil, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"no body, no type", mask, "", nil, nil, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"token endpoint form", "/v1/oauth/token", "grant_type=client_credentials&client_id=a&client_secret=b", []string{"application/x-www-form-urlencoded"}, nil, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"cookie refresh without a body", "/v1/sessions:refresh", "", nil,
			map[string]string{"Cookie": sessionCookie + "=rt_x", sessionModeHeader: sessionModeCookie}, http.StatusServiceUnavailable, "UNAVAILABLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+customer)
			if tc.path != mask {
				req.Header.Del("Authorization") // public routes, no token needed
			}
			for _, ct := range tc.contentType {
				req.Header.Add("Content-Type", ct)
			}
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var out struct {
				Error struct {
					Code   int    `json:"code"`
					Status string `json:"status"`
					Reason string `json:"reason"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("%d %q: not the error body: %v", rec.Code, rec.Body, err)
			}
			if rec.Code != tc.code || out.Error.Code != tc.code || out.Error.Reason != tc.reason {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.code, tc.reason)
			}
			if tc.code == http.StatusUnsupportedMediaType && out.Error.Status != "INVALID_ARGUMENT" {
				t.Errorf("status %q, want INVALID_ARGUMENT", out.Error.Status)
			}
		})
	}
}

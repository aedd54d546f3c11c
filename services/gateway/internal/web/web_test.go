package web

import (
	"crypto/tls"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const shop = "https://shop.example"

func newHandler(t *testing.T, origins ...string) *Handler {
	t.Helper()
	h, err := New(Options{WidgetOrigins: origins})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, target string, tlsOn bool) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	if tlsOn {
		req.TLS = &tls.ConnectionState{}
	} else {
		req.TLS = nil
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// directives parses a Content-Security-Policy into directive → sources.
func directives(t *testing.T, policy string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		if _, dup := out[f[0]]; dup {
			t.Errorf("directive %s given twice (browsers use the first)", f[0])
		}
		out[f[0]] = f[1:]
	}
	return out
}

// everyAnswer is one of each kind of answer the handler gives.
var everyAnswer = []struct {
	name, path string
	code       int
	widget     bool
}{
	{"widget page", "/widget/?tenant=default", http.StatusOK, true},
	{"widget with more query", "/widget/?tenant=default&lang=de", http.StatusOK, true},
	{"loader", "/widget/embed.js", http.StatusOK, false},
	{"privacy centre", "/privacy/", http.StatusOK, false},
	{"privacy centre's own route", "/privacy/step-up", http.StatusOK, false},
	{"console", "/console/", http.StatusOK, false},
	{"script", "/static/widget/main.js", http.StatusOK, false},
	{"style", "/static/base.css", http.StatusOK, false},
	{"unknown asset", "/static/nope.js", http.StatusNotFound, false},
	{"unknown widget path", "/widget/nope", http.StatusNotFound, false},
}

// TestContentSecurityPolicy: each rule of the CSP, on every kind of answer;
// every subtest fails when its directive is removed or loosened.
func TestContentSecurityPolicy(t *testing.T) {
	h := newHandler(t, shop, "http://localhost:8081")
	for _, a := range everyAnswer {
		t.Run(a.name, func(t *testing.T) {
			resp := get(t, h, http.MethodGet, a.path, false)
			if resp.StatusCode != a.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, a.code)
			}
			d := directives(t, resp.Header.Get("Content-Security-Policy"))
			want := map[string][]string{
				// Nothing is loaded that a directive below does not allow.
				"default-src": {"'none'"},
				// No inline script, no eval, no other origin's script.
				"script-src": {"'self'"},
				// No inline style (the CSS is one file).
				"style-src":       {"'self'"},
				"img-src":         {"'self'", "data:"},
				"font-src":        {"'self'"},
				"connect-src":     {"'self'"},
				"form-action":     {"'self'"},
				"base-uri":        {"'none'"},
				"object-src":      {"'none'"},
				"frame-src":       {"'none'"},
				"manifest-src":    {"'self'"},
				"frame-ancestors": {"'none'"},
				// innerHTML and the other string-to-DOM sinks throw.
				"require-trusted-types-for": {"'script'"},
				"trusted-types":             {"'none'"},
			}
			if a.widget {
				want["frame-ancestors"] = []string{shop, "http://localhost:8081"}
			}
			for k, v := range want {
				if !slices.Equal(d[k], v) {
					t.Errorf("%s %q, want %q", k, d[k], v)
				}
			}
			for k := range d {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected directive %s %q", k, d[k])
				}
			}
		})
	}
}

// TestWidgetFramedByNoShopWhenNoneConfigured: without configured origins
// the widget may not be framed at all.
func TestWidgetFramedByNoShopWhenNoneConfigured(t *testing.T) {
	resp := get(t, newHandler(t), http.MethodGet, "/widget/?tenant=default", false)
	if got := directives(t, resp.Header.Get("Content-Security-Policy"))["frame-ancestors"]; !slices.Equal(got, []string{"'none'"}) {
		t.Errorf("frame-ancestors %q with no origins configured, want 'none'", got)
	}
}

// TestOtherHeaders: every answer carries nosniff, no-referrer, the
// Permissions-Policy, COOP and CORP; pages other than the widget deny
// framing in X-Frame-Options too.
func TestOtherHeaders(t *testing.T) {
	h := newHandler(t, shop)
	for _, a := range everyAnswer {
		t.Run(a.name, func(t *testing.T) {
			resp := get(t, h, http.MethodGet, a.path, false)
			hd := resp.Header
			if got := hd.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if got := hd.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy %q", got)
			}
			pp := map[string]string{}
			for _, f := range strings.Split(hd.Get("Permissions-Policy"), ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
				pp[k] = v
			}
			for _, off := range []string{"camera", "microphone", "geolocation", "payment", "usb", "display-capture"} {
				if pp[off] != "()" {
					t.Errorf("Permissions-Policy %s=%q, want ()", off, pp[off])
				}
			}
			// The widget may use a passkey for a step-up, never make one.
			get, create := "(self)", "(self)"
			if a.widget {
				create = "()"
			}
			for f, want := range map[string]string{"publickey-credentials-get": get, "publickey-credentials-create": create} {
				if pp[f] != want {
					t.Errorf("Permissions-Policy %s=%q, want %s", f, pp[f], want)
				}
			}
			if got := hd.Get("Cross-Origin-Opener-Policy"); got != "same-origin" {
				t.Errorf("Cross-Origin-Opener-Policy %q", got)
			}
			corp := "same-origin"
			if a.path == "/widget/embed.js" {
				corp = "cross-origin"
			}
			if got := hd.Get("Cross-Origin-Resource-Policy"); got != corp {
				t.Errorf("Cross-Origin-Resource-Policy %q, want %q", got, corp)
			}
			xfo := "DENY"
			if a.widget {
				xfo = "" // frame-ancestors decides; X-Frame-Options cannot name several origins
			}
			if got := hd.Get("X-Frame-Options"); got != xfo {
				t.Errorf("X-Frame-Options %q, want %q", got, xfo)
			}
			if got := hd.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("Strict-Transport-Security %q over plain HTTP", got)
			}
		})
	}
}

// TestHSTSOverTLS: over TLS every answer asks browsers to use HTTPS only.
func TestHSTSOverTLS(t *testing.T) {
	h := newHandler(t, shop)
	for _, a := range everyAnswer {
		resp := get(t, h, http.MethodGet, a.path, true)
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
			t.Errorf("%s over TLS: Strict-Transport-Security %q", a.name, got)
		}
	}
}

// TestBadWidgetOriginStopsTheStart: an origin that is not exactly an origin
// would change the CSP (a space adds a source, a ";" a directive).
func TestBadWidgetOriginStopsTheStart(t *testing.T) {
	for _, o := range []string{
		"https://shop.example; script-src *", "https://shop.example https://evil.example", "*",
		"https://shop.example/", "https://Shop.example", "javascript:alert(1)", "'unsafe-inline'",
		"https://shop.example/path", "ftp://shop.example", "https://user@shop.example", "",
		"https://shop.example;script-src", "https://shop.example,https://evil.example", "https://'self'",
		"shop=https://shop.example/", "Shop=https://shop.example", "=https://shop.example", "shop a=https://shop.example",
		"shop=https://shop.example https://evil.example", "shop=*", "shop=",
	} {
		if _, err := New(Options{WidgetOrigins: []string{o}}); err == nil {
			t.Errorf("widget origin %q accepted", o)
		}
	}
	if _, err := New(Options{WidgetOrigins: []string{"https://shop.example:8443", "http://127.0.0.1:5000", "shop_1=https://shop1.example"}}); err != nil {
		t.Errorf("good origins refused: %v", err)
	}
}

// TestOnlyGetAndHead: the pages take no input; other methods are 405 with
// the same headers.
func TestOnlyGetAndHead(t *testing.T) {
	h := newHandler(t, shop)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		resp := get(t, h, m, "/privacy/", false)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d, CSP %q", m, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
	if resp := get(t, h, http.MethodHead, "/static/base.css", false); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD: %d", resp.StatusCode)
	}
}

// TestContentTypesAndRevalidation: assets are sent with their type (no
// sniffing to fall back on), an ETag, and 304 when the browser has them.
func TestContentTypesAndRevalidation(t *testing.T) {
	h := newHandler(t, shop)
	for path, ct := range map[string]string{
		"/widget/":                "text/html; charset=utf-8",
		"/widget/embed.js":        "text/javascript; charset=utf-8",
		"/static/base.css":        "text/css; charset=utf-8",
		"/static/console/main.js": "text/javascript; charset=utf-8",
	} {
		resp := get(t, h, http.MethodGet, path, false)
		etag := resp.Header.Get("Etag")
		if resp.Header.Get("Content-Type") != ct || etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: %v", path, resp.Header)
			continue
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("If-None-Match", etag)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("%s revalidated: %d", path, rec.Code)
		}
	}
}

// TestBuiltPagesHaveNoInlineCode: what the CSP forbids is not in the
// committed pages (it would be blocked in the browser), and every page
// loads its script and the shared style from /static/.
func TestBuiltPagesHaveNoInlineCode(t *testing.T) {
	inlineScript := regexp.MustCompile(`(?is)<script\b[^>]*>\s*[^<\s]`)
	scriptTag := regexp.MustCompile(`(?is)<script\b[^>]*>`)
	handlerAttr := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleTag := regexp.MustCompile(`(?i)<style\b|\sstyle\s*=`)
	jsURL := regexp.MustCompile(`(?i)javascript:`)
	pagesSeen := 0
	err := fs.WalkDir(embedded, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".html") {
			return err
		}
		pagesSeen++
		b, err := fs.ReadFile(embedded, p)
		if err != nil {
			return err
		}
		s := string(b)
		if inlineScript.MatchString(s) || handlerAttr.MatchString(s) || styleTag.MatchString(s) || jsURL.MatchString(s) {
			t.Errorf("%s has inline script or style", p)
		}
		for _, tag := range scriptTag.FindAllString(s, -1) {
			if !strings.Contains(tag, `src="/static/`) || !strings.Contains(tag, `type="module"`) {
				t.Errorf("%s: script %s is not a module from /static/", p, tag)
			}
		}
		if !strings.Contains(s, `href="/static/base.css"`) {
			t.Errorf("%s does not use the shared style", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pagesSeen < 3 {
		t.Fatalf("%d pages embedded, want the widget, privacy centre and console", pagesSeen)
	}
}

// TestWidgetFramedByItsShopOnly: with origins per shop ("<tenant>=<origin>")
// the widget page asked for a shop names that shop's origins (and the bare
// ones, which every shop accepts) in frame-ancestors, never another shop's;
// a shop with none, no shop, two shops or a query Go and browsers read
// differently get 'none'. Seen failing with the page's policy built from
// every configured origin (shop A's page framed by shop B).
func TestWidgetFramedByItsShopOnly(t *testing.T) {
	h := newHandler(t, "alpha=https://alpha.example", "alpha=https://www.alpha.example", "beta=https://beta.example")
	every := newHandler(t, "alpha=https://alpha.example", "https://all.example")
	for _, c := range []struct {
		name   string
		h      *Handler
		target string
		want   []string
	}{
		{"alpha", h, "/widget/?tenant=alpha", []string{"https://alpha.example", "https://www.alpha.example"}},
		{"beta", h, "/widget/?tenant=beta&lang=de", []string{"https://beta.example"}},
		{"unknown shop", h, "/widget/?tenant=gamma", []string{"'none'"}},
		{"no shop", h, "/widget/", []string{"'none'"}},
		{"two shops", h, "/widget/?tenant=alpha&tenant=beta", []string{"'none'"}},
		{"a semicolon", h, "/widget/?x=1;tenant=beta&tenant=alpha", []string{"'none'"}},
		{"not a shop id", h, "/widget/?tenant=Alpha", []string{"'none'"}},
		{"encoded name", h, "/widget/?tenan%74=beta", []string{"https://beta.example"}},
		{"bare entries for every shop", every, "/widget/?tenant=alpha", []string{"https://all.example", "https://alpha.example"}},
		{"bare entries, another shop", every, "/widget/?tenant=beta", []string{"https://all.example"}},
		{"bare entries, no shop", every, "/widget/", []string{"'none'"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := get(t, c.h, http.MethodGet, c.target, false)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := directives(t, resp.Header.Get("Content-Security-Policy"))["frame-ancestors"]; !slices.Equal(got, c.want) {
				t.Errorf("frame-ancestors %q, want %q", got, c.want)
			}
		})
	}
}

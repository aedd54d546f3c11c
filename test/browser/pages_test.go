package browser

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// csp parses a Content-Security-Policy header into directive → sources.
func csp(h string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(h, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

// TestPagesInTheBrowser: the privacy centre, the console and the widget,
// served by the real gateway, load in Chromium with their scripts and
// style, with the security headers as the browser received them, without
// a script error or a CSP violation, at desktop and phone width.
func TestPagesInTheBrowser(t *testing.T) {
	shop := startShop(t)
	s := startSuite(t, shop)
	gw := s.Info.GatewayURL
	b := Start(t)
	for _, p := range []struct{ name, path, ready string }{
		{"privacy", "/privacy/", "#app"},
		{"console", "/console/", "#app"},
		{"widget", "/widget/?tenant=default", "#app"},
	} {
		t.Run(p.name, func(t *testing.T) {
			b.T = t
			b.Run(30*time.Second, Viewport(DesktopWidth, 900), chromedp.Navigate(gw+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			doc := b.Response(gw + p.path)
			if doc == nil || doc.Status != 200 {
				t.Fatalf("document: %+v", doc)
			}
			d := csp(Header(doc, "Content-Security-Policy"))
			for k, want := range map[string][]string{
				"default-src": {"'none'"}, "script-src": {"'self'"}, "style-src": {"'self'"}, "connect-src": {"'self'"},
				"require-trusted-types-for": {"'script'"},
			} {
				if !slices.Equal(d[k], want) {
					t.Errorf("%s: %s %q, want %q", p.path, k, d[k], want)
				}
			}
			wantAncestors := []string{"'none'"}
			if p.name == "widget" {
				wantAncestors = []string{shop.Origin}
			}
			if got := d["frame-ancestors"]; !slices.Equal(got, wantAncestors) {
				t.Errorf("frame-ancestors %q, want %q", got, wantAncestors)
			}
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cross-Origin-Opener-Policy": "same-origin",
				// Plain HTTP: no HSTS (the unit tests check it over TLS).
				"Strict-Transport-Security": "",
			} {
				if got := Header(doc, h); got != want {
					t.Errorf("%s: %s %q, want %q", p.path, h, got, want)
				}
			}
			if !strings.Contains(Header(doc, "Permissions-Policy"), "camera=()") {
				t.Errorf("Permissions-Policy %q", Header(doc, "Permissions-Policy"))
			}
			for _, asset := range []string{"/static/base.css", "/static/" + p.name + "/main.js"} {
				if !b.StatusOK(gw + asset) {
					t.Errorf("%s not loaded: %+v", asset, b.Response(gw+asset))
				}
			}
			// The stylesheet applied (a CSP refusal would leave the default).
			display := Eval[string](b, `getComputedStyle(document.body).display`)
			if display != "flex" {
				t.Errorf("body display %q: the shared style did not apply", display)
			}
			// The CSP as the browser enforces it: a string handed to
			// innerHTML throws (Trusted Types), and an inline script is
			// refused (reported as a violation of script-src).
			if got := Eval[string](b, `(() => { try { document.createElement('div').innerHTML = '<img src=x>'; return 'assigned' } catch (e) { return e.name } })()`); got != "TypeError" {
				t.Errorf("innerHTML with a string: %s, want a TypeError from Trusted Types", got)
			}
			if got := Eval[string](b, `new Promise((resolve) => {
				document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective), { once: true });
				const a = document.createElement('a');
				a.href = 'javascript:window.__ran=1';
				document.body.append(a);
				a.click();
				a.remove();
				setTimeout(() => resolve(window.__ran ? 'ran' : 'no report'), 2000);
			})`); got != "script-src-elem" && got != "script-src" {
				t.Errorf("a javascript: URL: %s, want refused by script-src", got)
			}
			if unnamed := Eval[[]string](b, unnamedControls); len(unnamed) > 0 {
				t.Errorf("controls without an accessible name: %q", unnamed)
			}
			if ex := b.Exceptions(); len(ex) > 0 {
				t.Errorf("script errors: %q", ex)
			}
			b.Screenshot("page-" + p.name + "-desktop")
			b.Run(30*time.Second, Viewport(PhoneWidth, 740), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			overflow := Eval[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`)
			if overflow {
				t.Errorf("%s scrolls sideways at phone width", p.path)
			}
			b.Screenshot("page-" + p.name + "-phone")
		})
	}
}

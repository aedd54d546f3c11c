package web

import (
	"net/http"
	"net/url"
	"strings"
)

// The security headers every answer of this package carries. Decided in
// docs/adr/0016-web-front.md:
//   - Content-Security-Policy: scripts, styles, fonts and connections from
//     the gateway's own origin only (no inline script or style, no eval),
//     nothing else loaded or framed, forms posting only here, no <base>,
//     and Trusted Types required with no policy, so that no script can
//     hand a string to innerHTML, document.write or eval-like sinks: data
//     reaches the DOM as text (web/src/lib/dom.js) or not at all.
//   - frame-ancestors: the widget page (/widget/?tenant=<shop>) may be
//     framed by that shop's configured origins only (origins.go; 'none'
//     for a shop with none, or without exactly one shop named); every
//     other page by nobody (with X-Frame-Options DENY for old browsers).
//   - Strict-Transport-Security only on a TLS connection: sent over plain
//     HTTP it would be ignored (RFC 6797 §8.1), and a TLS-terminating
//     proxy in front of the gateway sets its own.
//   - X-Content-Type-Options nosniff, Referrer-Policy no-referrer (page
//     paths never leave the browser), Permissions-Policy turning off the
//     powerful features the pages do not use (passkeys stay allowed for
//     the privacy centre and console themselves), Cross-Origin-Opener-
//     Policy same-origin, and Cross-Origin-Resource-Policy same-origin
//     except for the loader script shops include.

const (
	hsts = "max-age=63072000; includeSubDomains"
	// permissionsOff are features no page uses.
	permissionsOff = "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), " +
		"hid=(), magnetometer=(), microphone=(), midi=(), payment=(), screen-wake-lock=(), serial=(), usb=(), " +
		"xr-spatial-tracking=(), browsing-topics=()"
)

// policy is the header set of one kind of answer.
type policy struct {
	csp         string
	frameDeny   bool   // X-Frame-Options: DENY
	permissions string // Permissions-Policy
	corp        string // Cross-Origin-Resource-Policy
}

// csp is the Content-Security-Policy with the given frame-ancestors.
func csp(frameAncestors string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src 'self'",
		"manifest-src 'self'",
		"form-action 'self'",
		"base-uri 'none'",
		"object-src 'none'",
		"frame-src 'none'",
		"frame-ancestors " + frameAncestors,
		"require-trusted-types-for 'script'",
		"trusted-types 'none'",
	}, "; ")
}

// widgetPolicy: framed by the shops' pages only.
func widgetPolicy(origins []string) policy {
	ancestors := "'none'"
	if len(origins) > 0 {
		ancestors = strings.Join(origins, " ")
	}
	return policy{
		csp: csp(ancestors),
		// A step-up in the widget may use a passkey (get, never create): the
		// shop's frame delegates it with allow="publickey-credentials-get"
		// (embed.js), and the relying party is still the gateway's.
		permissions: permissionsOff + ", publickey-credentials-create=(), publickey-credentials-get=(self)",
		corp:        "same-origin",
	}
}

// pagePolicy: the privacy centre and the console, never framed.
func pagePolicy() policy {
	return policy{
		csp:         csp("'none'"),
		frameDeny:   true,
		permissions: permissionsOff + ", publickey-credentials-create=(self), publickey-credentials-get=(self)",
		corp:        "same-origin",
	}
}

// assetPolicy: scripts and styles. The loader (/widget/embed.js) runs in
// shops' pages, so other sites may load it.
func assetPolicy(loader bool) policy {
	p := pagePolicy()
	if loader {
		p.corp = "cross-origin"
	}
	return p
}

func (p policy) apply(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", p.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Permissions-Policy", p.permissions)
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", p.corp)
	if p.frameDeny {
		hd.Set("X-Frame-Options", "DENY")
	}
	if r.TLS != nil {
		hd.Set("Strict-Transport-Security", hsts)
	}
}

// validOrigin is an origin exactly as browsers send it (RFC 6454:
// scheme://host[:port], lower case, no path): nothing else may reach the
// CSP header, where a space or a ";" would add sources or directives.
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	return strings.ToLower(u.Scheme+"://"+u.Host) == o && !strings.ContainsAny(o, " ;,'\"*")
}

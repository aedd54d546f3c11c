// Package web serves Sotto's pages from the gateway: the chat widget
// (/widget/, framed by shops' pages, and /widget/embed.js, the loader a shop
// includes), the privacy centre (/privacy/), the staff console (/console/)
// and their assets (/static/). The assets are web/'s build output, embedded
// in the binary (docs/adr/0016-web-front.md); every answer carries the
// security headers in headers.go.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:static
var embedded embed.FS

// Paths are the subtrees the handler serves; the gateway mounts it at each.
var Paths = []string{"/widget/", "/privacy/", "/console/", "/static/"}

// pages are the page applications: any path under /<page>/ is the page's
// index.html, which routes within itself (so a link to /privacy/step-up
// works, and nothing but the page name is in the path).
var pages = []string{"privacy", "console"}

// Options configure the pages.
type Options struct {
	// WidgetOrigins are the shop pages' origins that may frame the widget
	// (the gateway's SOTTO_GATEWAY_WIDGET_ORIGINS): "<tenant>=<origin>" for
	// one shop's widget, a bare "<origin>" for every shop's (origins.go).
	// Empty: no page may.
	WidgetOrigins []string
}

// asset is one embedded file, ready to send.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the pages and assets.
type Handler struct {
	assets  map[string]asset // by path under static/, e.g. "widget/main.js"
	origins WidgetOrigins
	page    policy
	asset   policy
	loader  policy
	handler http.Handler
}

// New loads the embedded assets and builds the policies; a widget origin
// that is not an exact origin stops it (it would go into a CSP header).
func New(opts Options) (*Handler, error) {
	origins, err := ParseWidgetOrigins(opts.WidgetOrigins)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := &Handler{assets: map[string]asset{}, origins: origins}
	static, err := fs.Sub(embedded, "static")
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("web: asset %s has no known content type", p)
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.assets[p] = asset{body: b, contentType: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range append([]string{"widget"}, pages...) {
		if _, ok := h.assets[p+"/index.html"]; !ok {
			return nil, fmt.Errorf("web: the %s page is missing from the embedded assets (run make web)", p)
		}
	}
	h.page = pagePolicy()
	h.asset = assetPolicy(false)
	h.loader = assetPolicy(true)

	mux := http.NewServeMux()
	// The widget page may be framed by the pages of the shop it is asked
	// for (?tenant=) only; without one shop named, by nobody.
	mux.HandleFunc("GET /widget/{$}", func(w http.ResponseWriter, r *http.Request) {
		var origins []string
		if t := widgetTenant(r); t != "" {
			origins = h.origins.For(t)
		}
		h.serve("widget/index.html", widgetPolicy(origins))(w, r)
	})
	mux.HandleFunc("GET /widget/embed.js", h.serve("widget/embed.js", h.loader))
	for _, p := range pages {
		mux.HandleFunc("GET /"+p+"/", h.serve(p+"/index.html", h.page))
	}
	mux.HandleFunc("GET /static/{file...}", func(w http.ResponseWriter, r *http.Request) {
		h.serve(r.PathValue("file"), h.asset)(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.page.apply(w, r)
		plainError(w, http.StatusNotFound)
	})
	h.handler = mux
	return h, nil
}

// ServeHTTP answers GET and HEAD; anything else, and any path the handler
// does not know, gets the page headers and a plain-text error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.page.apply(w, r)
		w.Header().Set("Allow", "GET, HEAD")
		plainError(w, http.StatusMethodNotAllowed)
		return
	}
	h.handler.ServeHTTP(w, r)
}

// serve sends the asset at p under policy pol, with its ETag so that a
// browser revalidates instead of downloading it again.
func (h *Handler) serve(p string, pol policy) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pol.apply(w, r)
		a, ok := h.assets[p]
		if !ok {
			plainError(w, http.StatusNotFound)
			return
		}
		hd := w.Header()
		hd.Set("Content-Type", a.contentType)
		hd.Set("ETag", a.etag)
		// Revalidated on every use: a new gateway's pages and scripts are
		// used at once, never mixed with a cached older half.
		hd.Set("Cache-Control", "no-cache")
		if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(a.body)
		}
	}
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func plainError(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, http.StatusText(code))
}

// contentTypes are the types of what web/build.mjs writes; an asset of
// another kind fails New (no sniffing, no guess).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
}

package gateway

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/services/gateway/internal/web"
)

// The web widget is a shop's page script calling the gateway from the
// shop's origin. Browsers let it do so only if the gateway says so (CORS),
// and they say where a request comes from (Origin). Decided here:
//   - The widget's origins are an allow-list (Options.WidgetOrigins,
//     SOTTO_GATEWAY_WIDGET_ORIGINS), compared exactly (scheme, host, port).
//     Nothing else is ever named in Access-Control-Allow-Origin, never
//     "*", and no credentials are allowed: the widget sends its token as
//     an Authorization header, never a cookie.
//   - Only the widget's routes (conversations, visitor sessions, the
//     sealing keys, channel link codes) answer preflights, and only for an
//     allowed origin, the methods GET and POST and the headers the widget
//     sends; any other preflight is 403 ORIGIN_REJECTED.
//   - A state-changing request (not GET or HEAD) to a widget route that
//     carries an Origin neither allowed nor the gateway's own is refused
//     403 ORIGIN_REJECTED before it reaches a service: a page elsewhere
//     cannot drive a visitor's chat even with a stolen token, and no form
//     post reaches the routes from a foreign page. Requests without an
//     Origin (servers, apps) are not browsers' and pass to the token check.
//   - Origins are per shop: an entry "<tenant>=<origin>" lets that page act
//     for that shop only, a bare "<origin>" for every shop (web.WidgetOrigins,
//     ADR 0016). A request from a listed shop page (not the gateway's own
//     origin, where the framed widget itself runs) is bound to its shops:
//     the token's tenant, or for a new visitor session the tenant in its
//     body, must be one of them, else 403 ORIGIN_REJECTED (originBound),
//     whatever the method. Shop B's page cannot open a visitor session for
//     shop A, nor read or write shop A's chats with a token it got
//     elsewhere. Preflights cannot know the shop, so they are answered for
//     any listed origin; the request that follows is checked.

// widgetMethods and widgetHeaders are what a widget's preflight may ask for.
var (
	widgetMethods = []string{http.MethodGet, http.MethodPost}
	widgetHeaders = []string{"authorization", "content-type", "last-event-id"}
)

// widgetMaxAge is how long a browser may cache a preflight's answer
// (seconds): a removed origin stops working within it.
const widgetMaxAge = "600"

// widgetRoute reports whether path is one of the widget's routes. It is
// the path as sent: an encoded variant is not recognised, gets no CORS
// headers and so cannot be read or preflighted from a page (closed, not
// open).
func widgetRoute(path string) bool {
	for _, p := range []string{"/v1/conversations", "/v1/visitor-sessions", "/v1/conversation-sealing-keys", "/v1/channel-link-codes"} {
		if path == p || strings.HasPrefix(path, p+"/") || strings.HasPrefix(path, p+":") {
			return true
		}
	}
	return false
}

// normalizeOrigin is an origin as browsers send it (RFC 6454:
// scheme://host[:port], lower-case, no path), or "" for anything else.
func normalizeOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// widgetCORS applies the rules above in front of the routes.
func widgetCORS(origins []string, next http.Handler) http.Handler {
	// New has checked the entries (web.ParseWidgetOrigins); none parsed
	// here means none allowed.
	allowed, _ := web.ParseWidgetOrigins(origins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		widget := widgetRoute(r.URL.Path)
		// The exact header as sent must be a listed origin ("null", a path
		// or another spelling is not).
		ok := widget && allowed.Any(origin) && normalizeOrigin(origin) == origin
		reject := func(msg string) {
			if ri := infoOf(r.Context()); ri != nil && ri.route == "" {
				ri.route = "cors"
			}
			writeError(w, http.StatusForbidden, codes.PermissionDenied, reasonOriginRejected, msg)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if ri := infoOf(r.Context()); ri != nil {
				ri.route = "OPTIONS preflight"
			}
			w.Header().Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
			if !ok {
				reject("this origin may not call this route from a browser")
				return
			}
			if !slices.Contains(widgetMethods, r.Header.Get("Access-Control-Request-Method")) {
				reject("the web widget's routes allow GET and POST")
				return
			}
			for _, h := range strings.Split(strings.Join(r.Header.Values("Access-Control-Request-Headers"), ","), ",") {
				if h = strings.ToLower(strings.TrimSpace(h)); h != "" && !slices.Contains(widgetHeaders, h) {
					reject("a requested header is not one the web widget sends")
					return
				}
			}
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Methods", strings.Join(widgetMethods, ", "))
			hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
			hd.Set("Access-Control-Max-Age", widgetMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if widget {
			w.Header().Add("Vary", "Origin")
			if ok {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id, WWW-Authenticate")
			} else if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
				reject("this origin may not call this route from a browser")
				return
			}
			if ok && !sameOrigin(r) {
				every, tenants, _ := allowed.Tenants(origin)
				if !every {
					r = r.WithContext(context.WithValue(r.Context(), originShopsKey{}, tenants))
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// originShopsKey carries the shops a request's (listed, foreign) Origin may
// act for; absent when it may act for every shop or is not a shop page.
type originShopsKey struct{}

// originBound is the edge's check, once a route matched and its token was
// verified, that a request from a shop's page acts for that shop: the
// token's tenant ("" is the default shop, as identity reads it), or the
// tenant a new visitor session is asked for (read from the body, which is
// put back). A request that names no shop (the public sealing keys) is not
// bound. A body that does not parse is refused here rather than passed on
// unchecked.
func originBound(w http.ResponseWriter, r *http.Request, route string) bool {
	shops, ok := r.Context().Value(originShopsKey{}).([]string)
	if !ok {
		return true
	}
	// Every shop the request names must be one of the page's: the token's
	// and, for a new visitor session, the body's too (a token of the page's
	// own shop does not license a session for another: security review).
	var named []string
	if c, ok := claimsOf(r.Context()); ok {
		named = append(named, cmp.Or(c.Tenant, "default"))
	}
	if route == visitorSessionRoute && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req identityv1.CreateVisitorSessionRequest
		if err != nil || protojson.Unmarshal(body, &req) != nil {
			writeError(w, http.StatusForbidden, codes.PermissionDenied, reasonOriginRejected, "a visitor session from a shop's page must name that shop")
			return false
		}
		named = append(named, cmp.Or(req.GetTenant(), "default"))
	}
	for _, tenant := range named {
		if !slices.Contains(shops, tenant) {
			writeError(w, http.StatusForbidden, codes.PermissionDenied, reasonOriginRejected, "this shop's page may not act for another shop")
			return false
		}
	}
	return true
}

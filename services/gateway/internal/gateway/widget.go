package gateway

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
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
	allowed := map[string]bool{}
	for _, o := range origins {
		if n := normalizeOrigin(o); n != "" {
			allowed[n] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		widget := widgetRoute(r.URL.Path)
		// The exact header as sent must be a listed origin ("null", a path
		// or another spelling is not).
		ok := widget && allowed[origin] && normalizeOrigin(origin) == origin
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
		}
		next.ServeHTTP(w, r)
	})
}

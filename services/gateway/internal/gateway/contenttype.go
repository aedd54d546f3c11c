package gateway

import (
	"mime"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
)

// jsonBody refuses a request body that is not declared as JSON with 415
// CONTENT_TYPE_UNSUPPORTED. grpc-gateway decodes every body as JSON
// whatever its Content-Type, so without this a text/plain or
// multipart/form-data body — which a cross-site page can POST without a
// CORS preflight — would be served like the API's own clients' requests.
// Allowed: application/json, with no charset or charset=utf-8 (RFC 8259:
// JSON between systems is UTF-8); the token endpoint also takes the
// form-encoded body RFC 6749 defines (oauthTokenRequest turns it into
// JSON). A request with no body (Content-Length 0) needs no Content-Type.
// application/*+json is refused: no client of the API sends it, and a
// route serves one media type.
func jsonBody(w http.ResponseWriter, r *http.Request, route string) bool {
	if r.ContentLength == 0 {
		return true
	}
	media, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	ok := err == nil && len(r.Header.Values("Content-Type")) == 1
	switch {
	case !ok:
	case media == "application/json":
		for k, v := range params {
			ok = ok && k == "charset" && strings.EqualFold(v, "utf-8")
		}
	case media == "application/x-www-form-urlencoded" && route == tokenRoute:
	default:
		ok = false
	}
	if !ok {
		writeError(w, http.StatusUnsupportedMediaType, codes.InvalidArgument, reasonContentTypeUnsupported,
			"request body must be application/json")
	}
	return ok
}

package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"

	"google.golang.org/grpc/codes"
)

// tokenRoute is the OAuth 2.0 token endpoint (identity's IssueClientToken).
const tokenRoute = "POST /v1/oauth/token"

// tokenParams are the token request's parameters (RFC 6749 section 4.4,
// RFC 7523 section 2.2); others are ignored, as RFC 6749 section 3.2 asks.
var tokenParams = []string{"grant_type", "client_id", "client_secret", "client_assertion_type", "client_assertion", "scope"}

// oauthTokenRequest lets standard OAuth 2.0 clients (golang.org/x/oauth2
// and its kin) use the token endpoint as RFC 6749 defines it: parameters
// form-encoded in the body, and the client authenticated either in the body
// (client_secret_post, private_key_jwt) or with HTTP Basic
// (client_secret_basic, RFC 6749 section 2.3.1, id and secret
// form-encoded before base64). It rewrites such a request into the JSON
// body grpc-gateway decodes. JSON requests pass unchanged.
func oauthTokenRequest(w http.ResponseWriter, r *http.Request, route string) (*http.Request, bool) {
	if route != tokenRoute {
		return r, true
	}
	bad := func(msg string) (*http.Request, bool) {
		writeError(w, http.StatusBadRequest, codes.InvalidArgument, reasonMalformedRequest, msg)
		return r, false
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return bad("the client credentials in the Authorization header are not form-encoded")
		}
		// Spent here: it is not a bearer token for the edge to check.
		r.Header.Del("Authorization")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		if basic {
			return bad("HTTP Basic client authentication needs a form-encoded body")
		}
		return r, true
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bad("request body could not be read")
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return bad("request body is not form-encoded")
	}
	body := map[string]string{}
	for _, k := range tokenParams {
		if vs := form[k]; len(vs) > 0 {
			if len(vs) > 1 {
				// RFC 6749 section 3.2: parameters must not repeat.
				return bad("a token request parameter is repeated")
			}
			body[k] = vs[0]
		}
	}
	if basic {
		if _, ok := body["client_secret"]; ok {
			// One client authentication method per request (section 2.3).
			return bad("the client is authenticated twice (HTTP Basic and the body)")
		}
		body["client_id"], body["client_secret"] = id, secret
	}
	b, _ := json.Marshal(body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	r.Header.Set("Content-Type", "application/json")
	return r, true
}

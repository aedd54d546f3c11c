package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
)

// Browser sessions keep the refresh token where scripts cannot read it: in
// an HttpOnly, Secure, SameSite=Strict cookie with the __Host- prefix (no
// Domain, Path=/, so no sibling subdomain can set or read it). A browser
// asks for this with the header sessionModeHeader on every authentication
// call; API clients leave it out and get the refresh token in the body.
//
// CSRF: the cookie is the only ambient credential the gateway honours
// (access tokens travel as Authorization headers, which a cross-site page
// cannot attach), and only on the refresh and logout routes. There it is
// used only when the request also carries sessionModeHeader — a custom
// header, which a cross-site page can send only after a CORS preflight the
// gateway never approves — and, if the browser sent an Origin, only when it
// is the gateway's own. A request that carries the cookie and fails either
// check is refused (403), not silently treated as cookie-less.
const (
	sessionCookie      = "__Host-sotto_refresh"
	sessionModeHeader  = "X-Sotto-Session"
	sessionModeCookie  = "cookie"
	refreshRoute       = "POST /v1/sessions:refresh"
	logoutRoute        = "POST /v1/sessions:logout"
	maxRefreshTokenLen = 256
)

type cookieModeKey struct{}

func cookieMode(ctx context.Context) bool {
	v, _ := ctx.Value(cookieModeKey{}).(bool)
	return v
}

// browserSessions marks cookie-mode requests and, on the refresh route,
// puts the cookie's refresh token in the body. It runs once a route
// matched (a grpc-gateway middleware), so route is the matched pattern.
func browserSessions(w http.ResponseWriter, r *http.Request, route string) (*http.Request, bool) {
	cookie, _ := r.Cookie(sessionCookie)
	wantsCookie := r.Header.Get(sessionModeHeader) == sessionModeCookie
	usesCookie := cookie != nil && (route == refreshRoute || route == logoutRoute)
	if usesCookie && (!wantsCookie || !sameOrigin(r)) {
		writeError(w, http.StatusForbidden, codes.PermissionDenied, reasonCSRFRejected,
			"a session cookie is only accepted with the "+sessionModeHeader+" header from the gateway's own origin")
		return r, false
	}
	if !wantsCookie {
		return r, true
	}
	r = r.WithContext(context.WithValue(r.Context(), cookieModeKey{}, true))
	if route == refreshRoute && cookie != nil {
		if len(cookie.Value) > maxRefreshTokenLen {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, reasonMalformedRequest, "session cookie is malformed")
			return r, false
		}
		body, _ := json.Marshal(map[string]string{"refresh_token": cookie.Value})
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/json")
	}
	return r, true
}

// sameOrigin is true when the request has no Origin (not a cross-origin
// fetch by a browser) or its Origin is the host the request was sent to.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host && (u.Scheme == "https" || u.Scheme == "http")
}

// tokensCarrier is every identity response that returns new tokens.
type tokensCarrier interface {
	GetTokens() *identityv1.Tokens
}

// sessionCookies is a grpc-gateway forward-response option: in cookie mode
// it moves the refresh token from the response body into the cookie, and a
// logout clears the cookie.
func sessionCookies(ctx context.Context, w http.ResponseWriter, m proto.Message) error {
	if !cookieMode(ctx) {
		return nil
	}
	switch m := m.(type) {
	case *identityv1.LogoutResponse:
		http.SetCookie(w, refreshCookie("", time.Unix(0, 0)))
	case tokensCarrier:
		t := m.GetTokens()
		if t == nil || t.GetRefreshToken() == "" {
			return nil
		}
		http.SetCookie(w, refreshCookie(t.GetRefreshToken(), t.GetSessionExpiresAt().AsTime()))
		t.RefreshToken = ""
	}
	return nil
}

func refreshCookie(value string, expires time.Time) *http.Cookie {
	maxAge := int(time.Until(expires).Seconds())
	if value == "" || maxAge <= 0 {
		maxAge = -1 // delete it now
	}
	return &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   maxAge,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	}
}

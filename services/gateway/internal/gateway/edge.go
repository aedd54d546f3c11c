package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
)

// edge holds what the gateway decides about people and clients before a
// request reaches a service.
type edge struct {
	auth    Authenticator
	audit   *AuthAuditor
	limiter *ipLimiter
	// visitorSessions limits new visitor sessions per client address, apart
	// from the authentication routes (a shop's visitors behind one address
	// must not lock its customers out of logging in, nor the reverse).
	visitorSessions *ipLimiter
	// messages limits the messages each token subject (a visitor, a
	// customer) posts.
	messages *keyedLimiter[string]
	// streams bounds the event streams (SSE) open per token subject.
	streams *streamLimiter
	// gpc sends customers' Global Privacy Control signals to consent; nil
	// without a consent backend.
	gpc *gpcRecorder
}

// middleware is the grpc-gateway middleware that runs once a route matched:
// it names the route for the access log, throttles the public
// (authentication) routes per client address, applies the browser-session
// cookie rules and the route's access rule, refuses bodies that are not
// JSON (contenttype.go), then the path parameters the
// edge itself relies on (pathChecks).
func (g *edge) middleware(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		// API answers are personal (tokens, recovery codes, values, the
		// account): no cache keeps them (RFC 6749 section 5.1 for tokens).
		w.Header().Set("Cache-Control", "no-store")
		route := routeOf(r)
		if ri := infoOf(r.Context()); ri != nil {
			ri.route = route
		}
		rule, ok := routeAccess[route]
		if !ok {
			rule = defaultAccess
		}
		if rule.public {
			limiter := g.limiter
			if route == visitorSessionRoute {
				limiter = g.visitorSessions
			}
			if !limiter.limit(w, r) {
				return
			}
		}
		r, ok = browserSessions(w, r, route)
		if !ok {
			return
		}
		if r, ok = oauthTokenRequest(w, r, route); !ok {
			return
		}
		if r, ok = g.authorize(w, r, rule); !ok {
			return
		}
		// After the access rule (a caller without access learns that first,
		// whatever the body) and before the body is decoded. oauthTokenRequest
		// and browserSessions have put the gateway's own JSON in place of a
		// token request's form or a cookie refresh's body.
		if !jsonBody(w, r, route) {
			return
		}
		if !originBound(w, r, route) { // widget.go: a shop's page acts for its shop
			return
		}
		if route == postMessageRoute {
			// After the token check: the budget is the subject's, which only
			// a verified token names.
			if c, ok := claimsOf(r.Context()); ok && !g.messages.limitSubject(w, c.Subject) {
				return
			}
		}
		if r, ok = checkPath(w, r, route, params); !ok {
			return
		}
		next(w, r, params)
	}
}

// routeOf names the matched route as "METHOD /path/{var}:verb", the way the
// OpenAPI document and routeAccess spell it.
func routeOf(r *http.Request) string {
	p, ok := runtime.HTTPPattern(r.Context())
	if !ok {
		return ""
	}
	return r.Method + " " + strings.ReplaceAll(p.String(), "=*}", "}")
}

// Authenticator checks an access token: signature, issuer, audience, expiry
// and revocation (pkg/enduser's, fed by identity's JWKS and revocation
// feed). Its errors are *errs.Error values with a reason.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*accesstoken.Claims, error)
}

// access is what a route asks of the person or client calling it. The
// services behind check the token again (they never trust the gateway for
// it); the edge checks it first so that anonymous and under-privileged
// traffic is refused before it reaches them, and so that an operator route
// needs a staff member even where a service's own rule would allow its
// workload.
type access struct {
	// public routes need no token (sign-up, login, refresh, ...); a token,
	// if sent, is still verified and forwarded.
	public bool
	// kinds that may call the route; empty = any kind with a valid token.
	kinds []accesstoken.Kind
	// roles: at least one is needed (staff).
	roles []string
	// aal is the minimum assurance level.
	aal int
	// anyOf admits a caller who meets any one of these rules (each complete
	// in itself), where people of different kinds are asked different
	// things; a rule with anyOf has no conditions of its own.
	anyOf []access
}

var (
	anyone     = access{public: true}
	signedIn   = access{}
	operators  = access{kinds: []accesstoken.Kind{accesstoken.KindStaff}, roles: []string{accesstoken.RolePrivacyOfficer, accesstoken.RoleAdmin}, aal: accesstoken.AAL2}
	adminsOnly = access{kinds: []accesstoken.Kind{accesstoken.KindStaff}, roles: []string{accesstoken.RoleAdmin}, aal: accesstoken.AAL2}
	customers  = access{kinds: []accesstoken.Kind{accesstoken.KindCustomer}}
	// customersAtAAL2: a customer after a second factor (linking a
	// messaging chat to the account; conversation also asks that it be
	// recent).
	customersAtAAL2 = access{kinds: []accesstoken.Kind{accesstoken.KindCustomer}, aal: accesstoken.AAL2}
	// visitors are anonymous web-chat visitors (identity's visitor
	// sessions): only rules that name them admit them.
	visitors = access{kinds: []accesstoken.Kind{accesstoken.KindVisitor}}
	// supportAgents: staff with the role, at aal2.
	supportAgents = access{kinds: []accesstoken.Kind{accesstoken.KindStaff}, roles: []string{accesstoken.RoleSupportAgent}, aal: accesstoken.AAL2}
	// chatters open, write to and close their own conversations (the
	// conversation service keeps each to their own, visitors to the web).
	chatters = access{anyOf: []access{customers, visitors}}
	// chatReaders: their own conversations, or any for a support agent.
	chatReaders = access{anyOf: []access{customers, supportAgents, visitors}}
	// customersAndAgents: the calls no visitor makes (a hand-off, a
	// revealed value).
	customersAndAgents = access{anyOf: []access{customers, supportAgents}}
	// privacyOfficers is the privacy_officer role alone (administrators do
	// not act on customers' consents or requests).
	privacyOfficers = access{kinds: []accesstoken.Kind{accesstoken.KindStaff}, roles: []string{accesstoken.RolePrivacyOfficer}, aal: accesstoken.AAL2}
	// customersAndOfficers: a customer for their own (the service decides
	// which requests and calls are theirs and asks for a step-up itself, so
	// that a weak token gets the RFC 9470 challenge rather than a 403), or a
	// privacy officer.
	customersAndOfficers = access{anyOf: []access{customers, privacyOfficers}}
)

// routeAccess says who may call each REST route, by method and path
// template as the OpenAPI document spells them. A route that is not listed
// gets defaultAccess, the strictest: a new route is closed until someone
// decides otherwise here (TestEveryRouteHasAnAccessRule keeps the list and
// the routes in step).
var routeAccess = map[string]access{
	// identity: becoming someone.
	"POST /v1/accounts:signUp":               anyone,
	"POST /v1/accounts:verifyEmail":          anyone,
	"POST /v1/accounts:requestPasswordReset": anyone,
	"POST /v1/accounts:resetPassword":        anyone,
	"POST /v1/sessions:login":                anyone,
	"POST /v1/sessions:refresh":              anyone,
	"POST /v1/sessions:beginWebAuthn":        anyone,
	"POST /v1/sessions:finishWebAuthn":       anyone,
	"POST /v1/oauth/token":                   anyone,
	// identity: the caller's own account, factors and sessions (identity
	// checks step-up where a call needs it).
	"POST /v1/sessions:logout":                         signedIn,
	"POST /v1/sessions:stepUp":                         signedIn,
	"GET /v1/sessions":                                 signedIn,
	"POST /v1/sessions/{session_id}:revoke":            signedIn,
	"GET /v1/account":                                  signedIn,
	"POST /v1/account:changePassword":                  signedIn,
	"POST /v1/account:delete":                          signedIn,
	"POST /v1/account/factors:beginTotp":               signedIn,
	"POST /v1/account/factors:confirmTotp":             signedIn,
	"POST /v1/account/factors:beginWebAuthn":           signedIn,
	"POST /v1/account/factors:finishWebAuthn":          signedIn,
	"GET /v1/account/factors":                          signedIn,
	"DELETE /v1/account/factors/{factor_id}":           signedIn,
	"POST /v1/account/factors:regenerateRecoveryCodes": signedIn,
	// identity: administration.
	"POST /v1/staff":                      adminsOnly,
	"POST /v1/clients":                    adminsOnly,
	"POST /v1/clients/{client_id}:revoke": adminsOnly,
	// audit: the log is read by privacy officers and administrators (and
	// checked by anyone with `sotto audit verify`, over mTLS).
	"GET /v1/audit/checkpoint":                        operators,
	"GET /v1/audit/checkpoints":                       operators,
	"GET /v1/audit/consistency-proof":                 operators,
	"GET /v1/audit/entries":                           operators,
	"GET /v1/audit/events":                            operators,
	"GET /v1/audit/events/{event_id}":                 operators,
	"GET /v1/audit/events/{event_id}/inclusion-proof": operators,
	// tokenvault: a person sees values under the vault's own policy (which
	// names the gateway and checks the person is the data's subject);
	// storing values through the edge is for administrators.
	"POST /v1/tokens:detokenize": signedIn,
	"POST /v1/tokens:mask":       signedIn,
	"POST /v1/tokens:tokenize":   adminsOnly,
	// consent: the catalogue, notices and receipt keys are public (a consent
	// banner shows them before anyone signs in); changing them is for
	// privacy officers at aal2; people manage consents (their own, or as a
	// privacy officer a customer's: the consent service decides which).
	"GET /v1/consent/purposes":                               anyone,
	"GET /v1/consent/purposes/{purpose_id}":                  anyone,
	"GET /v1/consent/notices":                                anyone,
	"GET /v1/consent/notices/{notice_id}":                    anyone,
	"GET /v1/consent/notices/{notice_id}/versions/{version}": anyone,
	"GET /v1/consent/receipt-keys":                           anyone,
	"POST /v1/consent/purposes":                              privacyOfficers,
	"PATCH /v1/consent/purposes/{purpose.purpose_id}":        privacyOfficers,
	"POST /v1/consent/notices/{notice_id}/versions":          privacyOfficers,
	"POST /v1/consent/purposes/{purpose_id}:grant":           signedIn,
	"POST /v1/consent/purposes/{purpose_id}:withdraw":        signedIn,
	"POST /v1/consent:recordGpc":                             {kinds: []accesstoken.Kind{accesstoken.KindCustomer}},
	"GET /v1/consent/consents":                               signedIn,
	"GET /v1/consent/records":                                signedIn,
	"GET /v1/consent/receipts/{receipt_id}":                  signedIn,
	// consent: data-subject requests. No route is anonymous and integrators
	// have none: a customer acts for themself, a privacy officer for
	// customers (consent decides which calls each may make). The export
	// holds the customer's raw values and is theirs alone (consent asks
	// them for a recent aal2): no staff token reaches it.
	"POST /v1/privacy/requests":                     customersAndOfficers,
	"GET /v1/privacy/requests":                      customersAndOfficers,
	"GET /v1/privacy/requests/{request_id}":         customersAndOfficers,
	"POST /v1/privacy/requests/{request_id}:verify": customersAndOfficers,
	"POST /v1/privacy/requests/{request_id}:extend": customersAndOfficers,
	"POST /v1/privacy/requests/{request_id}:pause":  customersAndOfficers,
	"POST /v1/privacy/requests/{request_id}:resume": customersAndOfficers,
	"POST /v1/privacy/requests/{request_id}:reject": customersAndOfficers,
	"POST /v1/privacy/requests/{request_id}:retry":  customersAndOfficers,
	"GET /v1/privacy/requests/{request_id}/export":  customers,
	// identity: an anonymous web-chat visitor's session (public; its own
	// per-address budget, see visitorSessions).
	"POST /v1/visitor-sessions": anyone,
	// conversation: customers and visitors chat (each in their own
	// conversations, visitors on the web only: the service decides),
	// support agents read, take over and reply. The sealing keys are public
	// (a widget seals to them before anyone signs in).
	"POST /v1/conversations":                                chatters,
	"GET /v1/conversations":                                 chatReaders,
	"GET /v1/conversations/{conversation_id}":               chatReaders,
	"POST /v1/conversations/{conversation_id}/messages":     chatters,
	"GET /v1/conversations/{conversation_id}/messages":      chatReaders,
	"POST /v1/conversations/{conversation_id}:close":        chatters,
	"POST /v1/conversations/{conversation_id}:handOff":      customersAndAgents,
	"POST /v1/conversations/{conversation_id}:revealValue":  customersAndAgents,
	"POST /v1/conversations/{conversation_id}:assign":       supportAgents,
	"POST /v1/conversations/{conversation_id}/agentReplies": supportAgents,
	"POST /v1/channel-link-codes":                           customersAtAAL2,
	"GET /v1/conversation-signals":                          {anyOf: []access{supportAgents, adminsOnly}},
	"POST /v1/conversation-signals/{signal_id}:clear":       {anyOf: []access{supportAgents, adminsOnly}},
	"GET /v1/conversation-sealing-keys":                     anyone,
	// A shop's browsing and order events (its integrators use the gRPC edge).
	"POST /v1/shopper-events": adminsOnly,
	// The gateway's own route (sse.go): WatchConversation as Server-Sent
	// Events; not in the generated document, added to the one served.
	sseRoute: chatReaders,
}

// Routes the edge treats apart.
const (
	visitorSessionRoute = "POST /v1/visitor-sessions"
	postMessageRoute    = "POST /v1/conversations/{conversation_id}/messages"
)

// defaultAccess applies to a route missing from routeAccess: the
// strictest rule there is.
var defaultAccess = adminsOnly

// authorize is a grpc-gateway middleware: once a route matched, it applies
// the route's access rule to the bearer token, and leaves a valid token in
// the Authorization header, which grpc-gateway forwards to the service as
// metadata.
func (g *edge) authorize(w http.ResponseWriter, r *http.Request, rule access) (*http.Request, bool) {
	raw, present, wellFormed := bearer(r)
	if !present && rule.public {
		return r, true
	}
	// Every refusal is recorded in the audit log, with why (never the token).
	refuse := func(httpCode int, why string) (*http.Request, bool) {
		r.Header.Del("Authorization")
		if g.audit != nil {
			g.audit.Refused(r.Context(), why, w.Header().Get("X-Request-Id"))
		}
		if httpCode == http.StatusForbidden {
			writeError(w, httpCode, codes.PermissionDenied, reasonForbidden, "this route needs another role or a stronger authentication")
			return r, false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="sotto"`)
		writeError(w, httpCode, codes.Unauthenticated, reasonUnauthenticated, "a valid bearer access token is required")
		return r, false
	}
	switch {
	case !present:
		return refuse(http.StatusUnauthorized, refusalMissingToken)
	case !wellFormed:
		return refuse(http.StatusUnauthorized, refusalInvalidToken)
	}
	claims, err := g.auth.Authenticate(r.Context(), raw)
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Kind == errs.Unavailable {
			r.Header.Del("Authorization")
			writeError(w, http.StatusServiceUnavailable, codes.Unavailable, reasonUnavailable, "access tokens cannot be checked right now; retry later")
			return r, false
		}
		why := refusalInvalidToken
		if errors.As(err, &e) && e.Reason != "" {
			why = e.Reason // TOKEN_EXPIRED, TOKEN_REVOKED, ...
		}
		return refuse(http.StatusUnauthorized, why)
	}
	if !rule.allows(claims) {
		return refuse(http.StatusForbidden, refusalInsufficient)
	}
	r = r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims))
	if ri := infoOf(r.Context()); ri != nil {
		ri.caller = string(claims.Kind)
	}
	if g.gpc != nil {
		g.gpc.observe(r, raw, claims)
	}
	return r, true
}

func (a access) allows(c *accesstoken.Claims) bool {
	if len(a.anyOf) > 0 {
		return slices.ContainsFunc(a.anyOf, func(alt access) bool { return alt.allows(c) })
	}
	if c.Kind == accesstoken.KindVisitor && !a.public && !slices.Contains(a.kinds, accesstoken.KindVisitor) {
		// "Any kind" is any kind of account or integrator: an anonymous
		// visitor is admitted only where a rule names them (as pkg/enduser
		// does behind). A public route admits anyone, visitors too.
		return false
	}
	if len(a.kinds) > 0 && !slices.Contains(a.kinds, c.Kind) {
		return false
	}
	if len(a.roles) > 0 && !slices.ContainsFunc(a.roles, c.HasRole) {
		return false
	}
	return c.AAL >= a.aal
}

type claimsKey struct{}

// claimsOf is the verified token of a request that passed authorize.
func claimsOf(ctx context.Context) (*accesstoken.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*accesstoken.Claims)
	return c, ok
}

// bearer reads "Authorization: Bearer <token>": present says a header was
// sent, wellFormed that it is exactly one bearer token.
func bearer(r *http.Request) (token string, present, wellFormed bool) {
	vs := r.Header.Values("Authorization")
	if len(vs) == 0 {
		return "", false, false
	}
	if len(vs) > 1 {
		return "", true, false
	}
	scheme, token, ok := strings.Cut(vs[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", true, false
	}
	return token, true, true
}

// Package accesstoken issues and verifies Sotto's end-user access tokens:
// JWTs in the RFC 9068 profile, signed with EdDSA (Ed25519) by a KeyManager
// key, as docs/adr/0009-end-user-tokens.md specifies.
//
// The identity service mints them with an Issuer (the private key stays in
// the KeyManager: Vault Transit in production) and publishes the verification
// keys as a JWK Set (Issuer.JWKS). Every other service checks them with a
// Verifier over a KeySource (pkg/enduser fetches the set from identity).
// Revocation and step-up are pkg/enduser's: a verified token is authentic
// and current, not necessarily still allowed.
//
// Errors are *errs.Error values, Unauthenticated with one of the Reason*
// reasons; none ever contains the token.
package accesstoken

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Kind says who an access token speaks for.
type Kind string

// Kinds.
const (
	KindCustomer Kind = "customer"
	KindStaff    Kind = "staff"
	// KindClient is an integrator (OAuth 2.0 client credentials): sub is the
	// client id, sid the client grant, aal 0.
	KindClient Kind = "client"
	// KindVisitor is an anonymous web-chat visitor of one shop: sub is a
	// pseudonymous visitor id ("vis_" and 26 characters), sid the same id,
	// aal 0, no roles, no scopes, no account behind it. Only rules that name
	// the kind admit it (pkg/enduser).
	KindVisitor Kind = "visitor"
)

// VisitorPrefix starts every visitor id.
const VisitorPrefix = "vis_"

// MaxVisitorLifetime bounds a visitor token's exp - iat. It is longer than
// DefaultMaxLifetime because a visitor has no refresh token (a new session
// is a new visitor, who loses the chat), and it is safe to be: a visitor
// token opens only the visitor's own web conversations.
const MaxVisitorLifetime = time.Hour

// IsVisitorID reports whether id has the shape of a visitor id: the prefix
// and 26 characters of lower-case base32.
func IsVisitorID(id string) bool {
	rest, ok := strings.CutPrefix(id, VisitorPrefix)
	if !ok || len(rest) != 26 {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

func (k Kind) valid() bool {
	switch k {
	case KindCustomer, KindStaff, KindClient, KindVisitor:
		return true
	}
	return false
}

// Assurance levels (NIST SP 800-63B authenticator assurance).
const (
	// AALNone is a client's: no person authenticated.
	AALNone = 0
	// AAL1 is a password (or another single factor).
	AAL1 = 1
	// AAL2 is a password and a second factor (or a passkey).
	AAL2 = 2
	// maxAAL bounds what a verifier accepts; nothing issues aal3 today.
	maxAAL = 3
)

// Staff roles.
const (
	RoleSupportAgent   = "support_agent"
	RolePrivacyOfficer = "privacy_officer"
	RoleAdmin          = "admin"
)

// DefaultAudience is the audience every Sotto service accepts (ADR 0009).
const DefaultAudience = "sotto"

// Claims are an access token's claims (ADR 0009). Times are whole seconds
// on the wire (NumericDate); zero times are left out.
type Claims struct {
	// Issuer (iss) is spiffe://<trust-domain>/identity.
	Issuer string
	// Audience (aud) contains "sotto".
	Audience []string
	// Subject (sub) is the account id (the data subject id across the
	// suite) or, for KindClient, the client id, for KindVisitor the
	// visitor id.
	Subject string
	// Kind is customer, staff, client or visitor.
	Kind Kind
	// Tenant is the shop the account or client belongs to; empty for staff.
	Tenant string
	// SessionID (sid) is the session, or for a client the client grant; it is
	// what revocation names.
	SessionID string
	// AAL is the assurance level: 0 for clients, 1 password, 2 second factor.
	AAL int
	// AMR lists the authentication methods (RFC 8176: pwd, otp, hwk, swk, ...).
	AMR []string
	// AuthTime is when the authentication that set AAL happened; a step-up
	// moves it.
	AuthTime time.Time
	// Roles are a staff member's roles.
	Roles []string
	// Scope is a client's space-separated scopes.
	Scope string
	// IssuedAt (iat), NotBefore (nbf) and Expiry (exp).
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
	// ID (jti) is unique per token.
	ID string
}

// HasRole reports whether the token carries role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Scopes splits Scope.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether scope is one of the token's scopes.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes(), scope) }

// HasAudience reports whether aud is one of the token's audiences.
func (c *Claims) HasAudience(aud string) bool { return slices.Contains(c.Audience, aud) }

// Clone returns a copy that shares nothing with c.
func (c *Claims) Clone() *Claims {
	out := *c
	out.Audience = slices.Clone(c.Audience)
	out.AMR = slices.Clone(c.AMR)
	out.Roles = slices.Clone(c.Roles)
	return &out
}

// wireClaims is the JSON form of Claims.
type wireClaims struct {
	Issuer    string   `json:"iss"`
	Audience  audience `json:"aud"`
	Subject   string   `json:"sub"`
	Kind      Kind     `json:"kind"`
	Tenant    string   `json:"tenant,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	AAL       int      `json:"aal"`
	AMR       []string `json:"amr,omitempty"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf,omitempty"`
	Expiry    int64    `json:"exp"`
	ID        string   `json:"jti"`
}

// audience is aud, which RFC 7519 lets be one string or an array; we write
// an array and read both.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func (c *Claims) wire() wireClaims {
	return wireClaims{
		Issuer: c.Issuer, Audience: audience(c.Audience), Subject: c.Subject, Kind: c.Kind,
		Tenant: c.Tenant, SessionID: c.SessionID, AAL: c.AAL, AMR: c.AMR, AuthTime: unix(c.AuthTime),
		Roles: c.Roles, Scope: c.Scope, IssuedAt: unix(c.IssuedAt), NotBefore: unix(c.NotBefore),
		Expiry: unix(c.Expiry), ID: c.ID,
	}
}

func (w *wireClaims) claims() *Claims {
	return &Claims{
		Issuer: w.Issuer, Audience: []string(w.Audience), Subject: w.Subject, Kind: w.Kind,
		Tenant: w.Tenant, SessionID: w.SessionID, AAL: w.AAL, AMR: w.AMR, AuthTime: fromUnix(w.AuthTime),
		Roles: w.Roles, Scope: w.Scope, IssuedAt: fromUnix(w.IssuedAt), NotBefore: fromUnix(w.NotBefore),
		Expiry: fromUnix(w.Expiry), ID: w.ID,
	}
}

// check is what a token's claims must satisfy beyond the signature and the
// times, whoever made it: the issuer checks before signing, the verifier
// after (a key that signs nonsense must not make nonsense an end user).
func (c *Claims) check() string {
	switch {
	case c.Subject == "":
		return "sub is missing"
	case !c.Kind.valid():
		return "kind is not customer, staff, client or visitor"
	case c.SessionID == "":
		return "sid is missing"
	case c.ID == "":
		return "jti is missing"
	case c.IssuedAt.IsZero() || c.Expiry.IsZero():
		return "iat or exp is missing"
	case !c.Expiry.After(c.IssuedAt):
		return "exp is not after iat"
	case c.AAL < AALNone || c.AAL > maxAAL:
		return "aal is out of range"
	case c.Kind == KindClient && (c.AAL != AALNone || len(c.Roles) > 0):
		return "a client token has no aal and no roles"
	case c.Kind == KindVisitor:
		// Checked apart from people: a visitor authenticated nothing, so a
		// visitor token that claims a level, a method, roles or scopes is
		// forged or a bug, never an anonymous session.
		switch {
		case c.AAL != AALNone || len(c.AMR) > 0 || !c.AuthTime.IsZero():
			return "a visitor token has no aal, amr or auth_time"
		case len(c.Roles) > 0 || c.Scope != "":
			return "a visitor token has no roles and no scope"
		case c.Tenant == "":
			return "a visitor token needs a tenant"
		case !IsVisitorID(c.Subject) || c.SessionID != c.Subject:
			return "a visitor token's sub and sid are its visitor id"
		}
	case c.Kind != KindClient && c.AAL < AAL1:
		return "a person's token needs aal 1 or more"
	case c.Kind != KindClient && c.AuthTime.IsZero():
		return "auth_time is missing"
	case c.AuthTime.After(c.IssuedAt):
		// A step-up rule measures the age of auth_time: one from the future
		// would keep an elevation fresh.
		return "auth_time is after iat"
	case c.Kind == KindCustomer && len(c.Roles) > 0:
		return "a customer token has no roles"
	}
	return ""
}

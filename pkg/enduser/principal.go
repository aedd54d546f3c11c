// Package enduser authenticates the person (or integrator) behind a gRPC
// call, next to the workload that makes it (ADR 0009). The workload is the
// mTLS peer, authorised per RPC by pkg/authz; the end user is the subject of
// the access token the call carries in `authorization: Bearer <jwt>`
// metadata, verified here (pkg/accesstoken), checked against the revocation
// feed, and held to the service's per-RPC step-up policy. The two are
// separate facts on the context: mtls.PeerID says which workload called,
// FromContext which end user it acts for, and authorisation may require
// both.
//
// A service turns it on with pkg/service's Service.EndUsers, which dials
// identity for the keys (GetJwks) and the revocations (WatchRevocations).
package enduser

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/sottohq/sotto/pkg/accesstoken"
)

// Principal is the verified end user of a call.
type Principal struct {
	// Subject is the account id (the data subject id across the suite) or,
	// for KindClient, the integrator's client id.
	Subject string
	// Kind is customer, staff, client or visitor.
	Kind accesstoken.Kind
	// Tenant is the shop the account or client belongs to; empty for staff.
	Tenant string
	// SessionID is the session (or a client's grant).
	SessionID string
	// AAL is the assurance level: 0 clients, 1 password, 2 second factor.
	AAL int
	// AMR lists how the user authenticated (RFC 8176).
	AMR []string
	// AuthTime is when the authentication that set AAL happened.
	AuthTime time.Time
	// Roles are a staff member's roles.
	Roles []string
	// Scopes are a client's scopes.
	Scopes []string
	// Expiry is when the token ends.
	Expiry time.Time

	// token is the verified access token, for Forward.
	token string
}

// HasRole reports whether the principal has role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasScope reports whether the principal has scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// IsPerson reports whether a person with an account (customer or staff),
// not an integrator or an anonymous visitor, is behind the call.
func (p Principal) IsPerson() bool {
	return p.Kind == accesstoken.KindCustomer || p.Kind == accesstoken.KindStaff
}

func principalOf(c *accesstoken.Claims, token string) Principal {
	return Principal{
		Subject: c.Subject, Kind: c.Kind, Tenant: c.Tenant, SessionID: c.SessionID, AAL: c.AAL,
		AMR: c.AMR, AuthTime: c.AuthTime, Roles: c.Roles, Scopes: c.Scopes(), Expiry: c.Expiry,
		token: token,
	}
}

type principalKey struct{}

// FromContext returns the call's verified end user; false when the call
// carries none (a workload acting on its own, or a method whose rule does not
// read tokens).
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// NewContext returns ctx carrying p. The interceptor is what puts verified
// principals on contexts; this is for tests of code that reads them.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Forward returns ctx with the end user's access token in its outgoing
// metadata, for a call this service makes to another on the user's behalf
// (which verifies it itself). Without an end user on ctx it returns ctx.
func Forward(ctx context.Context) context.Context {
	p, ok := FromContext(ctx)
	if !ok || p.token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, authorizationKey, "Bearer "+p.token)
}

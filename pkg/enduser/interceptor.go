package enduser

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

// authorizationKey is the metadata key the token travels in (gRPC keys are
// lower case; grpc-gateway forwards the HTTP Authorization header as it).
const authorizationKey = "authorization"

// RevocationChecker refuses revoked tokens; *Revocations is one.
type RevocationChecker interface {
	Check(c *accesstoken.Claims) error
}

// Authenticator is the end-user half of a service's authentication: it
// verifies the call's access token, checks it against the revocations and
// applies the method's rule from the Policy.
type Authenticator struct {
	verifier    *accesstoken.Verifier
	revocations RevocationChecker
	policy      Policy
	clock       clockwork.Clock
}

// Option configures an Authenticator.
type Option func(*Authenticator)

// WithClock sets the clock step-up ages are measured with (tests).
func WithClock(c clockwork.Clock) Option { return func(a *Authenticator) { a.clock = c } }

// NewAuthenticator checks tokens with verifier and revocations and applies
// policy, whose rules must be valid (Policy.Check); that it covers exactly
// the served methods is checked once they are registered (CheckMethods).
func NewAuthenticator(verifier *accesstoken.Verifier, revocations RevocationChecker, policy Policy, opts ...Option) (*Authenticator, error) {
	if verifier == nil || revocations == nil {
		return nil, errs.E(errs.InvalidArgument, "AUTHENTICATOR_INVALID", "an authenticator needs a verifier and revocations")
	}
	if err := policy.Check(); err != nil {
		return nil, err
	}
	a := &Authenticator{verifier: verifier, revocations: revocations, policy: policy, clock: clockwork.NewRealClock()}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Policy is the table the authenticator applies.
func (a *Authenticator) Policy() Policy { return a.policy }

// CheckMethods checks the policy against the methods the server serves
// (see Policy.CheckMethods).
func (a *Authenticator) CheckMethods(served []string) error { return a.policy.CheckMethods(served) }

// Authenticate verifies token (signature, issuer, audience, times) and
// checks that its session or client is not revoked. It is for an edge that
// reads tokens itself (the gateway's HTTP routes); gRPC services get it
// through the interceptors.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*accesstoken.Claims, error) {
	c, err := a.verifier.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := a.revocations.Check(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Allow applies rule's conditions (kinds, roles, scopes, then level and
// age) to verified claims: PermissionDenied END_USER_FORBIDDEN when the end
// user may not call it at all, *StepUpError when a fresh or stronger
// authentication would let them.
func (a *Authenticator) Allow(rule Rule, c *accesstoken.Claims) error {
	forbidden := func() error {
		return errs.E(errs.PermissionDenied, ReasonEndUserForbidden, "the end user may not call this method")
	}
	if len(rule.AnyOf) > 0 {
		var stepUp error
		for _, alt := range rule.AnyOf {
			err := a.Allow(alt, c)
			if err == nil {
				return nil
			}
			if stepUp == nil && errors.Is(err, &StepUpError{}) {
				stepUp = err
			}
		}
		if stepUp != nil {
			return stepUp
		}
		return forbidden()
	}
	switch {
	case c.Kind == accesstoken.KindVisitor && !slices.Contains(rule.Kinds, accesstoken.KindVisitor):
		// An anonymous visitor is admitted only where a rule names them:
		// "any kind" means any kind of person or integrator with an
		// identity, never an anonymous session.
		return forbidden()
	case len(rule.Kinds) > 0 && !slices.Contains(rule.Kinds, c.Kind):
		return forbidden()
	case len(rule.Roles) > 0 && !anyOf(rule.Roles, c.HasRole):
		return forbidden()
	case len(rule.Scopes) > 0 && !allOf(rule.Scopes, c.HasScope):
		return forbidden()
	}
	tooOld := rule.MaxAge > 0 && a.clock.Now().Sub(c.AuthTime) > rule.MaxAge
	if c.AAL < rule.AAL || tooOld {
		if c.Kind == accesstoken.KindClient {
			return forbidden() // an integrator cannot step up
		}
		return &StepUpError{RequiredAAL: max(rule.AAL, accesstoken.AAL1), MaxAge: rule.MaxAge}
	}
	return nil
}

// authenticate applies the method's rule to the call: it returns ctx with
// the end user on it (FromContext, and auditclient.WithEndUser so audit
// events name them) or the refusal.
func (a *Authenticator) authenticate(ctx context.Context, method string) (context.Context, error) {
	rule, ok := a.policy[method]
	if !ok {
		if exempt(method) {
			return ctx, nil
		}
		return nil, errs.E(errs.PermissionDenied, ReasonNoEndUserRule, "method has no end-user rule")
	}
	if len(rule.Workloads) > 0 {
		// pkg/authz ran first, so the peer is a workload it admitted; a
		// call without one cannot be matched to its rule and is refused.
		id, err := mtls.PeerID(ctx)
		if err != nil {
			return nil, err
		}
		rule = rule.forWorkload(strings.TrimPrefix(id.Path(), "/"))
	}
	if rule.Require == None {
		return ctx, nil
	}
	token, present, err := bearer(ctx)
	if err != nil {
		return nil, err // a malformed header is refused, even where optional
	}
	if !present {
		if rule.Require == Optional {
			return ctx, nil
		}
		return nil, errs.E(errs.Unauthenticated, accesstoken.ReasonTokenMissing, "this method needs an end user's access token")
	}
	c, err := a.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	if rule.Require == User {
		if err := a.Allow(rule, c); err != nil {
			return nil, err
		}
	} else if c.Kind == accesstoken.KindVisitor {
		// Optional rules name no kinds, so none admits a visitor: the call
		// would otherwise go on as if a person with an account were behind it.
		return nil, errs.E(errs.PermissionDenied, ReasonEndUserForbidden, "the end user may not call this method")
	}
	p := principalOf(c, token)
	ctx = withRevalidate(NewContext(ctx, p), a.revocations, c)
	return auditclient.WithEndUser(ctx, p.Subject), nil
}

// bearer reads the one `authorization: Bearer <jwt>` value of the call.
// More than one value, another scheme or a token with spaces is
// TOKEN_MALFORMED: which of two tokens would count is not a question to
// answer.
func bearer(ctx context.Context) (token string, present bool, err error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get(authorizationKey)
	switch len(vs) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", true, errs.E(errs.Unauthenticated, accesstoken.ReasonTokenMalformed, "more than one authorization value")
	}
	scheme, rest, ok := strings.Cut(vs[0], " ")
	token = strings.TrimLeft(rest, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", true, errs.E(errs.Unauthenticated, accesstoken.ReasonTokenMalformed, "authorization is not a bearer token")
	}
	return token, true, nil
}

// UnaryInterceptor authenticates end users of unary calls.
func (a *Authenticator) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor authenticates end users of streams, once at the start.
// A long stream should end when its token expires (Principal.Expiry) or
// its session is revoked (Revalidate): the interceptor cannot end it
// itself without cutting a message in half.
func (a *Authenticator) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.authenticate(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &endUserStream{ServerStream: ss, ctx: ctx})
	}
}

type endUserStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *endUserStream) Context() context.Context { return s.ctx }

func anyOf(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if f(x) {
			return true
		}
	}
	return false
}

func allOf(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

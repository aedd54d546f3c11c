// Package authz decides, for every RPC, whether the calling workload may make
// it. The decision is deny by default and rests only on the caller's SPIFFE ID
// as proven by its mTLS certificate (see pkg/mtls): a method absent from the
// policy is denied to everyone, health checks included.
package authz

import (
	"context"
	"sort"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

// AnyWorkload in a Policy entry admits every known workload: the names New
// is given (the suite's services and its operator clients), not every name
// a certificate of the trust domain may carry. A certificate issued by the
// same CA for a name the suite does not know (spiffe://<td>/evil, a
// leftover test identity) is refused like any unlisted caller.
const AnyWorkload = "*"

// Policy maps a full gRPC method name ("/sotto.audit.v1.AuditService/AppendEvents")
// to the workloads allowed to call it. Values are service names in the trust
// domain ("gateway", "sotto-cli"), i.e. the single path segment of
// spiffe://<trust-domain>/<name>, or AnyWorkload ("*") for every known
// workload (see New). IDs with deeper paths or from other trust domains
// never match.
//
// A service declares its whole policy in one literal so a reviewer can read
// who may call what in one place:
//
//	authz.Policy{
//		"/sotto.audit.v1.AuditService/AppendEvents": {"conversation", "tokenvault"},
//		"/grpc.health.v1.Health/Check":              {"*"},
//	}
type Policy map[string][]string

// Authorizer enforces a validated Policy for one trust domain.
type Authorizer struct {
	td    spiffeid.TrustDomain
	rules map[string]rule
}

// rule is the compiled form of one policy entry: the workload names it
// admits (AnyWorkload expanded to the known ones).
type rule struct {
	names map[string]bool
}

// New validates p and compiles it for trustDomain. Every method must look
// like "/pkg.Service/Method" and list at least one caller; every caller must
// be "*" or a valid SPIFFE path segment. A typo in the policy is a start-up
// error, not a silently unreachable RPC.
//
// known is the set AnyWorkload stands for: the workloads the caller knows
// to exist (pkg/server passes the suite manifest's services and clients).
// A policy that uses AnyWorkload without any known workload is refused
// rather than left open to every name or closed to all of them.
func New(trustDomain spiffeid.TrustDomain, known []string, p Policy) (*Authorizer, error) {
	if trustDomain.IsZero() {
		return nil, errs.E(errs.InvalidArgument, "INVALID_POLICY", "authorization policy needs a trust domain")
	}
	for _, name := range known {
		if spiffeid.ValidatePathSegment(name) != nil {
			return nil, errs.E(errs.InvalidArgument, "INVALID_POLICY", "known workload %q is not a workload name", name)
		}
	}
	a := &Authorizer{td: trustDomain, rules: make(map[string]rule, len(p))}
	methods := make([]string, 0, len(p))
	for m := range p {
		methods = append(methods, m)
	}
	sort.Strings(methods) // report the same error on every run
	for _, method := range methods {
		if !validMethod(method) {
			return nil, errs.E(errs.InvalidArgument, "INVALID_POLICY", "policy method %q is not of the form /pkg.Service/Method", method)
		}
		callers := p[method]
		if len(callers) == 0 {
			return nil, errs.E(errs.InvalidArgument, "INVALID_POLICY", "policy method %s lists no callers; remove it to deny everyone", method)
		}
		r := rule{names: make(map[string]bool, len(callers))}
		for _, name := range callers {
			switch {
			case name == AnyWorkload:
				if len(known) == 0 {
					return nil, errs.E(errs.InvalidArgument, "INVALID_POLICY", "policy method %s admits any workload, but no known workloads were given", method)
				}
				for _, k := range known {
					r.names[k] = true
				}
			case name == "":
				return nil, errs.E(errs.InvalidArgument, "INVALID_POLICY", "policy method %s has an empty caller name", method)
			case spiffeid.ValidatePathSegment(name) != nil:
				return nil, errs.E(errs.InvalidArgument, "INVALID_POLICY", "policy method %s: caller %q is not a workload name", method, name)
			default:
				r.names[name] = true
			}
		}
		a.rules[method] = r
	}
	return a, nil
}

// validMethod reports whether m is "/<service>/<method>" with a
// package-qualified service, using only the characters protobuf identifiers
// allow. It rules out wildcards and paths with extra segments.
func validMethod(m string) bool {
	svc, method, ok := strings.Cut(strings.TrimPrefix(m, "/"), "/")
	if !ok || !strings.HasPrefix(m, "/") || svc == "" || method == "" {
		return false
	}
	if !strings.Contains(svc, ".") || strings.HasPrefix(svc, ".") || strings.HasSuffix(svc, ".") || strings.Contains(svc, "..") {
		return false
	}
	return isIdent(strings.ReplaceAll(svc, ".", "")) && isIdent(method)
}

func isIdent(s string) bool {
	for _, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Authorize allows the call in ctx to fullMethod or returns the reason not
// to: Unauthenticated (NO_PEER_IDENTITY) when the caller has no verified
// workload identity, PermissionDenied (CALLER_NOT_ALLOWED) when the policy
// does not list it for the method, or does not list the method at all.
func (a *Authorizer) Authorize(ctx context.Context, fullMethod string) error {
	id, err := mtls.PeerID(ctx)
	if err != nil {
		return err
	}
	if !a.allowed(id, fullMethod) {
		// SPIFFE IDs and method names are not personal data, and the caller
		// needs them to tell which policy entry to ask for.
		return errs.E(errs.PermissionDenied, "CALLER_NOT_ALLOWED", "workload %s may not call %s", id, fullMethod)
	}
	return nil
}

// allowed is the policy decision itself, kept free of gRPC for table tests.
func (a *Authorizer) allowed(id spiffeid.ID, fullMethod string) bool {
	r, ok := a.rules[fullMethod]
	if !ok || !id.MemberOf(a.td) {
		return false
	}
	// A workload ID is spiffe://<td>/<name>: exactly one path segment. The
	// trust domain's own ID and deeper paths name no workload of ours.
	name, ok := strings.CutPrefix(id.Path(), "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return false
	}
	return r.names[name]
}

// UnaryInterceptor enforces the policy on unary RPCs. It belongs early in the
// chain, before validation and the handler, so no service code runs for a
// caller that may not call (pkg/server puts request decoding before it: a
// malformed request is refused as such whoever sends it).
func (a *Authorizer) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := a.Authorize(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor enforces the policy on streaming RPCs before the handler
// sees the first message.
func (a *Authorizer) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := a.Authorize(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

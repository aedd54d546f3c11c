// Package grpcedge is the gateway's gRPC edge for integrators: a messaging
// platform or CRM calls Sotto's gRPC APIs natively, over TLS, with an
// access token from the OAuth 2.0 client-credentials grant (ADR 0011).
//
// Each call is checked here before it reaches a service: the method must be
// in the edge's table (Methods; deny by default), the token must be a
// client's, valid and not revoked (pkg/enduser's Authenticator, the same as
// the REST edge's), carry the method's scope and stay in its tenant, and the
// client must be within its quota. Then the call is relayed, undecoded, to
// the service over the gateway's own mTLS connection to it, with the
// verified token as metadata so that the service checks it again. Refusals
// are audited like the REST edge's.
package grpcedge

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/telemetry"
	"github.com/sottohq/sotto/services/gateway/internal/clientaddr"
)

// Domain is the ErrorInfo domain of the edge's own refusals (the REST
// edge's too); a backend's status keeps its service's domain.
var Domain = errs.ServiceDomain("gateway")

// Authenticator checks an access token: signature, issuer, audience, times
// and revocation (pkg/enduser's, fed by identity's keys and revocation
// feed). Its errors are *errs.Error values with a reason.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*accesstoken.Claims, error)
}

// Auditor records refused authentications (the gateway's AuthAuditor).
type Auditor interface {
	Refused(ctx context.Context, reason, requestID string)
}

// Options are the edge's dependencies and settings.
type Options struct {
	// Methods is the table of what integrators may call (Integrators).
	Methods Methods
	// Backends are the gateway's connections to the services, by name;
	// every backend the table names must be here.
	Backends map[string]grpc.ClientConnInterface
	// Auth verifies tokens; Audit records refusals (nil: none recorded).
	Auth  Authenticator
	Audit Auditor
	// TLS is the server's TLS configuration (ServerTLS).
	TLS    *tls.Config
	Logger *slog.Logger
	// Telemetry traces and measures the calls of the table's methods; nil
	// for none.
	Telemetry *telemetry.Telemetry
	// ClientQuota is every client's call rate; ClientQuotas overrides it
	// per client id.
	ClientQuota  Quota
	ClientQuotas map[string]Quota
	// PublicQuota is the call rate of the public methods (the token grant)
	// per source address (IPv6 by /64), as the REST edge limits its
	// authentication routes.
	PublicQuota Quota
	// MaxMsgBytes bounds a message in either direction (the suite's
	// SOTTO_MAX_RECV_MSG_BYTES).
	MaxMsgBytes int
	// ShutdownTimeout bounds the graceful stop before open calls are cut.
	ShutdownTimeout time.Duration
	// MaxTracked bounds the quota buckets kept (clients, and sources);
	// default 10000 each.
	MaxTracked int
}

// Edge is the gRPC server integrators call.
type Edge struct {
	methods  Methods
	backends map[string]grpc.ClientConnInterface
	auth     Authenticator
	audit    Auditor
	logger   *slog.Logger
	maxMsg   int
	shutdown time.Duration

	clients *limiter[string]
	sources *limiter[netip.Prefix]
	srv     *grpc.Server
}

// New builds the edge; Serve runs it.
func New(o Options) (*Edge, error) {
	switch {
	case o.Auth == nil:
		return nil, errors.New("grpc edge: an authenticator is required")
	case o.TLS == nil:
		// Never plaintext: there is no option for it.
		return nil, errors.New("grpc edge: a TLS configuration is required")
	case o.TLS.MinVersion < tls.VersionTLS13:
		return nil, errors.New("grpc edge: TLS 1.3 is required")
	case o.MaxMsgBytes <= 0 || o.ShutdownTimeout <= 0:
		return nil, errors.New("grpc edge: message size limit and shutdown timeout are required")
	case !o.ClientQuota.valid() || !o.PublicQuota.valid():
		return nil, errors.New("grpc edge: quotas need a positive rate and a burst of at least 1")
	}
	for id, q := range o.ClientQuotas {
		if !q.valid() {
			return nil, fmt.Errorf("grpc edge: quota of client %q needs a positive rate and a burst of at least 1", id)
		}
	}
	if err := o.Methods.Check(func(name string) bool { return o.Backends[name] != nil }); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxTracked <= 0 {
		o.MaxTracked = 10000
	}
	e := &Edge{
		methods: o.Methods, backends: o.Backends, auth: o.Auth, audit: o.Audit, logger: o.Logger,
		maxMsg: o.MaxMsgBytes, shutdown: o.ShutdownTimeout,
		clients: newLimiter(o.MaxTracked, func(id string) Quota {
			if q, ok := o.ClientQuotas[id]; ok {
				return q
			}
			return o.ClientQuota
		}),
		sources: newLimiter(o.MaxTracked, func(netip.Prefix) Quota { return o.PublicQuota }),
	}
	opts := []grpc.ServerOption{
		grpc.Creds(credentials.NewTLS(o.TLS)),
		grpc.ForceServerCodecV2(rawCodec{}),
		// Every call lands here: no service is registered on the edge.
		grpc.UnknownServiceHandler(e.handle),
		grpc.MaxRecvMsgSize(o.MaxMsgBytes),
		grpc.MaxSendMsgSize(o.MaxMsgBytes),
		// The REST edge's header bound; a token is about a kilobyte.
		grpc.MaxHeaderListSize(64 << 10),
		// Bounds what one connection runs at once (the quota bounds how
		// often calls start), and how long a TLS handshake may dawdle.
		grpc.MaxConcurrentStreams(100),
		grpc.ConnectionTimeout(10 * time.Second),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 5 * time.Minute}),
	}
	if o.Telemetry != nil {
		opts = append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(o.Telemetry.Tracer),
			otelgrpc.WithMeterProvider(o.Telemetry.Meter),
			// An integrator's trace context is not read at all: the call
			// starts a trace of its own. (Marking the edge a public
			// endpoint is not enough: without an OTLP collector the tracer
			// is a no-op that keeps the incoming context, which would then
			// name the audit events of refusals and travel on to the
			// services through the gateway's connections.)
			otelgrpc.WithPropagators(propagation.NewCompositeTextMapPropagator()),
			// Only the table's methods are measured, so made-up method
			// names cannot grow the metrics.
			otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
				_, ok := o.Methods[info.FullMethodName]
				return ok
			}),
		)))
	}
	e.srv = grpc.NewServer(opts...)
	return e, nil
}

// Serve serves integrators on lis until ctx is done, then stops
// gracefully: open calls get the shutdown timeout to finish, then are cut.
func (e *Edge) Serve(ctx context.Context, lis net.Listener) error {
	e.logger.Info("serving", "component", "grpc-edge", "addr", lis.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- e.srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { e.srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(e.shutdown):
		e.logger.Warn("drain timed out; cutting the remaining calls", "component", "grpc-edge")
		e.srv.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Edge response header and the metadata the edge sets for the services.
const (
	// requestIDHeader goes back to the integrator on every call, so that
	// support can find the call in the logs and a refusal in the audit log.
	requestIDHeader = "x-request-id"
	// authorizationKey carries the verified token to the service.
	authorizationKey = "authorization"
	// clientIPMetadata and userAgentMetadata are what the REST edge tells
	// the services about a request (identity throttles by the address);
	// the services believe them from the gateway's workload only.
	clientIPMetadata  = "x-sotto-client-ip"
	userAgentMetadata = "x-sotto-user-agent"
	maxUserAgent      = 128
)

// callerAnonymous is the caller kind logged for a call without a verified
// token.
const callerAnonymous = "anonymous"

// handle serves one call, whatever its method, and logs it: the method
// (only one of the table's; anything else as "unknown"), status, duration,
// caller kind and request ID. Nothing from the messages or metadata.
func (e *Edge) handle(_ any, ss grpc.ServerStream) (err error) {
	start := time.Now()
	ctx := ss.Context()
	name, _ := grpc.MethodFromServerStream(ss)
	requestID := newRequestID()
	ss.SetHeader(metadata.Pairs(requestIDHeader, requestID))
	caller := callerAnonymous
	defer func() {
		if r := recover(); r != nil {
			e.logger.Error("panic in grpc edge", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
		logged := "unknown"
		if _, ok := e.methods[name]; ok {
			logged = name
		}
		code := status.Code(err)
		level := slog.LevelInfo
		switch code {
		case codes.Internal, codes.Unknown, codes.DataLoss:
			level = slog.LevelError
		}
		e.logger.LogAttrs(ctx, level, "grpc",
			slog.String("method", logged),
			slog.String("code", code.String()),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()),
			slog.String("caller", caller),
			slog.String("request_id", requestID))
	}()
	return e.serve(ctx, ss, name, requestID, &caller)
}

func (e *Edge) serve(ctx context.Context, ss grpc.ServerStream, name, requestID string, caller *string) error {
	m, ok := e.methods[name]
	if !ok {
		return refusal(codes.Unimplemented, ReasonMethodNotOffered, "this method is not offered on the gateway's gRPC edge", nil).Err()
	}
	ip := peerIP(ctx)
	out := metadata.MD{}
	if ip.IsValid() {
		out.Set(clientIPMetadata, ip.String())
	}
	if ua := userAgent(ctx); ua != "" {
		out.Set(userAgentMetadata, ua)
	}
	var claims *accesstoken.Claims
	if m.Public {
		if !ip.IsValid() {
			return status.Error(codes.Internal, "internal error")
		}
		if ok, wait := e.sources.allow(clientaddr.Source(ip), time.Now()); !ok {
			return rateLimited(wait, "too many calls from this address; retry later")
		}
	} else {
		var token string
		var err error
		claims, token, err = e.authenticate(ctx, m, requestID)
		if err != nil {
			return err
		}
		*caller = string(claims.Kind)
		if ok, wait := e.clients.allow(claims.Subject, time.Now()); !ok {
			return rateLimited(wait, "this client has used its call quota; retry later")
		}
		out.Set(authorizationKey, "Bearer "+token)
	}
	var first *frame
	if m.Tenant != nil {
		first = new(frame)
		if err := ss.RecvMsg(first); err != nil {
			if errors.Is(err, io.EOF) {
				return refusal(codes.InvalidArgument, ReasonMalformedRequest, "the call carries no request", nil).Err()
			}
			return err
		}
		tenant, err := m.Tenant(first.data)
		if err != nil {
			return refusal(codes.InvalidArgument, ReasonMalformedRequest, "the request does not decode", nil).Err()
		}
		if tenant != orDefaultTenant(claims.Tenant) {
			e.refused(auditclient.WithEndUser(ctx, claims.Subject), ReasonTenantMismatch, requestID)
			return refusal(codes.PermissionDenied, ReasonTenantMismatch, "the request names a tenant that is not the client's", nil).Err()
		}
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Built from nothing: what the integrator sent in its metadata (trace
	// context, x-sotto-* look-alikes, anything) goes no further. The
	// deadline travels with the context.
	cs, err := e.backends[m.Backend].NewStream(metadata.NewOutgoingContext(callCtx, out), relayDesc, name,
		grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallRecvMsgSize(e.maxMsg), grpc.MaxCallSendMsgSize(e.maxMsg))
	if err != nil {
		return fromBackend(err)
	}
	return relay(ss, cs, first, cancel)
}

// authenticate reads and verifies the call's token and applies the
// method's rule to it: a client's token with the method's scope. It returns
// the claims and the token to forward, or the refusal (audited).
func (e *Edge) authenticate(ctx context.Context, m Method, requestID string) (*accesstoken.Claims, string, error) {
	token, err := bearer(ctx)
	if err != nil {
		why := refusalInvalidToken
		if errs.ReasonOf(err) == accesstoken.ReasonTokenMissing {
			why = refusalMissingToken
		}
		e.refused(ctx, why, requestID)
		return nil, "", inDomain(err)
	}
	claims, err := e.auth.Authenticate(ctx, token)
	if err != nil {
		if errs.Is(err, errs.Unavailable) {
			// Not a refusal of the client: the edge cannot check right now.
			return nil, "", inDomain(err)
		}
		why := errs.ReasonOf(err)
		if why == "" {
			why = refusalInvalidToken
		}
		e.refused(ctx, why, requestID)
		if !errs.Is(err, errs.Unauthenticated) {
			err = errs.E(errs.Unauthenticated, accesstoken.ReasonTokenInvalid, "the access token is not valid")
		}
		return nil, "", inDomain(err)
	}
	actor := auditclient.WithEndUser(ctx, claims.Subject)
	if claims.Kind != accesstoken.KindClient {
		e.refused(actor, ReasonClientTokenRequired, requestID)
		return nil, "", refusal(codes.PermissionDenied, ReasonClientTokenRequired, "the gRPC edge serves integrators: use a client's access token", nil).Err()
	}
	if !claims.HasScope(m.Scope) {
		e.refused(actor, ReasonScopeRequired, requestID)
		return nil, "", refusal(codes.PermissionDenied, ReasonScopeRequired, "the access token lacks the scope this method needs",
			map[string]string{MetadataRequiredScope: m.Scope}).Err()
	}
	return claims, token, nil
}

func (e *Edge) refused(ctx context.Context, reason, requestID string) {
	if e.audit != nil {
		e.audit.Refused(ctx, reason, requestID)
	}
}

// bearer reads the call's one `authorization: Bearer <token>` value, as
// pkg/enduser does: two values, another scheme or a token with spaces is
// TOKEN_MALFORMED.
func bearer(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get(authorizationKey)
	switch len(vs) {
	case 0:
		return "", errs.E(errs.Unauthenticated, accesstoken.ReasonTokenMissing, "this method needs a client's access token (authorization: Bearer)")
	case 1:
	default:
		return "", errs.E(errs.Unauthenticated, accesstoken.ReasonTokenMalformed, "more than one authorization value")
	}
	scheme, rest, ok := strings.Cut(vs[0], " ")
	token := strings.TrimLeft(rest, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", errs.E(errs.Unauthenticated, accesstoken.ReasonTokenMalformed, "authorization is not a bearer token")
	}
	return token, nil
}

// inDomain is err's status with its ErrorInfo in the gateway's domain.
func inDomain(err error) error {
	return errs.InDomain(errs.ToStatus(err), Domain).Err()
}

// refusal is a status with an ErrorInfo in the gateway's domain.
func refusal(code codes.Code, reason, msg string, md map[string]string) *status.Status {
	st := status.New(code, msg)
	if with, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: md}); err == nil {
		return with
	}
	return st
}

// rateLimited is ResourceExhausted RATE_LIMITED with RetryInfo (whole
// seconds, rounded up, as the REST edge's Retry-After).
func rateLimited(wait time.Duration, msg string) error {
	wait = wait.Truncate(time.Second) + time.Second
	st := refusal(codes.ResourceExhausted, ReasonRateLimited, msg, nil)
	if with, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = with
	}
	return st.Err()
}

// peerIP is the address of the connection's peer: the edge is reached
// directly or through a TCP (layer 4) load balancer that keeps source
// addresses, so there is no forwarded header to believe.
func peerIP(ctx context.Context) netip.Addr {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(p.Addr.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// userAgent is the caller's user agent, valid UTF-8 and at most
// maxUserAgent bytes, so that identity can show a client's sessions apart.
func userAgent(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get("user-agent")
	if len(vs) == 0 {
		return ""
	}
	ua := strings.ToValidUTF8(vs[0], "")
	for len(ua) > maxUserAgent {
		_, n := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-n]
	}
	return ua
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Package gateway is Sotto's REST edge: grpc-gateway routes to the services,
// dialed over mTLS with the gateway's own workload identity, the OpenAPI
// document, request size limits and JSON errors that carry a stable reason.
package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/otel/metric"
	codepb "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	apiv1 "github.com/sottohq/sotto/gen/go/sotto/api/v1"
	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/services/gateway/internal/web"
)

// Backend is a service the gateway routes to.
type Backend struct {
	// Name is the service's name in pkg/suite's manifest.
	Name string
	// Conn reaches it with the gateway's mTLS identity (see pkg/dial). Its
	// owner closes it, after the gateway has drained: grpc-gateway's
	// ...FromEndpoint variant would close its own connection when the
	// registration context ends, i.e. at SIGTERM, failing in-flight calls.
	Conn *grpc.ClientConn
}

// registerFunc is the signature grpc-gateway generates for every service
// (Register<Service>Handler).
type registerFunc func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error

// routes links each service with REST routes (rest: true in pkg/suite's
// services.yaml) to the generated handlers of the gRPC services it serves.
// A service added to the manifest with rest: true and no line here fails
// the gateway's start and its tests.
var routes = map[string][]registerFunc{
	"audit":   {auditv1.RegisterAuditServiceHandler},
	"consent": {consentv1.RegisterConsentServiceHandler, consentv1.RegisterDataSubjectRequestServiceHandler},
	// WatchConversation has no REST mapping of its own: sse.go serves it as
	// Server-Sent Events beside these routes.
	"conversation": {conversationv1.RegisterConversationServiceHandler},
	"identity":     {identityv1.RegisterIdentityServiceHandler},
	"tokenvault":   {tokenvaultv1.RegisterTokenVaultServiceHandler},
}

// Options tune the handler.
type Options struct {
	MaxBodyBytes int64
	// Auth verifies access tokens (required: without it no route but the
	// public ones could be served, so New refuses to start).
	Auth Authenticator
	// JWKS returns identity's JSON Web Key Set and how long it may be
	// cached, served at /.well-known/jwks.json; nil serves 404.
	JWKS func(context.Context) ([]byte, time.Duration, error)
	// TrustedProxies are the load balancers in front of the gateway whose
	// X-Forwarded-For entries are believed.
	TrustedProxies []netip.Prefix
	// AuthRatePerMinute and AuthBurst limit the public authentication
	// routes per client address (IPv6 per /64).
	AuthRatePerMinute, AuthBurst int
	// Logger records internal errors (never request content) and the
	// access log.
	Logger *slog.Logger
	// AuthAudit records refused authentications; nil records none.
	AuthAudit *AuthAuditor
	// Meter counts what the edge does beside routing (GPC signals sent to
	// consent); nil counts nothing.
	Meter metric.MeterProvider
	// WidgetOrigins are the origins of the pages that embed the web chat
	// widget (scheme://host[:port]); only they may call the widget's routes
	// from a browser (widget.go). Empty: none may.
	WidgetOrigins []string
	// VisitorSessionRatePerMinute and VisitorSessionBurst limit new visitor
	// sessions per client address (default 30 and 10).
	VisitorSessionRatePerMinute, VisitorSessionBurst int
	// MessageRatePerMinute and MessageBurst limit the messages each token
	// subject posts (default 20 and 5).
	MessageRatePerMinute, MessageBurst int
	// SSEHeartbeat is how often a quiet event stream gets a comment line
	// (default 15s); MaxStreamsPerSubject bounds the streams each token
	// subject holds open (default 4).
	SSEHeartbeat         time.Duration
	MaxStreamsPerSubject int
	// MaxStreamsPerAddress bounds the event streams one client address
	// holds open (default 16); SSEMaxLifetime ends a stream after that
	// long (default 30m; the client reconnects with Last-Event-ID).
	MaxStreamsPerAddress int
	SSEMaxLifetime       time.Duration
}

// New returns the gateway's HTTP handler, routing to backends.
func New(ctx context.Context, backends []Backend, opts Options) (http.Handler, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Auth == nil {
		return nil, errors.New("gateway: no access-token authenticator")
	}
	g := &edge{auth: opts.Auth, audit: opts.AuthAudit,
		limiter:         newIPLimiter(cmp.Or(opts.AuthRatePerMinute, 30), cmp.Or(opts.AuthBurst, 10), 100_000),
		visitorSessions: newIPLimiter(cmp.Or(opts.VisitorSessionRatePerMinute, 30), cmp.Or(opts.VisitorSessionBurst, 10), 100_000),
		messages:        newKeyedLimiter[string](cmp.Or(opts.MessageRatePerMinute, 20), cmp.Or(opts.MessageBurst, 5), 100_000),
		streams:         newStreamLimiter(opts),
	}
	// Compared byte for byte with what browsers send: a setting that could
	// never match is a mistake to stop at, not to ignore ("<tenant>=<origin>"
	// or a bare origin, web.ParseWidgetOrigins).
	if _, err := web.ParseWidgetOrigins(opts.WidgetOrigins); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	openAPI, err := servedOpenAPI()
	if err != nil {
		return nil, fmt.Errorf("gateway: the OpenAPI document: %w", err)
	}
	allowed, err := newAllowIndex(openAPI)
	if err != nil {
		return nil, fmt.Errorf("gateway: the OpenAPI document's paths: %w", err)
	}
	var conversations conversationv1.ConversationServiceClient
	mux := runtime.NewServeMux(
		// Match routes on the path as sent: an encoded "/" (%2F) stays part of
		// a segment instead of creating a route the guard below never saw.
		runtime.WithUnescapingMode(runtime.UnescapingModeAllExceptReserved),
		// No HTTP headers travel on as gRPC metadata but the access token
		// (grpc-gateway forwards Authorization itself; the edge has checked
		// it, or removed it) and what edgeMetadata sets.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithMetadata(edgeMetadata),
		// Nor does a service's gRPC metadata travel back as Grpc-Metadata-*
		// headers (it would tell the world content-type: application/grpc,
		// and whatever a service or interceptor sets later): the edge sets
		// the response headers it means to send itself.
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingTrailerMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithForwardResponseOption(sessionCookies),
		runtime.WithForwardResponseOption(exportHeaders),
		// grpc-gateway keeps the query parser process-wide; one gateway per process.
		runtime.SetQueryParameterParser(strictQueryParser{}),
		runtime.WithErrorHandler(errorHandler(logger)),
		runtime.WithRoutingErrorHandler(routingErrorHandler(allowed)),
		runtime.WithMiddlewares(g.middleware),
		// A form POST (or X-HTTP-Method-Override) must not reach a GET route:
		// the fallback would let a cross-site form trigger reads and skip
		// what a method check in front of the mux decides.
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
		// A file answer (google.api.HttpBody: a data-subject export) is sent
		// as its bytes, under the headers exportHeaders sets; everything
		// else is JSON.
		// A body is one JSON value and nothing else (strictJSON).
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: strictJSON{&runtime.JSONPb{
			MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: false, UseProtoNames: true},
			// Unknown JSON fields are an error (400), not silently dropped.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}}),
	)
	// Routes call the real gRPC service over the backend's connection, so its
	// interceptors (authorization, validation, audit) run for REST calls too.
	for _, b := range backends {
		if b.Name == "consent" {
			// Customers' Sec-GPC signals go to consent (gpc.go), in the
			// background for as long as the gateway runs.
			g.gpc = newGPCRecorder(consentv1.NewConsentServiceClient(b.Conn), logger, opts.Meter)
			go g.gpc.run(ctx)
		}
		if b.Name == "conversation" {
			conversations = conversationv1.NewConversationServiceClient(b.Conn)
		}
		registers, ok := routes[b.Name]
		if !ok {
			return nil, fmt.Errorf("gateway: no REST routes for %q (add its generated handler to routes)", b.Name)
		}
		for _, register := range registers {
			if err := register(ctx, mux, b.Conn); err != nil {
				return nil, err
			}
		}
	}

	root := http.NewServeMux()
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	if opts.JWKS != nil {
		root.Handle("GET /.well-known/jwks.json", jwksHandler(logger, opts.JWKS))
	}
	if conversations != nil {
		root.Handle(sseRoute, g.events(conversations, cmp.Or(opts.SSEHeartbeat, defaultSSEHeartbeat), logger))
	}
	// The web front (widget, privacy centre, console) and its assets, with
	// their security headers (internal/web, ADR 0016).
	pages, err := web.New(web.Options{WidgetOrigins: opts.WidgetOrigins})
	if err != nil {
		return nil, fmt.Errorf("gateway: the web pages: %w", err)
	}
	for _, p := range web.Paths {
		root.Handle(p, pages)
	}
	// Every API route passes the edge's middleware (g.middleware) once
	// grpc-gateway matched it, so the rule applied is the matched route's,
	// whatever encoding the path arrived in.
	root.Handle("/", mux)
	return securityHeaders(accessLog(logger, clientIP(opts.TrustedProxies, limitBody(opts.MaxBodyBytes, validURL(widgetCORS(opts.WidgetOrigins, root)))))), nil
}

// securityHeaders gives every answer, whoever writes it (a route, an error,
// the access log's refusals, net/http's path-cleaning redirects), the
// headers no answer of the gateway goes without: never sniffed as another
// type, never cached unless the handler says otherwise (the JWKS and the
// web assets set their own Cache-Control, which replaces this one).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// validURL rejects paths and query strings that are not valid UTF-8 (they
// cannot become protobuf strings) with 400 instead of letting them fail
// later as an internal error.
func validURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := utf8.ValidString(r.URL.Path)
		for k, vs := range r.URL.Query() {
			ok = ok && utf8.ValidString(k)
			for _, v := range vs {
				ok = ok && utf8.ValidString(v)
			}
		}
		if !ok {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, reasonMalformedRequest, "request path or parameters are not valid UTF-8")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody rejects bodies over max bytes with 413 instead of reading them.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument, reasonRequestTooLarge, "request body is too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// writeError sends the error body every route returns, sotto.api.v1's
// ErrorResponse, which the OpenAPI document also describes (one definition,
// so clients generated from the document decode what is sent).
func writeError(w http.ResponseWriter, httpCode int, code codes.Code, reason, msg string, violations ...*apiv1.FieldViolation) {
	writeErrorDetails(w, httpCode, code, reason, msg, nil, violations...)
}

// writeErrorDetails is writeError with the reason's details (see
// relayedDetails).
func writeErrorDetails(w http.ResponseWriter, httpCode int, code codes.Code, reason, msg string, details map[string]string, violations ...*apiv1.FieldViolation) {
	// protojson refuses strings that are not UTF-8. A relayed status message
	// travels as a header and may hold anything (the reason and violations
	// were protobuf-decoded, so they are valid).
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	body, err := errorJSON.Marshal(&apiv1.ErrorResponse{Error: &apiv1.ErrorBody{
		Code:       int32(httpCode),
		Status:     codepb.Code(code).String(), // e.g. INVALID_ARGUMENT, as in google.rpc.Code
		Message:    msg,
		Reason:     reason,
		Violations: violations,
		Details:    details,
	}})
	if err != nil {
		httpCode = http.StatusInternalServerError
		body, _ = errorJSON.Marshal(&apiv1.ErrorResponse{Error: &apiv1.ErrorBody{
			Code: http.StatusInternalServerError, Status: codepb.Code_INTERNAL.String(), Message: "internal error", Reason: reasonInternal,
		}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	w.Write(append(body, '\n'))
}

// errorJSON keeps the body's field names as declared (the OpenAPI document
// uses them too) and leaves out an empty reason or violations list.
var errorJSON = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: false}

func errorHandler(logger *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		handleError(ctx, logger, w, r, err)
	}
}

func handleError(ctx context.Context, logger *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	st, ok := status.FromError(err)
	if !ok {
		// Errors raised by the gateway itself are the client's. (grpc-gateway
		// wraps its decoding errors, an oversized body included, in a status:
		// see the InvalidArgument case below.)
		writeError(w, http.StatusBadRequest, codes.InvalidArgument, reasonMalformedRequest, "request could not be parsed")
		return
	}
	code := st.Code()
	msg := st.Message()
	reason := ""
	var details map[string]string
	var violations []*apiv1.FieldViolation
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.Reason
			details = relayedDetails(d.GetMetadata())
			// A throttled call says when to come back (identity's lockout and
			// per-source limits, a service shedding load); HTTP clients read
			// that as Retry-After.
			if secs, err := strconv.Atoi(details["retry_after_seconds"]); err == nil && secs > 0 && (code == codes.ResourceExhausted || code == codes.Unavailable) {
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
		case *errdetails.BadRequest:
			for _, v := range d.FieldViolations {
				violations = append(violations, &apiv1.FieldViolation{Field: v.Field, Description: v.Description})
			}
		}
	}
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		// Never relay internals. Log the route pattern and code only: the
		// message may quote input.
		logger.ErrorContext(ctx, "internal error", "path", r.Pattern, "code", code.String())
		code, msg, reason = codes.Internal, "internal error", reasonInternal
	case codes.Unavailable:
		if reason == "" {
			msg, reason = "service unavailable", reasonUnavailable
		}
	}
	// grpc-gateway returns reason-less InvalidArgument statuses for input it
	// cannot parse (bad JSON, unknown fields, bad query values). Their text
	// may quote the input, which may be personal data, so it is replaced.
	if code == codes.InvalidArgument && reason == "" {
		if strings.Contains(msg, "request body too large") {
			writeError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument, reasonRequestTooLarge, "request body is too large")
			return
		}
		msg, reason = "request body or parameters could not be parsed", reasonMalformedRequest
	}
	httpCode := runtime.HTTPStatusFromCode(code)
	if reason == enduser.ReasonStepUpRequired {
		// RFC 9470: the access token is valid but its authentication is too
		// weak or too old for this call; 401 with a challenge that says
		// what is needed (the same values are in the body's details).
		httpCode = http.StatusUnauthorized
		challenge := `Bearer error="insufficient_user_authentication", error_description="step-up authentication required"`
		if age, err := strconv.Atoi(details["max_age_seconds"]); err == nil && age > 0 {
			challenge += ", max_age=" + strconv.Itoa(age)
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	writeErrorDetails(w, httpCode, code, reason, msg, details, violations...)
}

// relayedDetails keeps the ErrorInfo metadata clients may act on and drops
// the rest: a service's metadata is not meant for the public edge unless
// listed here (and these are numbers, never request content).
func relayedDetails(md map[string]string) map[string]string {
	var out map[string]string
	for _, k := range []string{"required_aal", "max_age_seconds", "retry_after_seconds"} {
		if v, ok := md[k]; ok {
			if _, err := strconv.Atoi(v); err != nil {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func routingErrorHandler(allowed allowIndex) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		switch httpStatus {
		case http.StatusMethodNotAllowed:
			if a := allowed.allow(r); a != "" {
				w.Header().Set("Allow", a)
			}
			writeError(w, httpStatus, codes.Unimplemented, reasonMethodNotAllowed, "method not allowed")
		default:
			writeError(w, http.StatusNotFound, codes.NotFound, reasonRouteNotFound, "no such route")
		}
	}
}

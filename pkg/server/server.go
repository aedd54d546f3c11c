// Package server builds the gRPC server every Sotto service runs: mTLS with
// SPIFFE identities, deny-by-default per-RPC authorization, panic recovery,
// PII-safe request logging, OpenTelemetry, error mapping, protovalidate input
// validation, message size limits, grpc.health.v1, optional reflection, an
// admin HTTP port (/metrics, /healthz, /readyz) and graceful shutdown.
//
// A service's main builds its dependencies, calls New, registers its gRPC
// service and calls Serve; everything else lives here so that every main is
// short and the same.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// Config is the part of a service's configuration that the server consumes.
// Services embed it in their own env-tagged config; every variable is read
// with the SOTTO_ prefix (SOTTO_GRPC_ADDR, ...).
type Config struct {
	// GRPCAddr is where the mTLS gRPC API listens.
	GRPCAddr string `env:"GRPC_ADDR" envDefault:"127.0.0.1:0"`
	// AdminAddr serves /metrics, /healthz and /readyz over plain HTTP; keep it
	// on loopback or a cluster-internal interface.
	AdminAddr string `env:"ADMIN_ADDR" envDefault:"127.0.0.1:0"`
	// Identity is the workload certificate: files, or Vault PKI.
	Identity mtls.Config
	// Reflection enables gRPC server reflection (off in production).
	Reflection bool `env:"GRPC_REFLECTION"`
	// MaxRecvMsgBytes bounds a request's size.
	MaxRecvMsgBytes int `env:"MAX_RECV_MSG_BYTES" envDefault:"4194304"`
	// ShutdownTimeout bounds the graceful stop before in-flight RPCs are cut.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	// MaxConnectionAge is how long a client connection lives (±10 %, grpc-go's
	// jitter) before the server asks the client to go away; 0 never does.
	// gRPC clients resolve a dns:/// target again only when a connection
	// ends, so without it replicas added by a scale-up get no calls from
	// clients that were already connected (ADR 0017).
	MaxConnectionAge time.Duration `env:"GRPC_MAX_CONNECTION_AGE" envDefault:"5m"`
	// MaxConnectionAgeGrace is how long calls in flight on a connection told
	// to go away may still run before it is closed: long enough for any unary
	// call; an open stream (a change feed, a Watch) is cut then, and its
	// client resumes from its cursor as after any disconnect.
	MaxConnectionAgeGrace time.Duration `env:"GRPC_MAX_CONNECTION_AGE_GRACE" envDefault:"30s"`
	// MaxInFlightPerCPU bounds the unary calls the service answers at once,
	// per CPU it may use (GOMAXPROCS); a call that finds no room for
	// QueueWait is refused with Unavailable OVERLOADED (shed.go). 0 sets no
	// bound.
	MaxInFlightPerCPU int           `env:"MAX_IN_FLIGHT_PER_CPU" envDefault:"64"`
	QueueWait         time.Duration `env:"QUEUE_WAIT" envDefault:"100ms"`
	// Telemetry says where traces go.
	Telemetry telemetry.Config
}

// Server is a service's gRPC server and admin port.
type Server struct {
	name   string
	cfg    Config
	logger *slog.Logger
	tel    *telemetry.Telemetry
	source *mtls.Source
	renew  func(context.Context) error // nil unless Vault PKI issues the certificate
	grpc   *grpc.Server
	health *health.Server
	admin  *Admin
	// ownsParts: New opened the identity and telemetry and serves the admin
	// port itself; with NewWithParts the process (pkg/service) does.
	ownsParts bool

	grpcLis  net.Listener
	adminLis net.Listener
	// draining is canceled when the graceful stop begins, ending open
	// streams (see drainStream).
	draining     context.Context
	stopDraining context.CancelFunc
}

// Parts are what a gRPC server shares with the rest of its process: the
// workload identity and its renewal, telemetry and the admin port. The
// process opens, runs and closes them (see pkg/service).
type Parts struct {
	Source    *mtls.Source
	Telemetry *telemetry.Telemetry
	Admin     *Admin
}

// New builds the server for the named service. The policy lists, for every
// RPC the service exposes (health checks included), the workloads allowed to
// call it; anything not listed is denied.
//
// The server opens its own workload identity and telemetry and serves its own
// admin port; a service run by pkg/service uses NewWithParts instead.
func New(ctx context.Context, name string, cfg Config, policy authz.Policy, logger *slog.Logger, opts ...Option) (*Server, error) {
	source, renew, err := mtls.Open(ctx, cfg.Identity, name, logger)
	if err != nil {
		return nil, fmt.Errorf("workload certificate: %w", err)
	}
	tel, err := telemetry.New(ctx, name, cfg.Telemetry)
	if err != nil {
		return nil, err
	}
	s, err := NewWithParts(name, cfg, policy, logger, Parts{Source: source, Telemetry: tel, Admin: NewAdmin(tel)}, opts...)
	if err != nil {
		return nil, err
	}
	s.renew, s.ownsParts = renew, true
	return s, nil
}

// NewWithParts builds the server for the named service on parts its process
// owns: Serve then runs only the gRPC server (no admin port, no certificate
// renewal, no telemetry shutdown).
func NewWithParts(name string, cfg Config, policy authz.Policy, logger *slog.Logger, parts Parts, opts ...Option) (*Server, error) {
	source, tel := parts.Source, parts.Telemetry
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.known == nil {
		// The suite's services and operator clients (pkg/suite's manifest):
		// what authz.AnyWorkload stands for.
		o.known = suite.MustLoad().Workloads()
	}
	if cfg.Reflection {
		// Reflection describes the API, not data; any known workload (e.g. an
		// operator's grpcurl with the sotto-cli certificate) may use it.
		policy = withReflection(policy)
	}
	authorizer, err := authz.New(source.ID().TrustDomain(), o.known, policy)
	if err != nil {
		return nil, fmt.Errorf("authorization policy: %w", err)
	}
	if cfg.MaxInFlightPerCPU < 0 || cfg.QueueWait < 0 {
		return nil, fmt.Errorf("load shedding: MAX_IN_FLIGHT_PER_CPU and QUEUE_WAIT must not be negative")
	}
	shed, err := newShedder(cfg.MaxInFlightPerCPU*runtime.GOMAXPROCS(0), cfg.QueueWait, o.shedExempt, tel.Meter.Meter("github.com/sottohq/sotto/pkg/server"))
	if err != nil {
		return nil, fmt.Errorf("load shedding: %w", err)
	}
	codec := newStrictCodec()
	draining, stopDraining := context.WithCancel(context.Background())
	gs := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(source.ServerTLSConfig())),
		grpc.ForceServerCodecV2(codec),
		grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(tel.Tracer),
			otelgrpc.WithMeterProvider(tel.Meter),
			otelgrpc.WithPropagators(tel.Propagator),
		)),
		grpc.ChainUnaryInterceptor(slices.Concat(
			[]grpc.UnaryServerInterceptor{
				logUnary(logger),
				recoverUnary(logger),
				decodedUnary(codec),
				errorsUnary(logger, errs.ServiceDomain(name)),
				authorizer.UnaryInterceptor(),
				// After authorization, so that only calls the policy allows
				// take room; before end-user authentication and validation,
				// so that a refused call costs next to nothing.
				shed.unary(),
			},
			o.unary,
			[]grpc.UnaryServerInterceptor{validateUnary()},
		)...),
		grpc.ChainStreamInterceptor(slices.Concat(
			[]grpc.StreamServerInterceptor{
				logStream(logger),
				drainStream(draining),
				recoverStream(logger),
				decodedStream(codec),
				errorsStream(logger, errs.ServiceDomain(name)),
				authorizer.StreamInterceptor(),
			},
			o.stream,
			[]grpc.StreamServerInterceptor{validateStream()},
		)...),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		// Without this, grpc-go answers an unknown service or method with
		// Unimplemented before any interceptor runs, so any certified caller
		// could map what exists. Routed through the stream chain instead,
		// it meets authorization first, and no policy lists it.
		grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
			return status.Error(codes.Unimplemented, "unknown method")
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      cfg.MaxConnectionAge,
			MaxConnectionAgeGrace: cfg.MaxConnectionAgeGrace,
		}),
	)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	if cfg.Reflection {
		reflection.Register(gs)
	}
	return &Server{
		name: name, cfg: cfg, logger: logger, tel: tel, source: source,
		grpc: gs, health: hs, admin: parts.Admin, draining: draining, stopDraining: stopDraining,
	}, nil
}

// Option adds to the server what only some services need.
type Option func(*options)

type options struct {
	unary      []grpc.UnaryServerInterceptor
	stream     []grpc.StreamServerInterceptor
	known      []string
	shedExempt map[string]bool
}

// WithShedExempt leaves the named methods (full gRPC method names) out of
// load shedding: methods that bound their own concurrency, whose flood
// would otherwise hold every slot while waiting for their own (shed.go).
func WithShedExempt(methods ...string) Option {
	return func(o *options) {
		if o.shedExempt == nil {
			o.shedExempt = map[string]bool{}
		}
		for _, m := range methods {
			o.shedExempt[m] = true
		}
	}
}

// WithKnownWorkloads sets the workload names authz.AnyWorkload admits,
// instead of the suite manifest's services and clients (pkg/suite
// Workloads). A certificate of the trust domain for any other name is
// refused wherever the policy says "*".
func WithKnownWorkloads(names ...string) Option {
	return func(o *options) { o.known = append([]string{}, names...) }
}

// WithInterceptors runs unary and stream (either may be nil) after workload
// authorization and before request validation: a caller the policy does not
// allow learns nothing from them, and an unauthenticated end user nothing
// about what a valid request looks like. pkg/enduser's end-user
// authentication goes here.
func WithInterceptors(unary grpc.UnaryServerInterceptor, stream grpc.StreamServerInterceptor) Option {
	return func(o *options) {
		if unary != nil {
			o.unary = append(o.unary, unary)
		}
		if stream != nil {
			o.stream = append(o.stream, stream)
		}
	}
}

// GRPC is the server services register their implementation on.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Source is the workload identity, for dialing other services as this one.
func (s *Server) Source() *mtls.Source { return s.source }

// Telemetry returns the service's providers, for instrumenting clients.
func (s *Server) Telemetry() *telemetry.Telemetry { return s.tel }

// AddReadinessCheck makes /readyz and the gRPC health status depend on check.
func (s *Server) AddReadinessCheck(name string, check ReadinessCheck) {
	s.admin.AddReadinessCheck(name, check)
}

// Listen binds the gRPC port (and the admin port, when the server owns it),
// so callers (and tests) can learn the addresses before Serve. Serve calls it
// if needed.
func (s *Server) Listen() error {
	if s.grpcLis != nil {
		return nil
	}
	gl, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen grpc: %w", err)
	}
	if s.ownsParts {
		al, err := net.Listen("tcp", s.cfg.AdminAddr)
		if err != nil {
			gl.Close()
			return fmt.Errorf("listen admin: %w", err)
		}
		s.adminLis = al
	}
	s.grpcLis = gl
	return nil
}

// GRPCAddr is the bound gRPC address (after Listen).
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// AdminAddr is the bound admin address (after Listen), or "" when the
// process serves the admin port.
func (s *Server) AdminAddr() string {
	if s.adminLis == nil {
		return ""
	}
	return s.adminLis.Addr().String()
}

// Serve runs until ctx is done, then stops gracefully: the health status turns
// NOT_SERVING, in-flight RPCs get ShutdownTimeout to finish, telemetry is flushed.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- s.grpc.Serve(s.grpcLis) }()
	var admin *http.Server
	if s.ownsParts {
		admin = &http.Server{Handler: s.admin.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := admin.Serve(s.adminLis); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.watchReadiness(watchCtx)
	if s.renew != nil {
		go s.renew(watchCtx)
	}

	s.logger.Info("serving", "addr", s.GRPCAddr(), "component", "grpc")
	if admin != nil {
		s.logger.Info("serving", "addr", s.AdminAddr(), "component", "admin")
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.health.Shutdown()
	s.logger.Info("shutting down")
	// A graceful stop waits for every open stream, and a change feed or a
	// Watch never ends by itself: they are told to end now, and their clients
	// resume (from a cursor) on another replica.
	s.stopDraining()

	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.grpc.Stop()
	}
	if !s.ownsParts {
		return serveErr
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Probes and scrapes may be cut (see pkg/service).
	return errors.Join(serveErr, admin.Close(), s.tel.Shutdown(shutdownCtx))
}

// watchReadiness mirrors the readiness checks into grpc.health.v1, so that
// gRPC clients and load balancers see the same answer as /readyz.
func (s *Server) watchReadiness(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		status := healthpb.HealthCheckResponse_SERVING
		if len(s.admin.NotReady(ctx)) > 0 {
			status = healthpb.HealthCheckResponse_NOT_SERVING
		}
		s.health.SetServingStatus("", status)
		s.health.SetServingStatus(s.name, status)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// withReflection returns a copy of p that also allows the reflection service.
func withReflection(p authz.Policy) authz.Policy {
	out := make(authz.Policy, len(p)+2)
	for k, v := range p {
		out[k] = v
	}
	out["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"] = []string{authz.AnyWorkload}
	out["/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"] = []string{authz.AnyWorkload}
	return out
}

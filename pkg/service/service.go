// Package service runs one Sotto service process. A service's main is one
// call:
//
//	func main() { service.Main("audit", register) }
//
// and register builds only what is the service's own (its storage, domain
// logic and gRPC or HTTP API) from what Service provides: configuration,
// logging, telemetry, the workload identity and its renewal, the database
// with the platform's and the service's migrations, the key manager, dialing
// another service by name, the audit client and its outbox relay, health
// entries in the authorization policy, the admin port (/metrics, /healthz,
// /readyz) and background work that starts after register and stops in order.
//
// Shutdown (SIGINT/SIGTERM) runs in this order: the health status turns
// NOT_SERVING and the APIs drain in-flight requests (SOTTO_SHUTDOWN_TIMEOUT);
// background tasks are stopped one by one, last started first, each awaited
// (so the audit outbox relay, started before the work that fills it, sends
// its last events after that work has stopped); then connections to other
// services, the database and telemetry close.
//
// The shape follows exposure-notifications-server's setup/serverenv: one
// place builds the environment every service shares, constructors take it.
package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/migrations"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// Config is what every service reads, from SOTTO_* variables. A service's own
// settings live in its internal/config and are read with Service.Config.
type Config struct {
	Server server.Config
	Keys   keys.Config
	// DatabaseDSN is sqlite://path/<name>.db (the embedded default, in the
	// working directory when unset) or postgres://...
	DatabaseDSN string `env:"DB_DSN"`
	// LogLevel: debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// PprofAddr, when set, serves net/http/pprof there (loopback only; see
	// pprof.go).
	PprofAddr string `env:"PPROF_ADDR"`
}

// Env is the process environment, injectable for tests.
type Env map[string]string

// OSEnv is the environment of this process.
func OSEnv() Env {
	out := Env{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// Register builds a service on s. It returns once the service's parts are
// built; serving starts after it returns.
type Register func(ctx context.Context, s *Service) error

// Main runs the named service until SIGINT or SIGTERM and exits non-zero on
// error. It is all a service's main function does.
func Main(name string, register Register) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, name, OSEnv(), register)
	stop()
	if err != nil {
		// A service's stderr is its log stream (in Kubernetes too), so the
		// private causes (which may quote a database's error text) are only
		// printed when the operator asks for debug logging.
		msg := err.Error()
		if os.Getenv("SOTTO_LOG_LEVEL") == "debug" {
			msg = errs.Detailed(err)
		}
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, msg)
		os.Exit(1)
	}
}

// Service is the environment one service process runs in. Its methods are
// for register; none of them may be called after register returns.
type Service struct {
	name   string
	env    Env
	cfg    Config
	logger *slog.Logger
	tel    *telemetry.Telemetry
	source *mtls.Source
	renew  func(context.Context) error
	admin  *server.Admin

	grpcSrv *server.Server
	https   []*httpAPI

	db    *store.DB
	km    keys.KeyManager
	conns map[string]*grpc.ClientConn
	audit *auditclient.Client
	tasks []task
	// endUsers authenticates end users on the gRPC API (EndUsers).
	endUsers *enduser.Authenticator

	adminLis net.Listener
	// Addresses bound by Run, readable by tests through Addrs.
	mu    sync.Mutex
	addrs map[string]string
}

type httpAPI struct {
	name string
	srv  *http.Server
	addr string
	lis  net.Listener
}

type task struct {
	name string
	run  func(context.Context) error
}

// Run is Main without the signals and the exit: it runs the named service
// with env until ctx is done, then shuts it down in order.
func Run(ctx context.Context, name string, env Env, register Register) error {
	s, err := open(ctx, name, env)
	if err != nil {
		return err
	}
	defer s.close()
	if err := register(ctx, s); err != nil {
		return err
	}
	if err := s.checkEndUsers(); err != nil {
		return err
	}
	if s.grpcSrv == nil && len(s.https) == 0 {
		return fmt.Errorf("%s registered no API to serve (Service.GRPC or Service.ServeHTTP)", name)
	}
	return s.serve(ctx)
}

func open(ctx context.Context, name string, e Env) (*Service, error) {
	var cfg Config
	if err := parseEnv(e, &cfg); err != nil {
		return nil, err
	}
	if cfg.DatabaseDSN == "" {
		cfg.DatabaseDSN = "sqlite://" + name + ".db"
	}
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	if err := checkPprofAddr(cfg.PprofAddr); err != nil {
		return nil, err
	}
	logger := logging.New(os.Stderr, name, level)
	tel, err := telemetry.New(ctx, name, cfg.Server.Telemetry)
	if err != nil {
		return nil, err
	}
	source, renew, err := mtls.Open(ctx, cfg.Server.Identity, name, logger)
	if err != nil {
		tel.Shutdown(context.Background())
		return nil, fmt.Errorf("workload certificate: %w", err)
	}
	return &Service{
		name: name, env: e, cfg: cfg, logger: logger, tel: tel, source: source, renew: renew,
		admin: server.NewAdmin(tel), conns: map[string]*grpc.ClientConn{}, addrs: map[string]string{},
	}, nil
}

func parseEnv(e Env, dst any) error {
	if err := env.ParseWithOptions(dst, env.Options{Prefix: "SOTTO_", Environment: e}); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

// Name is the service's workload name.
func (s *Service) Name() string { return s.name }

// Logger is the service's PII-safe logger (pkg/logging).
func (s *Service) Logger() *slog.Logger { return s.logger }

// Telemetry is the service's tracer, meter and metrics registry.
func (s *Service) Telemetry() *telemetry.Telemetry { return s.tel }

// Source is the service's workload identity.
func (s *Service) Source() *mtls.Source { return s.source }

// TrustDomain is the SPIFFE trust domain the service belongs to.
func (s *Service) TrustDomain() string { return s.source.ID().TrustDomain().Name() }

// Config reads the service's own settings into dst, an env-tagged struct
// (github.com/caarlos0/env), from SOTTO_<tag> variables.
func (s *Service) Config(dst any) error { return parseEnv(s.env, dst) }

// DB opens the service's database (SOTTO_DB_DSN) once, applies the
// platform's migrations (pkg/migrations: the audit outbox, ...) and then
// the service's own (migrations holds sqlite/ and postgres/; nil for none),
// and adds a "database" readiness check. It is closed after every
// background task has stopped.
func (s *Service) DB(ctx context.Context, own fs.FS) (*store.DB, error) {
	if s.db != nil {
		return s.db, nil
	}
	db, err := store.Open(ctx, s.cfg.DatabaseDSN, nil)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, migrations.VersionTable, migrations.FS); err != nil {
		db.Close()
		return nil, err
	}
	if own != nil {
		if err := db.Migrate(ctx, "", own); err != nil {
			db.Close()
			return nil, err
		}
	}
	// Migrations that scrub data (an erasure's overwrite, a dropped column)
	// leave the old pages in SQLite's WAL until it is checkpointed: fold it
	// into the database file and truncate it before serving, checking the
	// result (a migration's own PRAGMA cannot).
	walCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.TruncateWAL(walCtx); err != nil {
		db.Close()
		return nil, err
	}
	s.db = db
	s.admin.AddReadinessCheck("database", db.PingContext)
	return db, nil
}

// Keys opens the key manager (Vault Transit when SOTTO_VAULT_ADDR is set,
// else the local keyring) once.
func (s *Service) Keys() (keys.KeyManager, error) {
	if s.km != nil {
		return s.km, nil
	}
	km, err := keys.Open(s.cfg.Keys)
	if err != nil {
		return nil, err
	}
	s.km = km
	return km, nil
}

// addr is the gRPC address of another service, from SOTTO_<NAME>_ADDR.
func (s *Service) addr(name string) (string, error) {
	key := suite.EnvPrefix(name) + "ADDR"
	addr := s.env[key]
	if addr == "" {
		return "", fmt.Errorf("configuration: %s is not set (the address of %s)", key, name)
	}
	return addr, nil
}

// Dial connects to the named service at SOTTO_<NAME>_ADDR, once; the
// connection closes after every background task has stopped. While the
// service it dials is not serving, this one is degraded: /readyz names it
// (still 200, so the parts of the API that do not need it keep serving).
func (s *Service) Dial(name string) (*grpc.ClientConn, error) {
	if c, ok := s.conns[name]; ok {
		return c, nil
	}
	addr, err := s.addr(name)
	if err != nil {
		return nil, err
	}
	c, err := dial.Service(addr, s.source, name, s.tel)
	if err != nil {
		return nil, err
	}
	s.conns[name] = c
	s.admin.AddDependencyCheck(name, func(ctx context.Context) error {
		resp, err := healthpb.NewHealthClient(c).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			err = errors.New("not serving")
		}
		return err
	})
	return c, nil
}

// Audit is the client of the audit service (synchronous, fail-closed
// records; see pkg/auditclient).
func (s *Service) Audit() (*auditclient.Client, error) {
	if s.audit != nil {
		return s.audit, nil
	}
	conn, err := s.Dial("audit")
	if err != nil {
		return nil, err
	}
	s.audit = auditclient.NewClient(conn)
	return s.audit, nil
}

// AuditOutbox returns the outbox of db (the platform schema holds its table)
// and starts its relay as a background task. Because it is started before
// the service's own tasks, it stops after them: the events their last
// transactions committed are relayed, then one final flush runs.
func (s *Service) AuditOutbox(db *store.DB) (*auditclient.Outbox, error) {
	client, err := s.Audit()
	if err != nil {
		return nil, err
	}
	o := auditclient.NewOutbox(db, client, s.logger)
	s.Go("audit-outbox", func(ctx context.Context) error {
		err := o.Run(ctx)
		// Best effort: what stays is sent on the next start.
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, ferr := o.Flush(flushCtx); ferr != nil {
			s.logger.Warn("final outbox flush incomplete", logging.Err(ferr))
		}
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
	return o, nil
}

// HealthPolicy is the part of every gRPC service's policy that pkg/service
// adds: any workload of the trust domain may ask whether it is serving.
var HealthPolicy = authz.Policy{
	"/grpc.health.v1.Health/Check": {authz.AnyWorkload},
	"/grpc.health.v1.Health/Watch": {authz.AnyWorkload},
	"/grpc.health.v1.Health/List":  {authz.AnyWorkload},
}

// GRPC returns the service's mTLS gRPC server, to register implementations
// on, authorised by policy (deny by default; HealthPolicy is added), with
// what opts add (e.g. server.WithShedExempt). Call it once.
func (s *Service) GRPC(policy authz.Policy, opts ...server.Option) (*grpc.Server, error) {
	if s.grpcSrv != nil {
		return nil, errors.New("service: GRPC called twice")
	}
	full := maps.Clone(policy)
	maps.Copy(full, HealthPolicy)
	srv, err := server.NewWithParts(s.name, s.cfg.Server, full, s.logger,
		server.Parts{Source: s.source, Telemetry: s.tel, Admin: s.admin}, append(s.endUserOptions(), opts...)...)
	if err != nil {
		return nil, err
	}
	s.grpcSrv = srv
	return srv.GRPC(), nil
}

// ServeHTTP serves h on addr (the REST edge) with the edge's timeouts, and
// shuts it down gracefully with the gRPC API.
func (s *Service) ServeHTTP(name, addr string, h http.Handler) {
	s.https = append(s.https, &httpAPI{name: name, addr: addr, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}})
}

// AddReadinessCheck makes /readyz (and the gRPC health status) depend on check.
func (s *Service) AddReadinessCheck(name string, check server.ReadinessCheck) {
	s.admin.AddReadinessCheck(name, check)
}

// AddDependencyCheck reports, under name, something only part of the API
// needs (a feed that some calls depend on): while it fails /readyz says
// "degraded: <name>" and stays 200, so the rest keeps serving.
func (s *Service) AddDependencyCheck(name string, check server.ReadinessCheck) {
	s.admin.AddDependencyCheck(name, check)
}

// Go runs fn as a background task once the service serves. Its context ends
// at shutdown, after the APIs have drained; tasks stop one at a time, the
// last started first, and each is awaited. A task that fails before then
// stops the whole service with its error.
func (s *Service) Go(name string, fn func(ctx context.Context) error) {
	s.tasks = append(s.tasks, task{name: name, run: fn})
}

// Addrs are the addresses the service listens on ("grpc", "admin", and each
// HTTP API's name), once it serves. For tests.
func (s *Service) Addrs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.addrs)
}

func (s *Service) setAddr(name, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs[name] = addr
}

// Command gateway runs Sotto's REST/JSON edge for frontends.
package main

import (
	"context"
	"net"
	"time"

	"google.golang.org/grpc"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/gateway/internal/config"
	"github.com/sottohq/sotto/services/gateway/internal/gateway"
	"github.com/sottohq/sotto/services/gateway/internal/grpcedge"
)

func main() { service.Main("gateway", register) }

func register(ctx context.Context, s *service.Service) error {
	var cfg config.Config
	if err := s.Config(&cfg); err != nil {
		return err
	}
	m, err := suite.Load()
	if err != nil {
		return err
	}
	// Every service the manifest gives REST routes, on the connection
	// pkg/service owns (closed after the gateway has drained); each dial is
	// also a dependency check, so /readyz names a backend that is down.
	var backends []gateway.Backend
	for _, svc := range m.Services {
		if !svc.REST {
			continue
		}
		conn, err := s.Dial(svc.Name)
		if err != nil {
			return err
		}
		backends = append(backends, gateway.Backend{Name: svc.Name, Conn: conn})
	}
	audit, err := s.Audit()
	if err != nil {
		return err
	}
	authAudit := gateway.NewAuthAuditor(audit, s.Logger(), 1024)
	s.Go("auth-audit", authAudit.Run)
	// Access tokens are checked at the edge with identity's keys and
	// revocation feed (ADR 0009), and again by each service.
	identity, err := s.Dial("identity")
	if err != nil {
		return err
	}
	idc := identityv1.NewIdentityServiceClient(identity)
	keys := enduser.IdentityKeys(idc)
	revocations := enduser.NewRevocations(enduser.NewIdentityRevocations(idc), enduser.WithRevocationsLogger(s.Logger()))
	s.Go("jwks", keys.Run)
	s.Go("revocations", revocations.Run)
	verifier, err := accesstoken.NewVerifier(keys, "spiffe://"+s.TrustDomain()+"/identity")
	if err != nil {
		return err
	}
	auth, err := enduser.NewAuthenticator(verifier, revocations, enduser.Policy{})
	if err != nil {
		return err
	}
	handler, err := gateway.New(ctx, backends, gateway.Options{
		Meter:        s.Telemetry().Meter,
		MaxBodyBytes: cfg.MaxBodyBytes, Auth: auth, Logger: s.Logger(), AuthAudit: authAudit,
		TrustedProxies: cfg.TrustedProxies, AuthRatePerMinute: cfg.AuthRatePerMinute, AuthBurst: cfg.AuthBurst,
		WidgetOrigins:               cfg.WidgetOrigins,
		VisitorSessionRatePerMinute: cfg.VisitorSessionRatePerMinute, VisitorSessionBurst: cfg.VisitorSessionBurst,
		MessageRatePerMinute: cfg.MessageRatePerMinute, MessageBurst: cfg.MessageBurst,
		SSEHeartbeat: cfg.SSEHeartbeat, MaxStreamsPerSubject: cfg.SSEMaxStreamsPerSubject,
		MaxStreamsPerAddress: cfg.SSEMaxStreamsPerAddress, SSEMaxLifetime: cfg.SSEMaxLifetime,
		JWKS: func(ctx context.Context) ([]byte, time.Duration, error) {
			resp, err := idc.GetJwks(ctx, &identityv1.GetJwksRequest{})
			if err != nil {
				return nil, 0, err
			}
			return resp.GetJwksJson(), resp.GetMaxAge().AsDuration(), nil
		}})
	if err != nil {
		return err
	}
	// The messaging platforms' webhooks share the listener (channels.go).
	edge, err := mountChannels(s, cfg, handler)
	if err != nil {
		return err
	}
	// And the CRMs' (crmhooks.go).
	if edge, err = mountCRMHooks(s, cfg, edge); err != nil {
		return err
	}
	s.ServeHTTP("http", cfg.HTTPAddr, gateway.Instrument(edge, s.Telemetry(), cfg.HTTPAddr))
	if cfg.GRPCAddr == config.GRPCOff {
		return nil
	}
	return serveGRPCEdge(ctx, s, cfg, auth, authAudit)
}

// serveGRPCEdge serves gRPC to integrators (ADR 0011) on the same
// connections to the services, the same token checks and the same audit of
// refusals as the REST edge. It drains with the REST API when the process
// is told to stop (ctx), and is the last task started, so it stops before
// the token checks and the audit queue it uses.
func serveGRPCEdge(ctx context.Context, s *service.Service, cfg config.Config, auth *enduser.Authenticator, audit *gateway.AuthAuditor) error {
	backends := map[string]grpc.ClientConnInterface{}
	for _, name := range grpcedge.Integrators.Backends() {
		conn, err := s.Dial(name)
		if err != nil {
			return err
		}
		backends[name] = conn
	}
	tlsCfg, err := grpcedge.ServerTLS(cfg.GRPCAddr, cfg.GRPCTLSCert, cfg.GRPCTLSKey, s.Logger())
	if err != nil {
		return err
	}
	quotas := map[string]grpcedge.Quota{}
	for id, q := range cfg.GRPCClientQuotas {
		quotas[id] = grpcedge.Quota{PerSecond: q.PerSecond, Burst: q.Burst}
	}
	edge, err := grpcedge.New(grpcedge.Options{
		Methods: grpcedge.Integrators, Backends: backends, Auth: auth, Audit: audit,
		TLS: tlsCfg.Config, Logger: s.Logger(), Telemetry: s.Telemetry(),
		ClientQuota:  grpcedge.Quota{PerSecond: cfg.GRPCClientRatePerSecond, Burst: cfg.GRPCClientBurst},
		ClientQuotas: quotas,
		PublicQuota:  grpcedge.Quota{PerSecond: float64(cfg.AuthRatePerMinute) / 60, Burst: cfg.AuthBurst},
		MaxMsgBytes:  cfg.MaxRecvMsgBytes, ShutdownTimeout: cfg.ShutdownTimeout,
	})
	if err != nil {
		return err
	}
	// Bound now, so that a taken port fails the start, not a task later.
	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return err
	}
	// In the message, not an attribute: the log allowlists attribute keys,
	// and a public certificate's fingerprint is what a local client pins.
	s.Logger().Info("grpc edge certificate: " + tlsCfg.Description)
	s.Go("grpc-edge", func(taskCtx context.Context) error {
		serveCtx, cancel := context.WithCancel(taskCtx)
		defer cancel()
		defer context.AfterFunc(ctx, cancel)()
		return edge.Serve(serveCtx, lis)
	})
	return nil
}

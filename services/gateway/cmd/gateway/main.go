// Command gateway runs Sotto's REST/JSON edge for frontends.
package main

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/gateway/internal/config"
	"github.com/sottohq/sotto/services/gateway/internal/gateway"
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
	// Every service the manifest gives REST routes, each a readiness check
	// of its own, so /readyz names the backend that is down.
	var backends []gateway.Backend
	for _, svc := range m.Services {
		if !svc.REST {
			continue
		}
		if err := backend(s, svc.Name, &backends); err != nil {
			return err
		}
	}
	handler, err := gateway.New(ctx, backends, gateway.Options{MaxBodyBytes: cfg.MaxBodyBytes, AdminToken: cfg.AdminToken, Logger: s.Logger()})
	if err != nil {
		return err
	}
	if cfg.AdminToken == "" {
		s.Logger().Warn("no admin token configured: operator routes are closed")
	}
	tel := s.Telemetry()
	// The gateway is the public edge: incoming trace context starts a new
	// trace (linked), it is never trusted as our own parent.
	s.ServeHTTP("http", cfg.HTTPAddr, otelhttp.NewHandler(handler, "gateway",
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		otelhttp.WithTracerProvider(tel.Tracer), otelhttp.WithMeterProvider(tel.Meter), otelhttp.WithPropagators(tel.Propagator)))
	return nil
}

// backend adds name to backends and makes readiness depend on its health
// check over mTLS.
func backend(s *service.Service, name string, backends *[]gateway.Backend) error {
	addr, err := s.Addr(name)
	if err != nil {
		return err
	}
	opts, err := s.DialOptions(name)
	if err != nil {
		return err
	}
	conn, err := s.Dial(name)
	if err != nil {
		return err
	}
	s.AddReadinessCheck(name, func(ctx context.Context) error {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			err = errors.New("not serving")
		}
		return err
	})
	*backends = append(*backends, gateway.Backend{Name: name, Addr: addr, Dial: opts})
	return nil
}

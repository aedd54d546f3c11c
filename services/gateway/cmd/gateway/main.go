// Command gateway runs Sotto's REST/JSON edge for frontends.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/telemetry"
	"github.com/sottohq/sotto/services/gateway/internal/config"
	"github.com/sottohq/sotto/services/gateway/internal/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	logger := logging.New(os.Stderr, "gateway", level)
	tel, err := telemetry.New(ctx, "gateway", cfg.Telemetry)
	if err != nil {
		return err
	}
	src, renew, err := mtls.Open(ctx, cfg.Identity, "gateway", logger)
	if err != nil {
		return err
	}
	if renew != nil {
		go renew(ctx)
	}
	auditDial, err := dial.Options(src, "audit", tel)
	if err != nil {
		return err
	}
	tokenvaultDial, err := dial.Options(src, "tokenvault", tel)
	if err != nil {
		return err
	}
	// A connection of its own for readiness, so /readyz reflects whether the
	// audit service answers its health check over mTLS.
	healthConn, err := grpc.NewClient(cfg.AuditAddr, auditDial...)
	if err != nil {
		return err
	}
	defer healthConn.Close()
	ready := func(ctx context.Context) error {
		resp, err := healthpb.NewHealthClient(healthConn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			err = errors.New("audit not serving")
		}
		return err
	}
	handler, err := gateway.New(ctx, gateway.Backends{AuditAddr: cfg.AuditAddr, AuditDial: auditDial, TokenvaultAddr: cfg.TokenvaultAddr, TokenvaultDial: tokenvaultDial},
		gateway.Options{MaxBodyBytes: cfg.MaxBodyBytes, AdminToken: cfg.AdminToken, Ready: ready, Logger: logger})
	if err != nil {
		return err
	}
	if cfg.AdminToken == "" {
		logger.Warn("no admin token configured: operator routes are closed")
	}

	api := &http.Server{
		// The gateway is the public edge: incoming trace context starts a new
		// trace (linked), it is never trusted as our own parent.
		Handler: otelhttp.NewHandler(handler, "gateway", otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
			otelhttp.WithTracerProvider(tel.Tracer), otelhttp.WithMeterProvider(tel.Meter), otelhttp.WithPropagators(tel.Propagator)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	adminMux := http.NewServeMux()
	adminMux.Handle("GET /metrics", promhttp.HandlerFor(tel.Registry, promhttp.HandlerOpts{}))
	admin := &http.Server{Handler: adminMux, ReadHeaderTimeout: 5 * time.Second}

	apiLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	adminLis, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		return err
	}
	logger.Info("serving", "component", "http", "addr", apiLis.Addr().String())
	logger.Info("serving", "component", "admin", "addr", adminLis.Addr().String())

	errc := make(chan error, 2)
	go func() { errc <- api.Serve(apiLis) }()
	go func() { errc <- admin.Serve(adminLis) }()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(ignoreClosed(err), api.Shutdown(shutdownCtx), admin.Shutdown(shutdownCtx), tel.Shutdown(shutdownCtx))
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

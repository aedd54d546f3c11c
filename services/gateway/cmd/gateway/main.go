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
	handler, err := gateway.New(ctx, gateway.Backends{AuditAddr: cfg.AuditAddr, AuditDial: auditDial},
		gateway.Options{MaxBodyBytes: cfg.MaxBodyBytes, AdminToken: cfg.AdminToken})
	if err != nil {
		return err
	}
	if cfg.AdminToken == "" {
		logger.Warn("no admin token configured: operator routes are closed")
	}

	api := &http.Server{
		Handler: otelhttp.NewHandler(handler, "gateway",
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

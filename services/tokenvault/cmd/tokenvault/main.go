// Command tokenvault runs Sotto's tokenisation vault.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/config"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	tvserver "github.com/sottohq/sotto/services/tokenvault/internal/server"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tokenvault:", err)
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
	logger := logging.New(os.Stderr, "tokenvault", level)

	policyYAML := tokenvault.DefaultPolicy
	if cfg.PolicyFile != "" {
		if policyYAML, err = os.ReadFile(cfg.PolicyFile); err != nil {
			return err
		}
	}
	pol, err := policy.Parse(policyYAML)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseDSN, migrations.FS)
	if err != nil {
		return err
	}
	defer db.Close()
	km, err := keys.Open(cfg.Keys)
	if err != nil {
		return err
	}
	// Creates the key with the local keyring; against Vault the service's
	// policy cannot create keys, so a missing key fails closed.
	if err := km.EnsureKey(ctx, cfg.KEK, keys.TypeAES256GCM); err != nil {
		return err
	}

	srv, err := server.New(ctx, "tokenvault", cfg.Server, tvserver.Policy, logger)
	if err != nil {
		return err
	}
	auditConn, err := dial.Service(cfg.AuditAddr, srv.Source(), "audit", srv.Telemetry())
	if err != nil {
		return err
	}
	defer auditConn.Close()
	audit := auditclient.NewClient(auditConn)
	outbox := auditclient.NewOutbox(db, audit, logger)

	st := storage.New(db)
	eng := engine.New(st, km, audit, outbox, pol, logger, engine.Options{
		KEK: cfg.KEK, CacheSize: cfg.KeyCacheSize, CacheTTL: cfg.KeyCacheTTL, Tenants: cfg.Tenants,
	})
	tokenvaultv1.RegisterTokenVaultServiceServer(srv.GRPC(), tvserver.New(eng))
	srv.AddReadinessCheck("database", st.Ping)

	// Background work outlives the graceful stop of the gRPC server, so
	// in-flight requests can still commit and their audit events still leave.
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go outbox.Run(bgCtx)
	go eng.RunWriter(bgCtx)
	go eng.RunRewrap(bgCtx, cfg.RewrapInterval)

	err = srv.Serve(ctx)
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	outbox.Flush(flushCtx) // best effort: what stays is sent on the next start
	return err
}

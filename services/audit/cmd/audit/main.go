// Command audit runs Sotto's tamper-evident audit log service.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/audit/internal/config"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	auditserver "github.com/sottohq/sotto/services/audit/internal/server"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "audit:", err)
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
	logger := logging.New(os.Stderr, "audit", level)

	db, err := store.Open(ctx, cfg.DatabaseDSN, migrations.FS)
	if err != nil {
		return err
	}
	defer db.Close()
	km, err := keys.Open(cfg.Keys)
	if err != nil {
		return err
	}
	// With the local keyring this creates the keys on first run; against Vault
	// the service's policy cannot create keys, so a missing key fails closed.
	if err := km.EnsureKey(ctx, cfg.CheckpointKey, keys.TypeEd25519); err != nil {
		return err
	}
	if err := km.EnsureKey(ctx, cfg.SubjectKey, keys.TypeAES256GCM); err != nil {
		return err
	}

	st := storage.New(db)
	hasher, err := ledger.NewSubjectHasher(ctx, km, cfg.SubjectKey, st)
	if err != nil {
		return err
	}
	signer, err := ledger.NewCheckpointSigner(ctx, km, cfg.CheckpointKey, cfg.Origin)
	if err != nil {
		return err
	}
	auditLog := ledger.New(st, hasher, signer, logger, ledger.Options{CheckpointInterval: cfg.CheckpointInterval})
	if err := auditLog.Init(ctx); err != nil {
		return err
	}

	srv, err := server.New(ctx, "audit", cfg.Server, auditserver.Policy, logger)
	if err != nil {
		return err
	}
	auditv1.RegisterAuditServiceServer(srv.GRPC(), auditserver.New(auditLog))
	srv.AddReadinessCheck("database", st.Ping)

	// The sequencer outlives the gRPC server's graceful stop, so in-flight
	// appends can still commit while the server drains.
	logCtx, stopLog := context.WithCancel(context.WithoutCancel(ctx))
	logDone := make(chan error, 1)
	go func() { logDone <- auditLog.Run(logCtx) }()

	err = srv.Serve(ctx)
	stopLog()
	<-logDone
	return err
}

// Command audit runs Sotto's tamper-evident audit log service.
package main

import (
	"context"
	"fmt"
	"time"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/audit/internal/config"
	"github.com/sottohq/sotto/services/audit/internal/leader"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	auditserver "github.com/sottohq/sotto/services/audit/internal/server"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

func main() { service.Main("audit", register) }

func register(ctx context.Context, s *service.Service) error {
	var cfg config.Config
	if err := s.Config(&cfg); err != nil {
		return err
	}
	if cfg.Origin == "" {
		cfg.Origin = s.TrustDomain() + "/audit"
	}
	db, err := s.DB(ctx, migrations.FS)
	if err != nil {
		return err
	}
	km, err := s.Keys()
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
	// On PostgreSQL several replicas may share the log: each starts as a
	// standby and the elected one sequences (ADR 0017).
	replicated := db.Dialect == store.Postgres
	auditLog := ledger.New(st, hasher, signer, s.Logger(), ledger.Options{CheckpointInterval: cfg.CheckpointInterval, Standby: replicated})
	if err := auditLog.Init(ctx); err != nil {
		return err
	}
	// A replica that cannot sign checkpoints or use the subject key is not
	// ready, standby or leader: it could not sequence (ADR 0017).
	s.AddReadinessCheck("keys", ledger.NewKeyCheck(signer, hasher, 30*time.Second, time.Now).Check)
	pageKey, err := hasher.PageTokenKey()
	if err != nil {
		return err
	}
	pages, err := pagetoken.New(pageKey)
	if err != nil {
		return err
	}
	limit := auditserver.AppendLimit{PerSecond: cfg.AppendRate, Burst: cfg.AppendBurst}
	if err := limit.Check(); err != nil {
		return err
	}
	// Operators read the log through the gateway, which forwards their
	// access tokens; audit verifies them itself (identity's keys and
	// revocation feed).
	if _, err := s.EndUsers(auditserver.EndUsers); err != nil {
		return err
	}
	gs, err := s.GRPC(auditserver.Policy)
	if err != nil {
		return err
	}
	auditv1.RegisterAuditServiceServer(gs, auditserver.New(auditLog, pages, limit))
	eventKey, err := hasher.PrivacyEventKey()
	if err != nil {
		return err
	}
	privacyv1.RegisterPrivacyParticipantServiceServer(gs, auditserver.NewPrivacy(auditLog, pages, eventKey, s.Source().ID().String(), time.Now))
	if replicated {
		// A standby is not ready for /readyz and the gRPC health status, so
		// balanced clients (pkg/dial) send it nothing until it leads; it is
		// for /readyz/replica, Kubernetes' probe, so that rollouts and drains
		// count it. Started before the ledger, the election stops after it:
		// the lock is held until the last append committed.
		s.AddReadinessCheck("sequencer", func(context.Context) error {
			if !auditLog.Sequencing() {
				return fmt.Errorf("another replica sequences the log: %w", server.ErrStandby)
			}
			return nil
		})
		s.Go("sequencer-election", leader.New(db.DB, auditLog, s.Logger(), leader.Options{}).Run)
	}
	// The sequencer is a background task: it outlives the API's drain, so
	// in-flight appends still commit.
	s.Go("ledger", auditLog.Run)
	return nil
}

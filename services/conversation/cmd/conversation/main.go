// Command conversation runs Sotto's conversation service.
package main

import (
	"context"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/conversation/internal/app"
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/server"
	"github.com/sottohq/sotto/services/conversation/migrations"
)

func main() { service.Main("conversation", register) }

func register(ctx context.Context, s *service.Service) error {
	var cfg config.Config
	if err := s.Config(&cfg); err != nil {
		return err
	}
	db, err := s.DB(ctx, migrations.FS)
	if err != nil {
		return err
	}
	km, err := s.Keys()
	if err != nil {
		return err
	}
	audit, err := s.AuditOutbox(db)
	if err != nil {
		return err
	}
	// After AuditOutbox: jobs write audit events, and tasks stop last
	// started first. The retention sweep runs on it (app.Deps.Jobs).
	runner, err := s.Jobs(db)
	if err != nil {
		return err
	}
	tv, err := s.Dial("tokenvault")
	if err != nil {
		return err
	}
	consent, err := consentChecks(s)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, app.Deps{Jobs: runner, Consent: consent, Config: cfg, DB: db, Keys: km, Audit: audit,
		Vault: tokenvaultv1.NewTokenVaultServiceClient(tv), Logger: s.Logger()})
	if err != nil {
		return err
	}
	if _, err := s.EndUsers(server.EndUsers); err != nil {
		return err
	}
	gs, err := s.GRPC(server.Policy)
	if err != nil {
		return err
	}
	conversationv1.RegisterConversationServiceServer(gs, a.Server)
	privacyv1.RegisterPrivacyParticipantServiceServer(gs, a.Privacy)
	return nil
}

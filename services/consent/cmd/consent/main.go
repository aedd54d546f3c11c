// Command consent runs Sotto's consent service.
package main

import (
	"context"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/consent/internal/app"
	"github.com/sottohq/sotto/services/consent/internal/config"
	"github.com/sottohq/sotto/services/consent/internal/server"
	"github.com/sottohq/sotto/services/consent/migrations"
)

func main() { service.Main("consent", register) }

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
	// Change events carry account ids, purposes and decisions, which the
	// consent tables hold in the clear anyway: no sealing.
	evs, err := s.Events(ctx, db, "")
	if err != nil {
		return err
	}
	a, err := app.New(ctx, app.Deps{Config: cfg, DB: db, Keys: km, Audit: audit, Events: evs, Logger: s.Logger()})
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
	consentv1.RegisterConsentServiceServer(gs, a.Server)
	return nil
}

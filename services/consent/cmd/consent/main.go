// Command consent runs Sotto's consent service.
package main

import (
	"context"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/consent/internal/app"
	"github.com/sottohq/sotto/services/consent/internal/config"
	"github.com/sottohq/sotto/services/consent/internal/dsr"
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
	// After AuditOutbox: the steps write audit events, and tasks stop last
	// started first.
	runner, err := s.Jobs(db)
	if err != nil {
		return err
	}
	// Every other privacy participant is dialled over mTLS at the address
	// the manifest gives consent (SOTTO_<SVC>_ADDR); consent's own runs in
	// process.
	names := suite.MustLoad().PrivacyParticipants()
	participants := map[string]dsr.Participant{}
	for _, name := range names {
		if name == dsr.ConsentParticipant {
			continue
		}
		conn, err := s.Dial(name)
		if err != nil {
			return err
		}
		participants[name] = privacyv1.NewPrivacyParticipantServiceClient(conn)
	}
	a, err := app.New(ctx, app.Deps{Config: cfg, DB: db, Keys: km, Audit: audit, Events: evs, Logger: s.Logger(),
		Jobs: runner, Participants: participants, ParticipantNames: names, Meter: s.Telemetry().Meter})
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
	consentv1.RegisterDataSubjectRequestServiceServer(gs, a.DSRServer)
	return nil
}

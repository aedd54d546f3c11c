// Command crmsync runs Sotto's crmsync service: minimised, consented,
// tokenised customer changes for the shops' CRMs.
package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/crmsync/internal/app"
	"github.com/sottohq/sotto/services/crmsync/internal/config"
	"github.com/sottohq/sotto/services/crmsync/internal/consentfeed"
	"github.com/sottohq/sotto/services/crmsync/internal/server"
	"github.com/sottohq/sotto/services/crmsync/migrations"
)

func main() { service.Main("crmsync", register) }

func register(ctx context.Context, s *service.Service) error {
	var cfg config.Config
	if err := s.Config(&cfg); err != nil {
		return err
	}
	mappings, err := app.LoadMappings(cfg)
	if err != nil {
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
	// After AuditOutbox: deliveries write audit events, and tasks stop
	// last started first.
	runner, err := s.Jobs(db)
	if err != nil {
		return err
	}
	tv, err := s.Dial("tokenvault")
	if err != nil {
		return err
	}
	consentConn, err := s.Dial("consent")
	if err != nil {
		return err
	}
	// Decisions cached until consent's change feed says they changed; a
	// consent-based purpose is refused while the service cannot be reached
	// (the delivery waits and is retried).
	consent := consentclient.New(consentv1.NewConsentServiceClient(consentConn), consentclient.Options{Logger: s.Logger()})
	s.Go("consent-feed", consent.Run)
	hosts, err := app.EgressHosts(cfg, mappings)
	if err != nil {
		return err
	}
	var private []netip.Prefix
	for _, c := range cfg.PrivateCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return fmt.Errorf("crmsync: SOTTO_CRMSYNC_PRIVATE_CIDRS: %q is not a CIDR", c)
		}
		private = append(private, p)
	}
	// No retries in the client: the durable queue retries, after a crash
	// too, and honours a Retry-After of any length.
	var roots *x509.CertPool
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return fmt.Errorf("crmsync: SOTTO_CRMSYNC_CA_FILE: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("crmsync: SOTTO_CRMSYNC_CA_FILE holds no PEM certificate")
		}
	}
	client, err := egress.New(egress.Config{AllowedHosts: hosts, AllowPrivateCIDRs: private, RootCAs: roots, MaxRetries: -1},
		s.Logger(), s.Telemetry())
	if err != nil {
		return err
	}
	var sc secrets.Config
	if err := s.Config(&sc); err != nil {
		return err
	}
	creds, err := secrets.Open(sc)
	if err != nil {
		return err
	}
	// The platform connector's changes wait in the event log, sealed under
	// the queue's key (internal/stream).
	evlog, err := s.Events(ctx, db, cfg.QueueKey)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, app.Deps{Config: cfg, DB: db, Keys: km, Audit: audit, Jobs: runner, Events: evlog,
		Vault: tokenvaultv1.NewTokenVaultServiceClient(tv), HTTP: client, Secrets: creds, Mappings: mappings, Logger: s.Logger(),
		Consent: func(ctx context.Context, subject, purpose string) (bool, error) {
			d, err := consent.Check(ctx, subject, purpose)
			if err != nil {
				return false, err
			}
			return d.Allowed, nil
		}})
	if err != nil {
		return err
	}
	gs, err := s.GRPC(server.Policy)
	if err != nil {
		return err
	}
	// Withdrawals cancel queued deliveries as they are recorded (each
	// delivery's attempt checks consent again as well).
	follower := consentfeed.New(consentv1.NewConsentServiceClient(consentConn), a.Store, a.Delivery.Withdrawn, s.Logger()).
		// A mapped purpose's grant or withdrawal becomes a CRM property.
		OnChange(a.Delivery.ConsentChanged)
	s.Go("consent-withdrawals", follower.Run)
	crmsyncv1.RegisterCrmSyncServiceServer(gs, a.Server)
	privacyv1.RegisterPrivacyParticipantServiceServer(gs, a.Privacy)
	return nil
}

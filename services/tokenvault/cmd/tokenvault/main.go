// Command tokenvault runs Sotto's tokenisation vault.
package main

import (
	"context"
	"os"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/config"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	tvserver "github.com/sottohq/sotto/services/tokenvault/internal/server"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

func main() { service.Main("tokenvault", register) }

func register(ctx context.Context, s *service.Service) error {
	var cfg config.Config
	if err := s.Config(&cfg); err != nil {
		return err
	}
	policyYAML := tokenvault.DefaultPolicy
	if cfg.PolicyFile != "" {
		var err error
		if policyYAML, err = os.ReadFile(cfg.PolicyFile); err != nil {
			return err
		}
	}
	pol, err := policy.Parse(policyYAML)
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
	// Creates the key with the local keyring; against Vault the service's
	// policy cannot create keys, so a missing key fails closed.
	if err := km.EnsureKey(ctx, cfg.KEK, keys.TypeAES256GCM); err != nil {
		return err
	}
	audit, err := s.Audit()
	if err != nil {
		return err
	}
	outbox, err := s.AuditOutbox(db)
	if err != nil {
		return err
	}
	consent, err := consentChecks(s, cfg, pol)
	if err != nil {
		return err
	}
	eng := engine.New(storage.New(db), km, audit, outbox, pol, s.Logger(), engine.Options{
		KEK: cfg.KEK, CacheSize: cfg.KeyCacheSize, CacheTTL: cfg.KeyCacheTTL, Tenants: cfg.Tenants,
		KEKEpoch: cfg.KEKEpoch, KEKEpochMin: cfg.KEKEpochMin, Consent: consent,
	})
	// People reach the vault through the gateway, which forwards their
	// access tokens; the vault verifies them itself (identity's keys and
	// revocation feed) and policy.yaml decides what each person sees.
	if _, err := s.EndUsers(tvserver.EndUsers); err != nil {
		return err
	}
	gs, err := s.GRPC(tvserver.Policy)
	if err != nil {
		return err
	}
	tokenvaultv1.RegisterTokenVaultServiceServer(gs, tvserver.New(eng))
	privacyv1.RegisterPrivacyParticipantServiceServer(gs, tvserver.NewPrivacy(eng))
	s.Go("writer", eng.RunWriter)
	runner, err := s.Jobs(db)
	if err != nil {
		return err
	}
	if err := eng.ScheduleJobs(runner, cfg.RewrapInterval); err != nil {
		return err
	}
	s.Go("key-cache-sweep", func(ctx context.Context) error { return eng.RunCacheSweep(ctx, cfg.RewrapInterval) })
	return nil
}

// consentChecks is the client of the consent service that policy rules
// with requires_consent ask: cached, and kept current by consent's change
// feed, which it follows in the background. Consent is not a start-order
// dependency (it calls identity, which calls tokenvault): until it answers,
// those rules refuse (CONSENT_UNAVAILABLE) and /readyz names it, while
// everything else serves. Without an address they always refuse.
func consentChecks(s *service.Service, cfg config.Config, pol *policy.Policy) (engine.Consent, error) {
	if !pol.RequiresConsent() {
		return nil, nil
	}
	if cfg.ConsentAddr == "" {
		s.Logger().Warn("policy rules require consent but SOTTO_CONSENT_ADDR is not set: they refuse every value")
		return nil, nil
	}
	conn, err := s.Dial("consent")
	if err != nil {
		return nil, err
	}
	client := consentclient.New(consentv1.NewConsentServiceClient(conn), consentclient.Options{Logger: s.Logger()})
	s.Go("consent-feed", client.Run)
	s.AddDependencyCheck("consent-feed", client.Ready)
	return client, nil
}

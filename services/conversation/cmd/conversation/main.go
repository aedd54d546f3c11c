// Command conversation runs Sotto's conversation service.
package main

import (
	"context"
	"fmt"
	"net/url"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/conversation/internal/app"
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/crmevents"
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
	channelEgress, channelSecrets, err := channelSenders(s, cfg)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, app.Deps{Jobs: runner, Consent: consent, Config: cfg, DB: db, Keys: km, Audit: audit,
		Vault: tokenvaultv1.NewTokenVaultServiceClient(tv), Logger: s.Logger(), Meter: s.Telemetry().Meter,
		ChannelEgress: channelEgress, ChannelSecrets: channelSecrets})
	if err != nil {
		return err
	}
	// Conversations idle past their period are deleted by a periodic job.
	if err := a.Retention.Register(runner, cfg.RetentionInterval); err != nil {
		return err
	}
	// Closed conversations' summaries for the shops' CRMs, when crmsync
	// is configured (internal/crmevents).
	if cfg.CRMSyncAddr != "" {
		crm, err := s.Dial("crmsync")
		if err != nil {
			return err
		}
		summaries, err := crmevents.New(runner, a.Store, crmsyncv1.NewCrmSyncServiceClient(crm))
		if err != nil {
			return err
		}
		a.Domain.OnClose(summaries.Hook)
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

// channelSenders are what replies to WhatsApp and Messenger go out with:
// an egress client that reaches only the Graph API's host, and the shops'
// channel credentials (pkg/secrets: Vault KV v2, or the local file).
func channelSenders(s *service.Service, cfg config.Config) (*egress.Client, *secrets.Cache, error) {
	u, err := url.Parse(cfg.GraphURL)
	if err != nil || u.Host == "" {
		return nil, nil, fmt.Errorf("conversation: SOTTO_CONVERSATION_GRAPH_URL is not a URL")
	}
	client, err := egress.New(egress.Config{AllowedHosts: []string{u.Host}}, s.Logger(), s.Telemetry())
	if err != nil {
		return nil, nil, err
	}
	var sc secrets.Config
	if err := s.Config(&sc); err != nil {
		return nil, nil, err
	}
	store, err := secrets.Open(sc)
	if err != nil {
		return nil, nil, err
	}
	return client, store, nil
}

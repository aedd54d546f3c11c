package main

import (
	"net/http"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/gateway/internal/config"
	"github.com/sottohq/sotto/services/gateway/internal/crmhooks"
)

// mountCRMHooks serves the HubSpot and Salesforce webhooks under /v1/crm/ in
// front of next, handing verified changes to crmsync on the gateway's mTLS
// connection to it. The shops' webhook secrets sit with the channel
// secrets (sotto/channels/<tenant>/<crm>), which the gateway reads already.
func mountCRMHooks(s *service.Service, cfg config.Config, next http.Handler) (http.Handler, error) {
	conn, err := s.Dial("crmsync")
	if err != nil {
		return nil, err
	}
	store, err := secrets.Open(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	h, err := crmhooks.New(crmhooks.Options{Secrets: store, CRMSync: crmsyncv1.NewCrmSyncServiceClient(conn), Logger: s.Logger(),
		MaxBodyBytes: cfg.ChannelsMaxBodyBytes, PublicOrigin: string(cfg.PublicOrigin),
		RatePerMinute: cfg.ChannelsRatePerMinute, Burst: cfg.ChannelsBurst, TrustedProxies: cfg.TrustedProxies})
	if err != nil {
		return nil, err
	}
	return h.Mount(next), nil
}

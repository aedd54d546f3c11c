// Package app assembles the crmsync service from its dependencies: the
// same code runs in cmd/crmsync and in the tests, which hand it real
// databases, keyrings, CRM emulators and a stand-in token vault.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/config"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/delivery"
	"github.com/sottohq/sotto/services/crmsync/internal/inbound"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/ratelimit"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/server"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
	"github.com/sottohq/sotto/services/crmsync/internal/stream"
)

// Deps are what the service is built from.
type Deps struct {
	Config config.Config
	DB     *store.DB
	Keys   keys.KeyManager
	Audit  *auditclient.Outbox
	// Jobs runs the deliveries; the caller runs it (service.Jobs does).
	Jobs    *jobs.Runner
	Vault   delivery.Vault
	Consent delivery.Consent
	// HTTP sends to the CRMs: a pkg/egress client allowed only their hosts
	// (EgressHosts).
	HTTP    connector.Doer
	Secrets connector.Secrets
	// Mappings, if set, replaces Config.MappingsDir (tests).
	Mappings *mapping.Set
	// Events is the service's event log (sealed), which holds the platform
	// connector's changes for WatchChanges; nil: no platform connector.
	Events *events.Outbox
	Logger *slog.Logger
	Now    func() time.Time
}

// App is the assembled service.
type App struct {
	Server   *server.Server
	Privacy  *server.Privacy
	Delivery *delivery.Service
	Store    *storage.Store
}

// LoadMappings reads cfg's mappings directory (none without one).
func LoadMappings(cfg config.Config) (*mapping.Set, error) {
	rules := mapping.Rules{PlaintextPurposes: cfg.PlaintextPurposes}
	if cfg.MappingsDir == "" {
		return mapping.Load(nil, rules)
	}
	return mapping.Load(os.DirFS(cfg.MappingsDir), rules)
}

// EgressHosts are the hosts the CRM connectors may reach: HubSpot's API and
// each mapped Salesforce org.
func EgressHosts(cfg config.Config, set *mapping.Set) ([]string, error) {
	u, err := url.Parse(cfg.HubSpotURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("crmsync: SOTTO_CRMSYNC_HUBSPOT_URL is not a URL")
	}
	hosts := []string{u.Host}
	for _, m := range set.All() {
		if m.Salesforce != nil {
			su, err := url.Parse(m.Salesforce.URL)
			if err != nil || su.Host == "" {
				return nil, fmt.Errorf("crmsync: a salesforce mapping's url is not a URL")
			}
			hosts = append(hosts, su.Host)
		}
	}
	return hosts, nil
}

// New builds the service and registers its job kind on d.Jobs.
func New(ctx context.Context, d Deps) (*App, error) {
	cfg := d.Config
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	set := d.Mappings
	if set == nil {
		var err error
		if set, err = LoadMappings(cfg); err != nil {
			return nil, err
		}
	}
	if err := d.Keys.EnsureKey(ctx, cfg.QueueKey, keys.TypeAES256GCM); err != nil {
		return nil, err
	}
	// Stable across replicas and restarts: an HMAC under the key's first
	// version.
	pageKey, err := d.Keys.HMAC(ctx, cfg.QueueKey, 1, []byte("sotto/crmsync/page-tokens"))
	if err != nil {
		return nil, err
	}
	pages, err := pagetoken.New(pageKey)
	if err != nil {
		return nil, err
	}
	digestKey, err := d.Keys.HMAC(ctx, cfg.QueueKey, 1, []byte("sotto/crmsync/privacy-digests"))
	if err != nil {
		return nil, err
	}
	conns := map[string]connector.Connector{}
	limits := ratelimit.NewSet()
	for _, m := range set.All() {
		key := m.Tenant + "/" + m.Connector
		limits.Add(m.Tenant, m.Connector, ratelimit.Config{Rate: ratelimit.Rate(*m.Rate), Daily: ratelimit.Daily(m.Connector)})
		switch m.Connector {
		case connector.HubSpot:
			conns[key] = connector.NewHubSpot(connector.HubSpotConfig{BaseURL: cfg.HubSpotURL, IDProperty: m.HubSpot.IDProperty,
				Tenant: m.Tenant}, d.HTTP, d.Secrets, d.Now)
		case connector.Salesforce:
			sf := m.Salesforce
			conns[key] = connector.NewSalesforce(connector.SalesforceConfig{URL: sf.URL, APIVersion: sf.APIVersion, Object: sf.Object,
				ExternalIDField: sf.ExternalIDField, Tenant: m.Tenant}, d.HTTP, d.Secrets, d.Now)
		}
	}
	st := storage.New(d.DB)
	var platform *stream.Log
	if d.Events != nil {
		if platform, err = stream.New(d.DB, d.Events, d.Audit, d.Now); err != nil {
			return nil, err
		}
	}
	dom, err := delivery.New(delivery.Deps{Store: st, Jobs: d.Jobs, Keys: d.Keys, QueueKey: cfg.QueueKey, Mappings: set,
		Consent: d.Consent, Vault: d.Vault, Audit: d.Audit, Logger: d.Logger, Now: d.Now, MaxAttempts: cfg.MaxAttempts,
		RetryBackoffMax:   cfg.RetryBackoffMax,
		ReconcileInterval: cfg.ReconcileInterval, DigestKey: digestKey,
		ErasureReadBacks: cfg.ErasureReadBacks, ErasureReadBackWait: cfg.ErasureReadBackWait, HeldTTL: cfg.HeldTTL,
		RateLimits: func(tenant, name string) delivery.Limiter { return limits.For(tenant, name) },
		Connectors: func(tenant, name string) (connector.Connector, error) {
			c, ok := conns[tenant+"/"+name]
			if !ok && name == mapping.Platform && platform != nil {
				return platform.For(tenant), nil
			}
			if !ok {
				return nil, errs.E(errs.FailedPrecondition, reasons.CRMNotConfigured, "no %s connector for the shop", name)
			}
			return c, nil
		}})
	if err != nil {
		return nil, err
	}
	inboundKey, err := d.Keys.HMAC(ctx, cfg.QueueKey, 1, []byte("sotto/crmsync/inbound-digests"))
	if err != nil {
		return nil, err
	}
	in, err := inbound.New(inbound.Deps{Store: st, Mappings: set, Vault: d.Vault, Recorder: dom, Audit: d.Audit,
		DigestKey: inboundKey, Logger: d.Logger, Now: d.Now,
		Records: map[string]inbound.Records{connector.HubSpot: &inbound.HubSpotRecords{BaseURL: cfg.HubSpotURL, HTTP: d.HTTP, Secrets: d.Secrets}}})
	if err != nil {
		return nil, err
	}
	srv := server.New(dom, st, pages)
	srv.SetInbound(in)
	srv.SetStream(platform)
	return &App{Server: srv, Privacy: server.NewPrivacy(dom, pages), Delivery: dom, Store: st}, nil
}

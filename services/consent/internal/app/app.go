// Package app assembles the consent service from its parts, for
// cmd/consent and for tests that run the real server: the same
// construction in both.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/pkg/store"
	consentsvc "github.com/sottohq/sotto/services/consent"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/config"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/deadline"
	"github.com/sottohq/sotto/services/consent/internal/dsr"
	"github.com/sottohq/sotto/services/consent/internal/receipt"
	"github.com/sottohq/sotto/services/consent/internal/server"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// Deps are what the service is built from.
type Deps struct {
	Config config.Config
	DB     *store.DB
	Keys   keys.KeyManager
	Audit  *auditclient.Outbox
	Events *events.Outbox
	Logger *slog.Logger
	// Now is the domain's clock (time.Now when nil).
	Now func() time.Time
	// Jobs runs the data-subject requests' steps (pkg/jobs).
	Jobs *jobs.Runner
	// Participants are the privacy participants other than consent (gRPC
	// clients of sotto.privacy.v1), by name; consent's own is added here.
	Participants map[string]dsr.Participant
	// ParticipantNames lists every participant in manifest order
	// (suite.PrivacyParticipants), consent included.
	ParticipantNames []string
	// Meter records the service's metrics (none when nil).
	Meter metric.MeterProvider
	// DSRMaxAttempts of a step before it fails (pkg/jobs' default when 0).
	DSRMaxAttempts int
}

// App is the consent service, assembled.
type App struct {
	Domain   *consent.Service
	Server   *server.Server
	Receipts *receipt.Signer
	Store    *storage.Store
	DSR      *dsr.Service
	// DSRServer is the data-subject request API.
	DSRServer *server.DSRServer
}

// New builds the service and applies the catalogue file (once per file
// version). It creates the receipt key with the local keyring; against
// Vault, whose policy does not grant create, a missing key fails here.
func New(ctx context.Context, d Deps) (*App, error) {
	cfg := d.Config
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if err := d.Keys.EnsureKey(ctx, cfg.ReceiptKey, keys.TypeEd25519); err != nil {
		return nil, err
	}
	data := consentsvc.DefaultCatalogue
	if cfg.CatalogueFile != "" {
		var err error
		if data, err = os.ReadFile(cfg.CatalogueFile); err != nil {
			return nil, err
		}
	}
	file, err := catalogue.Parse(data)
	if err != nil {
		return nil, err
	}
	// Stable across replicas and restarts: the HMAC of the receipt key's
	// first version (Transit keeps a separate HMAC secret per version).
	pageKey, err := d.Keys.HMAC(ctx, cfg.ReceiptKey, 1, []byte("sotto/consent/page-token"))
	if err != nil {
		return nil, err
	}
	pages, err := pagetoken.New(pageKey)
	if err != nil {
		return nil, err
	}
	// The key of request-id digests, stable the same way; a separate
	// derivation, so that it and the page-token key never coincide.
	requestKey, err := d.Keys.HMAC(ctx, cfg.ReceiptKey, 1, []byte("sotto/consent/request-id"))
	if err != nil {
		return nil, err
	}
	if len(requestKey) < consent.MinRequestKeyLen {
		return nil, fmt.Errorf("consent: the request-id key is %d bytes, want at least %d", len(requestKey), consent.MinRequestKeyLen)
	}
	st := storage.New(d.DB)
	signer := receipt.NewSigner(d.Keys, cfg.ReceiptKey, receipt.Controller{
		Name: cfg.ControllerName, Contact: cfg.ControllerContact, Address: cfg.ControllerAddress,
		Email: cfg.ControllerEmail, Phone: cfg.ControllerPhone, URL: cfg.ControllerURL, PolicyURL: cfg.PolicyURL,
		Jurisdiction: cfg.ControllerJurisdiction,
	})
	domain := consent.New(consent.Deps{Store: st, Audit: d.Audit, Events: d.Events, Receipts: signer, Logger: d.Logger, Now: d.Now,
		RequestKey: requestKey})
	if err := domain.ApplyFile(ctx, file); err != nil {
		return nil, err
	}
	if err := d.Keys.EnsureKey(ctx, cfg.DSRKey, keys.TypeAES256GCM); err != nil {
		return nil, err
	}
	rules, err := deadline.Load()
	if err != nil {
		return nil, err
	}
	participants := map[string]dsr.Participant{dsr.ConsentParticipant: domain.Participant()}
	for name, p := range d.Participants {
		if name != dsr.ConsentParticipant {
			participants[name] = p
		}
	}
	names := d.ParticipantNames
	if len(names) == 0 {
		names = []string{dsr.ConsentParticipant}
	}
	for _, n := range names {
		if participants[n] == nil {
			return nil, fmt.Errorf("consent: no client for the privacy participant %s", n)
		}
	}
	requests, err := dsr.New(dsr.Deps{Store: st, Audit: d.Audit, Keys: d.Keys, SealKey: cfg.DSRKey, RequestKey: requestKey,
		Jobs: d.Jobs, Participants: participants, Names: names, Rules: rules, ExportTTL: cfg.DSRExportTTL,
		MaxAttempts: d.DSRMaxAttempts, Logger: d.Logger, Meter: d.Meter, Now: d.Now, WAL: store.NewScrubber(d.DB, dsr.WALTimeout)})
	if err != nil {
		return nil, err
	}
	return &App{Domain: domain, Server: server.New(domain, pages, cfg.FeedHeartbeat), Receipts: signer, Store: st,
		DSR: requests, DSRServer: server.NewDSR(requests, pages)}, nil
}

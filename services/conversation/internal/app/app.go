// Package app assembles the conversation service from its parts, for
// cmd/conversation and for tests that run the real server: the same
// construction in both.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/assistant"
	"github.com/sottohq/sotto/services/conversation/internal/channels"
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/sealing"
	"github.com/sottohq/sotto/services/conversation/internal/server"
	"github.com/sottohq/sotto/services/conversation/internal/signals"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
	"github.com/sottohq/sotto/services/conversation/internal/vault"
)

// Deps are what the service is built from.
type Deps struct {
	Config config.Config
	DB     *store.DB
	Keys   keys.KeyManager
	Audit  *auditclient.Outbox
	// Vault is the token vault's client.
	Vault  vault.Client
	Logger *slog.Logger
	// Now is the domain's clock (time.Now when nil).
	Now func() time.Time
	// Jobs runs durable jobs (cmd/conversation registers the retention
	// sweep on it; tests run the sweep themselves).
	Jobs *jobs.Runner
	// Consent answers whether a customer allows a purpose (model
	// improvement); nil keeps no transcript past its period.
	Consent conversation.ConsentChecker
	// (Jobs also delivers channel replies, kind channels.DeliveryKind;
	// nil: messaging channels are off and IngestChannelMessage fails
	// FailedPrecondition.)
	// ChannelEgress and ChannelSecrets send replies through the platforms'
	// send APIs with each shop's credentials (pkg/secrets).
	ChannelEgress  *egress.Client
	ChannelSecrets channels.Secrets
	// ChannelVault is the token vault client deliveries detokenise with
	// (Vault when nil).
	ChannelVault channels.Vault
	// Meter records the service's metrics (the suspicious-activity
	// signals); nil records none.
	Meter metric.MeterProvider
}

// App is the conversation service, assembled.
type App struct {
	Domain *conversation.Service
	Server *server.Server
	Store  *storage.Store
	// Privacy is the data-subject request participant (sotto.privacy.v1).
	Privacy *server.Privacy
	// Retention is the retention sweep (cmd/conversation registers it on
	// the job runner).
	Retention *conversation.Retention
}

// New builds the service. It creates the secrets key with the local
// keyring; against Vault, whose policy does not grant create, a missing
// key fails here.
func New(ctx context.Context, d Deps) (*App, error) {
	cfg := d.Config
	if err := d.Keys.EnsureKey(ctx, cfg.SecretsKey, keys.TypeAES256GCM); err != nil {
		return nil, err
	}
	// Stable across replicas and restarts: HMACs under the key's first
	// version (Transit keeps an HMAC secret per version), one derivation
	// per use so that no two keys coincide.
	derive := func(use string) ([]byte, error) {
		return d.Keys.HMAC(ctx, cfg.SecretsKey, 1, []byte("sotto/conversation/"+use))
	}
	pageKey, err := derive("page-token")
	if err != nil {
		return nil, err
	}
	pages, err := pagetoken.New(pageKey)
	if err != nil {
		return nil, err
	}
	channelKey, err := derive("channel-message-id")
	if err != nil {
		return nil, err
	}
	valueKey, err := derive("placeholder-value")
	if err != nil {
		return nil, err
	}
	engine, err := pii.New(pii.StorageConfig())
	if err != nil {
		return nil, err
	}
	// The assistant: built-in, behind the model when one is configured;
	// personalisation only with consent (d.Consent; none: refused).
	var purposes assistant.Purposes
	if d.Consent != nil {
		purposes = assistant.PurposesFunc(d.Consent)
	}
	replier, err := newAssistant(cfg, purposes, d.Logger, d.Now)
	if err != nil {
		return nil, err
	}
	st := storage.New(d.DB)
	channelDeps, err := channelsDeps(d, st, derive)
	if err != nil {
		return nil, err
	}
	// Reveals relay the person's token to the vault (vault.Revealer); the
	// generated client offers both halves.
	revealClient, ok := d.Vault.(vault.RevealClient)
	if !ok {
		return nil, errors.New("conversation: the token vault client cannot reveal values")
	}
	// An account's erasure erases its linked channel users' stranger
	// pseudonyms in the vault too (vault.PseudonymEraser).
	eraseClient, ok := d.Vault.(vault.EraseClient)
	if !ok {
		return nil, errors.New("conversation: the token vault client cannot erase channel pseudonyms")
	}
	// Suspicious activity: scopes and order numbers counted as keyed
	// digests under their own derivation; the policy is data.
	signalKey, err := derive("signal-scope")
	if err != nil {
		return nil, err
	}
	signalPolicy, err := signals.LoadPolicy(cfg.SignalsPolicy)
	if err != nil {
		return nil, err
	}
	monitor, err := signals.New(signals.Deps{Store: st, Audit: d.Audit, Policy: signalPolicy, Key: signalKey,
		Meter: d.Meter, Logger: d.Logger, Now: d.Now})
	if err != nil {
		return nil, err
	}
	domain, err := conversation.New(conversation.Deps{Store: st, Audit: d.Audit, Vault: vault.New(d.Vault), Engine: engine,
		WatchMaxLifetime: cfg.WatchMaxLifetime, MaxNewValues: cfg.MaxNewValuesPerMessage, MaxValues: cfg.MaxValuesPerConversation,
		Keys: conversation.Keys{ChannelID: channelKey, Value: valueKey}, Assistant: replier, Logger: d.Logger, Now: d.Now,
		Revealer: vault.NewRevealer(revealClient), Pseudonyms: vault.NewPseudonymEraser(eraseClient), TokenizeTimeout: cfg.TokenizeTimeout, PollInterval: cfg.WatchPollInterval, DefaultLanguage: cfg.DefaultLanguage,
		Channels: channelDeps, Signals: monitor, WAL: store.NewScrubber(d.DB, conversation.WALTimeout)})
	if err != nil {
		return nil, err
	}
	// Shopper events (personalisation): pseudonymous shopper ids and
	// event digests under their own derivation; consent decides each use.
	shopperKey, err := derive("shopper-subject")
	if err != nil {
		return nil, err
	}
	if err := domain.EnableShopperEvents(shopperKey, d.Consent); err != nil {
		return nil, err
	}
	if d.Jobs != nil {
		// Events older than the personalisation period are deleted daily.
		sweep := func(ctx context.Context, job jobs.Job) error {
			_, err := domain.SweepShopperEvents(ctx, job.RunAt)
			return err
		}
		if err := d.Jobs.Periodic(ShopperEventSweepKind, 24*time.Hour, sweep, jobs.Options{MaxAttempts: 3}); err != nil {
			return nil, err
		}
	}
	// End-to-end sealing: the HPKE keys are derived from the same
	// secrets key, per rotation period, never stored.
	sealKeys, err := sealing.New(d.Keys, cfg.SecretsKey, cfg.SealingRotation, d.Now)
	if err != nil {
		return nil, err
	}
	ret, err := newRetention(cfg, domain, d)
	if err != nil {
		return nil, err
	}
	return &App{Domain: domain, Privacy: server.NewPrivacy(domain, pages), Retention: ret, Server: server.New(domain, pages).WithSealing(sealKeys), Store: st}, nil
}

// ShopperEventSweepKind is the periodic job that deletes shopper events
// past the personalisation period.
const ShopperEventSweepKind = "conversation.shopper_event_sweep"

// LinkCodeSweepKind is the periodic job that deletes expired channel link
// codes.
const LinkCodeSweepKind = "conversation.channel_link_code_sweep"

// channelsDeps derives the channel digest keys and registers the delivery
// job kind on d.Jobs (if any).
func channelsDeps(d Deps, st *storage.Store, derive func(string) ([]byte, error)) (conversation.ChannelDeps, error) {
	userKey, err := derive("channel-user-id")
	if err != nil {
		return conversation.ChannelDeps{}, err
	}
	codeKey, err := derive("channel-link-code")
	if err != nil {
		return conversation.ChannelDeps{}, err
	}
	cd := conversation.ChannelDeps{Keys: conversation.ChannelKeys{User: userKey, LinkCode: codeKey}, LinkCodeTTL: d.Config.LinkCodeTTL}
	if d.Jobs == nil {
		return cd, nil
	}
	cv, ok := d.ChannelVault, d.ChannelVault != nil
	if !ok {
		cv, ok = d.Vault.(channels.Vault)
	}
	if !ok {
		return cd, errors.New("conversation: the token vault client cannot detokenise channel recipients")
	}
	sender := channels.NewSender(d.ChannelEgress, d.ChannelSecrets, d.Config.GraphURL, d.Config.GraphVersion)
	if err := d.Jobs.Register(channels.DeliveryKind, channels.NewDeliverer(st, cv, sender, d.Logger).Handle, channels.Options); err != nil {
		return cd, err
	}
	// Expired link codes are of no use to anyone: deleted hourly.
	sweep := func(ctx context.Context, job jobs.Job) error { return st.DeleteExpiredLinkCodes(ctx, job.RunAt) }
	if err := d.Jobs.Periodic(LinkCodeSweepKind, time.Hour, sweep, jobs.Options{MaxAttempts: 3}); err != nil {
		return cd, err
	}
	cd.Jobs = d.Jobs
	return cd, nil
}

// Package app assembles identity from its parts, for cmd/identity and for
// tests that run the real server: the same construction in both.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/config"
	"github.com/sottohq/sotto/services/identity/internal/contacts"
	"github.com/sottohq/sotto/services/identity/internal/mfa"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/password"
	"github.com/sottohq/sotto/services/identity/internal/server"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/internal/throttle"
)

// Deps are what identity is built from.
type Deps struct {
	Config      config.Config
	DB          *store.DB
	Keys        keys.KeyManager
	Audit       *auditclient.Outbox
	Events      *events.Outbox
	Vault       tokenvaultv1.TokenVaultServiceClient
	Notifier    notify.Notifier
	TrustDomain string
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Hooks for tests: counted evaluations (see password.Options.OnVerify
	// and auth.Deps.OnSecondFactorCheck), and the domain's policy.
	OnPasswordCheck     func(real bool)
	OnSecondFactorCheck func()
	Domain              *auth.Config
	Throttle            *throttle.Config
}

// App is identity, assembled.
type App struct {
	Domain *auth.Service
	Server *server.Server
	// Privacy is identity's part of data-subject requests (sotto.privacy.v1).
	Privacy *server.Privacy
	// Keys and Feed are identity's own JWK Set and revocation feed, which
	// its end-user authentication reads (pkg/service's EndUsersFrom).
	Keys *accesstoken.RemoteKeys
	Feed enduser.RevocationSource
	// Prune deletes ended sessions, expired codes, ceremonies and
	// assertion ids, and truncates SQLite's WAL if an erasure could not;
	// a background task.
	Prune func(context.Context) error
}

// Issuer is identity's issuer name: spiffe://<trust domain>/identity.
func Issuer(trustDomain string) string { return "spiffe://" + trustDomain + "/identity" }

// New builds identity. It creates the token and secrets keys with the
// local keyring; against Vault, whose policy does not grant create, a
// missing key fails here.
func New(ctx context.Context, d Deps) (*App, error) {
	cfg := d.Config
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if err := d.Keys.EnsureKey(ctx, cfg.TokenKey, keys.TypeEd25519); err != nil {
		return nil, err
	}
	if err := d.Keys.EnsureKey(ctx, cfg.SecretsKey, keys.TypeAES256GCM); err != nil {
		return nil, err
	}
	issuerName := Issuer(d.TrustDomain)
	issuer, err := accesstoken.NewIssuer(d.Keys, cfg.TokenKey, issuerName, accesstoken.WithLifetime(cfg.AccessTokenLifetime),
		accesstoken.WithVisitorLifetime(cfg.VisitorTokenTTL))
	if err != nil {
		return nil, err
	}
	hasher, err := password.NewHasher(password.Options{
		Params:       password.Params{MemoryKiB: cfg.Argon2MemoryKiB, Time: cfg.Argon2Time, Threads: cfg.Argon2Threads},
		MemoryBudget: cfg.HashMemoryBudget, MaxWait: cfg.HashMaxWait, OnVerify: d.OnPasswordCheck,
	})
	if err != nil {
		return nil, err
	}
	policy, err := password.NewPolicy()
	if err != nil {
		return nil, err
	}
	totp, err := mfa.NewTOTP(d.Keys, mfa.TOTPConfig{KeyName: cfg.SecretsKey})
	if err != nil {
		return nil, err
	}
	recovery, err := mfa.NewRecoveryCodes(d.Keys, cfg.SecretsKey)
	if err != nil {
		return nil, err
	}
	var wa *mfa.WebAuthn
	if cfg.WebAuthnRPID != "" {
		if wa, err = mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: cfg.WebAuthnRPID, RPOrigins: cfg.WebAuthnOrigins, Now: d.Now}); err != nil {
			return nil, err
		}
	}
	// Stable across replicas and restarts: HMACs of the secrets key's first
	// version (version 1 exists as long as the key does, unless retired).
	pageKey, err := d.Keys.HMAC(ctx, cfg.SecretsKey, 1, []byte("sotto/identity/page-token"))
	if err != nil {
		return nil, err
	}
	sourceKey, err := d.Keys.HMAC(ctx, cfg.SecretsKey, 1, []byte("sotto/identity/source-pseudonym"))
	if err != nil {
		return nil, err
	}
	pages, err := pagetoken.New(pageKey, pagetoken.WithClock(d.Now))
	if err != nil {
		return nil, err
	}
	dcfg := auth.DefaultConfig()
	if d.Domain != nil {
		dcfg = *d.Domain
	}
	dcfg.SessionLifetime, dcfg.StaffSessionLifetime = cfg.SessionLifetime, cfg.StaffSessionLifetime
	dcfg.ClientAudiences = append([]string{issuerName}, cfg.ClientAssertionAudiences...)
	tcfg := throttle.DefaultConfig
	tcfg.Rate, tcfg.Burst = cfg.ThrottleRate, cfg.ThrottleBurst
	if d.Throttle != nil {
		tcfg = *d.Throttle
	}
	tcfg.Now = d.Now
	domain := auth.New(dcfg, auth.Deps{
		Store: storage.New(d.DB), Hasher: hasher, Policy: policy, Contacts: contacts.New(d.Vault), Notifier: d.Notifier,
		Tokens: issuer, TOTP: totp, Recovery: recovery, WebAuthn: wa, Audit: d.Audit, Events: d.Events,
		Metrics: auth.NewMetrics(d.Registerer), SourceKey: sourceKey, Logger: d.Logger, Now: d.Now,
		OnSecondFactorCheck: d.OnSecondFactorCheck,
	})
	domain.Throttle = throttle.New(tcfg, domain.OnStuffing)

	st := storage.New(d.DB)
	return &App{
		Domain: domain, Server: server.New(domain, pages), Privacy: server.NewPrivacy(domain, pages),
		// identity authenticates its own end users with pkg/enduser like
		// every service, from its own keys and its own revocation feed, in
		// process (pkg/service's EndUsersFrom).
		Keys: accesstoken.NewRemoteKeys(func(ctx context.Context) ([]byte, time.Duration, error) { return domain.JWKS(ctx) }),
		Feed: localFeed{domain},
		Prune: func(ctx context.Context) error {
			t := time.NewTicker(cfg.PruneInterval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
				}
				now := d.Now()
				if err := st.PruneSessions(ctx, st.DB(), now.Add(-24*time.Hour)); err != nil {
					d.Logger.Warn("prune sessions failed", slog.String("error_reason", errs.ReasonOf(err)))
				}
				if _, err := st.PruneCodes(ctx, st.DB(), now.Add(-24*time.Hour)); err != nil {
					d.Logger.Warn("prune codes failed", slog.String("error_reason", errs.ReasonOf(err)))
				}
				domain.RetryWAL(ctx)
			}
		},
	}, nil
}

// localFeed is identity's own revocation feed as pkg/enduser reads it.
type localFeed struct{ d *auth.Service }

func (f localFeed) Watch(ctx context.Context, cursor string, fn func(enduser.Revocation) error) error {
	err := f.d.WatchRevocations(ctx, cursor, func(r auth.Revocation) error {
		rev := enduser.Revocation{Cursor: r.Cursor, RevokeTime: r.Revoked, ExpireTime: r.Expires}
		switch r.Kind {
		case storage.RevokedSession:
			rev.SessionID = r.TargetID
		case storage.RevokedClient:
			rev.ClientID = r.TargetID
		}
		return fn(rev)
	})
	if cursor != "" && errs.ReasonOf(err) == events.ReasonCursorExpired {
		return errors.Join(enduser.ErrCursorInvalid, err)
	}
	return err
}

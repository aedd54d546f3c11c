// Command identity runs Sotto's identity service.
package main

import (
	"context"
	"path/filepath"
	"strings"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	sottoserver "github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/identity/internal/app"
	"github.com/sottohq/sotto/services/identity/internal/config"
	"github.com/sottohq/sotto/services/identity/internal/crmevents"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/server"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/migrations"
)

func main() { service.Main("identity", register) }

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
	// Revocation events carry session and client ids only: no sealing.
	evs, err := s.Events(ctx, db, "")
	if err != nil {
		return err
	}
	vault, err := s.Dial("tokenvault")
	if err != nil {
		return err
	}
	mailKey, err := notify.MailboxKey(ctx, km, cfg.SecretsKey)
	if err != nil {
		return err
	}
	mailbox, err := notify.NewMailbox(mailboxPath(cfg, db), mailKey, nil)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, app.Deps{
		Config: cfg, DB: db, Keys: km, Audit: audit, Events: evs, Vault: tokenvaultv1.NewTokenVaultServiceClient(vault),
		Notifier: mailbox, TrustDomain: s.TrustDomain(), Logger: s.Logger(), Registerer: s.Telemetry().Registry,
	})
	if err != nil {
		return err
	}
	if cfg.CRMSyncAddr != "" {
		if err := customerEvents(s, db, a); err != nil {
			return err
		}
	}
	// identity's own end users are checked like every service's, with its
	// own keys and revocation feed (no call to itself).
	if _, err := s.EndUsersFrom(server.EndUsers, a.Keys, a.Feed); err != nil {
		return err
	}
	gs, err := s.GRPC(server.Policy(suite.MustLoad()), sottoserver.WithShedExempt(server.ShedExempt...))
	if err != nil {
		return err
	}
	identityv1.RegisterIdentityServiceServer(gs, a.Server)
	privacyv1.RegisterPrivacyParticipantServiceServer(gs, a.Privacy)
	s.Go("prune", a.Prune)
	// Messages handed to the notifier after a commit (password-reset codes)
	// are let out before the process ends.
	s.Go("deliveries", func(ctx context.Context) error {
		<-ctx.Done()
		a.Domain.Wait()
		return ctx.Err()
	})
	return nil
}

// customerEvents records customers' sign-ups and contact changes in
// crmsync through durable jobs (internal/crmevents). crmsync may start
// after identity (the manifest's follows): the connection is made when a
// job first needs it, and a job retries until crmsync answers.
func customerEvents(s *service.Service, db *store.DB, a *app.App) error {
	conn, err := s.Dial("crmsync")
	if err != nil {
		return err
	}
	runner, err := s.Jobs(db)
	if err != nil {
		return err
	}
	ev, err := crmevents.New(runner, storage.New(db), crmsyncv1.NewCrmSyncServiceClient(conn))
	if err != nil {
		return err
	}
	a.Domain.CustomerEvents = ev
	return nil
}

// mailboxPath is the dev mailbox: the configured file, or one next to the
// SQLite database (the state directory under `sotto dev up`).
func mailboxPath(cfg config.Config, db *store.DB) string {
	if cfg.MailboxFile != "" {
		return cfg.MailboxFile
	}
	if path, ok := strings.CutPrefix(cfg.DatabaseDSN, "sqlite://"); ok && db.Dialect == store.SQLite && path != "" {
		return filepath.Join(filepath.Dir(path), "identity-mailbox.jsonl")
	}
	return "identity-mailbox.jsonl"
}

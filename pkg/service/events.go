package service

import (
	"context"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
)

// eventsTrimTask is the name of the trim's background task.
const eventsTrimTask = "events-trim"

// eventsConfig is read from SOTTO_EVENTS_*.
type eventsConfig struct {
	// Retention is how long events are kept for change feeds to resume
	// from; a client whose cursor is older must resynchronise.
	Retention time.Duration `env:"EVENTS_RETENTION" envDefault:"168h"`
	// TrimInterval is how often events past the retention (and every
	// consumer) are deleted.
	TrimInterval time.Duration `env:"EVENTS_TRIM_INTERVAL" envDefault:"1m"`
}

// Events returns the event outbox of db (pkg/events; the platform schema
// holds its tables) and starts its trim as a background task. kek names the
// KeyManager key that wraps the data keys sealing payloads: set it for
// services whose events hold tokens or personal data; "" stores payloads in
// plaintext. Call it once.
func (s *Service) Events(ctx context.Context, db *store.DB, kek string) (*events.Outbox, error) {
	for _, t := range s.tasks {
		if t.name == eventsTrimTask {
			return nil, errors.New("service: Events called twice")
		}
	}
	var cfg eventsConfig
	if err := s.Config(&cfg); err != nil {
		return nil, err
	}
	opts := events.Options{Retention: cfg.Retention, Logger: s.logger}
	if kek != "" {
		km, err := s.Keys()
		if err != nil {
			return nil, err
		}
		// Creates the key with the local keyring; against Vault the
		// service's policy cannot create keys, so a missing key fails closed.
		if err := km.EnsureKey(ctx, kek, keys.TypeAES256GCM); err != nil {
			return nil, err
		}
		if opts.Sealer, err = events.NewSealer(ctx, db, km, kek); err != nil {
			return nil, err
		}
	}
	o, err := events.New(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	s.Go(eventsTrimTask, func(ctx context.Context) error { return o.RunTrim(ctx, cfg.TrimInterval) })
	return o, nil
}

// RelayEvents delivers o's events of topics through deliver, in order and
// at least once, as the consumer name (its cursor is kept in the database,
// shared by replicas), in a background task. Tasks stop last started
// first: call it before starting the tasks that publish, and it relays
// their last events after they have stopped; what it does not get to is
// relayed on the next start.
func (s *Service) RelayEvents(ctx context.Context, o *events.Outbox, name string, topics []string, deliver events.Deliver[events.Record], opts events.RelayOptions) error {
	r, _, err := o.Relay(ctx, name, topics, deliver, opts)
	if err != nil {
		return err
	}
	s.Go("events-relay-"+name, r.Run)
	return nil
}

package service_test

import (
	"bytes"
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/service"
)

// TestEventsAreWired: Events gives a service an outbox whose payloads are
// sealed under its KeyManager, RelayEvents runs a consumer's relay as a
// background task, woken by Notify after a commit; Events refuses a second
// call.
func TestEventsAreWired(t *testing.T) {
	h := newHarness(t, "notes")
	const canary = "sess_canary_0123456789"
	delivered := make(chan string, 10)
	type wiring struct {
		db     *sql.DB
		outbox *events.Outbox
	}
	wired := make(chan wiring, 1)
	h.run(t, "notes", func(ctx context.Context, s *service.Service) error {
		sdb, err := s.DB(ctx, nil)
		if err != nil {
			return err
		}
		outbox, err := s.Events(ctx, sdb, "notes-events")
		if err != nil {
			return err
		}
		wired <- wiring{sdb.DB, outbox}
		if _, err := s.Events(ctx, sdb, "notes-events"); err == nil {
			t.Error("a second Events call succeeded")
		}
		if err := s.RelayEvents(ctx, outbox, "crmsync", []string{"identity.session.revoked"}, func(_ context.Context, recs []events.Record) error {
			for _, r := range recs {
				delivered <- string(r.Payload)
			}
			return nil
		}, events.RelayOptions{Interval: time.Hour}); err != nil {
			return err
		}
		_, err = s.GRPC(authz.Policy{})
		return err
	})
	w := <-wired
	db, outbox := w.db, w.outbox

	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Publish(t.Context(), tx, events.Event{Topic: "identity.session.revoked", Key: "s1", Payload: []byte(canary)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	outbox.Notify()
	select {
	case got := <-delivered:
		if got != canary {
			t.Fatalf("relay delivered %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Notify did not wake the relay")
	}
	var raw []byte
	if err := db.QueryRowContext(t.Context(), `SELECT payload FROM event_outbox`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(canary)) {
		t.Fatal("the payload is stored in plaintext")
	}
}

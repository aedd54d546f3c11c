package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// destination records what a relay delivered and fails on demand.
type destination struct {
	got     []string
	down    bool   // answers Unavailable
	refuses string // payload it refuses as invalid
}

func (d *destination) deliver(_ context.Context, recs []events.Record) error {
	if d.down {
		return status.Error(codes.Unavailable, "destination down")
	}
	for _, r := range recs {
		if string(r.Payload) == d.refuses {
			return status.Error(codes.InvalidArgument, "refused")
		}
	}
	for _, r := range recs {
		d.got = append(d.got, string(r.Payload))
	}
	return nil
}

func drain(t *testing.T, r *events.Relay[events.Record]) {
	t.Helper()
	for range 100 {
		n, err := r.Flush(t.Context())
		if err != nil {
			t.Fatalf("flush: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the relay never ran dry")
}

func position(t *testing.T, c *events.Consumer) int64 {
	t.Helper()
	p, err := c.Position(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConsumersKeepIndependentCursors: two consumers of the same topic each
// get every event; one whose destination is down keeps its cursor (and
// its events: Trim does not pass it) while the other moves on, and catches
// up, from where it was, once its destination is back.
func TestConsumersKeepIndependentCursors(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newClock()
		o := newOutbox(t, db, testOptions(c))
		topics := []string{"consent.withdrawn"}
		crm, vault := &destination{}, &destination{down: true}
		crmRelay, crmCursor, err := o.Relay(ctx, "crmsync", topics, crm.deliver, events.RelayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vaultRelay, vaultCursor, err := o.Relay(ctx, "tokenvault", topics, vault.deliver, events.RelayOptions{})
		if err != nil {
			t.Fatal(err)
		}

		publish(t, db, o, ev("consent.withdrawn", "c1", "e1"), ev("consent.withdrawn", "c2", "e2"))
		drain(t, crmRelay)
		if _, err := vaultRelay.Flush(ctx); status.Code(err) != codes.Unavailable {
			t.Fatalf("flush to a destination that is down: %v, want its Unavailable", err)
		}
		if p := position(t, vaultCursor); p != 0 {
			t.Fatalf("the failed consumer's cursor moved to %d", p)
		}

		// Past the retention, but the failed consumer has not had them.
		c.Advance(2 * time.Hour)
		publish(t, db, o, ev("consent.withdrawn", "c3", "e3"))
		if n, err := o.Trim(ctx); err != nil || n != 0 {
			t.Fatalf("trim: %d deleted (%v), want none while a consumer needs them", n, err)
		}
		drain(t, crmRelay)

		vault.down = false
		drain(t, vaultRelay)
		for name, d := range map[string]*destination{"crmsync": crm, "tokenvault": vault} {
			if diff := cmp.Diff([]string{"e1", "e2", "e3"}, d.got); diff != "" {
				t.Errorf("%s got (-want +got):\n%s", name, diff)
			}
		}
		if a, b := position(t, crmCursor), position(t, vaultCursor); a != b || a == 0 {
			t.Fatalf("cursors %d and %d, want both at the last event", a, b)
		}
		if n, err := o.Trim(ctx); err != nil || n != 2 {
			t.Fatalf("trim: %d deleted (%v), want e1 and e2 now that both consumers passed them", n, err)
		}

		// A restarted relay (same name) resumes from the stored cursor.
		again := &destination{}
		restarted, _, err := o.Relay(ctx, "crmsync", topics, again.deliver, events.RelayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, db, o, ev("consent.withdrawn", "c4", "e4"))
		drain(t, restarted)
		if diff := cmp.Diff([]string{"e4"}, again.got); diff != "" {
			t.Errorf("restarted relay got (-want +got):\n%s", diff)
		}
	})
}

// TestQuietConsumerDoesNotHoldBackTrim: a consumer whose topic has no
// events still moves past the others' events, so Trim can delete them.
func TestQuietConsumerDoesNotHoldBackTrim(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newClock()
		o := newOutbox(t, db, testOptions(c))
		quiet := &destination{}
		relay, cursor, err := o.Relay(ctx, "quiet", []string{"identity.session.revoked"}, quiet.deliver, events.RelayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, db, o, ev("consent.withdrawn", "c1", "e1"), ev("consent.withdrawn", "c2", "e2"))
		drain(t, relay)
		if len(quiet.got) != 0 || position(t, cursor) == 0 {
			t.Fatalf("quiet consumer got %v, cursor %d; want nothing delivered and the cursor moved", quiet.got, position(t, cursor))
		}
		c.Advance(2 * time.Hour)
		if n, err := o.Trim(ctx); err != nil || n != 2 {
			t.Fatalf("trim: %d deleted (%v), want 2", n, err)
		}
	})
}

// TestRelaySetsRefusedEventsAside: an event the destination refuses is
// recorded as rejected and passed, so the events behind it are delivered.
func TestRelaySetsRefusedEventsAside(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		o := newOutbox(t, db, testOptions(newClock()))
		d := &destination{refuses: "poison"}
		relay, cursor, err := o.Relay(ctx, "crmsync", []string{"consent.withdrawn"}, d.deliver, events.RelayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, db, o, ev("consent.withdrawn", "c1", "e1"), ev("consent.withdrawn", "c2", "poison"), ev("consent.withdrawn", "c3", "e3"))
		if n, err := relay.Flush(ctx); err != nil || n != 2 {
			t.Fatalf("flush: %d delivered, %v; want the two others", n, err)
		}
		if diff := cmp.Diff([]string{"e1", "e3"}, d.got); diff != "" {
			t.Fatalf("delivered (-want +got):\n%s", diff)
		}
		if n, err := cursor.Rejected(ctx); err != nil || n != 1 {
			t.Fatalf("rejected: %d, %v; want 1", n, err)
		}
		publish(t, db, o, ev("consent.withdrawn", "c4", "e4"))
		drain(t, relay)
		if diff := cmp.Diff([]string{"e1", "e3", "e4"}, d.got); diff != "" {
			t.Fatalf("delivered after the refusal (-want +got):\n%s", diff)
		}
	})
}

// TestRelayRunStopsCleanly: Run delivers what is published (woken by
// Notify) and returns nil when its context ends.
func TestRelayRunStopsCleanly(t *testing.T) {
	db := storetest.SQLite(t, serviceMigrations())
	o := newOutbox(t, db, testOptions(newClock()))
	delivered := make(chan string, 10)
	relay, _, err := o.Relay(t.Context(), "crmsync", []string{"consent.withdrawn"}, func(_ context.Context, recs []events.Record) error {
		for _, r := range recs {
			delivered <- string(r.Payload)
		}
		return nil
	}, events.RelayOptions{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	publish(t, db, o, ev("consent.withdrawn", "c1", "e1"))
	select {
	case got := <-delivered:
		if got != "e1" {
			t.Fatalf("delivered %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Notify did not wake the relay")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v, want a clean stop", err)
	}
}

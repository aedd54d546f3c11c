package events_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

func countEvents(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM event_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPublishCommitsWithTheTransaction: an event is written in the caller's
// transaction, so a rolled-back state change leaves no event behind, and a
// committed one leaves exactly its event, which a feed then streams.
func TestPublishCommitsWithTheTransaction(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		o := newOutbox(t, db, testOptions(newClock()))
		f := startFeed(t, o, events.Subscription{Topics: []string{"consent.withdrawn"}})
		f.next(t) // the starting cursor

		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO consents (id, state) VALUES ('c1', 'withdrawn')`); err != nil {
				return err
			}
			if err := o.Publish(ctx, tx, ev("consent.withdrawn", "c1", "rolled back")); err != nil {
				return err
			}
			return errors.New("the state change fails after the publish")
		})
		if err == nil {
			t.Fatal("the failing transaction committed")
		}
		if n := countEvents(t, db); n != 0 {
			t.Fatalf("%d events after a rollback, want 0", n)
		}

		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO consents (id, state) VALUES ('c1', 'withdrawn')`); err != nil {
				return err
			}
			return o.Publish(ctx, tx, events.Event{Topic: "consent.withdrawn", Key: "c1", Message: wrapperspb.String("committed")})
		}); err != nil {
			t.Fatal(err)
		}
		o.Notify()
		c := f.nextEvent(t)
		var msg wrapperspb.StringValue
		if err := proto.Unmarshal(c.Event.Payload, &msg); err != nil || msg.GetValue() != "committed" || c.Event.Key != "c1" || c.Event.ID == "" || c.Cursor == "" {
			t.Fatalf("streamed %+v (%v), want the committed event", c, err)
		}
		if n := countEvents(t, db); n != 1 {
			t.Fatalf("%d events after one commit, want 1", n)
		}
	})
}

// TestPublishRefusesMalformedEvents: a bad topic, key or payload fails the
// publishing transaction, before anything is written.
func TestPublishRefusesMalformedEvents(t *testing.T) {
	db := storetest.SQLite(t, nil)
	o := newOutbox(t, db, testOptions(newClock()))
	for _, tc := range []struct {
		name   string
		event  events.Event
		reason string
	}{
		{"empty topic", ev("", "k", "p"), events.ReasonTopicInvalid},
		{"upper-case topic", ev("Consent.Withdrawn", "k", "p"), events.ReasonTopicInvalid},
		{"topic with a space", ev("consent withdrawn", "k", "p"), events.ReasonTopicInvalid},
		{"key not UTF-8", ev("consent.withdrawn", "\xff", "p"), events.ReasonKeyInvalid},
		{"key with NUL", ev("consent.withdrawn", "a\x00b", "p"), events.ReasonKeyInvalid},
		{"key too long", ev("consent.withdrawn", strings.Repeat("k", events.MaxKeyLen+1), "p"), events.ReasonKeyInvalid},
		{"payload too large", ev("consent.withdrawn", "k", strings.Repeat("p", events.MaxPayloadLen+1)), events.ReasonPayloadInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.InTx(t.Context(), func(tx *sql.Tx) error {
				return o.Publish(t.Context(), tx, ev("consent.withdrawn", "ok", "ok"), tc.event)
			})
			if !errs.Is(err, errs.InvalidArgument) || errs.ReasonOf(err) != tc.reason {
				t.Fatalf("publish: %v, want InvalidArgument %s", err, tc.reason)
			}
			if n := countEvents(t, db); n != 0 {
				t.Fatalf("%d events written, want 0", n)
			}
		})
	}
}

// TestOutOfOrderCommitIsNotSkipped: on PostgreSQL, transaction A publishes
// first and commits last while B publishes and commits in between. Without
// the publish lock B's seq (drawn second, higher) commits first; a reader
// then moves its cursor past it, and A's event, committing later below the
// cursor, is never read. With the lock, B waits for A, and the reader gets
// both, in order.
func TestOutOfOrderCommitIsNotSkipped(t *testing.T) {
	ctx := t.Context()
	db := storetest.Postgres(t, serviceMigrations())
	o := newOutbox(t, db, testOptions(newClock()))
	var got []string
	relay, _, err := o.Relay(ctx, "reader", []string{"consent.withdrawn"}, func(_ context.Context, recs []events.Record) error {
		for _, r := range recs {
			got = append(got, string(r.Payload))
		}
		return nil
	}, events.RelayOptions{})
	if err != nil {
		t.Fatal(err)
	}

	txA, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback()
	if err := o.Publish(ctx, txA, ev("consent.withdrawn", "a", "A")); err != nil {
		t.Fatal(err)
	}
	bDone := make(chan error, 1)
	go func() {
		bDone <- db.InTx(ctx, func(tx *sql.Tx) error { return o.Publish(ctx, tx, ev("consent.withdrawn", "b", "B")) })
	}()
	// B has either committed (no lock) or is waiting for A's lock.
	bCommitted := waitCommittedOrBlocked(t, db, bDone)
	if _, err := relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	if !bCommitted {
		if err := <-bDone; err != nil {
			t.Fatal(err)
		}
	}
	for {
		n, err := relay.Flush(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if diff := cmp.Diff([]string{"A", "B"}, got); diff != "" {
		t.Fatalf("events read (-want +got):\n%s", diff)
	}
}

// waitCommittedOrBlocked waits until B's transaction has ended (reporting
// true) or is waiting for a lock (false).
func waitCommittedOrBlocked(t *testing.T, db *store.DB, bDone chan error) bool {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-bDone:
			if err != nil {
				t.Fatal(err)
			}
			return true
		case <-deadline:
			t.Fatal("B neither committed nor waited for a lock")
		case <-time.After(5 * time.Millisecond):
		}
		var waiting int
		if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return false
		}
	}
}

// TestFeedResumesAfterReconnect: a client that disconnects and comes back
// with the cursor of the last event it processed gets every event after it
// once: none lost, none repeated, the backlog first, a heartbeat saying it
// is done, then live events. (Fails without that heartbeat.)
func TestFeedResumesAfterReconnect(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		o := newOutbox(t, db, testOptions(newClock()))
		sub := events.Subscription{Topics: []string{"consent.withdrawn"}}
		f := startFeed(t, o, sub)
		start := f.next(t)
		if start.Event != nil || start.Cursor == "" {
			t.Fatalf("first change %+v, want a heartbeat with the starting cursor", start)
		}
		publish(t, db, o, ev("consent.withdrawn", "c1", "e1"), ev("consent.withdrawn", "c2", "e2"), ev("consent.withdrawn", "c3", "e3"))
		e1 := f.nextEvent(t)
		e2 := f.nextEvent(t)
		if got := payloads([]events.Change{e1, e2}); !slices.Equal(got, []string{"e1", "e2"}) {
			t.Fatalf("got %v, want e1, e2", got)
		}
		// The client processed e2 and went away (the feed may already have
		// sent e3, which the client never processed); e4 is published while
		// it is away.
		f.stop(t)
		publish(t, db, o, ev("consent.withdrawn", "c4", "e4"))

		sub.Cursor = e2.Cursor
		g := startFeed(t, o, sub)
		if c := g.next(t); c.Event != nil || c.Cursor != e2.Cursor {
			t.Fatalf("first change after reconnecting %+v, want a heartbeat at the resume cursor", c)
		}
		backlog := []string{string(g.nextEvent(t).Event.Payload), string(g.nextEvent(t).Event.Payload)}
		// The backlog's end is said at once (the heartbeat interval is an
		// hour here): a resumed client knows when it is current again.
		if c := g.next(t); c.Event != nil {
			t.Fatalf("after the backlog %+v, want a heartbeat saying it is done", c)
		}
		publish(t, db, o, ev("consent.withdrawn", "c5", "e5"))
		live := string(g.nextEvent(t).Event.Payload)
		// Events arrive in log order, so a repeat of e1 or e2 would have
		// come before e3.
		if diff := cmp.Diff([]string{"e3", "e4", "e5"}, append(backlog, live)); diff != "" {
			t.Fatalf("after reconnecting (-want +got):\n%s", diff)
		}
	})
}

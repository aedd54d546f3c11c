package events_test

import (
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// TestFeedFindsOtherReplicasEvents: an event published by another replica
// (another Outbox on the same database, whose Notify does not reach this
// process) reaches the feed by polling.
func TestFeedFindsOtherReplicasEvents(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		c := newClock()
		here, there := newOutbox(t, db, testOptions(c)), newOutbox(t, db, testOptions(c))
		f := startFeed(t, here, events.Subscription{Topics: []string{"identity.session.revoked"}})
		f.next(t)
		publish(t, db, there, ev("identity.session.revoked", "s1", "revoked"))
		if got := string(f.nextEvent(t).Event.Payload); got != "revoked" {
			t.Fatalf("got %q, want the other replica's event", got)
		}
	})
}

// TestFeedStreamsOnlyItsTopics: events of other topics are not streamed,
// but the feed's cursor moves past them (its heartbeats say so), so an
// idle feed for a quiet topic does not fall behind the retention.
func TestFeedStreamsOnlyItsTopics(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		c := newClock()
		opts := testOptions(c)
		opts.Heartbeat = 5 * time.Millisecond
		o := newOutbox(t, db, opts)
		publish(t, db, o, ev("consent.granted", "c0", "before"))
		f := startFeed(t, o, events.Subscription{Topics: []string{"consent.withdrawn"}})
		start := f.next(t).Cursor
		publish(t, db, o, ev("consent.granted", "c1", "other topic"), ev("consent.granted", "c2", "other topic"))
		var moved string
		giveUp := time.After(10 * time.Second)
		for moved == "" {
			select {
			case <-giveUp:
				t.Fatal("the heartbeats' cursor never moved past the other topics' events")
			default:
			}
			ch := f.next(t)
			if ch.Event != nil {
				t.Fatalf("streamed %q of topic %s", ch.Event.Payload, ch.Event.Topic)
			}
			if ch.Cursor != start {
				moved = ch.Cursor
			}
		}
		// The moved cursor survives a trim of the events it moved past,
		// which the starting cursor does not.
		c.Advance(2 * time.Hour)
		publish(t, db, o, ev("consent.withdrawn", "c3", "kept"))
		if _, err := o.Trim(t.Context()); err != nil {
			t.Fatal(err)
		}
		g := startFeed(t, o, events.Subscription{Topics: []string{"consent.withdrawn"}, Cursor: moved})
		if got := string(g.nextEvent(t).Event.Payload); got != "kept" {
			t.Fatalf("got %q, want the event after the moved cursor", got)
		}
		err := o.Feed(t.Context(), events.Subscription{Topics: []string{"consent.withdrawn"}, Cursor: start}, func(events.Change) error { return nil })
		if errs.ReasonOf(err) != events.ReasonCursorExpired {
			t.Fatalf("feed from the starting cursor after the trim: %v, want CURSOR_EXPIRED", err)
		}
	})
}

// TestExpiredCursorIsRefused: once events after a cursor have been trimmed,
// resuming from it is FailedPrecondition CURSOR_EXPIRED (the client must
// resynchronise) rather than a stream that silently skips them, whether
// the trim happened before the client came back or while it was reading.
func TestExpiredCursorIsRefused(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newClock()
		o := newOutbox(t, db, testOptions(c))
		topics := []string{"consent.withdrawn"}
		f := startFeed(t, o, events.Subscription{Topics: topics})
		c0 := f.next(t).Cursor
		publish(t, db, o, ev("consent.withdrawn", "c1", "e1"), ev("consent.withdrawn", "c2", "e2"))
		c1 := f.nextEvent(t).Cursor
		c2 := f.nextEvent(t).Cursor
		f.stop(t)

		// A client at c0 reconnects and, as its feed starts, e1 and e2
		// pass the retention and are trimmed.
		trimmed := false
		err := o.Feed(ctx, events.Subscription{Topics: topics, Cursor: c0}, func(ch events.Change) error {
			if ch.Event != nil {
				t.Fatalf("streamed %q past a trimmed gap", ch.Event.Payload)
			}
			if !trimmed {
				trimmed = true
				c.Advance(2 * time.Hour)
				publish(t, db, o, ev("consent.withdrawn", "c3", "e3"))
				if n, err := o.Trim(ctx); err != nil || n != 2 {
					t.Fatalf("trim: %d, %v; want e1 and e2 deleted", n, err)
				}
			}
			return nil
		})
		if !errs.Is(err, errs.FailedPrecondition) || errs.ReasonOf(err) != events.ReasonCursorExpired {
			t.Fatalf("feed trimmed under its feet: %v, want FailedPrecondition CURSOR_EXPIRED", err)
		}

		for name, cur := range map[string]string{"before e1": c0, "after e1": c1} {
			err := o.Feed(ctx, events.Subscription{Topics: topics, Cursor: cur}, func(ch events.Change) error {
				t.Fatalf("%s: sent %+v before refusing", name, ch)
				return nil
			})
			if !errs.Is(err, errs.FailedPrecondition) || errs.ReasonOf(err) != events.ReasonCursorExpired {
				t.Fatalf("%s: %v, want FailedPrecondition CURSOR_EXPIRED", name, err)
			}
		}
		g := startFeed(t, o, events.Subscription{Topics: topics, Cursor: c2})
		if got := string(g.nextEvent(t).Event.Payload); got != "e3" {
			t.Fatalf("from the cursor after e2: %q, want e3", got)
		}
	})
}

// TestCursorsOfOtherLogsAndGarbage: a cursor of another database's log is
// CURSOR_EXPIRED (the client's state is not this log's); what is no cursor
// at all is InvalidArgument INVALID_CURSOR. Neither streams anything.
func TestCursorsOfOtherLogsAndGarbage(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	db, other := storetest.SQLite(t, nil), storetest.SQLite(t, nil)
	o, otherOutbox := newOutbox(t, db, testOptions(c)), newOutbox(t, other, testOptions(c))
	topics := []string{"consent.withdrawn"}
	f := startFeed(t, otherOutbox, events.Subscription{Topics: topics})
	foreign := f.next(t).Cursor
	g := startFeed(t, o, events.Subscription{Topics: topics})
	own := g.next(t).Cursor

	for _, tc := range []struct {
		name, cursor string
		kind         errs.Kind
		reason       string
	}{
		{"another log's", foreign, errs.FailedPrecondition, events.ReasonCursorExpired},
		{"not base64", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", errs.InvalidArgument, events.ReasonCursorInvalid},
		{"truncated", own[:len(own)-1], errs.InvalidArgument, events.ReasonCursorInvalid},
		{"extended", own + "A", errs.InvalidArgument, events.ReasonCursorInvalid},
		{"padded", own + "=", errs.InvalidArgument, events.ReasonCursorInvalid},
		{"a page token", "AQAAAABnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZw", errs.InvalidArgument, events.ReasonCursorInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := o.Feed(ctx, events.Subscription{Topics: topics, Cursor: tc.cursor}, func(ch events.Change) error {
				t.Fatalf("sent %+v before refusing", ch)
				return nil
			})
			if !errs.Is(err, tc.kind) || errs.ReasonOf(err) != tc.reason {
				t.Fatalf("%v, want %v %s", err, tc.kind, tc.reason)
			}
		})
	}
}

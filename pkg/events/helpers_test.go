package events_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/store"
)

// serviceMigrations is a service with a table of its own, whose changes the
// events describe; the event tables come with the platform schema.
func serviceMigrations() fstest.MapFS {
	fs := fstest.MapFS{}
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		fs[string(dialect)+"/0001_init.sql"] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\nCREATE TABLE consents (id TEXT PRIMARY KEY, state TEXT NOT NULL);\n")}
	}
	return fs
}

// clock is a settable clock for retention.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testOptions poll and beat often, so that tests waiting on them are quick;
// no test asserts how long anything took.
func testOptions(c *clock) events.Options {
	return events.Options{Retention: time.Hour, PollInterval: 10 * time.Millisecond, Heartbeat: time.Hour, Now: c.Now}
}

func newOutbox(t *testing.T, db *store.DB, opts events.Options) *events.Outbox {
	t.Helper()
	o, err := events.New(t.Context(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// publish commits evs in one transaction and notifies.
func publish(t *testing.T, db *store.DB, o *events.Outbox, evs ...events.Event) {
	t.Helper()
	if err := db.InTx(t.Context(), func(tx *sql.Tx) error { return o.Publish(t.Context(), tx, evs...) }); err != nil {
		t.Fatalf("publish: %v", err)
	}
	o.Notify()
}

func ev(topic, key, payload string) events.Event {
	return events.Event{Topic: topic, Key: key, Payload: []byte(payload)}
}

// feed is a running Feed whose changes arrive on a channel.
type feed struct {
	changes chan events.Change
	done    chan struct{} // closed when Feed has returned err
	err     error
	cancel  context.CancelFunc
}

func startFeed(t *testing.T, o *events.Outbox, sub events.Subscription) *feed {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	f := &feed{changes: make(chan events.Change, 1024), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(f.done)
		f.err = o.Feed(ctx, sub, func(c events.Change) error {
			select {
			case f.changes <- c:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { f.stop(t) })
	return f
}

// next returns the feed's next change; the feed must send one.
func (f *feed) next(t *testing.T) events.Change {
	t.Helper()
	select {
	case c := <-f.changes:
		return c
	case <-f.done:
		t.Fatalf("feed ended (%v) before the change the test waits for", f.err)
	case <-time.After(10 * time.Second):
		t.Fatal("no change from the feed")
	}
	return events.Change{}
}

// nextEvent skips heartbeats.
func (f *feed) nextEvent(t *testing.T) events.Change {
	t.Helper()
	for {
		if c := f.next(t); c.Event != nil {
			return c
		}
	}
}

// stop ends the feed (the client went away) and checks it ended cleanly.
func (f *feed) stop(t *testing.T) {
	t.Helper()
	if f.cancel == nil {
		return
	}
	f.cancel()
	f.cancel = nil
	<-f.done
	if f.err != nil {
		t.Errorf("feed ended with %v, want a clean end", f.err)
	}
}

// payloads are the events' payloads among cs, in order.
func payloads(cs []events.Change) []string {
	var out []string
	for _, c := range cs {
		if c.Event != nil {
			out = append(out, string(c.Event.Payload))
		}
	}
	return out
}

package events_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// canary stands for a token or a session secret in a payload.
const canary = "tok_canary_4111111111111111"

const kek = "events-kek"

func newKeys(t *testing.T) keys.KeyManager {
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(t.Context(), kek, keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	return km
}

func newSealer(t *testing.T, db *store.DB, km keys.KeyManager) *events.Sealer {
	t.Helper()
	s, err := events.NewSealer(t.Context(), db, km, kek)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawRows returns every byte of the event table, as stored.
func rawRows(t *testing.T, db *store.DB) []byte {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT event_id, topic, event_key, payload FROM event_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []byte
	for rows.Next() {
		var id, topic, key string
		var payload []byte
		if err := rows.Scan(&id, &topic, &key, &payload); err != nil {
			t.Fatal(err)
		}
		all = append(all, id+topic+key...)
		all = append(all, payload...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

// TestSealedPayloadsAreNotReadableAtRest: with a Sealer, a payload holding
// a token is not in the table (nor, on SQLite, anywhere in the database
// files), and a feed gets it back in plaintext.
func TestSealedPayloadsAreNotReadableAtRest(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		opts := testOptions(newClock())
		opts.Sealer = newSealer(t, db, newKeys(t))
		o := newOutbox(t, db, opts)
		f := startFeed(t, o, events.Subscription{Topics: []string{"identity.session.revoked"}})
		f.next(t)
		publish(t, db, o, ev("identity.session.revoked", "s1", "revoked "+canary))

		if got := string(f.nextEvent(t).Event.Payload); got != "revoked "+canary {
			t.Fatalf("feed got %q, want the plaintext", got)
		}
		raw := rawRows(t, db)
		if len(raw) == 0 {
			t.Fatal("no rows read: the check below would prove nothing")
		}
		if bytes.Contains(raw, []byte(canary)) {
			t.Fatal("the payload is in the table in plaintext")
		}
		if db.Dialect == store.SQLite {
			files, _ := filepath.Glob(filepath.Join(filepath.Dir(storetest.SQLitePath(t, db)), "*"))
			for _, name := range files {
				b, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(canary)) {
					t.Fatalf("%s holds the payload in plaintext", filepath.Base(name))
				}
			}
		}
	})
}

// TestSealedPayloadsOpenOnlyInPlace: a sealed payload copied onto another
// event's row does not open (the associated data binds ID, topic and key):
// the feed fails rather than hand one event's body out as another's.
func TestSealedPayloadsOpenOnlyInPlace(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		opts := testOptions(newClock())
		opts.Sealer = newSealer(t, db, newKeys(t))
		o := newOutbox(t, db, opts)
		topics := []string{"identity.session.revoked"}
		f := startFeed(t, o, events.Subscription{Topics: topics})
		start := f.next(t).Cursor
		f.stop(t)
		publish(t, db, o, ev("identity.session.revoked", "s1", "first"), ev("identity.session.revoked", "s2", "second "+canary))
		if _, err := db.ExecContext(ctx, `UPDATE event_outbox SET payload = (SELECT payload FROM event_outbox WHERE event_key = 's2') WHERE event_key = 's1'`); err != nil {
			t.Fatal(err)
		}
		err := o.Feed(ctx, events.Subscription{Topics: topics, Cursor: start}, func(c events.Change) error {
			if c.Event != nil {
				t.Fatalf("streamed %q for %s after the swap", c.Event.Payload, c.Event.Key)
			}
			return nil
		})
		if !errs.Is(err, errs.Internal) || errs.ReasonOf(err) != events.ReasonOpenFailed || strings.Contains(err.Error(), canary) {
			t.Fatalf("feed over a swapped payload: %v, want Internal %s", err, events.ReasonOpenFailed)
		}
	})
}

// TestReplicasShareDataKeys: replicas seal with the same stored data keys,
// and one opens what another sealed under a version it rotated to since.
func TestReplicasShareDataKeys(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		km := newKeys(t)
		c := newClock()
		optsA, optsB := testOptions(c), testOptions(c)
		optsA.Sealer, optsB.Sealer = newSealer(t, db, km), newSealer(t, db, km)
		a, b := newOutbox(t, db, optsA), newOutbox(t, db, optsB)
		f := startFeed(t, a, events.Subscription{Topics: []string{"identity.session.revoked"}})
		f.next(t)
		publish(t, db, b, ev("identity.session.revoked", "s1", "v1"))
		if err := optsB.Sealer.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		publish(t, db, b, ev("identity.session.revoked", "s2", "v2"))
		if got := payloads([]events.Change{f.nextEvent(t), f.nextEvent(t)}); strings.Join(got, ",") != "v1,v2" {
			t.Fatalf("replica A read %v, want v1, v2", got)
		}
		var versions int
		if err := db.QueryRowContext(t.Context(), `SELECT COUNT(DISTINCT key_version) FROM event_outbox`).Scan(&versions); err != nil || versions != 2 {
			t.Fatalf("%d data key versions used (%v), want 2", versions, err)
		}
	})
}

// TestPlaintextRowRefusedBySealingOutbox: an outbox that seals never wrote a
// plaintext row, so one found in its table (a forged revocation, say) is not
// delivered.
func TestPlaintextRowRefusedBySealingOutbox(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		opts := testOptions(newClock())
		opts.Sealer = newSealer(t, db, newKeys(t))
		o := newOutbox(t, db, opts)
		topics := []string{"identity.session.revoked"}
		f := startFeed(t, o, events.Subscription{Topics: topics})
		start := f.next(t).Cursor
		f.stop(t)
		publish(t, db, o, ev("identity.session.revoked", "s1", "genuine"))
		if _, err := db.ExecContext(ctx, `UPDATE event_outbox SET key_version = 0, payload = $1 WHERE event_key = 's1'`, []byte("FORGED")); err != nil {
			t.Fatal(err)
		}
		err := o.Feed(ctx, events.Subscription{Topics: topics, Cursor: start}, func(c events.Change) error {
			if c.Event != nil {
				t.Fatalf("streamed %q from a plaintext row", c.Event.Payload)
			}
			return nil
		})
		if !errs.Is(err, errs.Internal) || errs.ReasonOf(err) != events.ReasonOpenFailed {
			t.Fatalf("feed over a plaintext row: %v, want Internal %s", err, events.ReasonOpenFailed)
		}
	})
}

package e2e

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// serviceMigrations is what a service that records through the outbox has:
// its own table; the outbox table comes with the platform schema, which
// storetest applies as pkg/service does.
func serviceMigrations() fstest.MapFS {
	fs := fstest.MapFS{}
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		fs[string(dialect)+"/0001_init.sql"] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\nCREATE TABLE consents (id TEXT PRIMARY KEY, purpose TEXT NOT NULL);\n")}
	}
	return fs
}

// TestOutboxDeliversCommittedEventsOnly runs the transactional outbox on both
// databases against the real audit service: an event commits with its state
// change or not at all, survives the audit service being down, and is
// delivered once the service is back.
func TestOutboxDeliversCommittedEventsOnly(t *testing.T) {
	storetest.ForEachDialect(t, serviceMigrations(), func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		state := t.TempDir()
		s := startSuite(t, state)
		outbox := auditclient.NewOutbox(db, s.auditClient("consent"), servertest.Logger())

		committed := auditclient.New(ctx, "consent.grant", auditclient.Success)
		committed.Subject, committed.ResourceType, committed.ResourceID = "cus_7", "consent", "c1"
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO consents (id, purpose) VALUES ($1, $2)`, "c1", "marketing"); err != nil {
				return err
			}
			return outbox.Enqueue(ctx, tx, committed)
		}); err != nil {
			t.Fatal(err)
		}
		rolledBack := auditclient.New(ctx, "consent.grant", auditclient.Success)
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if err := outbox.Enqueue(ctx, tx, rolledBack); err != nil {
				return err
			}
			// The state change fails (duplicate key), so the event must vanish with it.
			_, err := tx.ExecContext(ctx, `INSERT INTO consents (id, purpose) VALUES ($1, $2)`, "c1", "again")
			return err
		})
		if err == nil {
			t.Fatal("duplicate insert succeeded")
		}

		// Audit is down: the relay fails, nothing is lost.
		s.stop()
		if _, err := outbox.Flush(ctx); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("flush with audit down: %v, want Unavailable", err)
		}
		if n, err := outbox.Pending(ctx); err != nil || n != 1 {
			t.Fatalf("pending after failed flush: %d, %v; want 1", n, err)
		}

		// Audit is back: the relay delivers, then the outbox is empty.
		s2 := startSuite(t, state)
		outbox = auditclient.NewOutbox(db, s2.auditClient("consent"), servertest.Logger())
		if n, err := outbox.Flush(ctx); err != nil || n != 1 {
			t.Fatalf("flush: %d, %v", n, err)
		}
		if n, _ := outbox.Pending(ctx); n != 0 {
			t.Fatalf("pending after flush: %d", n)
		}
		r := s2.get("/v1/audit/events/"+committed.ID, s2.OperatorToken())
		if r.code != http.StatusOK || !strings.Contains(r.raw, "spiffe://sotto.local/consent") {
			t.Fatalf("committed event not in the log: %d %s", r.code, r.raw)
		}
		if r := s2.get("/v1/audit/events/"+rolledBack.ID, s2.OperatorToken()); r.code != http.StatusNotFound {
			t.Fatalf("rolled-back event reached the log: %d %s", r.code, r.raw)
		}

		// A redelivery (crash between append and delete) is absorbed by the log.
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return outbox.Enqueue(ctx, tx, committed) }); err != nil {
			t.Fatal(err)
		}
		if n, err := outbox.Flush(ctx); err != nil || n != 1 {
			t.Fatalf("redelivery flush: %d, %v", n, err)
		}
		list := s2.get("/v1/audit/events?subject=cus_7", s2.OperatorToken())
		if strings.Count(list.raw, committed.ID) != 1 {
			t.Fatalf("redelivered event logged %d times", strings.Count(list.raw, committed.ID))
		}

		// An event the audit service refuses (its ID already names another
		// event) is set aside, and does not hold up the events behind it.
		clash := committed
		clash.Purpose = "something_else"
		after := auditclient.New(ctx, "consent.withdraw", auditclient.Success)
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return outbox.Enqueue(ctx, tx, clash, after) }); err != nil {
			t.Fatal(err)
		}
		if n, err := outbox.Flush(ctx); err != nil || n != 1 {
			t.Fatalf("flush with a refused event: %d, %v; want 1 delivered", n, err)
		}
		if n, _ := outbox.Rejected(ctx); n != 1 {
			t.Fatalf("rejected events: %d, want 1", n)
		}
		if n, _ := outbox.Pending(ctx); n != 0 {
			t.Fatalf("pending after flush: %d, want 0", n)
		}
		if r := s2.get("/v1/audit/events/"+after.ID, s2.OperatorToken()); r.code != http.StatusOK {
			t.Fatalf("event behind the refused one not delivered: %d", r.code)
		}

		// And an event that breaks the audit rules fails the caller's own
		// transaction instead of reaching the outbox.
		bad := auditclient.New(ctx, "Consent Grant", auditclient.Success)
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return outbox.Enqueue(ctx, tx, bad) }); !errs.Is(err, errs.InvalidArgument) {
			t.Fatalf("enqueue of an invalid event: %v", err)
		}
	})
}

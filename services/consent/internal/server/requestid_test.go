package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"
	"google.golang.org/grpc/codes"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/migrations"
)

// canaryRequestID is a request id the pattern admits that carries personal
// data (a name and a card number), unique to one test so that a match in
// the stored bytes can only come from it.
func canaryRequestID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "QuentinBlake" + hex.EncodeToString(b) + "-4111111111111111"
}

// holdSnapshot opens a transaction on db that sees the database as it is
// now and has a transaction id, as an in-flight request of a replica would,
// and returns what ends it. It takes no lock on a table, so migrations do
// not wait for it.
func holdSnapshot(t *testing.T, db *store.DB) (end func()) {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	// The first query takes the snapshot; this one also assigns the id.
	if _, err := tx.Exec(`SELECT pg_current_xact_id()`); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

// mustHold fails t unless raw holds want: a scan that cannot find what is
// there proves nothing by finding nothing.
func mustHold(t *testing.T, raw []byte, what, want string) {
	t.Helper()
	if !bytes.Contains(raw, []byte(want)) {
		t.Fatalf("the %s is not in the stored bytes: the scan is blind", what)
	}
}

func mustNotHold(t *testing.T, raw []byte, what, secret string) {
	t.Helper()
	for _, piece := range []string{secret, "QuentinBlake", "4111111111111111"} {
		if bytes.Contains(raw, []byte(piece)) {
			t.Errorf("the %s (or its %q) is stored as the client sent it", what, piece)
		}
	}
}

// TestRequestIDsAreNotStored: the request ids of a grant, its retry, a
// refused reuse and a withdrawal reach no byte of the database (SQLite's
// file and WAL, PostgreSQL's relation files, indexes included), while
// idempotency still works: the retry gets the first answer, the reuse for
// other content is refused.
func TestRequestIDsAreNotStored(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		ctx := h.customer("cus_canary")
		grantID, withdrawID := canaryRequestID(t), canaryRequestID(t)
		req := &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"),
			Channel: consentv1.Channel_CHANNEL_WEB, RequestId: grantID}
		first := h.grant(t, ctx, req)
		if again := h.grant(t, ctx, req); again.GetRecord().GetRecordId() != first.GetRecord().GetRecordId() {
			t.Fatalf("the retry was not answered with the first record: %v", again.GetRecord())
		}
		other := &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: req.GetNotice(), Channel: consentv1.Channel_CHANNEL_MOBILE_APP, RequestId: grantID}
		_, err := h.gw().GrantConsent(ctx, other)
		wantErr(t, "request id reused", err, codes.InvalidArgument, reasons.RequestIDReused)
		w, err := h.gw().WithdrawConsent(ctx, &consentv1.WithdrawConsentRequest{PurposeId: "marketing",
			Channel: consentv1.Channel_CHANNEL_WEB, RequestId: withdrawID})
		if err != nil {
			t.Fatal(err)
		}
		if n := h.counts().requests; n != 2 {
			t.Fatalf("%d request rows, want 2 (the grant and the withdrawal)", n)
		}
		raw := storetest.StoredBytes(t, db)
		mustHold(t, raw, "grant's record id", first.GetRecord().GetRecordId())
		mustHold(t, raw, "withdrawal's record id", w.GetRecord().GetRecordId())
		mustNotHold(t, raw, "grant's request id", grantID)
		mustNotHold(t, raw, "withdrawal's request id", withdrawID)
	})
}

// downToVersion1 migrates db back to the schema of the release that stored
// raw request ids, keeping its rows.
func downToVersion1(t *testing.T, db *store.DB) {
	t.Helper()
	dir, err := fs.Sub(migrations.FS, string(db.Dialect))
	if err != nil {
		t.Fatal(err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == store.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.DB, dir, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationRemovesRawRequestIDs: a database of the previous release,
// whose consent_requests rows carry raw request ids, holds none once
// migrated (SQLite's file and WAL; PostgreSQL's table and index files, dead
// tuples included), and the service then runs on it: the old id is new to
// it, and a retry of it gets the first answer again.
//
// On PostgreSQL a transaction of the previous release is still open while
// the migration runs, as during a rolling upgrade: what is flushed must go
// even though that transaction could still see it. (VACUUM FULL, which 0003
// was, kept it then, and kept it by chance whenever a transaction in
// another database of the test server had begun writing before the
// deletion committed.) SQLite has no client but the service, which
// migrates before it serves.
func TestMigrationRemovesRawRequestIDs(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		downToVersion1(t, db)
		old := canaryRequestID(t)
		// What the previous release stored with a grant.
		if _, err := db.ExecContext(ctx, `INSERT INTO consent_requests (subject, request_id, fingerprint, receipt_id, create_time)
VALUES ($1, $2, $3, $4, $5)`, "cus_old", old, "fp", "0193c0de-0000-7000-8000-000000000001", 1); err != nil {
			t.Fatal(err)
		}
		mustHold(t, storetest.StoredBytes(t, db), "old raw request id", old)

		endTx := func() {}
		if db.Dialect == store.Postgres {
			endTx = holdSnapshot(t, db)
		}
		err := db.Migrate(ctx, "", migrations.FS)
		endTx()
		if err != nil {
			t.Fatal(err)
		}
		mustNotHold(t, storetest.StoredBytes(t, db), "old raw request id", old)

		h := newHarness(t, db)
		req := &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: old}
		first := h.grant(t, h.customer("cus_old"), req)
		if again := h.grant(t, h.customer("cus_old"), req); again.GetRecord().GetRecordId() != first.GetRecord().GetRecordId() {
			t.Fatalf("a retry after the migration was not answered with the first record: %v", again.GetRecord())
		}
		raw := storetest.StoredBytes(t, db)
		mustHold(t, raw, "record id", first.GetRecord().GetRecordId())
		mustNotHold(t, raw, "request id", old)
	})
}

package engine_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// captureDeletedKeys makes the database copy every subject_keys row, as it
// is at the moment it is deleted, into deleted_wrapped.
var captureDeletedKeys = map[store.Dialect][]string{
	store.SQLite: {
		`CREATE TABLE deleted_wrapped (wrapped BLOB)`,
		`CREATE TRIGGER capture_deleted_wrapped AFTER DELETE ON subject_keys BEGIN
			INSERT INTO deleted_wrapped VALUES (OLD.wrapped);
		END`,
	},
	store.Postgres: {
		`CREATE TABLE deleted_wrapped (wrapped BYTEA)`,
		`CREATE FUNCTION capture_deleted_wrapped() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO deleted_wrapped VALUES (OLD.wrapped);
			RETURN OLD;
		END $$`,
		`CREATE TRIGGER capture_deleted_wrapped AFTER DELETE ON subject_keys
			FOR EACH ROW EXECUTE FUNCTION capture_deleted_wrapped()`,
	},
}

// TestErasureOverwritesWrappedKeys: erasure overwrites every version of the
// subject's wrapped data key with zeros before it deletes the row, so the
// last row version the database keeps (a PostgreSQL dead tuple until vacuum,
// a SQLite page in the WAL) holds no key.
func TestErasureOverwritesWrappedKeys(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, q := range captureDeletedKeys[db.Dialect] {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		f := newFixture(t, db, time.Minute)
		f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		if _, err := f.eng.RotateSubjectKey(ctx, engine.Caller{Workload: "sotto-cli"}, "", "cus_1"); err != nil {
			t.Fatal(err)
		}
		ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_1", "dsr_1")
		if err != nil || len(ev.DestroyedVersions) != 2 {
			t.Fatalf("erasure: %+v, %v; want two key versions destroyed", ev, err)
		}
		rows, err := db.QueryContext(ctx, `SELECT wrapped FROM deleted_wrapped`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var w []byte
			if err := rows.Scan(&w); err != nil {
				t.Fatal(err)
			}
			n++
			if len(w) == 0 || !bytes.Equal(w, make([]byte, len(w))) {
				t.Errorf("a wrapped key (%d bytes) was deleted without being zeroed first", len(w))
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("%d key rows deleted, want 2", n)
		}
	})
}

// TestErasureLeavesNothingInTheSQLiteFile: after an erasure (and a
// checkpoint), neither the database file nor its WAL holds the subject's
// wrapped key or its deterministic token (a keyed hash of the value), which
// secure_delete zeroes rather than leaving them in free space. Each is first
// shown to be in the file, so the scan can find them. (Masked views are
// never stored: TestMasksAreNotStored.)
func TestErasureLeavesNothingInTheSQLiteFile(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t, migrations.FS)
	var seq int
	var name, path string
	if err := db.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &path); err != nil || path == "" {
		t.Fatalf("database file: %q, %v", path, err)
	}
	f := newFixture(t, db, time.Minute)
	toks := f.tokenize(t, "cus_gone",
		engine.Item{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic},
		engine.Item{Value: "4242424242424242", Type: tokens.CardNumber, Format: tokens.FormatCard})
	f.tokenize(t, "cus_kept", engine.Item{Value: "John Roe", Type: tokens.Name})
	key, err := f.st.GetSubjectKey(ctx, "default", "cus_gone", 1)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{"wrapped key": key.Wrapped, "deterministic token": []byte(toks[0])}

	files := func() []byte {
		t.Helper()
		var busy, logged, done int
		if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &done); err != nil || busy != 0 {
			t.Fatalf("checkpoint: busy=%d, %v", busy, err)
		}
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	before := files()
	for what, s := range secrets {
		if !bytes.Contains(before, s) {
			t.Fatalf("the %s is not in the database file before erasure: the scan is blind", what)
		}
	}
	if _, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_1"); err != nil {
		t.Fatal(err)
	}
	after := files()
	for what, s := range secrets {
		if bytes.Contains(after, s) {
			t.Errorf("the erased subject's %s is still in the database file", what)
		}
	}
}

package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
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

// subjectSecrets reads, straight from the database, what an erasure must
// leave nowhere: the subject's wrapped data keys and its ciphertexts.
func subjectSecrets(t *testing.T, db *store.DB, subject string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	secrets := map[string][]byte{}
	for _, q := range []struct{ what, sql string }{
		{"wrapped key", `SELECT wrapped FROM subject_keys WHERE subject = $1`},
		{"ciphertext", `SELECT ciphertext FROM tokens WHERE subject = $1`},
	} {
		rows, err := db.QueryContext(ctx, q.sql, subject)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; rows.Next(); i++ {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			secrets[fmt.Sprintf("%s %d", q.what, i)] = b
		}
		rows.Close()
	}
	return secrets
}

// TestErasureLeavesNothingInTheSQLiteFiles: right after EraseSubject returns
// (no checkpoint by the test), neither the database file nor its -wal or
// -shm file holds the subject's wrapped data key, any of its ciphertexts,
// its deterministic token or its masked views. Each stored secret is first
// shown to be in the files, so the scan can find it; masked views are never
// stored (TestMasksAreNotStored), so they are only looked for afterwards.
func TestErasureLeavesNothingInTheSQLiteFiles(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t, migrations.FS)
	path := storetest.SQLitePath(t, db)
	f := newFixture(t, db, time.Minute)
	toks := f.tokenize(t, "cus_gone",
		engine.Item{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic},
		engine.Item{Value: "4242424242424242", Type: tokens.CardNumber, Format: tokens.FormatCard},
		engine.Item{Value: "Jane Doe", Type: tokens.Name},
		engine.Item{Value: "+44 20 7946 0958", Type: tokens.Phone, Format: tokens.FormatFPE})
	f.tokenize(t, "cus_kept", engine.Item{Value: "John Roe", Type: tokens.Name})
	masked, err := f.eng.RevealMasked(ctx, conversation, toks)
	if err != nil {
		t.Fatal(err)
	}
	secrets := subjectSecrets(t, db, "cus_gone")
	if len(secrets) != 1+len(toks) {
		t.Fatalf("%d secrets read, want a wrapped key and %d ciphertexts", len(secrets), len(toks))
	}
	secrets["deterministic token"] = []byte(toks[0])

	files := func() map[string][]byte {
		t.Helper()
		out := map[string][]byte{}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			out["database"+suffix] = b
		}
		return out
	}
	before := bytes.Join(slices.Collect(maps.Values(files())), nil)
	for what, s := range secrets {
		if !bytes.Contains(before, s) {
			t.Fatalf("the %s is not in the database files before erasure: the scan is blind", what)
		}
	}
	for i, m := range masked {
		if m.Err != nil || m.Masked == "" {
			t.Fatalf("masked view %d: %+v", i, m)
		}
		secrets[fmt.Sprintf("masked view %d", i)] = []byte(m.Masked)
	}

	if _, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_1"); err != nil {
		t.Fatal(err)
	}
	after := files()
	for file, b := range after {
		for what, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("the erased subject's %s is still in the %s file", what, file)
			}
		}
	}
	if n := len(after["database-wal"]); n != 0 {
		t.Errorf("the -wal file is %d bytes after the erasure, want 0 (truncated)", n)
	}
}

// TestBusyWALIsTruncatedByTheKEKEpochJob: when a reader holds SQLite's WAL
// past the erasure's wait (WALTimeout), the erasure still succeeds and the
// WAL keeps the subject's wrapped key and ciphertexts for the moment; the
// next kek-epoch run, once the reader is gone, truncates it, so that they
// are in no database file.
func TestBusyWALIsTruncatedByTheKEKEpochJob(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t, migrations.FS)
	path := storetest.SQLitePath(t, db)
	f := newEpochFixture(t, db, newLocalKeys(t), engine.Options{Tenants: []string{"default"}, WALTimeout: 200 * time.Millisecond})
	f.tokenize(t, "cus_gone",
		engine.Item{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic},
		engine.Item{Value: "Jane Doe", Type: tokens.Name})
	secrets := subjectSecrets(t, db, "cus_gone")
	left := func() []string {
		t.Helper()
		var out []string
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for what, s := range secrets {
				if bytes.Contains(b, s) {
					out = append(out, what+" in database"+suffix)
				}
			}
		}
		return out
	}

	release := storetest.HoldReader(t, db, "subject_keys")
	if _, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_1"); err != nil {
		t.Fatal(err)
	}
	if len(left()) == 0 {
		t.Fatal("nothing of the erased subject is left with a reader holding the WAL: the scenario did not happen")
	}
	release()
	runJobs(t, db, f.eng)
	waitFor(t, "the first kek-epoch occurrence", func() bool {
		s, _ := jobState(t, db, engine.JobKEKEpoch)
		return s == "completed"
	})
	if l := left(); len(l) != 0 {
		t.Errorf("after the kek-epoch job the erased subject's data is still on disk: %v", l)
	}
}

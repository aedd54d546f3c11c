package engine_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// newEpochFixture is a fixture on km whose clock starts a minute after the
// KEK's latest version was made: the key backends record real creation
// times, and the epoch schedule is measured from them on the engine's clock.
func newEpochFixture(t *testing.T, db *store.DB, km keys.KeyManager, opts engine.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := km.EnsureKey(ctx, "tokenvault-kek", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	v, err := km.Describe(ctx, "tokenvault-kek")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, st: storage.New(db), km: &flakyKeys{KeyManager: km}, audit: &recorder{}, now: v.LatestCreated.Add(time.Minute)}
	opts.Now = func() time.Time { return f.now }
	f.eng = engine.New(f.st, f.km, f.audit, auditclient.NewOutbox(db, nil, nil), pol, nil, opts)
	startWriter(t, f.eng)
	return f
}

func newLocalKeys(t *testing.T) keys.KeyManager {
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	return km
}

func describe(t *testing.T, km keys.KeyManager) keys.Versions {
	t.Helper()
	v, err := km.Describe(context.Background(), "tokenvault-kek")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// backup copies the subject's wrapped data keys as a backup taken now would
// hold them: on SQLite a copy of the database files as they are on disk
// (main file and WAL), opened as a database of its own; on PostgreSQL the
// rows, copied out with SQL.
func backup(t *testing.T, db *store.DB, subject string) [][]byte {
	t.Helper()
	ctx := context.Background()
	from := db
	if db.Dialect == store.SQLite {
		src := storetest.SQLitePath(t, db)
		dst := filepath.Join(t.TempDir(), "backup.db")
		for _, suffix := range []string{"", "-wal"} {
			copyFile(t, src+suffix, dst+suffix)
		}
		copied, err := store.Open(ctx, "sqlite://"+dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer copied.Close()
		from = copied
	}
	rows, err := from.QueryContext(ctx, `SELECT wrapped FROM subject_keys WHERE subject = $1 ORDER BY version`, subject)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var w []byte
		if err := rows.Scan(&w); err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		t.Fatalf("backup holds %d wrapped keys (%v); want some", len(out), err)
	}
	return out
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// opens reports whether a copied wrapped data key of the subject still
// unwraps; any other error than a refused wrapped key fails the test.
func opens(t *testing.T, km keys.KeyManager, subject string, wrapped []byte) bool {
	t.Helper()
	_, err := km.UnwrapKey(context.Background(), "tokenvault-kek", wrapped, []byte("sotto/tokenvault/dek/default/"+subject+"/v1"))
	switch errs.ReasonOf(err) {
	case "":
		return true
	case keys.ReasonWrappedKeyInvalid:
		return false
	}
	t.Fatalf("UnwrapKey(copy): %v", err)
	return false
}

// erasureRetiresOldCopies is the scenario of issue 8 finding 1: a copy of
// the database taken before an erasure holds the subject's wrapped data key;
// after the erasure, the kek-epoch job (woken by it, running on the jobs
// runner) rotates the KEK, rewraps every live key and retires the old
// versions, and the copy's key no longer opens, while live data does. The
// evidence says which KEK version the copies were under and when the epoch
// was due, and a repeated call says they are retired.
func erasureRetiresOldCopies(t *testing.T, db *store.DB, km keys.KeyManager) {
	ctx := context.Background()
	f := newEpochFixture(t, db, km, engine.Options{Tenants: []string{"default"}})
	f.tokenize(t, "cus_gone",
		engine.Item{Value: "Jane Doe", Type: tokens.Name},
		engine.Item{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic})
	kept := f.tokenize(t, "cus_kept", engine.Item{Value: "John Roe", Type: tokens.Name})
	copies := backup(t, db, "cus_gone")
	for i, w := range copies {
		if !opens(t, km, "cus_gone", w) {
			t.Fatalf("copy %d does not open before the erasure: the test shows nothing", i)
		}
	}
	runJobs(t, db, f.eng)
	// The runner's clock does not move: after its first occurrence, only the
	// erasure can run the job again.
	waitFor(t, "the first kek-epoch occurrence", func() bool {
		s, _ := jobState(t, db, engine.JobKEKEpoch)
		return s == "completed"
	})

	ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_1")
	if err != nil {
		t.Fatal(err)
	}
	if ev.KEKVersion != 1 || ev.OldCopiesRetired || !ev.RetireDue.Equal(f.now) {
		t.Fatalf("evidence: KEK version %d, retired %v, due %v; want 1, false, %v (the erasure starts the epoch)", ev.KEKVersion, ev.OldCopiesRetired, ev.RetireDue, f.now)
	}
	waitFor(t, "the epoch to retire the old KEK version", func() bool {
		v, err := km.Describe(ctx, "tokenvault-kek")
		return err == nil && v.MinDecryption > ev.KEKVersion
	})
	for i, w := range copies {
		if opens(t, km, "cus_gone", w) {
			t.Errorf("copy %d of the erased subject's key still opens after the epoch", i)
		}
	}
	st, err := f.eng.RotateKeys(ctx, engine.Caller{Workload: "sotto-cli"}, false)
	if err != nil || st.KEKVersion != 2 || st.MinDecryptionVersion != 2 || st.PendingRewrap != 0 {
		t.Errorf("rotation status after the epoch: %+v, %v; want KEK 2, min decryption 2, nothing pending", st, err)
	}
	again, err := f.eng.EraseSubject(ctx, conversation, "", "cus_gone", "dsr_1")
	if err != nil || !again.AlreadyErased || again.KEKVersion != 1 || !again.OldCopiesRetired {
		t.Errorf("repeated erasure: %+v, %v; want already erased, KEK version 1, old copies retired", again, err)
	}
	// Live data still opens (a fresh engine: no cached keys), under the new
	// version; the tenant key was rewrapped too.
	g := newEpochFixture(t, db, km, engine.Options{Tenants: []string{"default"}})
	res, err := g.eng.Detokenize(ctx, conversation, "order_support", kept)
	if err != nil || res[0].Err != nil || res[0].Value != "John Roe" {
		t.Fatalf("live value after the epoch: %+v, %v", res, err)
	}
	if toks := g.tokenize(t, "cus_new", engine.Item{Value: "ann@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic}); len(toks) != 1 {
		t.Fatal("tokenize after the epoch")
	}
}

func TestErasureRetiresOldCopies(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		erasureRetiresOldCopies(t, db, newLocalKeys(t))
	})
}

// TestKEKEpochSchedule: the epoch starts when the latest KEK version is
// KEKEpoch old, and after an erasure only once it is KEKEpochMin old (the
// evidence names that time); each epoch leaves only the latest version.
func TestKEKEpochSchedule(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := newLocalKeys(t)
		f := newEpochFixture(t, db, km, engine.Options{KEKEpoch: 24 * time.Hour, KEKEpochMin: time.Hour})
		toks := f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		f.tokenize(t, "cus_2", engine.Item{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic})
		created := describe(t, km).LatestCreated

		epoch := func(wantRotated bool, wantRetiredBelow int) {
			t.Helper()
			res, err := f.eng.KEKEpochOnce(ctx)
			if err != nil || res.Rotated != wantRotated || res.RetiredBelow != wantRetiredBelow {
				t.Fatalf("at %v after the latest version: epoch %+v, %v; want rotated %v, retired below %d",
					f.now.Sub(created), res, err, wantRotated, wantRetiredBelow)
			}
		}
		f.now = created.Add(23 * time.Hour)
		epoch(false, 0)
		f.now = created.Add(24 * time.Hour)
		epoch(true, 2)
		if v := describe(t, km); v.Latest != 2 || v.MinDecryption != 2 {
			t.Fatalf("after the epoch: %+v", v)
		}
		created = describe(t, km).LatestCreated

		f.now = created.Add(10 * time.Minute)
		ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_2", "dsr_1")
		if err != nil {
			t.Fatal(err)
		}
		// No jobs scheduled here: the evidence promises nothing.
		if ev.KEKVersion != 2 || !ev.RetireDue.IsZero() {
			t.Fatalf("evidence without epochs scheduled: %+v", ev)
		}
		epoch(false, 0) // the version is not KEKEpochMin old yet
		f.now = created.Add(time.Hour)
		epoch(true, 3)
		epoch(false, 0) // done: nothing is owed any more
		res, err := f.eng.Detokenize(ctx, conversation, "order_support", toks)
		if err != nil || res[0].Value != "Jane Doe" {
			t.Fatalf("live value after two epochs: %+v, %v", res, err)
		}
	})
}

// TestEpochEvidenceNamesTheDueTime: with epochs scheduled and KEKEpochMin
// set, an erasure's evidence names when the retiring epoch is due.
func TestEpochEvidenceNamesTheDueTime(t *testing.T) {
	db := storetest.SQLite(t, migrations.FS)
	km := newLocalKeys(t)
	f := newEpochFixture(t, db, km, engine.Options{KEKEpochMin: time.Hour})
	f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
	created := describe(t, km).LatestCreated
	runJobs(t, db, f.eng)
	ev, err := f.eng.EraseSubject(context.Background(), conversation, "", "cus_1", "dsr_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := created.Add(time.Hour); !ev.RetireDue.Equal(want) || ev.OldCopiesRetired {
		t.Fatalf("evidence: due %v, retired %v; want due %v", ev.RetireDue, ev.OldCopiesRetired, want)
	}
}

// TestEpochWaitsForKeysThatDoNotRewrap: a key that cannot be rewrapped keeps
// its KEK version alive (retiring it would make that subject's data
// unreadable for good); the job fails with REWRAP_PENDING and retries.
func TestEpochWaitsForKeysThatDoNotRewrap(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := newLocalKeys(t)
		f := newEpochFixture(t, db, refuseRewrap{km}, engine.Options{})
		toks := f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		f.now = describe(t, km).LatestCreated.Add(25 * time.Hour)
		res, err := f.eng.KEKEpochOnce(ctx)
		if !res.Rotated || res.RetiredBelow != 0 || err == nil {
			t.Fatalf("epoch with a key that does not rewrap: %+v, %v; want rotated, nothing retired, an error", res, err)
		}
		if v := describe(t, km); v.MinDecryption != 1 {
			t.Fatalf("KEK versions after the refused rewrap: %+v; want version 1 kept", v)
		}
		g := newEpochFixture(t, db, km, engine.Options{})
		if out, err := g.eng.Detokenize(ctx, conversation, "order_support", toks); err != nil || out[0].Value != "Jane Doe" {
			t.Fatalf("value whose key did not rewrap: %+v, %v", out, err)
		}
	})
}

// TestErasureEvidenceCoversTheLatestKEK: a subject's remaining key rows may
// still be wrapped under an old KEK version while a deleted data key version
// was already rewrapped under the latest; the evidence (and the epoch it
// waits for) must cover the latest version, not just the remaining rows.
func TestErasureEvidenceCoversTheLatestKEK(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := newLocalKeys(t)
		f := newEpochFixture(t, db, km, engine.Options{KEKEpoch: 24 * time.Hour})
		f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name}) // wrapped under KEK v1
		if err := km.Rotate(ctx, "tokenvault-kek"); err != nil {                  // v2, nothing rewrapped yet
			t.Fatal(err)
		}
		ev, err := f.eng.EraseSubject(ctx, conversation, "", "cus_1", "dsr_1")
		if err != nil {
			t.Fatal(err)
		}
		if ev.KEKVersion != 2 || ev.OldCopiesRetired {
			t.Errorf("evidence KEK version %d, retired %v; want 2 (the latest when erased), not yet retired", ev.KEKVersion, ev.OldCopiesRetired)
		}
	})
}

// Regression tests from the code review of 2026-11-29: each failed before its fix.

package engine

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// revRec records how often Record is called and can cancel the caller's context.
type revRec struct {
	cancel func()
	n      atomic.Int32
}

func (r *revRec) Record(ctx context.Context, evs ...auditclient.Event) error {
	r.n.Add(1)
	if r.cancel != nil {
		r.cancel()
	}
	return nil
}

type downKM struct {
	keys.KeyManager
	down atomic.Bool
}

func (d *downKM) WrapKey(ctx context.Context, n string, p, a []byte) ([]byte, error) {
	if d.down.Load() {
		return nil, errs.E(errs.Unavailable, "KEY_BACKEND_UNAVAILABLE", "down")
	}
	return d.KeyManager.WrapKey(ctx, n, p, a)
}

func revEngine(t *testing.T, db *store.DB, km keys.KeyManager, rec Recorder) *Engine {
	pol, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	return New(storage.New(db), km, rec, auditclient.NewOutbox(db, nil, nil), pol, nil, Options{CacheTTL: time.Hour})
}

func revKM(t *testing.T) *downKM {
	local, err := keys.NewLocal(filepath.Join(t.TempDir(), "k.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := local.EnsureKey(context.Background(), "tokenvault-kek", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	return &downKM{KeyManager: local}
}

func outboxCount(t *testing.T, db *store.DB) int {
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM audit_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func job(ctx context.Context, subj, tok string, format tokens.Format, ct string) *writeJob {
	ev := auditclient.New(ctx, "tokenvault.tokenize", auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = subj, "token_batch", "conv_1"
	sealed, err := auditclient.Seal(ev)
	if err != nil {
		panic(err) // a fixed, valid event
	}
	return &writeJob{ctx: ctx, tenant: "default", subject: subj, dekVersion: 1, done: make(chan error, 1), event: sealed[0],
		rows: []storage.Token{{Token: tok, Tenant: "default", Subject: subj, DataType: int(tokens.CardNumber), Format: int(format), Scope: "conv_1", Ciphertext: []byte(ct), DEKVersion: 1, Created: time.Now()}}}
}

// A: savepoint recovery after a SQL error in commitEach (both dialects).
func TestRegressionSavepointRecovery(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := revEngine(t, db, revKM(t), &revRec{})
		for _, s := range []string{"A", "B", "C"} {
			if _, _, err := e.dek(ctx, "default", s, 0, true); err != nil {
				t.Fatal(err)
			}
		}
		a := job(ctx, "A", "4000000000001234", tokens.FormatCard, "a")
		e.commitEach(ctx, []*writeJob{a})
		if err := <-a.done; err != nil {
			t.Fatal(err)
		}
		b := job(ctx, "B", "4000000000001234", tokens.FormatCard, "b")
		c := job(ctx, "C", "4000000000005678", tokens.FormatCard, "c")
		e.commitGroup(ctx, []*writeJob{b, c})
		eb, ec := <-b.done, <-c.done
		t.Logf("B: %v  C: %v  outbox=%d", eb, ec, outboxCount(t, db))
		if !errs.Is(eb, errs.AlreadyExists) || ec != nil || outboxCount(t, db) != 2 {
			t.Fatal("savepoint isolation broken")
		}
	})
}

// B: two jobs of one subject with the same non-deterministic token and
// different values: both acknowledged, one row silently dropped.
func TestRegressionSilentPKDrop(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := revEngine(t, db, revKM(t), &revRec{})
		if _, _, err := e.dek(ctx, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		j1 := job(ctx, "A", "4000000000009999", tokens.FormatCard, "value-1")
		j2 := job(ctx, "A", "4000000000009999", tokens.FormatCard, "value-2")
		e.commitGroup(ctx, []*writeJob{j1, j2})
		e1, e2 := <-j1.done, <-j2.done
		rows, _ := e.store.SubjectTokens(ctx, "default", "A")
		t.Logf("j1=%v j2=%v rows=%d", e1, e2, len(rows))
		if e1 == nil && e2 == nil && len(rows) == 1 {
			t.Error("BUG: both callers acknowledged, but only one value stored")
		}
	})
}

// C+F: recordFailure uses the cancelled ctx -> failure event lost; and the
// tombstone makes a non-erased subject look erased.
func TestRegressionRecordFailureCancelled(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		bg := context.Background()
		ctx, cancel := context.WithCancel(bg)
		rec := &revRec{cancel: cancel}
		e := revEngine(t, db, revKM(t), rec)
		if _, _, err := e.dek(bg, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		before := outboxCount(t, db)
		_, err := e.EraseSubject(ctx, Caller{Workload: "x"}, "", "A", "dsr_1")
		after := outboxCount(t, db)
		t.Logf("erase err=%v; intent recorded=%d; outbox failure rows=%d", err, rec.n.Load(), after-before)
		if err != nil && after == before {
			t.Error("BUG: intent recorded as success, failure event lost")
		}
		s, _ := e.store.GetSubject(bg, "default", "A")
		_, _, derr := e.dek(bg, "default", "A", 0, true)
		t.Logf("subject erased in DB: %v; dek(): %v", !s.Erased.IsZero(), derr)
		if s.Erased.IsZero() && derr != nil {
			t.Error("BUG: not erased, but this process answers SUBJECT_ERASED")
		}
	})
}

// G: RotateSubjectKey newDEK failure after the success intent: no failure event.
func TestRegressionRotateNewDEKFailure(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := revKM(t)
		rec := &revRec{}
		e := revEngine(t, db, km, rec)
		if _, _, err := e.dek(ctx, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		km.down.Store(true)
		before := outboxCount(t, db)
		_, err := e.RotateSubjectKey(ctx, Caller{Workload: "x"}, "", "A")
		if err != nil && rec.n.Load() == 1 && outboxCount(t, db) == before {
			t.Errorf("BUG: rotation intent recorded as success, failure (%v) never recorded", err)
		}
	})
}

// D: a replica with a stale cached "current" key re-seals forever.
func TestRegressionReencryptStaleCurrent(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := revKM(t)
		a := revEngine(t, db, km, &revRec{})
		b := revEngine(t, db, km, &revRec{})
		if _, _, err := b.dek(ctx, "default", "A", 0, true); err != nil { // b caches current=v1
			t.Fatal(err)
		}
		j := job(ctx, "A", "tok_review_1", tokens.FormatRandom, "x")
		// a real sealed value
		dk, _, _ := b.dek(ctx, "default", "A", 0, false)
		ct, _ := seal(dk, []byte("Jane"), valueAAD("tok_review_1", "default", "A", tokens.CardNumber))
		j.rows[0].Ciphertext = ct
		b.commitEach(ctx, []*writeJob{j})
		if err := <-j.done; err != nil {
			t.Fatal(err)
		}
		if _, err := a.RotateSubjectKey(ctx, Caller{Workload: "x"}, "", "A"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			n, err := b.ReencryptOnce(ctx, 100)
			rows, _ := b.store.SubjectTokens(ctx, "default", "A")
			t.Logf("pass %d: moved=%d err=%v token dek_version=%d", i, n, err, rows[0].DEKVersion)
			if i == 4 && n > 0 {
				t.Error("BUG: ReencryptOnce keeps reporting progress (RunRewrap inner loop would spin)")
			}
		}
	})
}

// E: sqlite::memory: — execPrepared prepares on db while tx holds the only conn.
func TestRegressionMemoryDeadlock(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite::memory:", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	st := storage.New(db)
	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err = db.InTx(tctx, func(tx *sql.Tx) error { return st.CheckSubject(tctx, tx, "d", "s", 1) })
	t.Logf("CheckSubject in tx on sqlite::memory: -> %v", err)
	if errs.ReasonOf(err) != "SUBJECT_CHANGED" {
		t.Error("BUG: CheckSubject inside InTx waits for the connection its own tx holds")
	}
}

// D2: stale cached current + DeleteRetiredKeys on another replica = value
// sealed under a destroyed key.
func TestRegressionReencryptDataLoss(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := revKM(t)
		a := revEngine(t, db, km, &revRec{})
		b := revEngine(t, db, km, &revRec{})
		dk, _, err := a.dek(ctx, "default", "A", 0, true)
		if err != nil {
			t.Fatal(err)
		}
		j := job(ctx, "A", "tok_review_2", tokens.FormatRandom, "x")
		j.rows[0].DataType = int(tokens.Name)
		j.rows[0].Ciphertext, _ = seal(dk, []byte("Jane"), valueAAD("tok_review_2", "default", "A", tokens.Name))
		a.commitEach(ctx, []*writeJob{j})
		if err := <-j.done; err != nil {
			t.Fatal(err)
		}
		a.RotateSubjectKey(ctx, Caller{Workload: "x"}, "", "A") // v2
		b.dek(ctx, "default", "A", 0, false)                    // b caches current=v2
		a.RotateSubjectKey(ctx, Caller{Workload: "x"}, "", "A") // v3
		// a's pass failed on this row transiently (len(rows) < batch), so it
		// destroys unused retired versions: v2.
		n, _ := a.store.DeleteRetiredKeys(ctx)
		m, err := b.ReencryptOnce(ctx, 100)
		rows, _ := a.store.SubjectTokens(ctx, "default", "A")
		_, kerr := a.store.GetSubjectKey(ctx, "default", "A", rows[0].DEKVersion)
		t.Logf("deleted=%d b moved=%d err=%v; token now dek_version=%d; that key: %v", n, m, err, rows[0].DEKVersion, kerr)
		if kerr != nil {
			t.Error("BUG: value re-sealed under a destroyed data key (unrecoverable)")
		}
	})
}

// TestRegressionGroupCommitTakesTheFastPath: a group of independent jobs is
// written by commitAll in one go on both databases. (On PostgreSQL the
// subject check once failed on every group, "integer = text", and every
// group silently fell back to one savepoint per job: correct, 8× slower.)
func TestRegressionGroupCommitTakesTheFastPath(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := revKM(t)
		e := revEngine(t, db, km, &revRec{})
		for _, s := range []string{"cus_a", "cus_b"} {
			if _, err := e.createSubject(ctx, "default", s); err != nil {
				t.Fatal(err)
			}
		}
		jobs := []*writeJob{
			job(ctx, "cus_a", "4000000000000001", tokens.FormatCard, "ct-a"),
			job(ctx, "cus_b", "4000000000000002", tokens.FormatCard, "ct-b"),
			job(ctx, "cus_a", "4000000000000003", tokens.FormatCard, "ct-c"),
		}
		if err := e.commitAll(ctx, jobs); err != nil {
			t.Fatalf("commitAll of independent jobs: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("rows after commitAll: %d %v", n, err)
		}
	})
}

// A group of one commits without savepoints (writer.go): its failures must
// still reach the caller as the job's own error, typed as before (a taken
// token is AlreadyExists, which Tokenize reports as TOKEN_COLLISION; a stale
// key version is ErrSubjectChanged, which Tokenize retries), with nothing
// written. From the review of the second session.
func TestRegressionGroupOfOneMapsErrors(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := revEngine(t, db, revKM(t), &revRec{})
		if _, _, err := e.dek(ctx, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		first := job(ctx, "A", "4000000000001111", tokens.FormatCard, "a")
		e.commitGroup(ctx, []*writeJob{first})
		if err := <-first.done; err != nil {
			t.Fatal(err)
		}
		countTokens := func() int {
			var n int
			if err := db.QueryRow(`SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		taken := job(ctx, "A", "4000000000001111", tokens.FormatCard, "b")
		e.commitGroup(ctx, []*writeJob{taken})
		err := <-taken.done
		var se statementError
		if !errs.Is(err, errs.AlreadyExists) || errors.As(err, &se) {
			t.Fatalf("taken token alone: %v (%T), want the bare AlreadyExists", err, err)
		}

		stale := job(ctx, "A", "4000000000002222", tokens.FormatCard, "c")
		stale.dekVersion = 7
		e.commitGroup(ctx, []*writeJob{stale})
		if err := <-stale.done; !errors.Is(err, storage.ErrSubjectChanged) {
			t.Fatalf("stale key version alone: %v, want ErrSubjectChanged", err)
		}

		unsealed := job(ctx, "A", "4000000000003333", tokens.FormatCard, "d")
		unsealed.event = auditclient.Sealed{}
		e.commitGroup(ctx, []*writeJob{unsealed})
		if err := <-unsealed.done; !errs.Is(err, errs.Internal) {
			t.Fatalf("unsealed event alone: %v, want Internal", err)
		}

		if n, o := countTokens(), outboxCount(t, db); n != 1 || o != 1 {
			t.Fatalf("after three refused jobs: %d tokens and %d outbox rows, want 1 and 1", n, o)
		}
	})
}

// Erasure drops every cached key of the subject at once, so this replica
// stops using them before any cache expiry (the database check under the
// subject's lock is the second line, for other replicas).
func TestEraseDropsCachedKeys(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := revEngine(t, db, revKM(t), &revRec{})
		if _, _, err := e.dek(ctx, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.EraseSubject(ctx, Caller{Workload: "consent", ID: "spiffe://sotto.test/consent"}, "default", "A", "dsr_1"); err != nil {
			t.Fatal(err)
		}
		for _, k := range e.deks.Keys() {
			if strings.HasPrefix(k, "default\x00A\x00") {
				t.Fatalf("a key of the erased subject is still cached: %q", k)
			}
		}
		if _, _, err := e.dek(ctx, "default", "A", 0, false); errs.ReasonOf(err) != "SUBJECT_ERASED" {
			t.Fatalf("key of an erased subject: %v, want SUBJECT_ERASED", err)
		}
	})
}

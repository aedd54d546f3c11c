// Regression tests from the code review of 2026-11-29: each failed before its fix.

package engine

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/groupcommit"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// revRec stands in for the audit client: it refuses what the client
// refuses (auditclient.Validate), keeps the events it records and can cancel
// the caller's context while recording.
type revRec struct {
	cancel func()
	mu     sync.Mutex
	events []auditclient.Event
}

func (r *revRec) Record(ctx context.Context, evs ...auditclient.Event) error {
	if err := auditclient.Validate(evs...); err != nil {
		return err
	}
	r.mu.Lock()
	r.events = append(r.events, evs...)
	r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
	return nil
}

func (r *revRec) recorded() []auditclient.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
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

// outboxEvents decodes the events waiting in the outbox, oldest first.
func outboxEvents(t *testing.T, db *store.DB) []*auditv1.EventInput {
	t.Helper()
	rows, err := db.Query(`SELECT payload FROM audit_outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*auditv1.EventInput
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		in := &auditv1.EventInput{}
		if err := proto.Unmarshal(payload, in); err != nil {
			t.Fatal(err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// intentThenFailure checks that rec holds exactly one event, the intent
// recorded as a success before the operation, and that the outbox gained
// exactly one event after it, the same action recorded as a failure for
// reason.
func intentThenFailure(t *testing.T, db *store.DB, rec *revRec, outboxBefore int, action, reason string) {
	t.Helper()
	intents := rec.recorded()
	if len(intents) != 1 || intents[0].Action != action || intents[0].Outcome != auditclient.Success {
		t.Fatalf("synchronous records: %+v, want one %s intent", intents, action)
	}
	evs := outboxEvents(t, db)
	if len(evs) != outboxBefore+1 {
		t.Fatalf("outbox holds %d events, want %d: the failure was not recorded", len(evs), outboxBefore+1)
	}
	f := evs[len(evs)-1]
	if f.GetAction() != action || f.GetOutcome() != auditclient.Failure || f.GetReason() != reason || f.GetEventId() == intents[0].ID {
		t.Fatalf("failure event %+v, want %s FAILURE %s under its own ID", f, action, reason)
	}
}

func job(ctx context.Context, subj, tok string, format tokens.Format, ct string) *writeJob {
	ev := auditclient.New(ctx, ActionTokenize, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = subj, ResourceTokenBatch, "conv_1"
	sealed, err := auditclient.Seal(ev)
	if err != nil {
		panic(err) // a fixed, valid event
	}
	return &writeJob{ctx: ctx, tenant: "default", subject: subj, dekVersion: 1, event: sealed[0],
		rows: []storage.Token{{Token: tok, Tenant: "default", Subject: subj, DataType: int(tokens.CardNumber), Format: int(format), Scope: "conv_1", Ciphertext: []byte(ct), DEKVersion: 1, Created: time.Now()}}}
}

// jobErrs runs one of the writer's commit functions on jobs and returns
// each job's error, as the writer would hand them out.
func jobErrs(ctx context.Context, commit func(context.Context, []*writeJob) ([]groupcommit.Result[struct{}], error), jobs ...*writeJob) []error {
	res, err := commit(ctx, jobs)
	out := make([]error, len(jobs))
	for i := range out {
		if err != nil {
			out[i] = err
		} else {
			out[i] = res[i].Err
		}
	}
	return out
}

// TestRegressionSavepointRecovery: after one job's statement fails in
// commitEach, the jobs after it in the transaction still commit.
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
		if err := jobErrs(ctx, e.commitEach, a)[0]; err != nil {
			t.Fatal(err)
		}
		b := job(ctx, "B", "4000000000001234", tokens.FormatCard, "b")
		c := job(ctx, "C", "4000000000005678", tokens.FormatCard, "c")
		got := jobErrs(ctx, e.commitGroup, b, c)
		eb, ec := got[0], got[1]
		t.Logf("B: %v  C: %v  outbox=%d", eb, ec, outboxCount(t, db))
		if !errs.Is(eb, errs.AlreadyExists) || ec != nil || outboxCount(t, db) != 2 {
			t.Fatal("savepoint isolation broken")
		}
	})
}

// TestRegressionSilentPKDrop: two jobs of one subject with the same
// non-deterministic token and different values, in one group: exactly one
// is acknowledged and stored, the other is told its token is taken.
func TestRegressionSilentPKDrop(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := revEngine(t, db, revKM(t), &revRec{})
		if _, _, err := e.dek(ctx, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		j1 := job(ctx, "A", "4000000000009999", tokens.FormatCard, "value-1")
		j2 := job(ctx, "A", "4000000000009999", tokens.FormatCard, "value-2")
		got := jobErrs(ctx, e.commitGroup, j1, j2)
		e1, e2 := got[0], got[1]
		var stored string
		switch {
		case e1 == nil && errs.Is(e2, errs.AlreadyExists):
			stored = "value-1"
		case e2 == nil && errs.Is(e1, errs.AlreadyExists):
			stored = "value-2"
		default:
			t.Fatalf("two jobs for one token: %v and %v, want one acknowledged and one AlreadyExists", e1, e2)
		}
		rows, err := e.store.SubjectTokens(ctx, "default", "A")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || string(rows[0].Ciphertext) != stored {
			t.Fatalf("stored rows %+v, want the acknowledged value %q only", rows, stored)
		}
		if n := outboxCount(t, db); n != 1 {
			t.Fatalf("%d outbox events, want 1 (the acknowledged job's)", n)
		}
	})
}

// TestRegressionRecordFailureCancelled: the caller's context is cancelled
// while the erasure intent is being recorded, so the erasure fails; the
// failure is still recorded (through the outbox, under a context that was
// not cancelled), and the subject, not erased, stays usable in this process.
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
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("erasure under a context cancelled mid-way: %v, want it to fail with context.Canceled", err)
		}
		intentThenFailure(t, db, rec, before, "tokenvault.erase", "INTERNAL")
		s, err := e.store.GetSubject(bg, "default", "A")
		if err != nil || !s.Erased.IsZero() {
			t.Fatalf("subject after the failed erasure: %+v, %v; want it not erased", s, err)
		}
		if _, _, err := e.dek(bg, "default", "A", 0, true); err != nil {
			t.Fatalf("key of the subject that was not erased: %v", err)
		}
	})
}

// TestRegressionRotateNewDEKFailure: the key backend refuses the new data
// key after the rotation intent was recorded as a success; the rotation
// fails, changes nothing, and its failure is recorded.
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
		if !errs.Is(err, errs.Unavailable) || errs.ReasonOf(err) != "KEY_BACKEND_UNAVAILABLE" {
			t.Fatalf("rotation with the key backend down: %v, want KEY_BACKEND_UNAVAILABLE", err)
		}
		intentThenFailure(t, db, rec, before, "tokenvault.rotate_subject_key", "KEY_BACKEND_UNAVAILABLE")
		if s, err := e.store.GetSubject(ctx, "default", "A"); err != nil || s.CurrentVersion != 1 {
			t.Fatalf("subject after the failed rotation: version %d, %v; want 1", s.CurrentVersion, err)
		}
	})
}

// opensUnder checks, on an engine with nothing cached, that the subject's
// only value is sealed under data key version want and opens to value.
func opensUnder(t *testing.T, db *store.DB, km keys.KeyManager, subject string, want int, value string) {
	t.Helper()
	ctx := context.Background()
	fresh := revEngine(t, db, km, &revRec{})
	rows, err := fresh.store.SubjectTokens(ctx, "default", subject)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows of %s: %d, %v; want 1", subject, len(rows), err)
	}
	r := rows[0]
	if r.DEKVersion != want {
		t.Fatalf("value sealed under data key v%d, want v%d", r.DEKVersion, want)
	}
	k, _, err := fresh.dek(ctx, "default", subject, r.DEKVersion, false)
	if err != nil {
		t.Fatalf("data key v%d: %v", r.DEKVersion, err)
	}
	pt, err := open(k, r.Ciphertext, valueAAD(r.Token, r.Tenant, r.Subject, tokens.DataType(r.DataType)))
	if err != nil || string(pt) != value {
		t.Fatalf("value under v%d: %q, %v; want %q", r.DEKVersion, pt, err, value)
	}
}

// TestRegressionReencryptStaleCurrent: replica b holds v1 as the subject's
// current key when replica a rotates to v2; b's re-encryption pass seals
// under v2 (the database's word, not its cache), once, and then reports no
// more progress (a pass that kept reporting progress would spin the
// re-encryption job).
func TestRegressionReencryptStaleCurrent(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := revKM(t)
		a := revEngine(t, db, km, &revRec{})
		b := revEngine(t, db, km, &revRec{})
		dk, v, err := b.dek(ctx, "default", "A", 0, true) // b caches current=v1
		if err != nil || v != 1 {
			t.Fatalf("first key: v%d, %v", v, err)
		}
		j := job(ctx, "A", "tok_review_1", tokens.FormatRandom, "x")
		ct, err := seal(dk, []byte("Jane"), valueAAD("tok_review_1", "default", "A", tokens.CardNumber))
		if err != nil {
			t.Fatal(err)
		}
		j.rows[0].Ciphertext = ct
		if err := jobErrs(ctx, b.commitEach, j)[0]; err != nil {
			t.Fatal(err)
		}
		if _, err := a.RotateSubjectKey(ctx, Caller{Workload: "x"}, "", "A"); err != nil {
			t.Fatal(err)
		}
		// The scenario: b's cache is stale.
		if cur, ok := b.deks.Get(subjectKey("default", "A", 0)); !ok || cur.version != 1 {
			t.Fatalf("b's cached current key: %+v %v, want v1", cur, ok)
		}
		if s, err := b.store.GetSubject(ctx, "default", "A"); err != nil || s.CurrentVersion != 2 {
			t.Fatalf("subject after rotation: v%d, %v; want v2", s.CurrentVersion, err)
		}
		if n, err := b.ReencryptOnce(ctx, 100); err != nil || n != 1 {
			t.Fatalf("first pass: moved %d, %v; want 1", n, err)
		}
		if n, err := b.ReencryptOnce(ctx, 100); err != nil || n != 0 {
			t.Fatalf("second pass: moved %d, %v; want 0", n, err)
		}
		opensUnder(t, db, km, "A", 2, "Jane")
	})
}

// TestRegressionMemoryDeadlock: on sqlite::memory: (one connection), a
// check inside a transaction runs on the transaction's connection rather
// than waiting for another.
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

// TestRegressionReencryptDataLoss: replica b caches v2 as current; a
// rotates to v3 and destroys v2, which no value uses. b's re-encryption pass
// must seal under v3: under its cached v2 the value would be lost with v2.
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
		if j.rows[0].Ciphertext, err = seal(dk, []byte("Jane"), valueAAD("tok_review_2", "default", "A", tokens.Name)); err != nil {
			t.Fatal(err)
		}
		if err := jobErrs(ctx, a.commitEach, j)[0]; err != nil {
			t.Fatal(err)
		}
		if _, err := a.RotateSubjectKey(ctx, Caller{Workload: "x"}, "", "A"); err != nil { // v2
			t.Fatal(err)
		}
		if _, v, err := b.dek(ctx, "default", "A", 0, false); err != nil || v != 2 { // b caches current=v2
			t.Fatalf("b's current key: v%d, %v; want v2", v, err)
		}
		if _, err := a.RotateSubjectKey(ctx, Caller{Workload: "x"}, "", "A"); err != nil { // v3
			t.Fatal(err)
		}
		// As a pass of a's that failed on this row would: destroy the retired
		// versions no value uses (v2), leaving b's cached current dangling.
		if n, err := a.store.DeleteRetiredKeys(ctx); err != nil || n != 1 {
			t.Fatalf("retired keys destroyed: %d, %v; want 1 (v2)", n, err)
		}
		if _, err := a.store.GetSubjectKey(ctx, "default", "A", 2); !errs.Is(err, errs.NotFound) {
			t.Fatalf("v2 after it was destroyed: %v, want NotFound", err)
		}
		if cur, ok := b.deks.Get(subjectKey("default", "A", 0)); !ok || cur.version != 2 {
			t.Fatalf("b's cached current key: %+v %v, want the destroyed v2", cur, ok)
		}
		if m, err := b.ReencryptOnce(ctx, 100); err != nil || m != 1 {
			t.Fatalf("b's pass: moved %d, %v; want 1", m, err)
		}
		opensUnder(t, db, km, "A", 3, "Jane")
	})
}

// TestRegressionGroupCommitTakesTheFastPath: a group of independent jobs is
// written by commitAll in one go on both databases. A statement that fails
// on one dialect only (such as a subject check comparing integer with text on
// PostgreSQL) would make every group fall back to one savepoint per job:
// still correct, 8× slower, and visible nowhere but here.
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

// TestRegressionGroupOfOneMapsErrors: a group of one commits without
// savepoints (writer.go); its failures still reach the caller as the job's
// own error, with its type (a taken token is AlreadyExists, which Tokenize
// reports as TOKEN_COLLISION; a stale key version is ErrSubjectChanged,
// which Tokenize retries), and nothing is written.
func TestRegressionGroupOfOneMapsErrors(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := revEngine(t, db, revKM(t), &revRec{})
		if _, _, err := e.dek(ctx, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		first := job(ctx, "A", "4000000000001111", tokens.FormatCard, "a")
		if err := jobErrs(ctx, e.commitGroup, first)[0]; err != nil {
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
		err := jobErrs(ctx, e.commitGroup, taken)[0]
		var se statementError
		if !errs.Is(err, errs.AlreadyExists) || errors.As(err, &se) {
			t.Fatalf("taken token alone: %v (%T), want the bare AlreadyExists", err, err)
		}

		stale := job(ctx, "A", "4000000000002222", tokens.FormatCard, "c")
		stale.dekVersion = 7
		if err := jobErrs(ctx, e.commitGroup, stale)[0]; !errors.Is(err, storage.ErrSubjectChanged) {
			t.Fatalf("stale key version alone: %v, want ErrSubjectChanged", err)
		}

		unsealed := job(ctx, "A", "4000000000003333", tokens.FormatCard, "d")
		unsealed.event = auditclient.Sealed{}
		if err := jobErrs(ctx, e.commitGroup, unsealed)[0]; !errs.Is(err, errs.Internal) {
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

package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

const origin = "sotto.test/audit"

// newLog builds a running log over db with a fresh local keyring.
func newLog(t *testing.T, db *store.DB) (*ledger.Log, *storage.Store, keys.KeyManager) {
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	return newLogWith(t, db, km), storage.New(db), km
}

func newLogWith(t *testing.T, db *store.DB, km keys.KeyManager) *ledger.Log {
	t.Helper()
	l := initLog(t, db, km)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

// initLog builds an initialised log over db that is not running.
func initLog(t *testing.T, db *store.DB, km keys.KeyManager) *ledger.Log {
	t.Helper()
	ctx := context.Background()
	for name, typ := range map[string]keys.KeyType{"audit-checkpoint": keys.TypeEd25519, "audit-subject": keys.TypeAES256GCM} {
		if err := km.EnsureKey(ctx, name, typ); err != nil {
			t.Fatal(err)
		}
	}
	st := storage.New(db)
	hasher, err := ledger.NewSubjectHasher(ctx, km, "audit-subject", st)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewCheckpointSigner(ctx, km, "audit-checkpoint", origin)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(st, hasher, signer, slog.New(slog.NewTextHandler(io.Discard, nil)), ledger.Options{CheckpointInterval: time.Hour})
	if err := l.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}

func event(subject, action string) *auditv1.EventInput {
	return &auditv1.EventInput{
		EventId:   uuid.NewString(),
		OccurTime: timestamppb.New(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)),
		Subject:   subject,
		Action:    action,
		Outcome:   auditv1.Outcome_OUTCOME_SUCCESS,
	}
}

func submit(workload string, evs ...*auditv1.EventInput) []ledger.Submission {
	out := make([]ledger.Submission, len(evs))
	for i, e := range evs {
		out[i] = ledger.Submission{Workload: workload, Event: e}
	}
	return out
}

// TestKnownAnswerRFC6962 stores the RFC 6962 test leaves through the
// service's storage layout, reloads the log from the database, and checks
// every root and proof against the published vectors and the reference tree
// of transparency-dev/merkle.
func TestKnownAnswerRFC6962(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st := storage.New(db)
		leaves := testonly.LeafInputs()
		roots := testonly.RootHashes() // roots[n] is the root of the first n leaves
		if !bytes.Equal(roots[0], rfc6962.DefaultHasher.EmptyRoot()) {
			t.Fatal("vector 0 is not the empty root")
		}
		ref := testonly.New(rfc6962.DefaultHasher)

		rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
		rng := rf.NewEmptyRange(0)
		km := mustLocal(t)
		for i, leaf := range leaves {
			var nodes []ledger.Node
			if err := rng.Append(rfc6962.DefaultHasher.HashLeaf(leaf), func(id compact.NodeID, h []byte) {
				nodes = append(nodes, ledger.Node{ID: id, Hash: h})
			}); err != nil {
				t.Fatal(err)
			}
			e := ledger.Entry{Index: int64(i), EventID: fmt.Sprintf("kat-%d", i), Data: leaf, InputDigest: []byte{1}, OccurTime: time.Unix(0, 0)}
			if err := st.Append(ctx, int64(i), []ledger.Entry{e}, nodes); err != nil {
				t.Fatal(err)
			}
			ref.AppendData(leaf)

			// Reload a log from the database at every size and check its root.
			l := newLogWith(t, db, km)
			cp, err := l.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(cp.Root, roots[i+1]) {
				t.Fatalf("size %d: root %x, want RFC 6962 vector %x", i+1, cp.Root, roots[i+1])
			}
			for j := 0; j <= i; j++ {
				_, size, got, err := l.InclusionProof(ctx, fmt.Sprintf("kat-%d", j), int64(i+1))
				if err != nil {
					t.Fatal(err)
				}
				want, _ := ref.InclusionProof(uint64(j), uint64(i+1))
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("inclusion(%d, %d) differs from reference (-want +got):\n%s", j, i+1, diff)
				}
				if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(j), uint64(size), rfc6962.DefaultHasher.HashLeaf(leaves[j]), got, roots[i+1]); err != nil {
					t.Fatalf("inclusion(%d, %d) does not verify: %v", j, i+1, err)
				}
				if j == 0 {
					continue
				}
				_, cgot, err := l.ConsistencyProof(ctx, int64(j), int64(i+1))
				if err != nil {
					t.Fatal(err)
				}
				cwant, _ := ref.ConsistencyProof(uint64(j), uint64(i+1))
				if diff := cmp.Diff(cwant, cgot, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("consistency(%d, %d) differs from reference (-want +got):\n%s", j, i+1, diff)
				}
				if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(j), uint64(i+1), cgot, roots[j], roots[i+1]); err != nil {
					t.Fatalf("consistency(%d, %d) does not verify: %v", j, i+1, err)
				}
			}
		}
	})
}

func mustLocal(t *testing.T) keys.KeyManager {
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "k.json"))
	if err != nil {
		t.Fatal(err)
	}
	return km
}

func TestAppendProofsAndCheckpoints(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, st, _ := newLog(t, db)
		var evs []*auditv1.EventInput
		for i := 0; i < 37; i++ {
			evs = append(evs, event(fmt.Sprintf("cus_%d", i%5), "tokenvault.detokenize"))
		}
		first, err := l.Append(ctx, submit("spiffe://sotto.test/tokenvault", evs[:20]...))
		if err != nil {
			t.Fatal(err)
		}
		cp1, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, submit("spiffe://sotto.test/tokenvault", evs[20:]...)); err != nil {
			t.Fatal(err)
		}
		cp2, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp1.Size != 20 || cp2.Size != 37 {
			t.Fatalf("checkpoint sizes %d, %d; want 20, 37", cp1.Size, cp2.Size)
		}
		for i, r := range first {
			if r.Index != int64(i) || r.Duplicate {
				t.Fatalf("result %d = %+v", i, r)
			}
		}

		// The checkpoint is a C2SP signed note that the standard parser accepts.
		verifier, err := note.NewVerifier(l.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		parsed, _, _, err := log.ParseCheckpoint(cp2.Note, origin, verifier)
		if err != nil {
			t.Fatalf("checkpoint does not parse/verify: %v\n%s", err, cp2.Note)
		}
		if parsed.Size != 37 || !bytes.Equal(parsed.Hash, cp2.Root) {
			t.Fatalf("parsed checkpoint %+v does not match %d/%x", parsed, cp2.Size, cp2.Root)
		}

		// Every event has an inclusion proof that verifies against the signed root.
		entries, err := st.EntriesRange(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			idx, size, hashes, err := l.InclusionProof(ctx, e.EventID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(size), rfc6962.DefaultHasher.HashLeaf(e.Data), hashes, cp2.Root); err != nil {
				t.Fatalf("entry %d: %v", e.Index, err)
			}
		}
		// And the two checkpoints are consistent.
		_, cons, err := l.ConsistencyProof(ctx, cp1.Size, cp2.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(cp1.Size), uint64(cp2.Size), cons, cp1.Root, cp2.Root); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAppendIsIdempotentByEventID(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, _, _ := newLog(t, db)
		a, b := event("cus_1", "consent.grant"), event("cus_2", "consent.withdraw")
		r1, err := l.Append(ctx, submit("spiffe://sotto.test/consent", a, b))
		if err != nil {
			t.Fatal(err)
		}
		// Retry of the same batch, and a batch repeating one ID twice.
		r2, err := l.Append(ctx, submit("spiffe://sotto.test/consent", a, b))
		if err != nil {
			t.Fatal(err)
		}
		c := event("cus_3", "consent.grant")
		r3, err := l.Append(ctx, submit("spiffe://sotto.test/consent", c, c))
		if err != nil {
			t.Fatal(err)
		}
		want2 := []ledger.Result{{EventID: a.EventId, Index: 0, Duplicate: true}, {EventID: b.EventId, Index: 1, Duplicate: true}}
		if diff := cmp.Diff(want2, r2); diff != "" {
			t.Fatalf("re-append (-want +got):\n%s", diff)
		}
		if r1[0].Duplicate || r1[1].Duplicate {
			t.Fatal("first append marked duplicate")
		}
		want3 := []ledger.Result{{EventID: c.EventId, Index: 2}, {EventID: c.EventId, Index: 2, Duplicate: true}}
		if diff := cmp.Diff(want3, r3); diff != "" {
			t.Fatalf("in-batch duplicate (-want +got):\n%s", diff)
		}
		if l.Size() != 3 {
			t.Fatalf("size %d, want 3", l.Size())
		}
	})
}

// TestEventIDCannotBeClaimed: an event ID counts as a duplicate only for the
// same workload re-sending the same event. Anything else is refused, so no
// workload can suppress another's record by using its ID first, and a caller
// never takes someone else's record for its own.
func TestEventIDCannotBeClaimed(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, _, _ := newLog(t, db)
		original := event("cus_1", "tokenvault.detokenize")
		if _, err := l.Append(ctx, submit("spiffe://sotto.test/tokenvault", original)); err != nil {
			t.Fatal(err)
		}
		changed := proto.Clone(original).(*auditv1.EventInput)
		changed.Subject = "cus_2"
		fresh := event("cus_3", "consent.grant")
		tests := []struct {
			name     string
			workload string
			evs      []*auditv1.EventInput
		}{
			{"same id from another workload", "spiffe://sotto.test/consent", []*auditv1.EventInput{original}},
			{"same id, other content", "spiffe://sotto.test/tokenvault", []*auditv1.EventInput{changed}},
			{"one conflict refuses the whole request", "spiffe://sotto.test/tokenvault", []*auditv1.EventInput{fresh, changed}},
			{"conflict inside one request", "spiffe://sotto.test/tokenvault", []*auditv1.EventInput{fresh, func() *auditv1.EventInput {
				e := proto.Clone(fresh).(*auditv1.EventInput)
				e.Action = "consent.withdraw"
				return e
			}()}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := l.Append(ctx, submit(tc.workload, tc.evs...))
				if !errs.Is(err, errs.AlreadyExists) || errs.ReasonOf(err) != "EVENT_ID_CONFLICT" {
					t.Fatalf("got %v, want AlreadyExists EVENT_ID_CONFLICT", err)
				}
				if l.Size() != 1 {
					t.Fatalf("log grew to %d on a refused request", l.Size())
				}
			})
		}
		// The genuine re-send is still a duplicate.
		r, err := l.Append(ctx, submit("spiffe://sotto.test/tokenvault", original))
		if err != nil || !r[0].Duplicate || r[0].Index != 0 {
			t.Fatalf("re-send: %+v %v", r, err)
		}
	})
}

func TestNoRawSubjectIsStored(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, st, _ := newLog(t, db)
		const subject = "customer-8c1f-jane.doe"
		e := event(subject, "tokenvault.detokenize")
		e.ActorSubject = "staff-agent-42"
		if _, err := l.Append(ctx, submit("spiffe://sotto.test/tokenvault", e)); err != nil {
			t.Fatal(err)
		}
		entries, err := st.EntriesRange(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range [][]byte{entries[0].Data, []byte(entries[0].SubjectHash), []byte(entries[0].ActorSubjectHash)} {
			if bytes.Contains(raw, []byte(subject)) || bytes.Contains(raw, []byte("staff-agent-42")) {
				t.Fatal("raw subject identifier stored")
			}
		}
		// Yet the event is found by subject.
		got, err := l.List(ctx, ledger.Query{Subject: subject, AfterIndex: -1, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].EventId != e.EventId || got[0].SubjectHash == "" {
			t.Fatalf("list by subject = %v", got)
		}
		none, err := l.List(ctx, ledger.Query{Subject: "someone-else", AfterIndex: -1, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(none) != 0 {
			t.Fatalf("list by another subject returned %d events", len(none))
		}
		// The hash is keyed: another log, with its own key, hashes the same
		// subject differently (an unkeyed hash could be reversed by guessing).
		other, otherSt, _ := newLog(t, storetest.SQLite(t, migrations.FS))
		if _, err := other.Append(ctx, submit("spiffe://sotto.test/tokenvault", event(subject, "tokenvault.detokenize"))); err != nil {
			t.Fatal(err)
		}
		theirs, err := otherSt.EntriesRange(ctx, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if theirs[0].SubjectHash == "" || theirs[0].SubjectHash == entries[0].SubjectHash {
			t.Fatalf("two logs with different keys hash a subject alike: %q", theirs[0].SubjectHash)
		}
	})
}

// TestEditedIndexColumnsAreRefused: the search columns beside each entry
// (event_id, subject_hash) are never trusted; an entry whose columns were
// edited is refused as corrupt rather than served as another event or to
// another subject's search.
func TestEditedIndexColumnsAreRefused(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, _, _ := newLog(t, db)
		a, b := event("cus_a", "tokenvault.detokenize"), event("cus_b", "tokenvault.detokenize")
		if _, err := l.Append(ctx, submit("spiffe://sotto.test/tokenvault", a, b)); err != nil {
			t.Fatal(err)
		}
		forged := uuid.NewString()
		if _, err := db.ExecContext(ctx, `UPDATE entries SET event_id = $1 WHERE leaf_index = 0`, forged); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Event(ctx, forged); errs.ReasonOf(err) != "ENTRY_CORRUPT" {
			t.Fatalf("event under an edited event_id: %v, want ENTRY_CORRUPT", err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE entries SET subject_hash = (SELECT subject_hash FROM entries WHERE leaf_index = 1) WHERE leaf_index = 0`); err != nil {
			t.Fatal(err)
		}
		if _, err := l.List(ctx, ledger.Query{Subject: "cus_b", AfterIndex: -1, Limit: 10}); errs.ReasonOf(err) != "ENTRY_CORRUPT" {
			t.Fatalf("list with an edited subject_hash: %v, want ENTRY_CORRUPT", err)
		}
	})
}

func TestListFilters(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, _, _ := newLog(t, db)
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var all []*auditv1.EventInput
		for i := 0; i < 10; i++ {
			e := event(fmt.Sprintf("cus_%d", i%2), []string{"consent.grant", "tokenvault.detokenize"}[i%2])
			e.OccurTime = timestamppb.New(base.Add(time.Duration(i) * time.Hour))
			all = append(all, e)
		}
		if _, err := l.Append(ctx, submit("spiffe://sotto.test/consent", all[:5]...)); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, submit("spiffe://sotto.test/tokenvault", all[5:]...)); err != nil {
			t.Fatal(err)
		}
		ids := func(evs []*auditv1.Event) []string {
			var out []string
			for _, e := range evs {
				out = append(out, e.EventId)
			}
			return out
		}
		tests := []struct {
			name string
			q    ledger.Query
			want []int
		}{
			{"subject", ledger.Query{Subject: "cus_1"}, []int{1, 3, 5, 7, 9}},
			{"action", ledger.Query{Action: "consent.grant"}, []int{0, 2, 4, 6, 8}},
			{"workload", ledger.Query{ActorWorkload: "spiffe://sotto.test/tokenvault"}, []int{5, 6, 7, 8, 9}},
			{"time range", ledger.Query{Start: base.Add(2 * time.Hour), End: base.Add(4 * time.Hour)}, []int{2, 3}},
			{"combined", ledger.Query{Subject: "cus_0", ActorWorkload: "spiffe://sotto.test/consent"}, []int{0, 2, 4}},
			{"after", ledger.Query{AfterIndex: 7}, []int{8, 9}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				q := tc.q
				if q.AfterIndex == 0 {
					q.AfterIndex = -1
				}
				q.Limit = 100
				got, err := l.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, i := range tc.want {
					want = append(want, all[i].EventId)
				}
				if diff := cmp.Diff(want, ids(got)); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestConcurrentAppendsGroupCommit(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, _, _ := newLog(t, db)
		const writers, per = 16, 25
		var wg sync.WaitGroup
		seen := make(chan int64, writers*per)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					r, err := l.Append(ctx, submit("spiffe://sotto.test/x", event("cus", "x.y")))
					if err != nil {
						t.Error(err)
						return
					}
					seen <- r[0].Index
				}
			}()
		}
		wg.Wait()
		close(seen)
		got := map[int64]bool{}
		for i := range seen {
			if got[i] {
				t.Fatalf("index %d assigned twice", i)
			}
			got[i] = true
		}
		if len(got) != writers*per || l.Size() != writers*per {
			t.Fatalf("%d distinct indexes, size %d; want %d", len(got), l.Size(), writers*per)
		}
	})
}

// TestSecondWriterDetected: two logs over one database (two replicas) never
// interleave leaves; the loser of the compare-and-set reloads and retries.
func TestSecondWriterDetected(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		km := mustLocal(t)
		a := newLogWith(t, db, km)
		b := newLogWith(t, db, km)
		if _, err := a.Append(ctx, submit("w", event("s", "a.b"))); err != nil {
			t.Fatal(err)
		}
		r, err := b.Append(ctx, submit("w", event("s", "a.b")))
		if err != nil {
			t.Fatal(err)
		}
		if r[0].Index != 1 {
			t.Fatalf("second writer got index %d, want 1", r[0].Index)
		}
		cp, err := b.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size != 2 {
			t.Fatalf("checkpoint size %d, want 2", cp.Size)
		}
	})
}

// TestAppendAfterShutdown: once Run has returned, Append fails at once as
// Unavailable (the caller retries elsewhere or later) and writes nothing.
func TestAppendAfterShutdown(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := initLog(t, db, mustLocal(t))
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- l.Run(runCtx) }()
		if _, err := l.Append(ctx, submit("w", event("s", "a.b"))); err != nil {
			t.Fatal(err)
		}
		stop()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		_, err := l.Append(ctx, submit("w", event("s", "a.b")))
		if !errs.Is(err, errs.Unavailable) || errs.ReasonOf(err) != "AUDIT_SHUTTING_DOWN" {
			t.Fatalf("append after shutdown: %v, want Unavailable AUDIT_SHUTTING_DOWN", err)
		}
		if l.Size() != 1 {
			t.Fatalf("tree size %d after shutdown, want 1", l.Size())
		}
	})
}

func TestProofErrors(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, _, _ := newLog(t, db)
		e := event("s", "a.b")
		if _, err := l.Append(ctx, submit("w", e)); err != nil {
			t.Fatal(err)
		}
		// Not yet in a checkpoint (latest checkpoint is the empty tree).
		if _, _, _, err := l.InclusionProof(ctx, e.EventId, 0); !errs.Is(err, errs.FailedPrecondition) {
			t.Fatalf("inclusion before checkpoint: %v", err)
		}
		if _, _, _, err := l.InclusionProof(ctx, uuid.NewString(), 0); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown event: %v", err)
		}
		if _, _, err := l.ConsistencyProof(ctx, 1, 5); !errs.Is(err, errs.InvalidArgument) {
			t.Fatalf("size beyond log: %v", err)
		}
	})
}

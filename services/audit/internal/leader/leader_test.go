package leader_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/wait"
	"github.com/sottohq/sotto/services/audit/internal/leader"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/reasons"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// replica is one audit replica's log and election, stoppable on its own.
type replica struct {
	log  *ledger.Log
	stop context.CancelFunc // ends the election: the session and its lock go
	done chan struct{}
}

func startReplica(t *testing.T, db *store.DB, km keys.KeyManager) *replica {
	t.Helper()
	ctx := context.Background()
	st := storage.New(db)
	hasher, err := ledger.NewSubjectHasher(ctx, km, "audit-subject", st)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewCheckpointSigner(ctx, km, "audit-checkpoint", "sotto.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := ledger.New(st, hasher, signer, logger, ledger.Options{CheckpointInterval: 50 * time.Millisecond, Standby: true})
	if err := l.Init(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	electCtx, stopElect := context.WithCancel(ctx)
	r := &replica{log: l, stop: stopElect, done: make(chan struct{})}
	runDone := make(chan struct{})
	go func() { l.Run(runCtx); close(runDone) }()
	go func() {
		leader.New(db.DB, l, logger, leader.Options{
			Poll: 20 * time.Millisecond, Check: 50 * time.Millisecond,
			// Long enough for a loaded CI machine to pause a healthy
			// leader (a shorter one flapped leadership mid-test), short
			// enough that TestLeaderLostSilentlyIsReplaced fails over soon.
			SessionTimeout: 3 * time.Second,
		}).Run(electCtx)
		close(r.done)
	}()
	t.Cleanup(func() { stopElect(); <-r.done; stopRun(); <-runDone })
	return r
}

func sequencers(rs ...*replica) []*replica {
	var out []*replica
	for _, r := range rs {
		if r.log.Sequencing() {
			out = append(out, r)
		}
	}
	return out
}

func appendOne(ctx context.Context, l *ledger.Log) (string, error) {
	id := uuid.NewString()
	_, err := l.Append(ctx, []ledger.Submission{{Workload: "spiffe://sotto.test/tokenvault", Event: &auditv1.EventInput{
		EventId: id, OccurTime: timestamppb.Now(), Subject: "user-1", Action: "token.create", Outcome: auditv1.Outcome_OUTCOME_SUCCESS,
	}}})
	return id, err
}

// TestOneSequencerAndFailover: of replicas sharing a PostgreSQL log exactly
// one sequences; a standby refuses appends (so no write lands outside the
// sequencer); when the leader's session ends, by stopping or by the server
// cutting it, another takes over and the log goes on from where it was.
func TestOneSequencerAndFailover(t *testing.T) {
	db := storetest.Postgres(t, migrations.FS)
	ctx := context.Background()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]keys.KeyType{"audit-checkpoint": keys.TypeEd25519, "audit-subject": keys.TypeAES256GCM} {
		if err := km.EnsureKey(ctx, name, typ); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := startReplica(t, db, km), startReplica(t, db, km), startReplica(t, db, km)
	all := []*replica{a, b, c}
	wait.For(t, "one replica sequences", func() bool { return len(sequencers(all...)) == 1 })

	var appended []string
	appendTo := func(n int) {
		t.Helper()
		lead := sequencers(all...)
		if len(lead) != 1 {
			t.Fatalf("%d sequencers", len(lead))
		}
		for range n {
			id, err := appendOne(ctx, lead[0].log)
			if err != nil {
				t.Fatalf("append on the sequencer: %v", err)
			}
			appended = append(appended, id)
		}
		for _, r := range all {
			if r == lead[0] {
				continue
			}
			if _, err := appendOne(ctx, r.log); !errs.Is(err, errs.Unavailable) || errs.ReasonOf(err) != reasons.NotSequencer {
				t.Fatalf("append on a standby: %v, want Unavailable %s", err, reasons.NotSequencer)
			}
		}
	}
	appendTo(20)

	// The leader stops (its session ends): another takes over.
	first := sequencers(all...)[0]
	first.stop()
	<-first.done
	all = without(all, first)
	wait.For(t, "a standby takes over from a stopped leader", func() bool { return len(sequencers(all...)) == 1 })
	appendTo(20)

	// The server cuts the leader's session (as when its process dies, or
	// an operator terminates it): it steps down, the last one takes over.
	second := sequencers(all...)[0]
	// Only this test's database: pg_locks spans the server, and ending
	// every advisory lock holder there cut other packages' tests running
	// at the same time (cmd/audit's TestReplicaReadiness saw its leader's
	// lock pass to the standby; goose's migration locks too).
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the cut-off leader steps down", func() bool { return !second.log.Sequencing() })
	wait.For(t, "a replica sequences again", func() bool { return len(sequencers(all...)) == 1 })
	appendTo(20)

	// One log: every append has its own leaf, 0..59, and the latest
	// checkpoint (signed by whichever leads) covers them all.
	st := storage.New(db)
	seen := map[int64]bool{}
	for _, id := range appended {
		e, err := st.Entry(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged append %s: %v", id, err)
		}
		if seen[e.Index] {
			t.Fatalf("index %d twice", e.Index)
		}
		seen[e.Index] = true
	}
	if size, err := st.TreeSize(ctx); err != nil || size != int64(len(appended)) {
		t.Fatalf("tree size %d (%v), want %d", size, err, len(appended))
	}
	wait.For(t, "a checkpoint covers every append", func() bool {
		cp, err := st.LatestCheckpoint(ctx)
		return err == nil && cp.Size == int64(len(appended))
	})
}

func without(rs []*replica, r *replica) []*replica {
	var out []*replica
	for _, x := range rs {
		if x != r {
			out = append(out, x)
		}
	}
	return out
}

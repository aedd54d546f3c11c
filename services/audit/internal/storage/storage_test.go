package storage_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/merkle/compact"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// The audit store's contract, run on SQLite and PostgreSQL.

func entry(i int64) ledger.Entry {
	return ledger.Entry{Index: i, EventID: "ev-" + string(rune('a'+i)), Data: []byte{byte(i)}, InputDigest: []byte{byte(i)}, Action: "a.b",
		OccurTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func TestAppendCompareAndSet(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		node := func(i int64) ledger.Node {
			return ledger.Node{ID: compact.NewNodeID(0, uint64(i)), Hash: []byte{0xaa, byte(i)}}
		}
		if err := s.Append(ctx, 0, []ledger.Entry{entry(0), entry(1)}, []ledger.Node{node(0), node(1)}); err != nil {
			t.Fatal(err)
		}
		// A writer that still believes the tree is empty loses, and writes nothing.
		err := s.Append(ctx, 0, []ledger.Entry{entry(2)}, []ledger.Node{node(2)})
		if !errors.Is(err, ledger.ErrConflict) {
			t.Fatalf("stale append: %v, want ErrConflict", err)
		}
		if n, _ := s.TreeSize(ctx); n != 2 {
			t.Fatalf("size %d after a lost race, want 2", n)
		}
		if _, err := s.Entry(ctx, entry(2).EventID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("entry of the losing append: %v", err)
		}
		// A duplicate event ID rolls the whole batch back.
		if err := s.Append(ctx, 2, []ledger.Entry{entry(2), {Index: 3, EventID: entry(0).EventID, Data: []byte{9}, InputDigest: []byte{9}}}, nil); !errs.Is(err, errs.AlreadyExists) {
			t.Fatalf("duplicate event id: %v", err)
		}
		if n, _ := s.TreeSize(ctx); n != 2 {
			t.Fatalf("size %d after a failed batch, want 2", n)
		}
		got, err := s.Nodes(ctx, []compact.NodeID{compact.NewNodeID(0, 1), compact.NewNodeID(0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([][]byte{{0xaa, 1}, {0xaa, 0}}, got); diff != "" {
			t.Fatalf("nodes (-want +got):\n%s", diff)
		}
		if _, err := s.Nodes(ctx, []compact.NodeID{compact.NewNodeID(3, 0)}); err == nil {
			t.Fatal("missing node returned no error")
		}
		found, err := s.FindEvents(ctx, []string{entry(0).EventID, "nope", entry(1).EventID})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]ledger.Logged{entry(0).EventID: {Index: 0, InputDigest: []byte{0}}, entry(1).EventID: {Index: 1, InputDigest: []byte{1}}}
		if diff := cmp.Diff(want, found); diff != "" {
			t.Fatalf("find events (-want +got):\n%s", diff)
		}
		rng, err := s.EntriesRange(ctx, 1, 10)
		if err != nil || len(rng) != 1 || rng[0].Index != 1 || string(rng[0].LeafHash) != string([]byte{0xaa, 1}) {
			t.Fatalf("entries range: %+v %v", rng, err)
		}
	})
}

func TestCheckpointsAndHMACKeys(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		if _, err := s.LatestCheckpoint(ctx); !errs.Is(err, errs.NotFound) {
			t.Fatalf("latest of none: %v", err)
		}
		at := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
		for _, size := range []int64{0, 5, 3} {
			if err := s.PutCheckpoint(ctx, ledger.Checkpoint{Size: size, Root: []byte{byte(size)}, Note: []byte("n"), SignTime: at}); err != nil {
				t.Fatal(err)
			}
		}
		// Re-putting a size keeps the first (checkpoints are immutable).
		if err := s.PutCheckpoint(ctx, ledger.Checkpoint{Size: 5, Root: []byte{0xff}, Note: []byte("other"), SignTime: at}); err != nil {
			t.Fatal(err)
		}
		latest, err := s.LatestCheckpoint(ctx)
		if err != nil || latest.Size != 5 || latest.Root[0] != 5 || !latest.SignTime.Equal(at) {
			t.Fatalf("latest: %+v %v", latest, err)
		}
		list, err := s.ListCheckpoints(ctx, -1, 10)
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int64
		for _, c := range list {
			sizes = append(sizes, c.Size)
		}
		if diff := cmp.Diff([]int64{0, 3, 5}, sizes); diff != "" {
			t.Fatalf("checkpoint order (-want +got):\n%s", diff)
		}
		if err := s.AddHMACKey(ctx, 1, []byte("w1")); err != nil {
			t.Fatal(err)
		}
		if err := s.AddHMACKey(ctx, 1, []byte("w1'")); !errs.Is(err, errs.AlreadyExists) {
			t.Fatalf("second key version 1: %v", err)
		}
		keys, err := s.HMACKeys(ctx)
		if err != nil || string(keys[1]) != "w1" || len(keys) != 1 {
			t.Fatalf("hmac keys: %v %v", keys, err)
		}
	})
}

// TestSubjectLookupsUseTheIndex: finding a person's events (a data-subject
// request's export and erasure, an officer's search by subject) reads the
// subject index, never the whole log, on both databases.
func TestSubjectLookupsUseTheIndex(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hashes := []string{"aa", "bb"}
		list, listArgs := storage.ListQuery(ledger.Filter{SubjectHashes: hashes, AfterIndex: -1, Limit: 10})
		count, countArgs := storage.CountSubjectQuery(hashes)
		actor, actorArgs := storage.ListQuery(ledger.Filter{ActorSubjectHashes: hashes, AfterIndex: -1, Limit: 10})
		for _, tc := range []struct {
			name, query, index string
			args               []any
		}{
			{"list by subject", list, "entries_subject", listArgs},
			{"count by subject", count, "entries_subject", countArgs},
			{"list by actor", actor, "entries_actor_subject", actorArgs},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if plan := explain(t, ctx, db, tc.query, tc.args); !strings.Contains(plan, tc.index) {
					t.Fatalf("plan does not use %s:\n%s", tc.index, plan)
				}
			})
		}
	})
}

// explain returns db's plan for q. PostgreSQL is told to avoid sequential
// scans (on an empty table it would rightly prefer one): what is asked is
// whether the index can serve the query at all.
func explain(t *testing.T, ctx context.Context, db *store.DB, q string, args []any) string {
	t.Helper()
	var plan strings.Builder
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		prefix := "EXPLAIN QUERY PLAN "
		if db.Dialect == store.Postgres {
			prefix = "EXPLAIN "
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, prefix+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			fmt.Fprintln(&plan, vals...)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

func TestCountSubject(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		var entries []ledger.Entry
		for i, subject := range []string{"h1", "h2", "h1", "", "h1v2", "h2"} {
			e := entry(int64(i))
			e.SubjectHash = subject
			entries = append(entries, e)
		}
		if err := s.Append(ctx, 0, entries, nil); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			hashes []string
			want   int64
		}{
			{[]string{"h1"}, 2},
			{[]string{"h1", "h1v2"}, 3}, // one person, two key versions
			{[]string{"h2"}, 2},
			{[]string{"nobody"}, 0},
			{nil, 0},
		} {
			if got, err := s.CountSubject(ctx, tc.hashes); err != nil || got != tc.want {
				t.Errorf("CountSubject(%v) = %d, %v; want %d", tc.hashes, got, err, tc.want)
			}
		}
	})
}

// TestBatchesOfEverySizeShareAFewStatements: batches of 1 to 70 events are
// all written and found, through prepared statements of a few sizes
// (store.Pieces, store.PaddedSize) rather than one per batch size, which
// SQLite would parse and plan anew on every append.
func TestBatchesOfEverySizeShareAFewStatements(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := storage.New(db)
		var size int64
		for n := 1; n <= 70; n++ {
			var entries []ledger.Entry
			var nodes []ledger.Node
			var ids []string
			for i := range int64(n) {
				e := ledger.Entry{Index: size + i, EventID: fmt.Sprintf("ev-%d", size+i), Data: []byte{1}, InputDigest: []byte{byte(n)},
					Action: "a.b", OccurTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
				entries, ids = append(entries, e), append(ids, e.EventID)
				nodes = append(nodes, ledger.Node{ID: compact.NewNodeID(0, uint64(size+i)), Hash: []byte{byte(i)}})
			}
			if err := s.Append(ctx, size, entries, nodes); err != nil {
				t.Fatalf("batch of %d: %v", n, err)
			}
			size += int64(n)
			found, err := s.FindEvents(ctx, ids)
			if err != nil || len(found) != n {
				t.Fatalf("batch of %d: found %d of its events (%v)", n, len(found), err)
			}
			var nodeIDs []compact.NodeID
			for i, e := range entries {
				if got := found[e.EventID]; got.Index != e.Index || got.InputDigest[0] != byte(n) {
					t.Fatalf("batch of %d: event %s read back as %+v", n, e.EventID, got)
				}
				nodeIDs = append(nodeIDs, nodes[i].ID)
			}
			hashes, err := s.Nodes(ctx, nodeIDs)
			if err != nil {
				t.Fatalf("batch of %d: nodes: %v", n, err)
			}
			for i, h := range hashes {
				if !bytes.Equal(h, nodes[i].Hash) {
					t.Fatalf("batch of %d: node %d read back as %x, want %x", n, i, h, nodes[i].Hash)
				}
			}
		}
		if got, _ := s.TreeSize(ctx); got != size {
			t.Fatalf("tree size %d, want %d", got, size)
		}
		if db.Dialect != store.SQLite {
			return // pgx caches statements itself
		}
		// 7 insert sizes per table (64 … 1), the head update, 8 lookup
		// sizes (1 … 128).
		if n := db.PreparedStatements(); n < 1 || n > 2*7+1+8 {
			t.Fatalf("%d prepared statements after batches of 1 to 70 events, want between 1 and %d", n, 2*7+1+8)
		}
	})
}

package ledger_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// Benchmarks of durable appends (committed transactions) on both databases.
// `make bench` runs them; docs/benchmarks.md records the figures. The
// baseline inserts the same rows into a bare table in the same database, so
// the ratio shows what the Merkle tree, HMACs and encoding cost on top of
// the database's own write path.

var dialects = []struct {
	name string
	open func(testing.TB) *store.DB
}{
	{"sqlite", func(tb testing.TB) *store.DB { return storetest.SQLite(tb, migrations.FS) }},
	{"postgres", func(tb testing.TB) *store.DB { return storetest.Postgres(tb, migrations.FS) }},
}

func benchLog(b *testing.B, db *store.DB) *ledger.Log {
	km, err := keys.NewLocal(filepath.Join(b.TempDir(), "k.json"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	km.EnsureKey(ctx, "audit-checkpoint", keys.TypeEd25519)
	km.EnsureKey(ctx, "audit-subject", keys.TypeAES256GCM)
	st := ledgerStore(db)
	hasher, err := ledger.NewSubjectHasher(ctx, km, "audit-subject", st)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ledger.NewCheckpointSigner(ctx, km, "audit-checkpoint", origin)
	if err != nil {
		b.Fatal(err)
	}
	l := ledger.New(st, hasher, signer, discard(), ledger.Options{CheckpointInterval: time.Second})
	if err := l.Init(ctx); err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Run(runCtx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return l
}

// BenchmarkAppendBatch: one caller appending batches of 1000 events.
func BenchmarkAppendBatch(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			l := benchLog(b, d.open(b))
			ctx := context.Background()
			const batch = 1000
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				subs := make([]ledger.Submission, batch)
				for j := range subs {
					subs[j] = ledger.Submission{Workload: "spiffe://sotto.test/bench", Event: event(fmt.Sprintf("cus_%d", j%100), "tokenvault.detokenize")}
				}
				b.StartTimer()
				if _, err := l.Append(ctx, subs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkAppendConcurrent: 64 callers each appending single events; the
// sequencer groups them into shared transactions.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			l := benchLog(b, d.open(b))
			ctx := context.Background()
			const callers = 64
			var wg sync.WaitGroup
			work := make(chan struct{}, b.N)
			for i := 0; i < b.N; i++ {
				work <- struct{}{}
			}
			close(work)
			b.ResetTimer()
			for c := 0; c < callers; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						if _, err := l.Append(ctx, submit("spiffe://sotto.test/bench", event("cus_1", "tokenvault.detokenize"))); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkAppendSingleLatency: one caller, one event per append, waiting
// for each commit: the latency a synchronous (fail-closed) caller sees.
func BenchmarkAppendSingleLatency(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			l := benchLog(b, d.open(b))
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := l.Append(ctx, submit("spiffe://sotto.test/bench", event("cus_1", "tokenvault.detokenize"))); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkBaselineInsert: the same number of rows of similar size, batched
// 1000 per transaction into a bare table, with no tree, hashing or encoding.
func BenchmarkBaselineInsert(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			db := d.open(b)
			ctx := context.Background()
			if _, err := db.ExecContext(ctx, `CREATE TABLE baseline (id BIGINT PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, data `+blobType(db)+` NOT NULL, h `+blobType(db)+` NOT NULL)`); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 160)
			hash := make([]byte, 32)
			next := 0
			const batch = 1000
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := insertBaseline(ctx, db, next, batch, payload, hash); err != nil {
					b.Fatal(err)
				}
				next += batch
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func insertBaseline(ctx context.Context, db *store.DB, from, n int, payload, hash []byte) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < n; start += 500 {
			var q strings.Builder
			q.WriteString(`INSERT INTO baseline (id, event_id, data, h) VALUES `)
			var args []any
			for i := start; i < min(start+500, n); i++ {
				if i > start {
					q.WriteByte(',')
				}
				if db.Dialect == store.SQLite { // as internal/storage does: "?" avoids SQLite's quadratic $N lookup
					q.WriteString("(?,?,?,?)")
				} else {
					fmt.Fprintf(&q, "($%d,$%d,$%d,$%d)", len(args)+1, len(args)+2, len(args)+3, len(args)+4)
				}
				args = append(args, from+i, uuid.NewString(), payload, hash)
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func blobType(db *store.DB) string {
	if db.Dialect == store.Postgres {
		return "BYTEA"
	}
	return "BLOB"
}

func ledgerStore(db *store.DB) ledger.Store { return storage.New(db) }

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// BenchmarkTokenizeBatch100 measures the engine alone (SQLite, local
// keyring, cached data keys): the floor under the RPC figures in
// docs/benchmarks.md.
func BenchmarkTokenizeBatch100(b *testing.B) {

	db := storetest.SQLite(b, migrations.FS)
	f := newFixtureB(b, db)
	ctx := context.Background()
	items := make([]engine.Item, 100)
	for i := range items {
		items[i] = engine.Item{Value: fmt.Sprintf("Customer Name %d", i), Type: tokens.Name}
	}
	// Warm: create subjects.
	for s := 0; s < 100; s++ {
		if _, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: fmt.Sprintf("cus_%d", s), Items: items[:1]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: fmt.Sprintf("cus_%d", i%100), Items: items}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "values/s")

}

// BenchmarkTokenizeConcurrent64: 64 callers tokenizing one value each, as a
// chat front end does; the writer groups them into shared commits.
func BenchmarkTokenizeConcurrent64(b *testing.B) {
	db := storetest.SQLite(b, migrations.FS)
	f := newFixtureB(b, db)
	ctx := context.Background()
	for s := 0; s < 100; s++ {
		if _, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: fmt.Sprintf("cus_%d", s), Items: []engine.Item{{Value: "warm up", Type: tokens.Name}}}); err != nil {
			b.Fatal(err)
		}
	}
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	work := make(chan int, b.N)
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := 0; c < 64; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				start := time.Now()
				if _, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: fmt.Sprintf("cus_%d", i%100), Items: []engine.Item{{Value: "Jane Doe", Type: tokens.Name}}}); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

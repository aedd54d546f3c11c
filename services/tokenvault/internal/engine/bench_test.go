package engine_test

import (
	"context"
	"fmt"
	"testing"

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

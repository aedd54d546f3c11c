// Regression tests from the code review of 2026-11-29: each failed before its fix.

package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

func TestRegressionExpiredDeterministicReused(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		req := engine.TokenizeRequest{Subject: "cus_1", Scope: "conv_1", TTL: time.Hour,
			Items: []engine.Item{{Value: "jane@example.com", Type: tokens.Email, Format: tokens.FormatDeterministic}}}
		if _, err := f.eng.Tokenize(ctx, conversation, req); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(2 * time.Hour)
		req.TTL = 0 // "never expires"
		res, err := f.eng.Tokenize(ctx, conversation, req)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.eng.Detokenize(ctx, conversation, "order_support", []string{res[0].Token})
		t.Logf("fresh token -> %+v %v", d[0].Err, err)
		if d[0].Err != nil {
			t.Error("BUG: Tokenize returned a token that is already expired")
		}
	})
}

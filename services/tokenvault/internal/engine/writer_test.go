package engine

import (
	"context"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestWriteAfterShutdown: once RunWriter has returned, a write fails at once
// as Unavailable and stores nothing.
func TestWriteAfterShutdown(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := revEngine(t, db, revKM(t), &revRec{})
		if _, _, err := e.dek(ctx, "default", "A", 0, true); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- e.RunWriter(runCtx) }()
		if err := e.write(ctx, job(ctx, "A", "4000000000004444", tokens.FormatCard, "a")); err != nil {
			t.Fatal(err)
		}
		stop()
		if err := <-done; err != nil {
			t.Fatalf("RunWriter: %v", err)
		}
		err := e.write(ctx, job(ctx, "A", "4000000000005555", tokens.FormatCard, "b"))
		if !errs.Is(err, errs.Unavailable) || errs.ReasonOf(err) != "SHUTTING_DOWN" {
			t.Fatalf("write after shutdown: %v, want Unavailable SHUTTING_DOWN", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("tokens after shutdown: %d, %v; want 1", n, err)
		}
	})
}

package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/vaulttest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestKEKRetirementMakesOldCopiesUseless runs the key lifecycle of ADR 0004
// against a real Vault with the deploy/vault policies: tokenvault (its own
// token) wraps data keys; the operator rotates the KEK; tokenvault rewraps;
// the operator raises min_decryption_version and trims. A data key wrapped
// under the old version (a backup, a dead database page, taken before an
// erasure) no longer opens, while every live value still does.
func TestKEKRetirementMakesOldCopiesUseless(t *testing.T) {
	v := vaulttest.Start(t)
	ctx := context.Background()
	db := storetest.SQLite(t, migrations.FS)
	km := keys.NewVault(v.ClientWithPolicies(t, "tokenvault"), "transit")
	if err := km.EnsureKey(ctx, "tokenvault-kek", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	f := newFixtureWithKeys(t, db, &flakyKeys{KeyManager: km})
	toks := f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
	backup, err := f.st.GetSubjectKey(ctx, "default", "cus_1", 1) // a copy taken now
	if err != nil {
		t.Fatal(err)
	}

	op := v.ClientWithPolicies(t, "operator")
	if _, err := op.Logical().Write("transit/keys/tokenvault-kek/rotate", nil); err != nil {
		t.Fatalf("operator rotate: %v", err)
	}
	if n, err := f.eng.RewrapOnce(ctx, 100); err != nil || n != 1 {
		t.Fatalf("rewrap: %d %v", n, err)
	}
	if st, err := f.eng.RotateKeys(ctx, engine.Caller{Workload: "sotto-cli"}, false); err != nil || st.KEKVersion != 2 || st.PendingRewrap != 0 {
		t.Fatalf("after rewrap: %+v %v", st, err)
	}
	if _, err := op.Logical().Write("transit/keys/tokenvault-kek/config", map[string]any{"min_decryption_version": 2, "min_encryption_version": 2}); err != nil {
		t.Fatalf("operator min_decryption_version: %v", err)
	}
	if _, err := op.Logical().Write("transit/keys/tokenvault-kek/trim", map[string]any{"min_available_version": 2}); err != nil {
		t.Fatalf("operator trim: %v", err)
	}
	// The old copy is now useless.
	if _, err := km.UnwrapKey(ctx, "tokenvault-kek", backup.Wrapped, []byte("sotto/tokenvault/dek/default/cus_1/v1")); err == nil {
		t.Fatal("a data key wrapped under a retired KEK version still opens")
	}
	// Live data is unaffected (fresh engine: nothing cached).
	g := newFixtureWithKeys(t, db, &flakyKeys{KeyManager: km})
	res, err := g.eng.Detokenize(ctx, conversation, "order_support", toks)
	if err != nil || res[0].Value != "Jane Doe" {
		t.Fatalf("live value after retirement: %+v %v", res, err)
	}
	// The operator may change nothing else about the key.
	if _, err := op.Logical().Write("transit/keys/tokenvault-kek/config", map[string]any{"deletion_allowed": true}); err == nil {
		t.Fatal("operator could allow deleting the KEK")
	}

}

// TestErasureRetiresOldCopiesInVault is TestErasureRetiresOldCopies against a
// real Vault, with tokenvault's own least-privilege policy: the kek-epoch
// job rotates, sets the version floors and trims with nothing more.
func TestErasureRetiresOldCopiesInVault(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := vaulttest.Start(t)
		erasureRetiresOldCopies(t, db, keys.NewVault(v.ClientWithPolicies(t, "tokenvault"), "transit"))
		// Retired means trimmed: a floor alone could be lowered again by
		// whoever may configure the key, and the old version would open.
		waitFor(t, "version 1 to be trimmed from Vault", func() bool {
			sec, err := v.Client.Logical().Read("transit/keys/tokenvault-kek")
			return err == nil && sec != nil && fmt.Sprint(sec.Data["min_available_version"]) == "2"
		})
	})
}

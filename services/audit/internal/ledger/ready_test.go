package ledger_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// brokenKeys fails the operations named in fail, as Vault does when it is
// sealed, unreachable, or the token's policy no longer grants them.
type brokenKeys struct {
	keys.KeyManager
	fail map[string]bool
}

var errBackend = errors.New("transit: 503 vault is sealed")

func (b *brokenKeys) Sign(ctx context.Context, name string, msg []byte) (keys.Signature, error) {
	if b.fail["sign"] {
		return keys.Signature{}, errBackend
	}
	return b.KeyManager.Sign(ctx, name, msg)
}

func (b *brokenKeys) WrapKey(ctx context.Context, name string, plaintext, aad []byte) ([]byte, error) {
	if b.fail["wrap"] {
		return nil, errBackend
	}
	return b.KeyManager.WrapKey(ctx, name, plaintext, aad)
}

func (b *brokenKeys) UnwrapKey(ctx context.Context, name string, wrapped, aad []byte) ([]byte, error) {
	if b.fail["unwrap"] {
		return nil, errBackend
	}
	return b.KeyManager.UnwrapKey(ctx, name, wrapped, aad)
}

// TestKeyCheck: the readiness check fails while any key operation the log
// needs fails, trusts a success for its ttl only, and never trusts a
// failure. Seen failing with the signer's probe removed (a sealed Vault
// that cannot sign checkpoints still "ready") and with the hasher's.
func TestKeyCheck(t *testing.T) {
	ctx := context.Background()
	local, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]keys.KeyType{"audit-checkpoint": keys.TypeEd25519, "audit-subject": keys.TypeAES256GCM} {
		if err := local.EnsureKey(ctx, name, typ); err != nil {
			t.Fatal(err)
		}
	}
	km := &brokenKeys{KeyManager: local}
	hasher, err := ledger.NewSubjectHasher(ctx, km, "audit-subject", storage.New(storetest.SQLite(t, migrations.FS)))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewCheckpointSigner(ctx, km, "audit-checkpoint", origin)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	const ttl = 30 * time.Second
	check := ledger.NewKeyCheck(signer, hasher, ttl, func() time.Time { return now })

	for _, op := range []string{"sign", "wrap", "unwrap"} {
		km.fail = map[string]bool{op: true}
		if err := check.Check(ctx); !errors.Is(err, errBackend) {
			t.Errorf("%s failing: %v, want not ready", op, err)
		}
	}
	km.fail = nil
	if err := check.Check(ctx); err != nil {
		t.Fatalf("keys usable: %v", err)
	}
	km.fail = map[string]bool{"sign": true}
	now = now.Add(ttl - time.Second)
	if err := check.Check(ctx); err != nil {
		t.Fatalf("within the ttl of a success: %v", err)
	}
	now = now.Add(time.Second)
	if err := check.Check(ctx); !errors.Is(err, errBackend) {
		t.Fatalf("after the ttl, signing failing: %v, want not ready", err)
	}
	km.fail = nil
	if err := check.Check(ctx); err != nil {
		t.Fatalf("keys usable again: %v", err)
	}
}

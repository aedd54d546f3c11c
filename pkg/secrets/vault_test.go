package secrets_test

import (
	"errors"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// TestVault reads channel secrets from a real Vault, set up by
// deploy/vault/setup.sh, with the gateway's policy: the latest version,
// not found for a path never written or deleted, and 403 (not found would
// hide a policy mistake) for paths outside the channel subtree.
func TestVault(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t)
	root := v.Client.KVv2("secret")
	wa := secrets.ChannelPath("acme", secrets.WhatsApp)
	for _, s := range []map[string]any{
		{secrets.KeyAppSecret: "old-app-secret-0123456789", secrets.KeyVerifyToken: "vt"},
		{secrets.KeyAppSecret: "new-app-secret-0123456789", secrets.KeyVerifyToken: "vt", secrets.KeyPhoneNumberID: "106540352242922"},
	} {
		if _, err := root.Put(ctx, wa, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.Put(ctx, secrets.ChannelPath("acme", secrets.Messenger), map[string]any{"n": 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Put(ctx, "sotto/other/acme", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Put(ctx, secrets.ChannelPath("gone", secrets.WhatsApp), map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := root.Delete(ctx, secrets.ChannelPath("gone", secrets.WhatsApp)); err != nil {
		t.Fatal(err)
	}

	store := secrets.NewVault(v.ClientWithPolicies(t, "gateway"), "")
	got, err := store.Get(ctx, wa)
	if err != nil {
		t.Fatal(err)
	}
	if got[secrets.KeyAppSecret] != "new-app-secret-0123456789" || got[secrets.KeyPhoneNumberID] != "106540352242922" || len(got) != 3 {
		t.Fatalf("Get = %v, want the latest version", got)
	}
	for _, p := range []string{secrets.ChannelPath("nobody", secrets.WhatsApp), secrets.ChannelPath("gone", secrets.WhatsApp)} {
		if _, err := store.Get(ctx, p); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("%s: %v, want not found", p, err)
		}
	}
	if _, err := store.Get(ctx, secrets.ChannelPath("acme", secrets.Messenger)); errs.ReasonOf(err) != secrets.ReasonMalformed {
		t.Errorf("a number as a value: %v, want %s", err, secrets.ReasonMalformed)
	}
	// The gateway's policy stops at the channel subtree.
	if _, err := store.Get(ctx, "sotto/other/acme"); errs.ReasonOf(err) != secrets.ReasonAccessDenied {
		t.Errorf("outside the channels: %v, want %s", err, secrets.ReasonAccessDenied)
	}
	gw := v.ClientWithPolicies(t, "gateway")
	if _, err := gw.KVv2("secret").Put(ctx, wa, map[string]any{"app_secret": "x"}); err == nil {
		t.Error("the gateway wrote a channel secret")
	}
	if _, err := gw.Logical().ListWithContext(ctx, "secret/metadata/sotto/channels"); err == nil {
		t.Error("the gateway listed the shops with channel secrets")
	}

	// Vault down: unavailable, not "not found" (which would turn webhooks
	// into 404s rather than retries).
	v.Stop()
	if _, err := secrets.NewVault(v.Client, "secret").Get(ctx, wa); !errs.Is(err, errs.Unavailable) {
		t.Errorf("Vault stopped: %v, want unavailable", err)
	}
}

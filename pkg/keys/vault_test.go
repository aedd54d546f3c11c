package keys_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/keys/keystest"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// TestVaultContract runs the KeyManager contract against a real Vault dev
// server (root token, so the suite may create its keys).
func TestVaultContract(t *testing.T) {
	t.Parallel()
	s := vaulttest.Start(t)
	v := keys.NewVault(s.Client, "transit")
	keystest.Run(t, func(*testing.T) keys.KeyManager { return v })
}

// TestVaultServicePolicies uses keys.Vault with the production policies from
// deploy/vault: the keys setup.sh creates work, and a missing key fails
// closed, since the policies do not grant create.
func TestVaultServicePolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := vaulttest.Start(t)

	tv := keys.NewVault(s.ClientWithPolicies(t, "tokenvault"), "transit")
	if err := tv.EnsureKey(ctx, "tokenvault-kek", keys.TypeAES256GCM); err != nil {
		t.Fatalf("EnsureKey(tokenvault-kek): %v", err)
	}
	w, err := tv.WrapKey(ctx, "tokenvault-kek", []byte("data key"), []byte("subject-1"))
	if err != nil {
		t.Fatalf("WrapKey: %v", err)
	}

	// The operator rotates; tokenvault then rewraps to the new version.
	op := keys.NewVault(s.ClientWithPolicies(t, "operator"), "")
	if err := op.Rotate(ctx, "tokenvault-kek"); err != nil {
		t.Fatalf("operator Rotate: %v", err)
	}
	// tokenvault always binds associated data, so its Rewrap is decrypt +
	// encrypt in process; its policy has no transit/rewrap grant (the
	// contract suite covers the Transit rewrap path with a full token).
	for _, aad := range [][]byte{[]byte("subject-1")} {
		w2, err := tv.Rewrap(ctx, "tokenvault-kek", w, aad)
		if err != nil {
			t.Fatalf("Rewrap(aad=%q): %v", aad, err)
		}
		if v, _ := tv.WrappedVersion(w2); v != 2 {
			t.Errorf("Rewrap(aad=%q) version = %d, want 2", aad, v)
		}
		if pt, err := tv.UnwrapKey(ctx, "tokenvault-kek", w2, aad); err != nil || string(pt) != "data key" {
			t.Errorf("UnwrapKey(rewrapped, aad=%q) = %v", aad, err)
		}
	}
	if _, err := tv.HMAC(ctx, "tokenvault-kek", 0, []byte("4111111111111111")); !errs.Is(err, errs.PermissionDenied) {
		t.Errorf("HMAC: %v", err)
	}

	// tokenvault's own epoch (docs/adr/0007): rotate, rewrap, retire what
	// is below; the copy wrapped under version 1 no longer opens.
	if err := tv.Rotate(ctx, "tokenvault-kek"); err != nil {
		t.Fatalf("tokenvault Rotate: %v", err)
	}
	live, err := tv.Rewrap(ctx, "tokenvault-kek", w, []byte("subject-1"))
	if err != nil {
		t.Fatalf("Rewrap to version 3: %v", err)
	}
	if d, err := tv.Describe(ctx, "tokenvault-kek"); err != nil || d.Latest != 3 || d.MinDecryption != 1 {
		t.Fatalf("Describe = %+v, %v; want latest 3, min decryption 1", d, err)
	}
	if err := tv.Retire(ctx, "tokenvault-kek", 3); err != nil {
		t.Fatalf("tokenvault Retire(3): %v", err)
	}
	if _, err := tv.UnwrapKey(ctx, "tokenvault-kek", w, []byte("subject-1")); errs.ReasonOf(err) != keys.ReasonWrappedKeyInvalid {
		t.Errorf("UnwrapKey(copy under a retired version) = %v, want %s", err, keys.ReasonWrappedKeyInvalid)
	}
	if pt, err := tv.UnwrapKey(ctx, "tokenvault-kek", live, []byte("subject-1")); err != nil || string(pt) != "data key" {
		t.Errorf("UnwrapKey(live) = %v", err)
	}
	if sec, err := s.Client.Logical().Read("transit/keys/tokenvault-kek"); err != nil || sec.Data["min_available_version"] == nil || fmt.Sprint(sec.Data["min_available_version"]) != "3" {
		t.Errorf("the retired versions were not trimmed from Vault's storage: %v", err)
	}

	audit := keys.NewVault(s.ClientWithPolicies(t, "audit"), "transit")
	sig, err := audit.Sign(ctx, "audit-checkpoint", []byte("checkpoint"))
	if err != nil {
		t.Fatalf("audit Sign: %v", err)
	}
	if err := audit.Verify(ctx, "audit-checkpoint", []byte("checkpoint"), sig); err != nil {
		t.Errorf("audit Verify: %v", err)
	}
	if _, err := audit.PublicKey(ctx, "audit-checkpoint", sig.KeyVersion); err != nil {
		t.Errorf("audit PublicKey: %v", err)
	}
	wrapped, err := audit.WrapKey(ctx, "audit-subject", []byte("0123456789abcdef0123456789abcdef"), []byte("sotto/audit/subject-hmac/v1"))
	if err != nil {
		t.Fatalf("audit WrapKey: %v", err)
	}
	if _, err := audit.UnwrapKey(ctx, "audit-subject", wrapped, []byte("sotto/audit/subject-hmac/v1")); err != nil {
		t.Errorf("audit UnwrapKey: %v", err)
	}

	tests := []struct {
		name   string
		err    error
		kind   errs.Kind
		reason string
	}{
		{"tokenvault ensures a key outside its policy", tv.EnsureKey(ctx, "tokenvault-kek-2", keys.TypeAES256GCM), errs.PermissionDenied, keys.ReasonAccessDenied},
		{"tokenvault ensures the kek as ed25519", tv.EnsureKey(ctx, "tokenvault-kek", keys.TypeEd25519), errs.FailedPrecondition, keys.ReasonKeyTypeMismatch},
		{"audit wraps with the tokenvault kek", func() error { _, err := audit.WrapKey(ctx, "tokenvault-kek", []byte("k"), nil); return err }(), errs.PermissionDenied, keys.ReasonAccessDenied},
		{"tokenvault retires versions of another key", tv.Retire(ctx, "audit-subject", 1), errs.PermissionDenied, keys.ReasonAccessDenied},
		{"audit retires versions of its key", func() error {
			if _, err := s.Client.Logical().WriteWithContext(ctx, "transit/keys/audit-subject/rotate", nil); err != nil {
				return err
			}
			return audit.Retire(ctx, "audit-subject", 2)
		}(), errs.PermissionDenied, keys.ReasonAccessDenied},
	}
	for _, tt := range tests {
		if errs.KindOf(tt.err) != tt.kind || errs.ReasonOf(tt.err) != tt.reason {
			t.Errorf("%s: got %v, want %s %s", tt.name, tt.err, tt.kind, tt.reason)
		}
	}

	// The KEK goes missing (setup.sh not run, or deleted): with read but no
	// create on it, tokenvault must fail closed rather than mint a new key.
	root := s.Client.Logical()
	if _, err := root.Write("transit/keys/tokenvault-kek/config", map[string]any{"deletion_allowed": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Delete("transit/keys/tokenvault-kek"); err != nil {
		t.Fatal(err)
	}
	fresh := keys.NewVault(s.ClientWithPolicies(t, "tokenvault"), "transit") // no cached key type
	err = fresh.EnsureKey(ctx, "tokenvault-kek", keys.TypeAES256GCM)
	if errs.KindOf(err) != errs.FailedPrecondition || errs.ReasonOf(err) != keys.ReasonKeyNotFound {
		t.Errorf("EnsureKey(deleted kek) = %v, want FailedPrecondition %s", err, keys.ReasonKeyNotFound)
	}
	_, err = fresh.WrapKey(ctx, "tokenvault-kek", []byte("k"), nil)
	if errs.KindOf(err) != errs.FailedPrecondition || errs.ReasonOf(err) != keys.ReasonKeyNotFound {
		t.Errorf("WrapKey(deleted kek) = %v, want FailedPrecondition %s", err, keys.ReasonKeyNotFound)
	}
	// A manager that saw the key before still fails closed: Transit treats
	// encrypt on a missing key as create, which the policy denies.
	if _, err := tv.WrapKey(ctx, "tokenvault-kek", []byte("k"), nil); err == nil {
		t.Error("WrapKey(deleted kek) with a cached key type succeeded")
	}
	if sec, err := root.Read("transit/keys/tokenvault-kek"); err != nil || sec != nil {
		t.Errorf("the deleted kek was recreated (err %v)", err)
	}
}

// TestVaultErrorMapping checks how HTTP failures map to error kinds, with a
// stand-in server since a real Vault cannot be made to fail on demand.
func TestVaultErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		kind   errs.Kind
		reason string
	}{
		{http.StatusInternalServerError, errs.Unavailable, keys.ReasonBackendUnavailable},
		{http.StatusServiceUnavailable, errs.Unavailable, keys.ReasonBackendUnavailable}, // sealed
		{http.StatusTooManyRequests, errs.Unavailable, keys.ReasonBackendUnavailable},
		{http.StatusForbidden, errs.PermissionDenied, keys.ReasonAccessDenied},
		{http.StatusNotFound, errs.FailedPrecondition, keys.ReasonKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"errors":["nope"]}`))
			}))
			defer srv.Close()
			_, err := keys.NewVault(newClient(t, srv.URL), "transit").LatestVersion(context.Background(), "k")
			if errs.KindOf(err) != tt.kind || errs.ReasonOf(err) != tt.reason {
				t.Errorf("got %v, want %s %s", err, tt.kind, tt.reason)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close() // its address now refuses connections
		_, err := keys.NewVault(newClient(t, srv.URL), "transit").LatestVersion(context.Background(), "k")
		if errs.KindOf(err) != errs.Unavailable || errs.ReasonOf(err) != keys.ReasonBackendUnavailable {
			t.Errorf("got %v, want Unavailable %s", err, keys.ReasonBackendUnavailable)
		}
	})
}

func newClient(t *testing.T, addr string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0 // the client retries 5xx by default; one attempt is enough here
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken("test")
	return c
}

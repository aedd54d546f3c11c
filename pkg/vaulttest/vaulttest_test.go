package vaulttest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSetupIdempotent re-runs setup.sh on a configured server: it must
// succeed and must not replace the root CA or the keys.
func TestSetupIdempotent(t *testing.T) {
	t.Parallel()
	s := Start(t)
	read := func(path, field string) any {
		t.Helper()
		sec, err := s.Client.Logical().Read(path)
		if err != nil || sec == nil {
			t.Fatalf("read %s: %v", path, err)
		}
		return sec.Data[field]
	}
	caBefore := read("pki/cert/ca", "certificate")
	keyBefore := read("transit/keys/audit-checkpoint", "keys")

	runSetup(t, vaultBin(t), t.TempDir(), s)

	if read("pki/cert/ca", "certificate") != caBefore {
		t.Error("second setup.sh run replaced the root CA")
	}
	// A second root would not change the default issuer, so count them too.
	issuers, err := s.Client.Logical().List("pki/issuers")
	if err != nil || issuers == nil {
		t.Fatalf("list pki/issuers: %v", err)
	}
	if n := len(issuers.Data["keys"].([]any)); n != 1 {
		t.Errorf("pki has %d issuers after two setup.sh runs, want 1", n)
	}
	if diff := cmp.Diff(keyBefore, read("transit/keys/audit-checkpoint", "keys")); diff != "" {
		t.Errorf("second setup.sh run changed the checkpoint key (-before +after):\n%s", diff)
	}
	for name, typ := range map[string]string{"audit-checkpoint": "ed25519", "audit-subject": "aes256-gcm96", "tokenvault-kek": "aes256-gcm96"} {
		if got := read("transit/keys/"+name, "type"); got != typ {
			t.Errorf("transit key %s has type %v, want %s", name, got, typ)
		}
	}
}

// recorder stands in for a testing.TB to observe whether vaultBin skips or
// fails; the embedded T serves everything else.
type recorder struct {
	*testing.T
	skipped, failed bool
}

func (r *recorder) Skip(...any)  { r.skipped = true }
func (r *recorder) Fatal(...any) { r.failed = true }

// TestMissingBinary checks the rule that Vault tests may skip locally but
// never in CI, where a skip would silently drop the production-twin tests.
func TestMissingBinary(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "vault")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bin, ci     string
		wantSkip, wantErr bool
	}{
		{"unset locally", "", "", true, false},
		{"unset in CI", "", "true", false, true},
		{"missing file in CI", filepath.Join(t.TempDir(), "nope"), "true", false, true},
		{"not executable locally", notExec, "", true, false},
		{"directory in CI", t.TempDir(), "true", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOTTO_VAULT_BIN", tt.bin)
			t.Setenv("CI", tt.ci)
			r := &recorder{T: t}
			if got := vaultBin(r); got != "" {
				t.Errorf("vaultBin = %q, want empty", got)
			}
			if r.skipped != tt.wantSkip || r.failed != tt.wantErr {
				t.Errorf("skipped=%v failed=%v, want skipped=%v failed=%v", r.skipped, r.failed, tt.wantSkip, tt.wantErr)
			}
		})
	}
}

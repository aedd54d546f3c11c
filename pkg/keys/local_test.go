package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/keys/keystest"
)

func newLocal(t *testing.T, path string) *keys.Local {
	t.Helper()
	l, err := keys.NewLocal(path)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return l
}

func TestLocalContract(t *testing.T) {
	t.Parallel()
	// One keyring shared by all subtests, as in a running service.
	l := newLocal(t, filepath.Join(t.TempDir(), "keyring.json"))
	keystest.Run(t, func(*testing.T) keys.KeyManager { return l })
}

func TestLocalPersists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "keyring.json")
	l := newLocal(t, path)
	for _, k := range []struct {
		name string
		typ  keys.KeyType
	}{{"kek", keys.TypeAES256GCM}, {"signer", keys.TypeEd25519}} {
		if err := l.EnsureKey(ctx, k.name, k.typ); err != nil {
			t.Fatalf("EnsureKey(%s): %v", k.name, err)
		}
	}
	w1, err := l.WrapKey(ctx, "kek", []byte("dek-1"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Rotate(ctx, "kek"); err != nil {
		t.Fatal(err)
	}
	sig, err := l.Sign(ctx, "signer", []byte("msg"))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := l.HMAC(ctx, "kek", 1, []byte("subject"))
	if err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("keyring mode = %o, want 600", got)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".keyring-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	// A second instance reading the same file sees the same keys and versions.
	r := newLocal(t, path)
	if v, err := r.LatestVersion(ctx, "kek"); err != nil || v != 2 {
		t.Errorf("reopened LatestVersion = %d, %v; want 2", v, err)
	}
	pt, err := r.UnwrapKey(ctx, "kek", w1, []byte("aad"))
	if err != nil || string(pt) != "dek-1" {
		t.Errorf("reopened UnwrapKey = %q, %v; want dek-1", pt, err)
	}
	if err := r.Verify(ctx, "signer", []byte("msg"), sig); err != nil {
		t.Errorf("reopened Verify: %v", err)
	}
	if mac2, err := r.HMAC(ctx, "kek", 1, []byte("subject")); err != nil || !bytes.Equal(mac, mac2) {
		t.Errorf("reopened HMAC differs (err %v)", err)
	}
}

func TestLocalRejectsBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	l := newLocal(t, good)
	if err := l.EnsureKey(context.Background(), "k", keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		data   []byte
		mode   os.FileMode
		reason string
	}{
		// Key material readable by others must not be trusted silently.
		{"group readable", data, 0o640, "KEYRING_PERMISSIONS"},
		{"world readable", data, 0o644, "KEYRING_PERMISSIONS"},
		{"not json", []byte("{"), 0o600, "KEYRING_CORRUPT"},
		{"unknown format", []byte(`{"format":9,"keys":{}}`), 0o600, "KEYRING_CORRUPT"},
		// A short Ed25519 seed would panic later in ed25519.NewKeyFromSeed.
		{"short seed", []byte(`{"format":1,"keys":{"k":{"type":"ed25519","versions":[{"secret":"AAAA","hmac_secret":"AAAA"}]}}}`), 0o600, "KEYRING_CORRUPT"},
		{"bad key name", []byte(`{"format":1,"keys":{"../x":{"type":"ed25519","versions":[]}}}`), 0o600, "KEYRING_CORRUPT"},
		// Format 1 numbers versions from 1; a min_version there would shift them.
		{"retired versions in format 1", bytes.Replace(data, []byte(`"type"`), []byte(`"min_version": 3, "type"`), 1), 0o600, "KEYRING_CORRUPT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.reason+"-"+filepath.Base(t.Name())+".json")
			if err := os.WriteFile(path, tt.data, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // WriteFile honours umask
				t.Fatal(err)
			}
			_, err := keys.NewLocal(path)
			if errs.KindOf(err) != errs.FailedPrecondition || errs.ReasonOf(err) != tt.reason {
				t.Errorf("NewLocal = %v, want FailedPrecondition %s", err, tt.reason)
			}
		})
	}
}

// TestLocalRetireDestroysKeyMaterial: Retire removes the retired versions'
// secrets from the keyring file, overwrites the replaced file's contents
// (read here through a descriptor opened before, as blocks left on disk
// would be), leaves a hard-linked copy alone, and survives a reopen.
func TestLocalRetireDestroysKeyMaterial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "keyring.json")
	l := newLocal(t, path)
	if err := l.EnsureKey(ctx, "kek", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	w1, err := l.WrapKey(ctx, "kek", []byte("dek-1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Rotate(ctx, "kek"); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ring struct {
		Keys map[string]struct {
			Versions []struct {
				Secret []byte `json:"secret"`
			} `json:"versions"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(before, &ring); err != nil {
		t.Fatal(err)
	}
	v1 := ring.Keys["kek"].Versions[0].Secret
	secret := []byte(base64.StdEncoding.EncodeToString(v1))
	if len(v1) != 32 || !bytes.Contains(before, secret) {
		t.Fatal("version 1's secret is not in the keyring file: the scan is blind")
	}
	backup := filepath.Join(dir, "keyring.backup.json")
	if err := os.Link(path, backup); err != nil {
		t.Fatal(err)
	}
	if err := l.Rotate(ctx, "kek"); err != nil { // the hard-linked file is replaced here
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(backup); !bytes.Contains(b, secret) {
		t.Error("a hard-linked copy of the keyring was overwritten")
	}
	replaced, err := os.Open(path) // the file Retire replaces
	if err != nil {
		t.Fatal(err)
	}
	defer replaced.Close()

	if err := l.Retire(ctx, "kek", 3); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(after, secret) {
		t.Error("the retired version's secret is still in the keyring file")
	}
	old, err := io.ReadAll(replaced)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) == 0 || bytes.Contains(old, secret) || !bytes.Equal(old, make([]byte, len(old))) {
		t.Errorf("the replaced keyring file (%d bytes) was not overwritten with zeros", len(old))
	}

	r := newLocal(t, path)
	if d, err := r.Describe(ctx, "kek"); err != nil || d.Latest != 3 || d.MinDecryption != 3 {
		t.Errorf("reopened Describe = %+v, %v; want latest 3, min decryption 3", d, err)
	}
	if _, err := r.UnwrapKey(ctx, "kek", w1, nil); errs.ReasonOf(err) != keys.ReasonWrappedKeyInvalid {
		t.Errorf("reopened UnwrapKey(retired) = %v, want %s", err, keys.ReasonWrappedKeyInvalid)
	}
	w3, err := r.WrapKey(ctx, "kek", []byte("dek-3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := newLocal(t, path).UnwrapKey(ctx, "kek", w3, nil); err != nil || string(pt) != "dek-3" {
		t.Errorf("UnwrapKey(v3) after reopening = %q, %v", pt, err)
	}
	// The retired numbering needs format 2, which an older binary refuses
	// rather than misnumbering the versions.
	if !bytes.Contains(after, []byte(`"format": 2`)) {
		t.Error("a keyring with retired versions is not written as format 2")
	}
}

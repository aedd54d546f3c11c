// Package keystest is the contract test suite every keys.KeyManager must pass.
// Running the same suite against Local and against a real Vault is what lets
// the embedded default stand in for production.
package keystest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

// Run runs the contract suite. newKM is called once per subtest and must
// return a manager that may create keys; managers may share one backend,
// since every subtest uses key names of its own.
func Run(t *testing.T, newKM func(t *testing.T) keys.KeyManager) {
	tests := []struct {
		name string
		fn   func(t *testing.T, km keys.KeyManager)
	}{
		{"EnsureKeyIdempotent", testEnsureKey},
		{"WrapUnwrapRoundTrip", testRoundTrip},
		{"WrongAADFails", testWrongAAD},
		{"TamperedCiphertextFails", testTampered},
		{"WrappedValueCarriesVersion", testWrappedVersion},
		{"RotateKeepsOldWraps", testRotate},
		{"RewrapMovesToLatest", testRewrap},
		{"DescribeVersions", testDescribe},
		{"RetireDestroysOldVersions", testRetire},
		{"RetireSigningKey", testRetireSigning},
		{"SignVerify", testSignVerify},
		{"VerifyRejectsModified", testVerifyRejects},
		{"HMAC", testHMAC},
		{"UnknownKey", testUnknownKey},
		{"WrongKeyType", testWrongType},
		{"InvalidInput", testInvalidInput},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newKM(t))
		})
	}
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// keyName derives a key name unique to this test (and this run, so suites
// may share a long-lived backend) that both backends accept.
func keyName(t *testing.T, suffix string) string {
	t.Helper()
	base := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 64 {
		base = base[len(base)-64:]
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	return strings.Trim(base, "-") + "-" + suffix + "-" + hex.EncodeToString(r[:])
}

// newKey creates a fresh key of the given type and returns its name.
func newKey(t *testing.T, km keys.KeyManager, typ keys.KeyType) string {
	t.Helper()
	name := keyName(t, string(typ[:3]))
	if err := km.EnsureKey(context.Background(), name, typ); err != nil {
		t.Fatalf("EnsureKey(%s): %v", typ, err)
	}
	return name
}

// wantErr fails unless err is an errs.Error of the given kind and reason.
func wantErr(t *testing.T, what string, err error, kind errs.Kind, reason string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got nil error, want %s %s", what, kind, reason)
		return
	}
	if errs.KindOf(err) != kind || errs.ReasonOf(err) != reason {
		t.Errorf("%s: got %v (kind %s, reason %q), want %s %s", what, err, errs.KindOf(err), errs.ReasonOf(err), kind, reason)
	}
}

func mustWrap(t *testing.T, km keys.KeyManager, name string, pt, aad []byte) []byte {
	t.Helper()
	w, err := km.WrapKey(context.Background(), name, pt, aad)
	if err != nil {
		t.Fatalf("WrapKey: %v", err)
	}
	return w
}

func mustVersion(t *testing.T, km keys.KeyManager, wrapped []byte) int {
	t.Helper()
	v, err := km.WrappedVersion(wrapped)
	if err != nil {
		t.Fatalf("WrappedVersion: %v", err)
	}
	return v
}

func mustRotate(t *testing.T, km keys.KeyManager, name string) {
	t.Helper()
	if err := km.Rotate(context.Background(), name); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
}

func dataKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func testEnsureKey(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	for _, typ := range []keys.KeyType{keys.TypeAES256GCM, keys.TypeEd25519} {
		name := keyName(t, string(typ[:3]))
		for i := range 3 {
			if err := km.EnsureKey(ctx, name, typ); err != nil {
				t.Fatalf("EnsureKey(%s) #%d: %v", typ, i+1, err)
			}
		}
		// Ensuring again must not add versions.
		if v, err := km.LatestVersion(ctx, name); err != nil || v != 1 {
			t.Errorf("LatestVersion(%s) = %d, %v; want 1", typ, v, err)
		}
	}
	aes := newKey(t, km, keys.TypeAES256GCM)
	err := km.EnsureKey(ctx, aes, keys.TypeEd25519)
	wantErr(t, "EnsureKey with another type", err, errs.FailedPrecondition, keys.ReasonKeyTypeMismatch)
}

func testRoundTrip(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeAES256GCM)
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"data key no aad", dataKey(t), nil},
		{"data key with aad", dataKey(t), []byte("subjects/s-123/keys/1")},
		{"one byte", []byte{0}, []byte("x")},
		{"large", bytes.Repeat([]byte("sotto"), 4096), []byte("aad")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustWrap(t, km, name, tt.plaintext, tt.aad)
			if bytes.Contains(w, tt.plaintext) {
				t.Fatal("wrapped value contains the plaintext")
			}
			got, err := km.UnwrapKey(ctx, name, w, tt.aad)
			if err != nil {
				t.Fatalf("UnwrapKey: %v", err)
			}
			if diff := cmp.Diff(tt.plaintext, got); diff != "" {
				t.Errorf("UnwrapKey mismatch (-want +got):\n%s", diff)
			}
			// Wrapping is randomised: the same input never wraps the same way.
			if w2 := mustWrap(t, km, name, tt.plaintext, tt.aad); bytes.Equal(w, w2) {
				t.Error("two wraps of the same plaintext are equal")
			}
		})
	}
}

func testWrongAAD(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeAES256GCM)
	pt := dataKey(t)
	withAAD := mustWrap(t, km, name, pt, []byte("subject-a"))
	withoutAAD := mustWrap(t, km, name, pt, nil)
	tests := []struct {
		name    string
		wrapped []byte
		aad     []byte
	}{
		{"other aad", withAAD, []byte("subject-b")},
		{"missing aad", withAAD, nil},
		{"aad prefix", withAAD, []byte("subject-")},
		{"aad added", withoutAAD, []byte("subject-a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := km.UnwrapKey(ctx, name, tt.wrapped, tt.aad)
			wantErr(t, "UnwrapKey", err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
			if got != nil {
				t.Error("UnwrapKey returned data alongside an error")
			}
		})
	}
}

// splitWrapped splits "<prefix>:v<N>:<base64>" as documented on KeyManager.
func splitWrapped(t *testing.T, w []byte) (prefix, version string, payload []byte) {
	t.Helper()
	parts := strings.SplitN(string(w), ":", 3)
	if len(parts) != 3 {
		t.Fatalf("wrapped value is not <prefix>:v<N>:<base64>")
	}
	p, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("wrapped payload is not standard base64: %v", err)
	}
	return parts[0], parts[1], p
}

func joinWrapped(prefix, version string, payload []byte) []byte {
	return []byte(prefix + ":" + version + ":" + base64.StdEncoding.EncodeToString(payload))
}

func testTampered(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeAES256GCM)
	// Both aad cases, since a backend may rewrap them by different routes.
	for _, aad := range [][]byte{nil, []byte("aad")} {
		t.Run(fmt.Sprintf("aad=%q", aad), func(t *testing.T) {
			w := mustWrap(t, km, name, dataKey(t), aad)
			prefix, version, payload := splitWrapped(t, w)
			flip := func(i int) []byte {
				p := bytes.Clone(payload)
				p[i] ^= 0x01
				return joinWrapped(prefix, version, p)
			}
			tests := []struct {
				name    string
				wrapped []byte
			}{
				{"flipped first byte", flip(0)},
				{"flipped middle byte", flip(len(payload) / 2)},
				{"flipped last byte", flip(len(payload) - 1)},
				{"truncated", joinWrapped(prefix, version, payload[:len(payload)-1])},
				{"payload only nonce", joinWrapped(prefix, version, payload[:12])},
				{"extended", joinWrapped(prefix, version, append(bytes.Clone(payload), 0))},
				{"other version", joinWrapped(prefix, "v2", payload)},
				{"version zero", joinWrapped(prefix, "v0", payload)},
				{"negative version", joinWrapped(prefix, "v-1", payload)},
				{"other prefix", joinWrapped("other", version, payload)},
				{"no version", []byte(prefix + ":" + base64.StdEncoding.EncodeToString(payload))},
				{"bad base64", []byte(prefix + ":" + version + ":!!!")},
				{"empty payload", []byte(prefix + ":" + version + ":")},
				{"empty", nil},
				{"garbage", []byte("not a wrapped key")},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := km.UnwrapKey(ctx, name, tt.wrapped, aad)
					wantErr(t, "UnwrapKey", err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
					_, err = km.Rewrap(ctx, name, tt.wrapped, aad)
					wantErr(t, "Rewrap", err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
				})
			}
		})
	}
}

func testWrappedVersion(t *testing.T, km keys.KeyManager) {
	name := newKey(t, km, keys.TypeAES256GCM)
	w := mustWrap(t, km, name, dataKey(t), nil)
	if got := mustVersion(t, km, w); got != 1 {
		t.Errorf("WrappedVersion = %d, want 1", got)
	}
	for _, bad := range [][]byte{nil, []byte("v1"), []byte("x:v1:AAAA"), []byte(string(w[:strings.LastIndex(string(w), ":")]))} {
		_, err := km.WrappedVersion(bad)
		wantErr(t, fmt.Sprintf("WrappedVersion(%q)", bad), err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
	}
}

func testRotate(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeAES256GCM)
	pt1, pt2 := dataKey(t), dataKey(t)
	w1 := mustWrap(t, km, name, pt1, []byte("a"))
	mustRotate(t, km, name)
	if v, err := km.LatestVersion(ctx, name); err != nil || v != 2 {
		t.Fatalf("LatestVersion after rotate = %d, %v; want 2", v, err)
	}
	w2 := mustWrap(t, km, name, pt2, []byte("a"))
	if got := mustVersion(t, km, w2); got != 2 {
		t.Errorf("new wrap version = %d, want 2", got)
	}
	if got := mustVersion(t, km, w1); got != 1 {
		t.Errorf("old wrap version = %d, want 1", got)
	}
	for i, c := range []struct{ w, want []byte }{{w1, pt1}, {w2, pt2}} {
		got, err := km.UnwrapKey(ctx, name, c.w, []byte("a"))
		if err != nil {
			t.Fatalf("UnwrapKey(v%d): %v", i+1, err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("UnwrapKey(v%d) returned other plaintext", i+1)
		}
	}
}

func testRewrap(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	for _, aad := range [][]byte{nil, []byte("subjects/s-1")} {
		t.Run(fmt.Sprintf("aad=%q", aad), func(t *testing.T) {
			name := newKey(t, km, keys.TypeAES256GCM)
			pt := dataKey(t)
			w1 := mustWrap(t, km, name, pt, aad)
			mustRotate(t, km, name)
			mustRotate(t, km, name)
			w3, err := km.Rewrap(ctx, name, w1, aad)
			if err != nil {
				t.Fatalf("Rewrap: %v", err)
			}
			if got := mustVersion(t, km, w3); got != 3 {
				t.Errorf("rewrapped version = %d, want 3", got)
			}
			got, err := km.UnwrapKey(ctx, name, w3, aad)
			if err != nil {
				t.Fatalf("UnwrapKey(rewrapped): %v", err)
			}
			if diff := cmp.Diff(pt, got); diff != "" {
				t.Errorf("rewrapped plaintext differs (-want +got):\n%s", diff)
			}
			// Rewrapping must keep the aad binding.
			if len(aad) > 0 {
				_, err := km.UnwrapKey(ctx, name, w3, nil)
				wantErr(t, "UnwrapKey(rewrapped, no aad)", err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
				_, err = km.Rewrap(ctx, name, w1, []byte("other"))
				wantErr(t, "Rewrap with other aad", err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
			}
		})
	}
}

func mustDescribe(t *testing.T, km keys.KeyManager, name string) keys.Versions {
	t.Helper()
	d, err := km.Describe(context.Background(), name)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	return d
}

func testDescribe(t *testing.T, km keys.KeyManager) {
	name := newKey(t, km, keys.TypeAES256GCM)
	d1 := mustDescribe(t, km, name)
	if d1.Latest != 1 || d1.MinDecryption != 1 || d1.LatestCreated.IsZero() {
		t.Fatalf("Describe(new key) = %+v; want latest 1, min decryption 1, a creation time", d1)
	}
	mustRotate(t, km, name)
	d2 := mustDescribe(t, km, name)
	// Vault records creation times to the second, so the new version may
	// share the old one's.
	if d2.Latest != 2 || d2.MinDecryption != 1 || d2.LatestCreated.Before(d1.LatestCreated) {
		t.Errorf("Describe(rotated key) = %+v; want latest 2, min decryption 1, created no earlier than %v", d2, d1.LatestCreated)
	}
}

// testRetire: retiring versions makes every copy of what they wrapped
// useless (unwrap and rewrap both refuse it), leaves the live version
// working, and is reported by Describe.
func testRetire(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeAES256GCM)
	aad := []byte("sotto/tokenvault/dek/default/s-1/v1")
	pt1, pt2, pt3 := dataKey(t), dataKey(t), dataKey(t)
	w1 := mustWrap(t, km, name, pt1, aad)
	mustRotate(t, km, name)
	w2 := mustWrap(t, km, name, pt2, aad)
	mustRotate(t, km, name)
	w3 := mustWrap(t, km, name, pt3, aad)
	// What a rewrap job would have done before retiring: the copy w1 stays
	// behind (a backup), the live value moves on.
	w1live, err := km.Rewrap(ctx, name, w1, aad)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}

	if err := km.Retire(ctx, name, 3); err != nil {
		t.Fatalf("Retire(3): %v", err)
	}
	for i, w := range [][]byte{w1, w2} {
		_, err := km.UnwrapKey(ctx, name, w, aad)
		wantErr(t, fmt.Sprintf("UnwrapKey(v%d after retirement)", i+1), err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
		_, err = km.Rewrap(ctx, name, w, aad)
		wantErr(t, fmt.Sprintf("Rewrap(v%d after retirement)", i+1), err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
	}
	for i, c := range []struct{ w, want []byte }{{w3, pt3}, {w1live, pt1}} {
		got, err := km.UnwrapKey(ctx, name, c.w, aad)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("live value %d after retirement: %v", i, err)
		}
	}
	if _, err := km.HMAC(ctx, name, 1, []byte("m")); errs.ReasonOf(err) != keys.ReasonKeyVersionInvalid {
		t.Errorf("HMAC(retired version 1) = %v, want %s", err, keys.ReasonKeyVersionInvalid)
	}
	if d := mustDescribe(t, km, name); d.Latest != 3 || d.MinDecryption != 3 {
		t.Errorf("Describe after Retire(3) = %+v; want latest 3, min decryption 3", d)
	}

	// Retiring again, or less, changes nothing; more than exists is refused.
	for _, below := range []int{3, 2, 1} {
		if err := km.Retire(ctx, name, below); err != nil {
			t.Errorf("Retire(%d) after Retire(3): %v", below, err)
		}
	}
	for _, below := range []int{4, 0, -1} {
		wantErr(t, fmt.Sprintf("Retire(%d)", below), km.Retire(ctx, name, below), errs.InvalidArgument, keys.ReasonKeyVersionInvalid)
	}
	if got, err := km.UnwrapKey(ctx, name, w3, aad); err != nil || !bytes.Equal(got, pt3) {
		t.Errorf("live value after refused retirements: %v", err)
	}

	// The key lives on: rotation continues from the retired numbering.
	mustRotate(t, km, name)
	w4 := mustWrap(t, km, name, pt1, aad)
	if v := mustVersion(t, km, w4); v != 4 {
		t.Errorf("wrap after rotation uses version %d, want 4", v)
	}
	if err := km.Retire(ctx, name, 4); err != nil {
		t.Fatalf("Retire(4): %v", err)
	}
	_, err = km.UnwrapKey(ctx, name, w3, aad)
	wantErr(t, "UnwrapKey(v3 after Retire(4))", err, errs.InvalidArgument, keys.ReasonWrappedKeyInvalid)
	if got, err := km.UnwrapKey(ctx, name, w4, aad); err != nil || !bytes.Equal(got, pt1) {
		t.Errorf("UnwrapKey(v4): %v", err)
	}
}

// testRetireSigning: a retired signing version's signatures no longer verify
// and its public key is gone.
func testRetireSigning(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeEd25519)
	msg := []byte("checkpoint")
	sig1, err := km.Sign(ctx, name, msg)
	if err != nil {
		t.Fatal(err)
	}
	mustRotate(t, km, name)
	sig2, err := km.Sign(ctx, name, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Retire(ctx, name, 2); err != nil {
		t.Fatalf("Retire(2): %v", err)
	}
	wantErr(t, "Verify(retired version)", km.Verify(ctx, name, msg, sig1), errs.InvalidArgument, keys.ReasonSignatureInvalid)
	if _, err := km.PublicKey(ctx, name, 1); errs.ReasonOf(err) != keys.ReasonKeyVersionInvalid {
		t.Errorf("PublicKey(retired version) = %v, want %s", err, keys.ReasonKeyVersionInvalid)
	}
	if err := km.Verify(ctx, name, msg, sig2); err != nil {
		t.Errorf("Verify(live version): %v", err)
	}
}

func testSignVerify(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeEd25519)
	msg := []byte("checkpoint\n42\nq6kz0Wy1Sqv5Nn9O\n")

	sig1, err := km.Sign(ctx, name, msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if sig1.KeyVersion != 1 || len(sig1.Sig) != ed25519.SignatureSize {
		t.Fatalf("Sign = version %d, %d bytes; want version 1, %d bytes", sig1.KeyVersion, len(sig1.Sig), ed25519.SignatureSize)
	}
	if err := km.Verify(ctx, name, msg, sig1); err != nil {
		t.Errorf("Verify: %v", err)
	}
	pub1, err := km.PublicKey(ctx, name, 1)
	if err != nil {
		t.Fatalf("PublicKey(1): %v", err)
	}
	// Independent check: anyone with the public key and the standard library
	// can verify, which is what makes checkpoints verifiable offline.
	if !ed25519.Verify(pub1, msg, sig1.Sig) {
		t.Error("crypto/ed25519.Verify rejects the signature")
	}

	mustRotate(t, km, name)
	sig2, err := km.Sign(ctx, name, msg)
	if err != nil {
		t.Fatalf("Sign after rotate: %v", err)
	}
	if sig2.KeyVersion != 2 {
		t.Errorf("Sign after rotate used version %d, want 2", sig2.KeyVersion)
	}
	pub2, err := km.PublicKey(ctx, name, 2)
	if err != nil {
		t.Fatalf("PublicKey(2): %v", err)
	}
	latest, err := km.PublicKey(ctx, name, 0)
	if err != nil {
		t.Fatalf("PublicKey(0): %v", err)
	}
	if !pub2.Equal(latest) || pub1.Equal(pub2) {
		t.Error("PublicKey(0) must be the latest version's key, distinct from version 1")
	}
	if !ed25519.Verify(pub2, msg, sig2.Sig) {
		t.Error("crypto/ed25519.Verify rejects the version 2 signature")
	}
	// Old signatures stay valid after rotation.
	for _, s := range []keys.Signature{sig1, sig2} {
		if err := km.Verify(ctx, name, msg, s); err != nil {
			t.Errorf("Verify(v%d) after rotate: %v", s.KeyVersion, err)
		}
	}
	_, err = km.PublicKey(ctx, name, 3)
	wantErr(t, "PublicKey(3)", err, errs.InvalidArgument, keys.ReasonKeyVersionInvalid)
}

func testVerifyRejects(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeEd25519)
	other := newKey(t, km, keys.TypeEd25519)
	msg := []byte("tree_size=7")
	sig, err := km.Sign(ctx, name, msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	flipped := bytes.Clone(sig.Sig)
	flipped[0] ^= 1
	tests := []struct {
		name string
		key  string
		msg  []byte
		sig  keys.Signature
	}{
		{"modified message", name, []byte("tree_size=8"), sig},
		{"empty message", name, nil, sig},
		{"modified signature", name, msg, keys.Signature{KeyVersion: 1, Sig: flipped}},
		{"short signature", name, msg, keys.Signature{KeyVersion: 1, Sig: sig.Sig[:10]}},
		{"no signature", name, msg, keys.Signature{KeyVersion: 1}},
		{"unknown version", name, msg, keys.Signature{KeyVersion: 2, Sig: sig.Sig}},
		{"version zero", name, msg, keys.Signature{KeyVersion: 0, Sig: sig.Sig}},
		{"other key", other, msg, sig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := km.Verify(ctx, tt.key, tt.msg, tt.sig)
			wantErr(t, "Verify", err, errs.InvalidArgument, keys.ReasonSignatureInvalid)
		})
	}
}

func testHMAC(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	for _, typ := range []keys.KeyType{keys.TypeAES256GCM, keys.TypeEd25519} {
		t.Run(string(typ), func(t *testing.T) {
			name := newKey(t, km, typ)
			other := newKey(t, km, typ)
			msg := []byte("subject-0042")
			mac := func(key string, version int, m []byte) []byte {
				t.Helper()
				b, err := km.HMAC(ctx, key, version, m)
				if err != nil {
					t.Fatalf("HMAC(%d): %v", version, err)
				}
				return b
			}
			v1 := mac(name, 1, msg)
			if len(v1) != 32 {
				t.Fatalf("HMAC length = %d, want 32 (SHA-256)", len(v1))
			}
			if !bytes.Equal(v1, mac(name, 1, msg)) || !bytes.Equal(v1, mac(name, 0, msg)) {
				t.Error("HMAC is not deterministic for one version")
			}
			if bytes.Equal(v1, mac(name, 1, []byte("subject-0043"))) {
				t.Error("HMAC of different messages is equal")
			}
			if bytes.Equal(v1, mac(other, 1, msg)) {
				t.Error("HMAC under different keys is equal")
			}
			mustRotate(t, km, name)
			v2 := mac(name, 2, msg)
			if bytes.Equal(v1, v2) {
				t.Error("HMAC of versions 1 and 2 is equal")
			}
			if !bytes.Equal(v2, mac(name, 0, msg)) {
				t.Error("HMAC(version 0) is not the latest version's")
			}
			if !bytes.Equal(v1, mac(name, 1, msg)) {
				t.Error("HMAC(version 1) changed after rotation")
			}
			for _, v := range []int{3, -1} {
				_, err := km.HMAC(ctx, name, v, msg)
				wantErr(t, fmt.Sprintf("HMAC(version %d)", v), err, errs.InvalidArgument, keys.ReasonKeyVersionInvalid)
			}
			// Matching crypto/hmac would need the HMAC secret, which only an
			// exportable key reveals; ours are not, so that check is skipped.
		})
	}
}

func testUnknownKey(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := keyName(t, "missing")
	// A wrapped value and signature from a real key, so only the name is wrong.
	existing := newKey(t, km, keys.TypeAES256GCM)
	w := mustWrap(t, km, existing, dataKey(t), nil)
	ops := map[string]func() error{
		"WrapKey":   func() error { _, err := km.WrapKey(ctx, name, []byte("k"), nil); return err },
		"UnwrapKey": func() error { _, err := km.UnwrapKey(ctx, name, w, nil); return err },
		"Rewrap":    func() error { _, err := km.Rewrap(ctx, name, w, nil); return err },
		"Sign":      func() error { _, err := km.Sign(ctx, name, []byte("m")); return err },
		"Verify": func() error {
			return km.Verify(ctx, name, []byte("m"), keys.Signature{KeyVersion: 1, Sig: make([]byte, 64)})
		},
		"PublicKey":     func() error { _, err := km.PublicKey(ctx, name, 0); return err },
		"HMAC":          func() error { _, err := km.HMAC(ctx, name, 0, []byte("m")); return err },
		"Rotate":        func() error { return km.Rotate(ctx, name) },
		"LatestVersion": func() error { _, err := km.LatestVersion(ctx, name); return err },
		"Describe":      func() error { _, err := km.Describe(ctx, name); return err },
		"Retire":        func() error { return km.Retire(ctx, name, 1) },
	}
	for op, fn := range ops {
		wantErr(t, op, fn(), errs.FailedPrecondition, keys.ReasonKeyNotFound)
	}
	// None of the calls above may have created the key as a side effect.
	_, err := km.LatestVersion(ctx, name)
	wantErr(t, "LatestVersion after failed calls", err, errs.FailedPrecondition, keys.ReasonKeyNotFound)
}

func testWrongType(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	aes := newKey(t, km, keys.TypeAES256GCM)
	ed := newKey(t, km, keys.TypeEd25519)
	w := mustWrap(t, km, aes, dataKey(t), nil)
	ops := map[string]func() error{
		"WrapKey(ed25519)":   func() error { _, err := km.WrapKey(ctx, ed, []byte("k"), nil); return err },
		"UnwrapKey(ed25519)": func() error { _, err := km.UnwrapKey(ctx, ed, w, nil); return err },
		"Rewrap(ed25519)":    func() error { _, err := km.Rewrap(ctx, ed, w, nil); return err },
		"Sign(aes)":          func() error { _, err := km.Sign(ctx, aes, []byte("m")); return err },
		"Verify(aes)": func() error {
			return km.Verify(ctx, aes, []byte("m"), keys.Signature{KeyVersion: 1, Sig: make([]byte, 64)})
		},
		"PublicKey(aes)": func() error { _, err := km.PublicKey(ctx, aes, 0); return err },
	}
	for op, fn := range ops {
		wantErr(t, op, fn(), errs.FailedPrecondition, keys.ReasonKeyTypeMismatch)
	}
}

func testInvalidInput(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	// Names that would escape the key's path in a backend URL, or are empty.
	for _, name := range []string{"", "../sys/seal", "a/b", "-x", "x-", "white space", strings.Repeat("k", 200)} {
		err := km.EnsureKey(ctx, name, keys.TypeAES256GCM)
		wantErr(t, fmt.Sprintf("EnsureKey(%q)", name), err, errs.InvalidArgument, keys.ReasonKeyNameInvalid)
		_, err = km.WrapKey(ctx, name, []byte("k"), nil)
		wantErr(t, fmt.Sprintf("WrapKey(%q)", name), err, errs.InvalidArgument, keys.ReasonKeyNameInvalid)
	}
	err := km.EnsureKey(ctx, keyName(t, "rsa"), keys.KeyType("rsa-2048"))
	wantErr(t, "EnsureKey(rsa-2048)", err, errs.InvalidArgument, keys.ReasonKeyTypeUnsupported)

	name := newKey(t, km, keys.TypeAES256GCM)
	_, err = km.WrapKey(ctx, name, nil, nil)
	wantErr(t, "WrapKey(empty plaintext)", err, errs.InvalidArgument, keys.ReasonPlaintextEmpty)
}

// testConcurrent wraps and unwraps from several goroutines while the key is
// rotated, which the race detector and the round-trip checks both watch.
func testConcurrent(t *testing.T, km keys.KeyManager) {
	ctx := context.Background()
	name := newKey(t, km, keys.TypeAES256GCM)
	const workers, rounds = 4, 5
	var wg sync.WaitGroup
	errc := make(chan error, workers*rounds+rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				pt := []byte(fmt.Sprintf("worker-%d-round-%d", w, r))
				wrapped, err := km.WrapKey(ctx, name, pt, nil)
				if err != nil {
					errc <- fmt.Errorf("WrapKey: %w", err)
					continue
				}
				got, err := km.UnwrapKey(ctx, name, wrapped, nil)
				if err != nil {
					errc <- fmt.Errorf("UnwrapKey: %w", err)
				} else if !bytes.Equal(got, pt) {
					errc <- fmt.Errorf("round trip returned other plaintext")
				}
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			if err := km.Rotate(ctx, name); err != nil {
				errc <- fmt.Errorf("rotate: %w", err)
			}
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if v, err := km.LatestVersion(ctx, name); err != nil || v != rounds+1 {
		t.Errorf("LatestVersion = %d, %v; want %d", v, err, rounds+1)
	}
}

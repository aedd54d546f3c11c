package mfa

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
)

var recoveryFormat = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

func newTestRecovery(t *testing.T, km keys.KeyManager) *RecoveryCodes {
	t.Helper()
	r, err := NewRecoveryCodes(km, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRecoveryCodesGenerateAndVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	r := newTestRecovery(t, km)
	codes, hashes, err := r.Generate(ctx, "acc_A")
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("got %d codes and %d hashes, want %d", len(codes), len(hashes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !recoveryFormat.MatchString(c) {
			t.Errorf("code %q is not XXXX-XXXX-XXXX in Crockford base32", c)
		}
		if seen[c] {
			t.Errorf("code %d repeats", i)
		}
		seen[c] = true
		h := hashes[i]
		if h.KeyVersion != 1 || len(h.MAC) != 32 || h.Used {
			t.Errorf("hash %d = %+v, want version 1, 32-byte MAC, unused", i, h)
		}
		if bytes.Contains(h.MAC, []byte(strings.ReplaceAll(c, "-", ""))) {
			t.Errorf("hash %d contains its code", i)
		}
	}
	for i, c := range codes {
		got, err := r.Verify(ctx, "acc_A", c, hashes)
		if err != nil || got != i {
			t.Errorf("Verify(code %d) = %d, %v", i, got, err)
		}
	}
	// A second set shares no code with the first.
	other, _, err := r.Generate(ctx, "acc_A")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range other {
		if seen[c] {
			t.Error("two generated sets share a code")
		}
	}
}

// TestRecoveryCodeNormalisation: what a person types is accepted however it
// is cased, spaced or dashed, and Crockford's look-alikes read as digits.
func TestRecoveryCodeNormalisation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newTestRecovery(t, newKeys(t))
	codes, hashes, err := r.Generate(ctx, "acc_A")
	if err != nil {
		t.Fatal(err)
	}
	c := codes[3]
	plain := strings.ReplaceAll(c, "-", "")
	lookalike := strings.NewReplacer("1", "l", "0", "o").Replace(strings.ToLower(c))
	for _, in := range []string{
		strings.ToLower(c),
		plain,
		" " + plain[:6] + " " + plain[6:] + " ",
		plain[:4] + " - " + plain[4:8] + "\t" + plain[8:],
		lookalike,
		strings.NewReplacer("1", "I", "0", "O").Replace(c),
	} {
		got, err := r.Verify(ctx, "acc_A", in, hashes)
		if err != nil || got != 3 {
			t.Errorf("Verify(%q) = %d, %v; want 3", in, got, err)
		}
	}
}

func TestRecoveryCodeRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	r := newTestRecovery(t, km)
	codes, hashes, err := r.Generate(ctx, "acc_A")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("used code", func(t *testing.T) {
		used := append([]RecoveryHash(nil), hashes...)
		used[2].Used = true
		_, err := r.Verify(ctx, "acc_A", codes[2], used)
		wantErr(t, err, errs.Unauthenticated, ReasonRecoveryCodeInvalid)
		if got, err := r.Verify(ctx, "acc_A", codes[5], used); err != nil || got != 5 {
			t.Errorf("an unused code of the same set: %d, %v", got, err)
		}
	})
	t.Run("another account", func(t *testing.T) {
		_, err := r.Verify(ctx, "acc_B", codes[0], hashes)
		wantErr(t, err, errs.Unauthenticated, ReasonRecoveryCodeInvalid)
	})
	t.Run("wrong code", func(t *testing.T) {
		wrong := []byte(codes[0])
		wrong[0] = crockford[(strings.IndexByte(crockford, wrong[0])+1)%32]
		_, err := r.Verify(ctx, "acc_A", string(wrong), hashes)
		wantErr(t, err, errs.Unauthenticated, ReasonRecoveryCodeInvalid)
	})
	t.Run("no codes", func(t *testing.T) {
		_, err := r.Verify(ctx, "acc_A", codes[0], nil)
		wantErr(t, err, errs.Unauthenticated, ReasonRecoveryCodeInvalid)
	})
	t.Run("malformed", func(t *testing.T) {
		before := km.calls.Load()
		for _, in := range []string{"", "ABCD-EFGH", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JKMU", "ABCD_EFGH_JKMN", "ÄBCD-EFGH-JKMN", strings.Repeat("-", 100) + "ABCDEFGHJKMN", "ABCD-EFGH-JKM\x00"} {
			_, err := r.Verify(ctx, "acc_A", in, hashes)
			wantErr(t, err, errs.InvalidArgument, ReasonRecoveryCodeMalformed)
		}
		if n := km.calls.Load() - before; n != 0 {
			t.Errorf("malformed codes made %d key service calls, want 0", n)
		}
	})
	t.Run("no account", func(t *testing.T) {
		_, err := r.Verify(ctx, "", codes[0], hashes)
		wantErr(t, err, errs.InvalidArgument, ReasonFactorRefInvalid)
		_, _, err = r.Generate(ctx, "")
		wantErr(t, err, errs.InvalidArgument, ReasonFactorRefInvalid)
	})
}

// TestRecoveryCodesOutliveKeyRotation: codes made under an older key version
// keep working after rotation (each hash names its version), and one HMAC
// call per version is made, not one per code.
func TestRecoveryCodesOutliveKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	km := newKeys(t)
	r := newTestRecovery(t, km)
	codes, hashes, err := r.Generate(ctx, "acc_A")
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Rotate(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	before := km.calls.Load()
	if got, err := r.Verify(ctx, "acc_A", codes[9], hashes); err != nil || got != 9 {
		t.Fatalf("after rotation: %d, %v", got, err)
	}
	if n := km.calls.Load() - before; n != 1 {
		t.Errorf("Verify made %d HMAC calls, want 1", n)
	}
	_, fresh, err := r.Generate(ctx, "acc_A")
	if err != nil {
		t.Fatal(err)
	}
	if fresh[0].KeyVersion != 2 {
		t.Errorf("new codes use key version %d, want 2", fresh[0].KeyVersion)
	}
	// Once version 1 is retired its codes cannot be checked: the check fails
	// closed, as an integrity fault of the server, not as the client's input.
	if err := km.Retire(ctx, testKey, 2); err != nil {
		t.Fatal(err)
	}
	_, err = r.Verify(ctx, "acc_A", codes[9], hashes)
	wantErr(t, err, errs.Internal, ReasonSecretUnreadable)
}

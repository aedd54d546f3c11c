package password

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustelem/zxcvbn"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

func newHasher(t testing.TB, opts Options) *Hasher {
	t.Helper()
	h, err := NewHasher(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	var verified, dummies atomic.Int32
	h := newHasher(t, Options{Params: Minimum, OnVerify: func(real bool) {
		if real {
			verified.Add(1)
		} else {
			dummies.Add(1)
		}
	}})
	stored, err := h.Hash(ctx, "correct staple of horses, battered")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not a PHC argon2id string at the minimum: %s", stored)
	}
	if r, err := h.Verify(ctx, "correct staple of horses, battered", stored); err != nil || !r.OK || r.Rehash {
		t.Fatalf("right password: %+v %v", r, err)
	}
	if r, err := h.Verify(ctx, "correct staple of horses, battereD", stored); err != nil || r.OK {
		t.Fatalf("wrong password: %+v %v", r, err)
	}
	if verified.Load() != 2 {
		t.Fatalf("%d evaluations counted, want 2", verified.Load())
	}
	// No password set: never matches, and is not an evaluation.
	if r, err := h.Verify(ctx, "", ""); err != nil || r.OK {
		t.Fatalf("empty stored hash: %+v %v", r, err)
	}
	if verified.Load() != 2 || dummies.Load() != 1 {
		t.Fatal("the dummy hash counted as an evaluation, or was not computed")
	}
	// Another hasher at stronger parameters says the hash needs upgrading.
	stronger := newHasher(t, Options{Params: Params{MemoryKiB: 19 * 1024, Time: 3, Threads: 1}})
	if r, _ := stronger.Verify(ctx, "correct staple of horses, battered", stored); !r.OK || !r.Rehash {
		t.Fatalf("old parameters not flagged for rehash: %+v", r)
	}
}

// TestNormalisedBeforeHashing: NFKC, so a ligature and its letters match.
func TestNormalisedBeforeHashing(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Options{Params: Minimum})
	stored, err := h.Hash(ctx, "ﬁve ﬁsh in the river")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := h.Verify(ctx, "five fish in the river", stored); !r.OK {
		t.Fatal("NFKC-equivalent password refused")
	}
}

func TestWeakParametersRefused(t *testing.T) {
	for _, p := range []Params{
		{MemoryKiB: 19 * 1024, Time: 1, Threads: 1},
		{MemoryKiB: 16 * 1024, Time: 4, Threads: 1},
		{MemoryKiB: 64 * 1024, Time: 0, Threads: 1},
		{MemoryKiB: 64 * 1024, Time: 1, Threads: 0},
	} {
		if _, err := NewHasher(Options{Params: p}); err == nil {
			t.Errorf("parameters %s accepted", p)
		}
	}
	if _, err := NewHasher(Options{Params: Default}); err != nil {
		t.Fatal(err)
	}
}

// TestPoolIsBounded: with every slot taken, a hash waits for the request's
// deadline and then is ResourceExhausted; nothing is computed beside it.
func TestPoolIsBounded(t *testing.T) {
	h := newHasher(t, Options{Params: Minimum, MemoryBudget: 2 * int64(Minimum.MemoryKiB) * 1024})
	if h.Slots() != 2 {
		t.Fatalf("slots = %d, want 2 from the memory budget", h.Slots())
	}
	ctx := context.Background()
	r1, _ := h.acquire(ctx)
	r2, _ := h.acquire(ctx)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(short, "x"); errs.KindOf(err) != errs.ResourceExhausted || errs.ReasonOf(err) != reasons.PasswordHashBusy {
		t.Fatalf("full pool: %v", err)
	}
	r1()
	if _, err := h.Hash(ctx, "now there is room"); err != nil {
		t.Fatal(err)
	}
	r2()
}

func TestTamperedHashesRefused(t *testing.T) {
	h := newHasher(t, Options{Params: Minimum})
	for _, s := range []string{
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1,x=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"plaintext",
	} {
		if _, err := h.Verify(context.Background(), "pw", s); errs.ReasonOf(err) != reasons.PasswordHashInvalid {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestStoredHashCostBounded: a stored hash whose memory (or threads, or
// time) is beyond what the hasher is configured for is refused without
// being computed, while one made with cheaper parameters verifies (and
// asks for a rehash). Fails without the cap in Slot.Verify.
func TestStoredHashCostBounded(t *testing.T) {
	cheap := newHasher(t, Options{Params: Minimum})
	stored, err := cheap.Hash(context.Background(), "vivid otter lamp quartz ninety")
	if err != nil {
		t.Fatal(err)
	}
	bigger := Params{MemoryKiB: Minimum.MemoryKiB * 2, Time: Minimum.Time, Threads: 1}
	h := newHasher(t, Options{Params: bigger})
	res, err := h.Verify(context.Background(), "vivid otter lamp quartz ninety", stored)
	if err != nil || !res.OK || !res.Rehash {
		t.Fatalf("a hash with cheaper parameters: %+v %v", res, err)
	}
	strong, err := newHasher(t, Options{Params: Params{MemoryKiB: bigger.MemoryKiB * 2, Time: 2, Threads: 1}}).Hash(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Verify(context.Background(), "x", strong); errs.ReasonOf(err) != reasons.PasswordHashInvalid {
		t.Fatalf("a stored hash asking for twice the configured memory: %v", err)
	}
}

func TestPolicy(t *testing.T) {
	p, err := NewPolicy()
	if err != nil {
		t.Fatal(err)
	}
	email := []string{"jane.doe@example.com", "shop"}
	for _, tc := range []struct {
		name     string
		password string
		withMFA  bool
		reason   string
	}{
		{"strong passphrase", "vivid otter lamp quartz ninety", false, ""},
		{"14 characters alone", "k9#Tq2vLm8@Wz4", false, reasons.PasswordTooShort},
		{"14 characters with a second factor", "k9#Tq2vLm8@Wz4", true, ""},
		{"7 characters with a second factor", "k9#Tq2v", true, reasons.PasswordTooShort},
		{"129 characters", strings.Repeat("ab3$", 32) + "x", true, reasons.PasswordTooLong},
		{"common", "baseball", true, reasons.PasswordTooWeak},
		{"common with digits", "iloveyou2024", true, reasons.PasswordTooWeak},
		{"common, mixed case", "BaseBall", true, reasons.PasswordTooWeak},
		{"repeats", "aaaaaaaaaaaaaaaaaaaa", false, reasons.PasswordTooWeak},
		{"keyboard walk", "qwertyuiopasdfghjkl", false, reasons.PasswordTooWeak},
		{"sequence", "abcdefghijklmnopqrstu", false, reasons.PasswordTooWeak},
		{"the e-mail address", "jane.doe@example.com", false, reasons.PasswordTooWeak},
		{"control character", "vivid otter lamp\x00quartz ninety", false, reasons.PasswordInvalid},
		{"not UTF-8", "vivid otter lamp \xff quartz ninety", false, reasons.PasswordInvalid},
		// 15 code points of two bytes each: length counts characters.
		{"non-ASCII", "ÄöüßÉèñçÅøæœÞðŁ", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(tc.password, tc.withMFA, email)
			if got := errs.ReasonOf(err); got != tc.reason {
				t.Fatalf("Check = %v, want reason %q", err, tc.reason)
			}
			if err != nil && errs.KindOf(err) != errs.InvalidArgument {
				t.Fatalf("kind %v", errs.KindOf(err))
			}
		})
	}
}

// TestPolicyFailsClosed: if the strength estimator fails, the password is
// refused.
func TestPolicyFailsClosed(t *testing.T) {
	p, err := NewPolicy()
	if err != nil {
		t.Fatal(err)
	}
	p.strength = func(string, []string) zxcvbn.Result { panic("estimator broke") }
	if err := p.Check("vivid otter lamp quartz ninety", false, nil); errs.ReasonOf(err) != reasons.PasswordCheckFailed {
		t.Fatalf("a failing check passed the password: %v", err)
	}
}

// TestStrengthInputBounded: zxcvbn sees at most StrengthInputMax
// characters of a long password, and a long password with a guessable
// prefix is refused. Fails if the whole input goes to zxcvbn.
func TestStrengthInputBounded(t *testing.T) {
	p, err := NewPolicy()
	if err != nil {
		t.Fatal(err)
	}
	real := p.strength
	var longest int
	p.strength = func(pw string, ctx []string) zxcvbn.Result {
		longest = max(longest, len([]rune(pw)))
		return real(pw, ctx)
	}
	long := strings.Repeat("vivid otter lamp quartz ninety ", 5)[:MaxLength]
	if err := p.Check(long, false, nil); err != nil {
		t.Fatalf("a long strong passphrase: %v", err)
	}
	if longest != StrengthInputMax {
		t.Fatalf("zxcvbn was given %d characters; want %d", longest, StrengthInputMax)
	}
	weakPrefix := strings.Repeat("a", StrengthInputMax) + "k9#Tq2vLm8@Wz4!r"
	if err := p.Check(weakPrefix, false, nil); errs.ReasonOf(err) != reasons.PasswordTooWeak {
		t.Fatalf("a guessable 64-character prefix: %v", err)
	}
}

// BenchmarkPolicyWorstCase is the strength check on the review's slowest
// 128-character input (cut to StrengthInputMax by the policy).
func BenchmarkPolicyWorstCase(b *testing.B) {
	p, err := NewPolicy()
	if err != nil {
		b.Fatal(err)
	}
	pw := strings.Repeat("4@8(63!1|70$5+%2", 8)
	for b.Loop() {
		_ = p.Check(pw, false, []string{"alice@example.com", "shop"})
	}
}

// BenchmarkArgon2id is the raw cost of one hash at the default parameters:
// the reference for a login RPC's time (docs/benchmarks.md).
func BenchmarkArgon2id(b *testing.B) {
	h := newHasher(b, Options{})
	stored, err := h.Hash(context.Background(), "vivid otter lamp quartz ninety")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Verify(context.Background(), "vivid otter lamp quartz ninety", stored); err != nil {
			b.Fatal(err)
		}
	}
}

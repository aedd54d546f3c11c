// Package password hashes and checks passwords: argon2id (RFC 9106) in PHC
// string format at OWASP's parameters or stronger, a bounded pool of
// concurrent hashes so a login flood cannot exhaust memory, and the NIST SP
// 800-63B rules for new passwords (length, no composition rules, refused
// when common or guessable).
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Params are argon2id's cost parameters.
type Params struct {
	// MemoryKiB is the memory per hash in KiB (m).
	MemoryKiB uint32
	// Time is the number of passes (t).
	Time uint32
	// Threads is the parallelism (p).
	Threads uint8
}

// Minimum is OWASP's Password Storage Cheat Sheet minimum for argon2id
// (m=19 MiB, t=2, p=1); weaker parameters are refused at start-up.
var Minimum = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// Default is the cost Sotto hashes with: OWASP's first recommended
// configuration, m=46 MiB, t=1, p=1 (the same strength as the minimum's
// m=19 MiB, t=2, with less time per hash on one core at more memory).
var Default = Params{MemoryKiB: 46 * 1024, Time: 1, Threads: 1}

// atLeast reports whether p costs at least what min does: more memory can
// stand in for passes (OWASP lists the pairs as equivalent), so the product
// m·t must not fall below min's, and neither m below 19 MiB nor t below 1.
func (p Params) atLeast(min Params) bool {
	return p.Threads >= 1 && p.Time >= 1 && p.MemoryKiB >= Minimum.MemoryKiB &&
		uint64(p.MemoryKiB)*uint64(p.Time) >= uint64(min.MemoryKiB)*uint64(min.Time)
}

func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads)
}

const (
	saltLen = 16
	keyLen  = 32
	// MaxBytes bounds what is hashed: 128 code points of at most 4 bytes
	// each after normalisation (NFKC can expand; the cap keeps the input
	// to argon2 bounded whatever it receives).
	MaxBytes = 4 * 4 * MaxLength
)

// Options configure a Hasher.
type Options struct {
	// Params is the cost of new hashes (Default when zero).
	Params Params
	// MemoryBudget bounds the memory of the hashes running at once; the pool
	// has MemoryBudget / (Params.MemoryKiB KiB) slots, at least one.
	MemoryBudget int64
	// MaxWait bounds how long a request waits for a slot when its context
	// has no earlier deadline (default 5 s).
	MaxWait time.Duration
	// OnVerify, if set, is called after each comparison: real is true when
	// a presented password was compared with an account's stored hash,
	// false for the dummy hash. Tests count evaluations with it.
	OnVerify func(real bool)
}

// Hasher hashes and verifies passwords through a bounded pool.
type Hasher struct {
	params   Params
	slots    chan struct{}
	maxWait  time.Duration
	onVerify func(real bool)
	dummy    string
}

// NewHasher returns a Hasher; parameters below Minimum are refused.
func NewHasher(opts Options) (*Hasher, error) {
	p := opts.Params
	if p == (Params{}) {
		p = Default
	}
	if !p.atLeast(Minimum) {
		return nil, fmt.Errorf("password: argon2id parameters %s are below OWASP's minimum %s", p, Minimum)
	}
	perHash := int64(p.MemoryKiB) * 1024
	n := opts.MemoryBudget / perHash
	if n < 1 {
		n = 1
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 5 * time.Second
	}
	h := &Hasher{params: p, slots: make(chan struct{}, n), maxWait: opts.MaxWait, onVerify: opts.OnVerify}
	// The dummy hash is what an unknown account's login is checked against,
	// so that it costs one hash like a known account's.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	h.dummy = h.encode(p, secret)
	return h, nil
}

// Slots is the number of hashes that may run at once.
func (h *Hasher) Slots() int { return cap(h.slots) }

// Params is the cost of new hashes.
func (h *Hasher) Params() Params { return h.params }

// acquire takes a slot, waiting until the request's deadline (or MaxWait);
// then ResourceExhausted PASSWORD_HASH_BUSY.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	default:
	}
	wait := time.NewTimer(h.maxWait)
	defer wait.Stop()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
	case <-wait.C:
	}
	return nil, errs.E(errs.ResourceExhausted, reasons.PasswordHashBusy, "the service is busy; retry shortly")
}

// Slot is one taken place in the pool: the holder may compute hashes
// without waiting again. A login takes one slot before it reserves its
// attempt, so that an overloaded service answers busy without counting a
// failed attempt against the account.
type Slot struct {
	h       *Hasher
	release func()
}

// Acquire takes a slot, waiting until the request's deadline (or MaxWait);
// then ResourceExhausted PASSWORD_HASH_BUSY. Release it when done.
func (h *Hasher) Acquire(ctx context.Context) (*Slot, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &Slot{h: h, release: release}, nil
}

// Release gives the slot back; a second call does nothing.
func (s *Slot) Release() {
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// Hash returns the PHC string of password at the current parameters.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	s, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer s.Release()
	return s.Hash(password)
}

// Hash is Hasher.Hash in a slot already held.
func (s *Slot) Hash(password string) (string, error) {
	pw, err := normalise(password)
	if err != nil {
		return "", err
	}
	return s.h.encode(s.h.params, pw), nil
}

func (h *Hasher) encode(p Params, pw []byte) string {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		// crypto/rand.Read does not fail on supported platforms (Go 1.24+
		// crashes the program instead); a zero salt is never produced.
		panic(err)
	}
	key := argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Result is the outcome of Verify.
type Result struct {
	// OK: the password matches.
	OK bool
	// Rehash: it matches but was hashed with other parameters than the
	// current ones; the caller stores a new hash (upgrade on login).
	Rehash bool
}

// Verify compares password with a stored PHC hash, in constant time. An
// empty stored hash (no password set) is compared with the dummy hash and
// never matches. A stored hash that does not parse is Internal
// PASSWORD_HASH_INVALID.
func (h *Hasher) Verify(ctx context.Context, password, stored string) (Result, error) {
	s, err := h.Acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer s.Release()
	return s.Verify(password, stored)
}

// Verify is Hasher.Verify in a slot already held.
func (s *Slot) Verify(password, stored string) (Result, error) {
	h := s.h
	if stored == "" {
		return Result{}, s.VerifyDummy(password)
	}
	p, salt, key, err := decode(stored)
	if err != nil {
		return Result{}, err
	}
	if p.MemoryKiB > h.params.MemoryKiB || p.Threads > h.params.Threads || p.Time > 4*h.params.Time {
		// A slot accounts for the configured memory (the pool's budget);
		// a stored hash asking for more (decode alone allows up to 2 GiB)
		// would overrun it. Parameters are only ever raised: a hash made
		// under older, cheaper ones still verifies and is upgraded.
		return Result{}, errs.E(errs.Internal, reasons.PasswordHashInvalid, "stored password hash asks for more than the configured cost")
	}
	pw, err := normalise(password)
	if err != nil {
		// Still pay for a hash: malformed input must not answer faster.
		return Result{}, s.VerifyDummy(password)
	}
	got := argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	if h.onVerify != nil {
		h.onVerify(true)
	}
	ok := subtle.ConstantTimeCompare(got, key) == 1
	return Result{OK: ok, Rehash: ok && p != h.params}, nil
}

// VerifyDummy costs what Verify costs and never matches: for unknown and
// locked accounts, so that their answers take as long as a wrong password's.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	s, err := h.Acquire(ctx)
	if err != nil {
		return err
	}
	defer s.Release()
	return s.VerifyDummy(password)
}

// VerifyDummy is Hasher.VerifyDummy in a slot already held.
func (s *Slot) VerifyDummy(password string) error {
	p, salt, key, err := decode(s.h.dummy)
	if err != nil {
		return err
	}
	pw := []byte(password)
	if len(pw) > MaxBytes {
		pw = pw[:MaxBytes]
	}
	got := argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	subtle.ConstantTimeCompare(got, key)
	if s.h.onVerify != nil {
		s.h.onVerify(false)
	}
	return nil
}

// decode parses "$argon2id$v=19$m=..,t=..,p=..$salt$key". Parameters are
// bounded so that a tampered row cannot make one login allocate gigabytes.
func decode(s string) (Params, []byte, []byte, error) {
	bad := func() (Params, []byte, []byte, error) {
		return Params{}, nil, nil, errs.E(errs.Internal, reasons.PasswordHashInvalid, "stored password hash is invalid")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad()
	}
	var p Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return bad()
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return bad()
			}
			p.Threads = uint8(n)
		default:
			return bad()
		}
	}
	if p.MemoryKiB < 8 || p.MemoryKiB > 1<<21 || p.Time < 1 || p.Time > 64 || p.Threads < 1 || p.Threads > 16 {
		return bad()
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return bad()
	}
	return p, salt, key, nil
}

// normalise applies NFKC (SP 800-63B 5.1.1.2: passwords are normalised
// before hashing, so that the same characters typed on two keyboards
// match) and refuses what is not text.
func normalise(password string) ([]byte, error) {
	if err := checkText(password); err != nil {
		return nil, err
	}
	out := norm.NFKC.String(password)
	if len(out) > MaxBytes {
		return nil, errs.E(errs.InvalidArgument, reasons.PasswordTooLong, "the password is longer than %d characters", MaxLength)
	}
	return []byte(out), nil
}

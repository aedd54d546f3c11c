// Package engine is the tokenisation vault's logic: per-subject data keys
// wrapped by the KeyManager, value encryption, token generation, the
// detokenize policy with synchronous audit, masked views, exact-match lookup,
// crypto-shredding, export and key rotation. No gRPC types leak in.
package engine

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// Recorder records audit events synchronously (auditclient.Client).
type Recorder interface {
	Record(ctx context.Context, events ...auditclient.Event) error
}

// Options tune the engine.
type Options struct {
	// KEK is the KeyManager key that wraps data keys.
	KEK string
	// CacheSize and CacheTTL bound the in-memory cache of unwrapped data keys.
	// While the key backend is down, cached subjects keep working until TTL.
	CacheSize int
	CacheTTL  time.Duration
	// Now is the clock, for token expiry and record times and for the
	// expiry of cached keys.
	Now func() time.Time
	// Tenants the vault serves; empty means just "default". Requests for
	// any other tenant are refused, so a caller cannot make the vault mint
	// and wrap keys for arbitrary tenant names.
	Tenants []string
	// KEKEpoch is the longest a KEK version stays the latest before the
	// kek-epoch job rotates it, rewraps every data key and retires the
	// older versions (default 24h; ADR 0007).
	KEKEpoch time.Duration
	// KEKEpochMin is how old the latest KEK version must be before an
	// erasure starts a new epoch (default 0: at once). Raising it bounds how
	// often a large vault is rewrapped, and delays when copies of an erased
	// subject's keys stop opening by as much.
	KEKEpochMin time.Duration
	// WALTimeout bounds how long an erasure waits for readers to let go of
	// SQLite's WAL before it leaves the truncation to the kek-epoch job
	// (default 10s).
	WALTimeout time.Duration
	// Consent answers the consent condition of policy rules with
	// requires_consent (pkg/consentclient's Client). Nil: such rules allow
	// nothing (fail closed), as when the consent service is unreachable.
	Consent Consent
}

// Consent asks the consent service whether subjects agreed to purposes
// (pkg/consentclient's Client: cached, kept current by the change feed,
// an error when it cannot answer).
type Consent interface {
	BatchCheck(ctx context.Context, pairs []consentclient.Pair) ([]consentclient.Decision, error)
}

// Engine is the vault.
type Engine struct {
	store  *storage.Store
	km     keys.KeyManager
	audit  Recorder
	outbox *auditclient.Outbox
	policy *policy.Policy
	logger *slog.Logger
	opts   Options

	deks    *keyCache[dataKey] // tenant\x00subject\x00version → DEK
	tenants *keyCache[[]byte]  // tenant → deterministic-token key
	// erased remembers subjects this process erased, so that an unwrap in
	// flight during the erasure cannot put the key back into the cache.
	erased *keyCache[struct{}]
	wake   chan struct{}
	writer *writer

	// epochWake triggers the kek-epoch job (an erasure wants one).
	epochWake chan struct{}
	// epochs is set once the kek-epoch job is scheduled: only then does an
	// erasure's evidence promise when old copies stop opening.
	epochs atomic.Bool
	// wal empties SQLite's WAL after an erasure or a rectification; the
	// kek-epoch job finishes a scrub that readers held up (retryWAL).
	wal *store.Scrubber
}

// New builds the engine.
func New(st *storage.Store, km keys.KeyManager, audit Recorder, outbox *auditclient.Outbox, pol *policy.Policy, logger *slog.Logger, opts Options) *Engine {
	if opts.KEK == "" {
		opts.KEK = "tokenvault-kek"
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 100_000
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Tenants) == 0 {
		opts.Tenants = []string{DefaultTenant}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.KEKEpoch <= 0 {
		opts.KEKEpoch = 24 * time.Hour
	}
	opts.KEKEpochMin = max(opts.KEKEpochMin, 0)
	if opts.WALTimeout <= 0 {
		opts.WALTimeout = walTruncateTimeout
	}
	e := &Engine{
		store: st, km: km, audit: audit, outbox: outbox, policy: pol, logger: logger, opts: opts,
		deks:    newKeyCache[dataKey](opts.CacheSize, opts.CacheTTL, opts.Now),
		tenants: newKeyCache[[]byte](1024, opts.CacheTTL, opts.Now),
		erased:  newKeyCache[struct{}](opts.CacheSize, 2*opts.CacheTTL, opts.Now),
		wake:    make(chan struct{}, 1),

		epochWake: make(chan struct{}, 1),
		wal:       store.NewScrubber(st.DB(), opts.WALTimeout),
	}
	e.writer = e.newWriter()
	return e
}

// dataKey is an unwrapped data key and its version.
type dataKey struct {
	key     []byte
	version int
}

// subjectKey is the cache key of a data key version; version 0 caches the
// current one.
func subjectKey(tenant, subject string, version int) string {
	return tenant + "\x00" + subject + "\x00" + itoa(version)
}

// detKey is the tenant's key for deterministic tokens of one data type: the
// same derivation for Tokenize and Lookup, or lookups find nothing.
func detKey(tenantKey []byte, t tokens.DataType) []byte {
	return derive(tenantKey, "sotto/tokenvault/det/"+t.Code())
}

func dekAAD(tenant, subject string, version int) []byte {
	return []byte("sotto/tokenvault/dek/" + tenant + "/" + subject + "/v" + itoa(version))
}

func tenantAAD(tenant string) []byte { return []byte("sotto/tokenvault/tenant/" + tenant) }

// valueAAD binds a ciphertext to its token, tenant, subject and data type,
// so a ciphertext moved to another row does not decrypt.
func valueAAD(token, tenant, subject string, t tokens.DataType) []byte {
	return []byte("sotto/tokenvault/value\x00" + token + "\x00" + tenant + "\x00" + subject + "\x00" + t.Code())
}

// dek returns a version of the subject's data key (0: the current one),
// unwrapping it through the KeyManager when it is not cached; with create
// (current key only), a new subject gets its first key, used as generated.
// The key is stored before any value uses it, so a failure here writes
// nothing else.
func (e *Engine) dek(ctx context.Context, tenant, subject string, version int, create bool) ([]byte, int, error) {
	if e.erased.Contains(tenant + "\x00" + subject) {
		return nil, 0, errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
	}
	if k, ok := e.deks.Get(subjectKey(tenant, subject, version)); ok {
		return k.key, k.version, nil
	}
	rec, err := e.store.GetSubject(ctx, tenant, subject)
	if errs.Is(err, errs.NotFound) && create && version == 0 {
		k, cerr := e.createSubject(ctx, tenant, subject)
		switch {
		case cerr == nil:
			// Our key is the subject's first and current: no need to read
			// back and unwrap what we just wrapped (a second Vault call).
			return e.cacheDEK(tenant, subject, dataKey{key: k, version: 1}, true)
		case !errs.Is(cerr, errs.AlreadyExists):
			return nil, 0, cerr
		}
		// Another request created it first: use theirs.
		rec, err = e.store.GetSubject(ctx, tenant, subject)
	}
	if err != nil {
		return nil, 0, err
	}
	if !rec.Erased.IsZero() {
		return nil, 0, errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
	}
	current := version == 0
	if current {
		version = rec.CurrentVersion
	}
	sk, err := e.store.GetSubjectKey(ctx, tenant, subject, version)
	if err != nil {
		return nil, 0, err
	}
	k, err := e.km.UnwrapKey(ctx, e.opts.KEK, sk.Wrapped, dekAAD(tenant, subject, version))
	if err != nil {
		return nil, 0, err
	}
	return e.cacheDEK(tenant, subject, dataKey{key: k, version: version}, current)
}

// cacheDEK caches a subject's unwrapped key under its version and, if it is
// the current one, as the subject's current key; unless the subject was
// erased meanwhile.
func (e *Engine) cacheDEK(tenant, subject string, dk dataKey, current bool) ([]byte, int, error) {
	if e.erased.Contains(tenant + "\x00" + subject) {
		return nil, 0, errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
	}
	e.deks.Add(subjectKey(tenant, subject, dk.version), dk)
	if current {
		e.deks.Add(subjectKey(tenant, subject, 0), dk)
	}
	return dk.key, dk.version, nil
}

// dropKeys drops every cached version of a subject's keys.
func (e *Engine) dropKeys(tenant, subject string) {
	e.deks.RemovePrefix(tenant + "\x00" + subject + "\x00")
}

func (e *Engine) newDEK(ctx context.Context, tenant, subject string, version int) (storage.SubjectKey, []byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return storage.SubjectKey{}, nil, errs.Wrap(err, errs.Internal, reasons.RandomFailed, "cannot generate a key")
	}
	wrapped, err := e.km.WrapKey(ctx, e.opts.KEK, k, dekAAD(tenant, subject, version))
	if err != nil {
		return storage.SubjectKey{}, nil, err
	}
	kv, err := e.km.WrappedVersion(wrapped)
	if err != nil {
		return storage.SubjectKey{}, nil, err
	}
	return storage.SubjectKey{Tenant: tenant, Subject: subject, Version: version, Wrapped: wrapped, KEKVersion: kv}, k, nil
}

func (e *Engine) createSubject(ctx context.Context, tenant, subject string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		sk, k, err := e.newDEK(ctx, tenant, subject, 1)
		if err != nil {
			return nil, err
		}
		err = e.store.InsertSubject(ctx, storage.Subject{Tenant: tenant, Subject: subject, Created: e.opts.Now()}, sk)
		if errors.Is(err, storage.ErrKEKVersionRetired) && attempt == 0 {
			// Wrapped just before a KEK epoch retired that version: wrap
			// again, under the latest.
			clear(k)
			continue
		}
		if err != nil {
			return nil, err
		}
		return k, nil
	}
}

// tenantKey returns the tenant's key for deterministic tokens and lookup.
func (e *Engine) tenantKey(ctx context.Context, tenant string) ([]byte, error) {
	if k, ok := e.tenants.Get(tenant); ok {
		return k, nil
	}
	rec, err := e.store.GetTenant(ctx, tenant)
	if errs.Is(err, errs.NotFound) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, errs.Wrap(err, errs.Internal, reasons.RandomFailed, "cannot generate a key")
		}
		wrapped, err := e.km.WrapKey(ctx, e.opts.KEK, k, tenantAAD(tenant))
		if err != nil {
			return nil, err
		}
		v, _ := e.km.WrappedVersion(wrapped)
		if err := e.store.InsertTenant(ctx, storage.Tenant{Tenant: tenant, WrappedKey: wrapped, KEKVersion: v}); err != nil && !errs.Is(err, errs.AlreadyExists) {
			return nil, err
		}
		rec, err = e.store.GetTenant(ctx, tenant)
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	k, err := e.km.UnwrapKey(ctx, e.opts.KEK, rec.WrappedKey, tenantAAD(tenant))
	if err != nil {
		return nil, err
	}
	e.tenants.Add(tenant, k)
	return k, nil
}

// derive makes a purpose-bound subkey (HKDF-SHA256).
func derive(key []byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, key, nil, info, 32)
	if err != nil {
		panic(err) // only for invalid lengths, which are constants here
	}
	return k
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.KeyInvalid, "data key is invalid")
	}
	return cipher.NewGCM(block)
}

func seal(key, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return sealWith(gcm, plaintext, aad)
}

// sealWith encrypts with a random 96-bit nonce, prepended. A data key seals
// far fewer than 2^32 values, the bound for random GCM nonces.
func sealWith(gcm cipher.AEAD, plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plaintext, aad), nil
}

func open(key, sealed, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errs.E(errs.Internal, reasons.CiphertextCorrupt, "stored value is corrupt")
	}
	pt, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.CiphertextCorrupt, "stored value does not decrypt")
	}
	return pt, nil
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

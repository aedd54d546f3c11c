package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// Local is a KeyManager backed by a JSON keyring file.
//
// It exists for development and the embedded default (`make run`), where
// nothing but the Sotto binaries is installed. Its production twin is Vault
// (Transit): there key material never leaves Vault, whereas here it sits on
// disk, protected only by the file mode (0600) and the host. Do not use Local
// for real customer data.
//
// One process owns a keyring file: Local is safe for concurrent use within a
// process, but it reads the file only in NewLocal and does not lock it against
// other processes.
type Local struct {
	path string

	mu   sync.RWMutex
	ring localRing // replaced wholesale after each successful write
}

var _ KeyManager = (*Local)(nil)

// localPrefix marks wrapped values made by Local, mirroring Vault's "vault:".
const localPrefix = "local"

// On-disk format versions. Format 2 numbers a key's versions from its
// min_version (versions below it were retired); a keyring with no retired
// version is still written as format 1, so an older binary reads it, while
// one with retired versions is refused by an older binary instead of being
// misnumbered by it.
const (
	localRingFormat        = 1
	localRingFormatRetired = 2
)

// localRing is the JSON document stored in the keyring file.
type localRing struct {
	Format int                  `json:"format"`
	Keys   map[string]*localKey `json:"keys"`
}

type localKey struct {
	Type KeyType `json:"type"`
	// MinVersion is the oldest live version (0 reads as 1); Retire raises it
	// and removes the versions below from the file.
	MinVersion int `json:"min_version,omitempty"`
	// Versions[i] is key version MinVersion+i. Rotation keeps old versions,
	// so data wrapped or signed by them stays readable until they are
	// retired.
	Versions []localVersion `json:"versions"`
}

// minVersion is the oldest live version.
func (k *localKey) minVersion() int { return max(k.MinVersion, 1) }

// latest is the newest version.
func (k *localKey) latest() int { return k.minVersion() + len(k.Versions) - 1 }

type localVersion struct {
	// Secret is the AES-256 key for aes256-gcm96 keys and the Ed25519 seed for
	// ed25519 keys; both are 32 bytes.
	Secret []byte `json:"secret"`
	// HMACSecret is a separate per-version HMAC key, as in Vault Transit, so a
	// MAC never reuses the encryption or signing key.
	HMACSecret []byte    `json:"hmac_secret"`
	Created    time.Time `json:"created"`
}

const localSecretSize = 32

// NewLocal opens the keyring file at path, creating it (and its directory,
// mode 0700) when missing. An existing file that other users can read is
// refused rather than silently trusted.
func NewLocal(path string) (*Local, error) {
	l := &Local{path: path, ring: localRing{Format: localRingFormat, Keys: map[string]*localKey{}}}
	data, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNWRITABLE", "cannot create keyring directory")
		}
		// Write the empty keyring now so a bad path fails at startup, not on
		// the first key creation.
		if err := l.write(l.ring); err != nil {
			return nil, err
		}
		return l, nil
	case err != nil:
		return nil, errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNREADABLE", "cannot read keyring")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNREADABLE", "cannot read keyring")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, errs.E(errs.FailedPrecondition, "KEYRING_PERMISSIONS", "keyring file must not be accessible by group or others (want mode 0600)")
	}
	var ring localRing
	if err := json.Unmarshal(data, &ring); err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "KEYRING_CORRUPT", "keyring file is not valid")
	}
	if err := ring.validate(); err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "KEYRING_CORRUPT", "keyring file is not valid")
	}
	l.ring = ring
	return l, nil
}

// validate checks a loaded keyring so that later operations can index and
// use key material without further checks (ed25519.NewKeyFromSeed panics on
// a short seed).
func (r *localRing) validate() error {
	if r.Format != localRingFormat && r.Format != localRingFormatRetired {
		return fmt.Errorf("unsupported keyring format %d", r.Format)
	}
	if r.Keys == nil {
		r.Keys = map[string]*localKey{}
	}
	for name, k := range r.Keys {
		if k == nil || checkName(name) != nil || checkType(k.Type) != nil || len(k.Versions) == 0 || k.MinVersion < 0 {
			return fmt.Errorf("invalid key entry %q", name)
		}
		if r.Format == localRingFormat && k.MinVersion > 1 {
			return fmt.Errorf("key %q has retired versions in a format 1 keyring", name)
		}
		for i, v := range k.Versions {
			if len(v.Secret) != localSecretSize || len(v.HMACSecret) != localSecretSize {
				return fmt.Errorf("key %q version %d has bad secret length", name, i+1)
			}
		}
	}
	return nil
}

// write persists ring atomically: a reader (or a crash) sees either the old
// or the new file, never a torn one. os.CreateTemp creates the file 0600.
// The replaced file's contents are then overwritten (see scrubReplaced), so
// that key material removed by Retire does not stay behind in its blocks.
func (l *Local) write(ring localRing) error {
	ring.Format = localRingFormat
	for _, k := range ring.Keys {
		if k.minVersion() > 1 {
			ring.Format = localRingFormatRetired
		}
	}
	data, err := json.MarshalIndent(ring, "", "  ")
	if err != nil {
		return errs.Wrap(err, errs.Internal, "KEYRING_WRITE_FAILED", "cannot write keyring")
	}
	dir := filepath.Dir(l.path)
	tmp, err := os.CreateTemp(dir, ".keyring-*.tmp")
	if err != nil {
		return errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNWRITABLE", "cannot write keyring")
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNWRITABLE", "cannot write keyring")
	}
	// Sync before rename so the new name never points at unflushed data.
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNWRITABLE", "cannot write keyring")
	}
	if err := tmp.Close(); err != nil {
		return errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNWRITABLE", "cannot write keyring")
	}
	// Held open across the rename, so its blocks can be overwritten once no
	// name points at it any more (and not before: a crash in between must
	// leave a readable keyring).
	old, err := os.OpenFile(l.path, os.O_RDWR, 0)
	if err == nil {
		defer old.Close()
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return errs.Wrap(err, errs.FailedPrecondition, "KEYRING_UNWRITABLE", "cannot write keyring")
	}
	if old != nil {
		scrubReplaced(old)
	}
	// Best effort: make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func newLocalVersion() (localVersion, error) {
	v := localVersion{Secret: make([]byte, localSecretSize), HMACSecret: make([]byte, localSecretSize), Created: time.Now().UTC()}
	if _, err := rand.Read(v.Secret); err != nil {
		return localVersion{}, errs.Wrap(err, errs.Internal, "KEY_GENERATION_FAILED", "cannot generate key")
	}
	if _, err := rand.Read(v.HMACSecret); err != nil {
		return localVersion{}, errs.Wrap(err, errs.Internal, "KEY_GENERATION_FAILED", "cannot generate key")
	}
	return v, nil
}

// update applies fn to a copy of the named key's entry (nil when missing) and
// persists the result before publishing it, so memory never runs ahead of disk.
func (l *Local) update(name string, fn func(k *localKey) (*localKey, error)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var cur *localKey
	if k := l.ring.Keys[name]; k != nil {
		c := *k
		c.Versions = append([]localVersion(nil), k.Versions...)
		cur = &c
	}
	next, err := fn(cur)
	if err != nil || next == nil {
		return err
	}
	ring := localRing{Format: localRingFormat, Keys: make(map[string]*localKey, len(l.ring.Keys)+1)}
	for n, k := range l.ring.Keys {
		ring.Keys[n] = k
	}
	ring.Keys[name] = next
	if err := l.write(ring); err != nil {
		return err
	}
	l.ring = ring
	return nil
}

// key returns the named key, checking that it exists and has the wanted type
// ("" accepts any). Key entries are never mutated in place, so the result may
// be used after the lock is released.
func (l *Local) key(name string, want KeyType) (*localKey, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	l.mu.RLock()
	k := l.ring.Keys[name]
	l.mu.RUnlock()
	if k == nil {
		return nil, errNotFound(name)
	}
	if want != "" && k.Type != want {
		return nil, errTypeMismatch(name, k.Type, want)
	}
	return k, nil
}

// at returns version v of the key (0 = latest) and its number; a retired
// version is gone.
func (k *localKey) at(v int) (localVersion, int, bool) {
	if v == 0 {
		v = k.latest()
	}
	if v < k.minVersion() || v > k.latest() {
		return localVersion{}, 0, false
	}
	return k.Versions[v-k.minVersion()], v, true
}

// version returns version v (0 = latest) of the named key of the wanted type.
func (l *Local) version(name string, want KeyType, v int) (localVersion, int, error) {
	k, err := l.key(name, want)
	if err != nil {
		return localVersion{}, 0, err
	}
	kv, got, ok := k.at(v)
	if !ok {
		return localVersion{}, 0, errVersionInvalid(name, v)
	}
	return kv, got, nil
}

// EnsureKey implements KeyManager. Local always may create keys.
func (l *Local) EnsureKey(_ context.Context, name string, typ KeyType) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := checkType(typ); err != nil {
		return err
	}
	return l.update(name, func(k *localKey) (*localKey, error) {
		if k != nil {
			if k.Type != typ {
				return nil, errTypeMismatch(name, k.Type, typ)
			}
			return nil, nil // exists: nothing to write
		}
		v, err := newLocalVersion()
		if err != nil {
			return nil, err
		}
		return &localKey{Type: typ, Versions: []localVersion{v}}, nil
	})
}

// Rotate implements KeyManager.
func (l *Local) Rotate(_ context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return l.update(name, func(k *localKey) (*localKey, error) {
		if k == nil {
			return nil, errNotFound(name)
		}
		v, err := newLocalVersion()
		if err != nil {
			return nil, err
		}
		k.Versions = append(k.Versions, v)
		return k, nil
	})
}

// LatestVersion implements KeyManager.
func (l *Local) LatestVersion(_ context.Context, name string) (int, error) {
	_, v, err := l.version(name, "", 0)
	return v, err
}

// Describe implements KeyManager.
func (l *Local) Describe(_ context.Context, name string) (Versions, error) {
	k, err := l.key(name, "")
	if err != nil {
		return Versions{}, err
	}
	return Versions{Latest: k.latest(), MinDecryption: k.minVersion(), LatestCreated: k.Versions[len(k.Versions)-1].Created}, nil
}

// Retire implements KeyManager: the retired versions' secrets are dropped
// from the keyring, which is rewritten atomically, and the replaced file's
// contents are overwritten. Copies of the keyring file made before (backups)
// still hold them: the local keyring is for development, where that is
// accepted; Vault keeps key material in its own storage.
func (l *Local) Retire(_ context.Context, name string, below int) error {
	if err := checkName(name); err != nil {
		return err
	}
	return l.update(name, func(k *localKey) (*localKey, error) {
		switch {
		case k == nil:
			return nil, errNotFound(name)
		case below < 1 || below > k.latest():
			return nil, errVersionInvalid(name, below)
		case below <= k.minVersion():
			return nil, nil // already retired: nothing to write
		}
		// The secrets are not cleared in memory: a call in flight may still
		// be reading them, and the published keyring drops them with this.
		k.Versions = append([]localVersion(nil), k.Versions[below-k.minVersion():]...)
		k.MinVersion = below
		return k, nil
	})
}

func newGCM(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "KEY_INVALID", "key material is unusable")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "KEY_INVALID", "key material is unusable")
	}
	return aead, nil
}

// WrapKey implements KeyManager: AES-256-GCM with a random 96-bit nonce, the
// payload being nonce || ciphertext || tag (the same layout Vault uses).
func (l *Local) WrapKey(_ context.Context, name string, plaintext, aad []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, errs.E(errs.InvalidArgument, ReasonPlaintextEmpty, "nothing to wrap")
	}
	kv, ver, err := l.version(name, TypeAES256GCM, 0)
	if err != nil {
		return nil, err
	}
	return sealLocal(kv, ver, plaintext, aad)
}

func sealLocal(kv localVersion, ver int, plaintext, aad []byte) ([]byte, error) {
	aead, err := newGCM(kv.Secret)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, errs.Wrap(err, errs.Internal, "NONCE_GENERATION_FAILED", "cannot wrap key")
	}
	return formatWrapped(localPrefix, ver, aead.Seal(nonce, nonce, plaintext, aad)), nil
}

// UnwrapKey implements KeyManager.
func (l *Local) UnwrapKey(_ context.Context, name string, wrapped, aad []byte) ([]byte, error) {
	// Look the key up first so a missing key reads as KEY_NOT_FOUND rather
	// than as a bad wrapped value.
	k, err := l.key(name, TypeAES256GCM)
	if err != nil {
		return nil, err
	}
	ver, payload, err := parseWrapped(localPrefix, wrapped)
	if err != nil {
		return nil, err
	}
	kv, _, ok := k.at(ver)
	if !ok {
		// The envelope names a version this key never had.
		return nil, errWrappedInvalid(nil)
	}
	aead, err := newGCM(kv.Secret)
	if err != nil {
		return nil, err
	}
	if len(payload) < aead.NonceSize()+aead.Overhead() {
		return nil, errWrappedInvalid(nil)
	}
	nonce, ct := payload[:aead.NonceSize()], payload[aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, aad)
	if err != nil {
		// GCM does not say why (tampering or wrong aad); neither do we.
		return nil, errWrappedInvalid(nil)
	}
	return pt, nil
}

// Rewrap implements KeyManager. The plaintext exists only inside this call
// and is cleared before returning.
func (l *Local) Rewrap(ctx context.Context, name string, wrapped, aad []byte) ([]byte, error) {
	pt, err := l.UnwrapKey(ctx, name, wrapped, aad)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	kv, ver, err := l.version(name, TypeAES256GCM, 0)
	if err != nil {
		return nil, err
	}
	return sealLocal(kv, ver, pt, aad)
}

// WrappedVersion implements KeyManager.
func (l *Local) WrappedVersion(wrapped []byte) (int, error) {
	v, _, err := parseWrapped(localPrefix, wrapped)
	return v, err
}

// Sign implements KeyManager.
func (l *Local) Sign(_ context.Context, name string, msg []byte) (Signature, error) {
	kv, ver, err := l.version(name, TypeEd25519, 0)
	if err != nil {
		return Signature{}, err
	}
	return Signature{KeyVersion: ver, Sig: ed25519.Sign(ed25519.NewKeyFromSeed(kv.Secret), msg)}, nil
}

// Verify implements KeyManager.
func (l *Local) Verify(_ context.Context, name string, msg []byte, sig Signature) error {
	k, err := l.key(name, TypeEd25519)
	if err != nil {
		return err
	}
	if sig.KeyVersion < 1 {
		return errSignatureInvalid()
	}
	kv, _, ok := k.at(sig.KeyVersion)
	if !ok {
		return errSignatureInvalid()
	}
	pub := ed25519.NewKeyFromSeed(kv.Secret).Public().(ed25519.PublicKey)
	if !ed25519.Verify(pub, msg, sig.Sig) {
		return errSignatureInvalid()
	}
	return nil
}

// PublicKey implements KeyManager.
func (l *Local) PublicKey(_ context.Context, name string, version int) (ed25519.PublicKey, error) {
	kv, _, err := l.version(name, TypeEd25519, version)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(kv.Secret).Public().(ed25519.PublicKey), nil
}

// HMAC implements KeyManager.
func (l *Local) HMAC(_ context.Context, name string, version int, msg []byte) ([]byte, error) {
	kv, _, err := l.version(name, "", version)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, kv.HMACSecret)
	m.Write(msg)
	return m.Sum(nil), nil
}

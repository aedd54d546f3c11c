// Package keys is Sotto's key-management boundary. Services never hold
// key-encryption, signing or MAC keys themselves: they ask a KeyManager to wrap
// data keys, sign checkpoints and compute keyed hashes by key name.
//
// Two implementations share one contract (see package keystest):
//
//   - Vault talks to HashiCorp Vault's Transit engine; key material never
//     leaves Vault. This is the production backend.
//   - Local keeps a file keyring for the embedded default (`make run`), so the
//     suite runs on one machine with nothing to install.
//
// All errors are *errs.Error values; none of them ever contains plaintext,
// wrapped data or key material.
package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// KeyType is the algorithm of a named key. The values are Vault Transit's type
// names so that both backends speak the same vocabulary.
type KeyType string

const (
	// TypeAES256GCM keys wrap and unwrap data keys (AES-256-GCM with
	// associated data) and compute HMACs.
	TypeAES256GCM KeyType = "aes256-gcm96"
	// TypeEd25519 keys sign and verify (pure Ed25519 over the message) and
	// compute HMACs.
	TypeEd25519 KeyType = "ed25519"
)

// Signature is an Ed25519 signature made by one version of a named key.
type Signature struct {
	// KeyVersion is the key version that made the signature; verifiers need it
	// to pick the public key after rotations.
	KeyVersion int
	// Sig is the raw 64-byte Ed25519 signature.
	Sig []byte
}

// KeyManager manages named, versioned keys. Implementations are safe for
// concurrent use.
//
// Wrapped values have the form "<backend>:v<version>:<base64 std encoding>",
// e.g. "vault:v3:..." or "local:v3:...", so they can be stored as opaque text
// and still say which key version opens them.
//
// Errors use pkg/errs. Every implementation returns:
//   - InvalidArgument KEY_NAME_INVALID / KEY_TYPE_UNSUPPORTED for bad input,
//   - FailedPrecondition KEY_NOT_FOUND when the named key does not exist,
//   - FailedPrecondition KEY_TYPE_MISMATCH when the key cannot do the operation,
//   - InvalidArgument WRAPPED_KEY_INVALID when a wrapped value does not open
//     (tampered, truncated, wrong aad, unknown version, another backend's),
//   - InvalidArgument SIGNATURE_INVALID when a signature does not verify,
//   - InvalidArgument KEY_VERSION_INVALID for a version the key does not have.
type KeyManager interface {
	// EnsureKey makes sure the named key exists with the given type. It creates
	// a missing key when the backend allows it; the production Vault policies
	// do not grant create, so there a missing key fails closed with
	// FailedPrecondition KEY_NOT_FOUND. An existing key of another type is
	// FailedPrecondition KEY_TYPE_MISMATCH.
	EnsureKey(ctx context.Context, name string, typ KeyType) error
	// WrapKey encrypts plaintext (normally a data key) under the latest version
	// of an aes256-gcm96 key, binding aad to the result.
	WrapKey(ctx context.Context, name string, plaintext, aad []byte) ([]byte, error)
	// UnwrapKey reverses WrapKey; the same aad must be given.
	UnwrapKey(ctx context.Context, name string, wrapped, aad []byte) ([]byte, error)
	// Rewrap re-encrypts a wrapped value under the latest key version without
	// returning the plaintext to the caller (used after rotation).
	Rewrap(ctx context.Context, name string, wrapped, aad []byte) ([]byte, error)
	// WrappedVersion returns the key version a wrapped value was made with.
	WrappedVersion(wrapped []byte) (int, error)
	// Sign signs msg itself (pure Ed25519, not a prehash) with the latest
	// version of an ed25519 key.
	Sign(ctx context.Context, name string, msg []byte) (Signature, error)
	// Verify returns nil iff sig is a valid signature of msg by the named key
	// at sig.KeyVersion.
	Verify(ctx context.Context, name string, msg []byte, sig Signature) error
	// PublicKey returns the public key of an ed25519 key version; 0 means latest.
	PublicKey(ctx context.Context, name string, version int) (ed25519.PublicKey, error)
	// HMAC returns HMAC-SHA256(msg) under the key's per-version HMAC secret;
	// 0 means latest. The result is deterministic for a given version, which
	// is what makes it usable as a pseudonymous lookup handle.
	HMAC(ctx context.Context, name string, version int, msg []byte) ([]byte, error)
	// Rotate adds a new latest version; old versions keep working for unwrap,
	// verify and HMAC.
	Rotate(ctx context.Context, name string) error
	// LatestVersion returns the newest version of the key (versions start at 1).
	LatestVersion(ctx context.Context, name string) (int, error)
	// Describe returns the key's live versions and when the latest was made.
	Describe(ctx context.Context, name string) (Versions, error)
	// Retire destroys every version of the key below `below`: what they
	// wrapped no longer unwraps or rewraps, what they signed no longer
	// verifies, their HMACs can no longer be computed, by anyone, from any
	// copy. It is how old copies of wrapped data (in backups, WAL files,
	// replicas) are made useless once the live ones were rewrapped. below
	// must lie in 1..latest (else InvalidArgument KEY_VERSION_INVALID);
	// retiring what is already retired is a no-op.
	Retire(ctx context.Context, name string, below int) error
}

// Versions describes the live versions of a key.
type Versions struct {
	// Latest is the newest version, the one new wraps and signatures use.
	Latest int
	// MinDecryption is the oldest version that still unwraps, verifies and
	// HMACs; the versions below it were retired.
	MinDecryption int
	// LatestCreated is when the latest version was made (Vault records it to
	// the second).
	LatestCreated time.Time
}

// Error reasons shared by the implementations.
const (
	ReasonKeyNotFound        = "KEY_NOT_FOUND"
	ReasonKeyNameInvalid     = "KEY_NAME_INVALID"
	ReasonKeyTypeUnsupported = "KEY_TYPE_UNSUPPORTED"
	ReasonKeyTypeMismatch    = "KEY_TYPE_MISMATCH"
	ReasonKeyVersionInvalid  = "KEY_VERSION_INVALID"
	ReasonWrappedKeyInvalid  = "WRAPPED_KEY_INVALID"
	ReasonPlaintextEmpty     = "PLAINTEXT_EMPTY"
	ReasonSignatureInvalid   = "SIGNATURE_INVALID"
	ReasonBackendUnavailable = "KEY_BACKEND_UNAVAILABLE"
	ReasonAccessDenied       = "KEY_ACCESS_DENIED"
)

// keyNameRE is the subset of Vault's key-name syntax we accept. Names end up in
// Vault URL paths, so anything outside it (a slash above all) must be rejected
// before a request is built.
var keyNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9])?$`)

func checkName(name string) error {
	if !keyNameRE.MatchString(name) {
		return errs.E(errs.InvalidArgument, ReasonKeyNameInvalid, "invalid key name")
	}
	return nil
}

func checkType(typ KeyType) error {
	switch typ {
	case TypeAES256GCM, TypeEd25519:
		return nil
	}
	return errs.E(errs.InvalidArgument, ReasonKeyTypeUnsupported, "unsupported key type")
}

func errNotFound(name string) error {
	return errs.E(errs.FailedPrecondition, ReasonKeyNotFound, "key %q does not exist", name)
}

func errTypeMismatch(name string, have, want KeyType) error {
	return errs.E(errs.FailedPrecondition, ReasonKeyTypeMismatch, "key %q is %s, need %s", name, have, want)
}

func errWrappedInvalid(cause error) error {
	if cause == nil {
		return errs.E(errs.InvalidArgument, ReasonWrappedKeyInvalid, "wrapped key is invalid")
	}
	return errs.Wrap(cause, errs.InvalidArgument, ReasonWrappedKeyInvalid, "wrapped key is invalid")
}

func errSignatureInvalid() error {
	return errs.E(errs.InvalidArgument, ReasonSignatureInvalid, "signature is invalid")
}

func errVersionInvalid(name string, version int) error {
	return errs.E(errs.InvalidArgument, ReasonKeyVersionInvalid, "key %q has no version %d", name, version)
}

// formatWrapped renders "<prefix>:v<version>:<base64 payload>".
func formatWrapped(prefix string, version int, payload []byte) []byte {
	return []byte(prefix + ":v" + strconv.Itoa(version) + ":" + base64.StdEncoding.EncodeToString(payload))
}

// parseWrapped splits a wrapped value made by the backend with the given
// prefix. It only checks the envelope; the payload is authenticated by the
// backend when it is opened.
func parseWrapped(prefix string, wrapped []byte) (version int, payload []byte, err error) {
	rest, ok := strings.CutPrefix(string(wrapped), prefix+":v")
	if !ok {
		return 0, nil, errWrappedInvalid(nil)
	}
	v, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, nil, errWrappedInvalid(nil)
	}
	version, err = strconv.Atoi(v)
	// Atoi accepts "+1" and "01"; insist on the canonical form so one wrapped
	// value has exactly one spelling.
	if err != nil || version < 1 || strconv.Itoa(version) != v {
		return 0, nil, errWrappedInvalid(nil)
	}
	payload, err = base64.StdEncoding.DecodeString(b64)
	if err != nil || len(payload) == 0 {
		return 0, nil, errWrappedInvalid(nil)
	}
	return version, payload, nil
}

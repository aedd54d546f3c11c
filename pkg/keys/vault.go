package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/errs"
)

// Vault is a KeyManager backed by HashiCorp Vault's Transit secrets engine.
// Key material never leaves Vault: this type only sends inputs and receives
// ciphertexts, signatures, MACs and public keys.
//
// The token needs, per key it uses: read on <mount>/keys/NAME (the first call
// for a key learns its type from it) plus the operation paths
// (<mount>/encrypt/NAME, decrypt, rewrap, sign, verify, hmac/NAME/sha2-256,
// keys/NAME/rotate, and for Retire keys/NAME/config and keys/NAME/trim).
// deploy/vault/policies holds the production policies.
type Vault struct {
	client *api.Client
	mount  string

	// types caches each key's type once it has been seen to exist. Transit
	// keys cannot change type and ours are never deleted, so the cache never
	// goes stale; it saves one round trip per operation.
	types sync.Map // key name → KeyType
}

var _ KeyManager = (*Vault)(nil)

// vaultPrefix is Transit's own ciphertext prefix ("vault:v3:...").
const vaultPrefix = "vault"

// NewVault returns a KeyManager using the Transit engine mounted at mount
// ("transit" when empty). The client carries the address and token.
func NewVault(client *api.Client, mount string) *Vault {
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = "transit"
	}
	return &Vault{client: client, mount: mount}
}

func (v *Vault) path(parts ...string) string {
	return v.mount + "/" + strings.Join(parts, "/")
}

// vaultErr maps a Vault API error to a Sotto error. badRequest is the error
// for HTTP 400, which Transit returns for bad inputs (a ciphertext that does
// not open, an unknown version); callers pick the meaning that fits the call.
// The cause is kept for server logs: Vault's error text names paths and
// reasons but never echoes plaintext or keys.
func vaultErr(err error, badRequest func(cause error) error) error {
	if errors.Is(err, context.Canceled) {
		return err // the caller went away; errs.ToStatus maps it to Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(err, errs.DeadlineExceeded, ReasonBackendUnavailable, "key backend timed out")
	}
	var re *api.ResponseError
	if !errors.As(err, &re) {
		// No HTTP response at all: connection refused, TLS, DNS, ...
		return errs.Wrap(err, errs.Unavailable, ReasonBackendUnavailable, "key backend unavailable")
	}
	switch {
	case re.StatusCode == http.StatusBadRequest && badRequest != nil:
		return badRequest(err)
	case re.StatusCode == http.StatusBadRequest:
		return errs.Wrap(err, errs.InvalidArgument, "KEY_REQUEST_INVALID", "key backend rejected the request")
	case re.StatusCode == http.StatusForbidden:
		return errs.Wrap(err, errs.PermissionDenied, ReasonAccessDenied, "access to key denied")
	case re.StatusCode == http.StatusNotFound:
		return errs.Wrap(err, errs.FailedPrecondition, ReasonKeyNotFound, "key does not exist")
	case re.StatusCode == http.StatusTooManyRequests, re.StatusCode >= 500:
		// 5xx includes 503 for a sealed or standby Vault: retryable.
		return errs.Wrap(err, errs.Unavailable, ReasonBackendUnavailable, "key backend unavailable")
	}
	return errs.Wrap(err, errs.Internal, "KEY_BACKEND_ERROR", "key backend error")
}

func (v *Vault) write(ctx context.Context, path string, data map[string]any, badRequest func(error) error) (map[string]any, error) {
	s, err := v.client.Logical().WriteWithContext(ctx, path, data)
	if err != nil {
		return nil, vaultErr(err, badRequest)
	}
	if s == nil {
		return nil, nil
	}
	return s.Data, nil
}

// keyInfo is the part of Transit's key description we use.
type keyInfo struct {
	typ    KeyType
	latest int
	// Version floors; Transit reports 0 for a floor never set.
	minDecryption, minEncryption, minAvailable int
	keys                                       map[string]any // version → creation time (symmetric) or details (asymmetric)
}

// readKey reads <mount>/keys/NAME; a missing key is KEY_NOT_FOUND.
func (v *Vault) readKey(ctx context.Context, name string) (keyInfo, error) {
	if err := checkName(name); err != nil {
		return keyInfo{}, err
	}
	s, err := v.client.Logical().ReadWithContext(ctx, v.path("keys", name))
	if err != nil {
		return keyInfo{}, vaultErr(err, nil)
	}
	if s == nil || s.Data == nil {
		return keyInfo{}, errNotFound(name) // the API client turns 404 into (nil, nil)
	}
	typ, _ := s.Data["type"].(string)
	latest, err := toInt(s.Data["latest_version"])
	if err != nil {
		return keyInfo{}, errs.Wrap(err, errs.Internal, "KEY_BACKEND_ERROR", "unexpected key description")
	}
	keys, _ := s.Data["keys"].(map[string]any)
	info := keyInfo{typ: KeyType(typ), latest: latest, keys: keys}
	for field, dst := range map[string]*int{
		"min_decryption_version": &info.minDecryption,
		"min_encryption_version": &info.minEncryption,
		"min_available_version":  &info.minAvailable,
	} {
		if *dst, err = toInt(s.Data[field]); err != nil {
			return keyInfo{}, errs.Wrap(err, errs.Internal, "KEY_BACKEND_ERROR", "unexpected key description")
		}
	}
	v.types.Store(name, info.typ)
	return info, nil
}

// require makes sure the key exists and has the wanted type ("" for any),
// from the cache when possible. Checking up front means a missing key never
// reaches an upserting endpoint (Transit's encrypt creates missing keys for
// tokens that may), and errors are the same as Local's.
func (v *Vault) require(ctx context.Context, name string, want KeyType) error {
	if err := checkName(name); err != nil {
		return err
	}
	var have KeyType
	if t, ok := v.types.Load(name); ok {
		have = t.(KeyType)
	} else {
		info, err := v.readKey(ctx, name)
		if err != nil {
			return err
		}
		have = info.typ
	}
	if want != "" && have != want {
		return errTypeMismatch(name, have, want)
	}
	return nil
}

// EnsureKey implements KeyManager.
func (v *Vault) EnsureKey(ctx context.Context, name string, typ KeyType) error {
	if err := checkType(typ); err != nil {
		return err
	}
	info, err := v.readKey(ctx, name)
	if err == nil {
		if info.typ != typ {
			return errTypeMismatch(name, info.typ, typ)
		}
		return nil
	}
	if errs.ReasonOf(err) != ReasonKeyNotFound {
		return err
	}
	// Creating a key that already exists is a no-op in Transit, so a
	// concurrent creator is harmless; the read below checks who won.
	_, err = v.write(ctx, v.path("keys", name), map[string]any{"type": string(typ)}, nil)
	if errs.KindOf(err) == errs.PermissionDenied {
		// Production tokens may not create keys: fail closed, pointing at the
		// missing key rather than at the policy.
		return errs.Wrap(err, errs.FailedPrecondition, ReasonKeyNotFound, "key %q does not exist and may not be created", name)
	}
	if err != nil {
		return err
	}
	info, err = v.readKey(ctx, name)
	if err != nil {
		return err
	}
	if info.typ != typ {
		return errTypeMismatch(name, info.typ, typ)
	}
	return nil
}

// Rotate implements KeyManager.
func (v *Vault) Rotate(ctx context.Context, name string) error {
	if err := v.require(ctx, name, ""); err != nil {
		return err
	}
	_, err := v.write(ctx, v.path("keys", name, "rotate"), nil, nil)
	return err
}

// LatestVersion implements KeyManager. It always asks Vault, since another
// process (the operator) may have rotated the key.
func (v *Vault) LatestVersion(ctx context.Context, name string) (int, error) {
	info, err := v.readKey(ctx, name)
	if err != nil {
		return 0, err
	}
	return info.latest, nil
}

// Describe implements KeyManager, from the key description.
func (v *Vault) Describe(ctx context.Context, name string) (Versions, error) {
	info, err := v.readKey(ctx, name)
	if err != nil {
		return Versions{}, err
	}
	created, err := versionCreated(info.keys[strconv.Itoa(info.latest)])
	if err != nil {
		return Versions{}, errs.Wrap(err, errs.Internal, "KEY_BACKEND_ERROR", "unexpected key description")
	}
	return Versions{Latest: info.latest, MinDecryption: max(info.minDecryption, 1), LatestCreated: created}, nil
}

// versionCreated reads a version's creation time from Transit's key
// description: Unix seconds for symmetric keys, an RFC 3339 creation_time
// for asymmetric ones.
func versionCreated(entry any) (time.Time, error) {
	if m, ok := entry.(map[string]any); ok {
		s, _ := m["creation_time"].(string)
		return time.Parse(time.RFC3339Nano, s)
	}
	sec, err := toInt(entry)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(sec), 0).UTC(), nil
}

// Retire implements KeyManager: Transit's min_decryption_version (and
// min_encryption_version, which trimming requires) is raised to below, then
// the versions below it are trimmed, which deletes them from Vault's
// storage. Only raised, never lowered: an operator may have set a higher
// floor. The token needs update on keys/NAME/config (limited to those two
// parameters by its policy) and keys/NAME/trim.
func (v *Vault) Retire(ctx context.Context, name string, below int) error {
	info, err := v.readKey(ctx, name)
	if err != nil {
		return err
	}
	if below < 1 || below > info.latest {
		return errVersionInvalid(name, below)
	}
	if below == 1 || info.minAvailable >= below {
		return nil // nothing below version 1, or already trimmed
	}
	cfg := map[string]any{}
	if info.minDecryption < below {
		cfg["min_decryption_version"] = below
	}
	if info.minEncryption < below {
		cfg["min_encryption_version"] = below
	}
	if len(cfg) > 0 {
		if _, err := v.write(ctx, v.path("keys", name, "config"), cfg, nil); err != nil {
			return err
		}
	}
	_, err = v.write(ctx, v.path("keys", name, "trim"), map[string]any{"min_available_version": below}, nil)
	return err
}

func encodeAAD(data map[string]any, aad []byte) {
	// Transit's associated_data is only honoured for AEAD key types; ours
	// is aes256-gcm96. An empty aad is simply not sent.
	if len(aad) > 0 {
		data["associated_data"] = base64.StdEncoding.EncodeToString(aad)
	}
}

func ciphertextOf(data map[string]any) ([]byte, error) {
	ct, _ := data["ciphertext"].(string)
	if _, _, err := parseWrapped(vaultPrefix, []byte(ct)); err != nil {
		return nil, errs.E(errs.Internal, "KEY_BACKEND_ERROR", "unexpected ciphertext from key backend")
	}
	return []byte(ct), nil
}

// WrapKey implements KeyManager (transit/encrypt).
func (v *Vault) WrapKey(ctx context.Context, name string, plaintext, aad []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, errs.E(errs.InvalidArgument, ReasonPlaintextEmpty, "nothing to wrap")
	}
	if err := v.require(ctx, name, TypeAES256GCM); err != nil {
		return nil, err
	}
	req := map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plaintext)}
	encodeAAD(req, aad)
	data, err := v.write(ctx, v.path("encrypt", name), req, nil)
	if err != nil {
		return nil, err
	}
	return ciphertextOf(data)
}

// UnwrapKey implements KeyManager (transit/decrypt).
func (v *Vault) UnwrapKey(ctx context.Context, name string, wrapped, aad []byte) ([]byte, error) {
	if err := v.require(ctx, name, TypeAES256GCM); err != nil {
		return nil, err
	}
	// Reject what is not a Transit ciphertext before sending it anywhere.
	if _, _, err := parseWrapped(vaultPrefix, wrapped); err != nil {
		return nil, err
	}
	req := map[string]any{"ciphertext": string(wrapped)}
	encodeAAD(req, aad)
	data, err := v.write(ctx, v.path("decrypt", name), req, errWrappedInvalid)
	if err != nil {
		return nil, err
	}
	b64, _ := data["plaintext"].(string)
	pt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errs.E(errs.Internal, "KEY_BACKEND_ERROR", "unexpected plaintext encoding from key backend")
	}
	return pt, nil
}

// Rewrap implements KeyManager. Without aad it uses transit/rewrap, so the
// plaintext never leaves Vault. Transit's rewrap ignores associated_data (up
// to at least Vault 1.21), which would make every AAD-bound value fail to
// open, so with aad it decrypts and re-encrypts instead: the plaintext then
// passes through this process's memory (cleared afterwards) but is still
// never returned to the caller.
func (v *Vault) Rewrap(ctx context.Context, name string, wrapped, aad []byte) ([]byte, error) {
	if len(aad) > 0 {
		pt, err := v.UnwrapKey(ctx, name, wrapped, aad)
		if err != nil {
			return nil, err
		}
		defer clear(pt)
		return v.WrapKey(ctx, name, pt, aad)
	}
	if err := v.require(ctx, name, TypeAES256GCM); err != nil {
		return nil, err
	}
	if _, _, err := parseWrapped(vaultPrefix, wrapped); err != nil {
		return nil, err
	}
	data, err := v.write(ctx, v.path("rewrap", name), map[string]any{"ciphertext": string(wrapped)}, errWrappedInvalid)
	if err != nil {
		return nil, err
	}
	return ciphertextOf(data)
}

// WrappedVersion implements KeyManager.
func (v *Vault) WrappedVersion(wrapped []byte) (int, error) {
	ver, _, err := parseWrapped(vaultPrefix, wrapped)
	return ver, err
}

// Sign implements KeyManager (transit/sign, pure Ed25519 over msg).
func (v *Vault) Sign(ctx context.Context, name string, msg []byte) (Signature, error) {
	if err := v.require(ctx, name, TypeEd25519); err != nil {
		return Signature{}, err
	}
	data, err := v.write(ctx, v.path("sign", name), map[string]any{
		"input":     base64.StdEncoding.EncodeToString(msg),
		"prehashed": false,
	}, nil)
	if err != nil {
		return Signature{}, err
	}
	s, _ := data["signature"].(string)
	ver, sig, err := parseWrapped(vaultPrefix, []byte(s))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Signature{}, errs.E(errs.Internal, "KEY_BACKEND_ERROR", "unexpected signature from key backend")
	}
	return Signature{KeyVersion: ver, Sig: sig}, nil
}

// Verify implements KeyManager (transit/verify).
func (v *Vault) Verify(ctx context.Context, name string, msg []byte, sig Signature) error {
	if err := v.require(ctx, name, TypeEd25519); err != nil {
		return err
	}
	if sig.KeyVersion < 1 || len(sig.Sig) != ed25519.SignatureSize {
		return errSignatureInvalid()
	}
	data, err := v.write(ctx, v.path("verify", name), map[string]any{
		"input":     base64.StdEncoding.EncodeToString(msg),
		"signature": string(formatWrapped(vaultPrefix, sig.KeyVersion, sig.Sig)),
		"prehashed": false,
	}, func(error) error { return errSignatureInvalid() }) // e.g. a version the key never had
	if err != nil {
		return err
	}
	if valid, _ := data["valid"].(bool); !valid {
		return errSignatureInvalid()
	}
	return nil
}

// PublicKey implements KeyManager, from the key description (no extra grant
// beyond read on keys/NAME is needed).
func (v *Vault) PublicKey(ctx context.Context, name string, version int) (ed25519.PublicKey, error) {
	info, err := v.readKey(ctx, name) // always fresh: "latest" may have moved
	if err != nil {
		return nil, err
	}
	if info.typ != TypeEd25519 {
		return nil, errTypeMismatch(name, info.typ, TypeEd25519)
	}
	if version == 0 {
		version = info.latest
	}
	entry, _ := info.keys[strconv.Itoa(version)].(map[string]any)
	if entry == nil {
		return nil, errVersionInvalid(name, version)
	}
	b64, _ := entry["public_key"].(string)
	pub, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, errs.E(errs.Internal, "KEY_BACKEND_ERROR", "unexpected public key from key backend")
	}
	return ed25519.PublicKey(pub), nil
}

// HMAC implements KeyManager (transit/hmac/NAME/sha2-256).
func (v *Vault) HMAC(ctx context.Context, name string, version int, msg []byte) ([]byte, error) {
	if err := v.require(ctx, name, ""); err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, errVersionInvalid(name, version)
	}
	data, err := v.write(ctx, v.path("hmac", name, "sha2-256"), map[string]any{
		"input":       base64.StdEncoding.EncodeToString(msg),
		"key_version": version,
	}, func(cause error) error {
		// With the key known to exist, Transit's 400 here means the version.
		return errs.Wrap(cause, errs.InvalidArgument, ReasonKeyVersionInvalid, "key %q has no version %d", name, version)
	})
	if err != nil {
		return nil, err
	}
	s, _ := data["hmac"].(string)
	got, mac, err := parseWrapped(vaultPrefix, []byte(s))
	if err != nil || len(mac) != 32 || (version != 0 && got != version) {
		return nil, errs.E(errs.Internal, "KEY_BACKEND_ERROR", "unexpected HMAC from key backend")
	}
	return mac, nil
}

// toInt reads a JSON number as decoded by the Vault client (json.Number).
func toInt(x any) (int, error) {
	switch n := x.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err
	case float64:
		return int(n), nil
	case int:
		return n, nil
	}
	return 0, fmt.Errorf("not a number: %T", x)
}

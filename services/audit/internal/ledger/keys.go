package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/services/audit/internal/reasons"
)

// SubjectHasher replaces subject identifiers with keyed HMACs, so the log
// never holds them and never needs rewriting when a customer is erased.
//
// The HMAC keys are data keys generated here and stored wrapped by the
// KeyManager (Vault Transit in production): hashing happens in process at the
// speed of SHA-256, while the key is useless to anyone who reads the database
// without access to the key-encryption key.
type SubjectHasher struct {
	km    keys.KeyManager
	kek   string
	store Store

	mu     sync.RWMutex
	keys   map[int][]byte
	latest int
}

func hmacAAD(version int) []byte { return fmt.Appendf(nil, "sotto/audit/subject-hmac/v%d", version) }

// NewSubjectHasher loads (creating on first start) the HMAC keys wrapped by kek.
func NewSubjectHasher(ctx context.Context, km keys.KeyManager, kek string, store Store) (*SubjectHasher, error) {
	h := &SubjectHasher{km: km, kek: kek, store: store}
	if err := h.load(ctx); err != nil {
		return nil, err
	}
	if h.latest == 0 {
		if err := h.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	if _, ok := h.keys[1]; !ok {
		return nil, errs.E(errs.Internal, reasons.HmacKeyMissing, "subject HMAC key version 1 is missing")
	}
	return h, nil
}

func (h *SubjectHasher) load(ctx context.Context) error {
	wrapped, err := h.store.HMACKeys(ctx)
	if err != nil {
		return err
	}
	loaded := make(map[int][]byte, len(wrapped))
	latest := 0
	for v, w := range wrapped {
		k, err := h.km.UnwrapKey(ctx, h.kek, w, hmacAAD(v))
		if err != nil {
			return err
		}
		if len(k) != 32 {
			// A short key would make the "keyed" hash guessable.
			return errs.E(errs.Internal, reasons.HmacKeyInvalid, "subject HMAC key has the wrong length")
		}
		loaded[v] = k
		latest = max(latest, v)
	}
	h.mu.Lock()
	h.keys, h.latest = loaded, latest
	h.mu.Unlock()
	return nil
}

// Rotate adds a new HMAC key version; new events use it. Old versions stay
// so that searches by subject still find older events.
func (h *SubjectHasher) Rotate(ctx context.Context) error {
	h.mu.RLock()
	next := h.latest + 1
	h.mu.RUnlock()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return errs.Wrap(err, errs.Internal, reasons.RandomFailed, "cannot generate key")
	}
	w, err := h.km.WrapKey(ctx, h.kek, k, hmacAAD(next))
	if err != nil {
		return err
	}
	// Another replica may have added this version first; then use theirs.
	if err := h.store.AddHMACKey(ctx, next, w); err != nil && !errs.Is(err, errs.AlreadyExists) {
		return err
	}
	return h.load(ctx)
}

// Hash returns the hex HMAC of subject under the latest key, and that key's
// version. The empty subject hashes to "".
func (h *SubjectHasher) Hash(_ context.Context, subject string) (string, int, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if subject == "" {
		return "", h.latest, nil
	}
	return mac(h.keys[h.latest], subject), h.latest, nil
}

// HashAll returns the subject's HMAC under every key version, for searching.
func (h *SubjectHasher) HashAll(subject string) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	versions := make([]int, 0, len(h.keys))
	for v := range h.keys {
		versions = append(versions, v)
	}
	sort.Ints(versions)
	out := make([]string, len(versions))
	for i, v := range versions {
		out[i] = mac(h.keys[v], subject)
	}
	return out
}

// Digest identifies what a workload submitted, so that an idempotent re-send
// is told apart from a different event reusing an ID (by mistake, or to
// suppress another workload's record). It is keyed, because the submission
// holds raw subject identifiers, and always uses the first key version, so
// that a re-send after a key rotation still matches.
func (h *SubjectHasher) Digest(workload string, in *auditv1.EventInput) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(in)
	h.mu.RLock()
	first := h.keys[1]
	h.mu.RUnlock()
	m := hmac.New(sha256.New, first)
	m.Write([]byte(workload))
	m.Write([]byte{0})
	m.Write(b)
	return m.Sum(nil)
}

// PageTokenKey is the key that signs the audit service's page tokens. It is
// derived with HKDF-SHA256 (its own info label, so it is independent of the
// subject hashes) from HMAC key version 1, which every replica unwraps from
// the database and no rotation removes: tokens issued by one replica are
// accepted by the others and after a restart, and no further key is stored.
func (h *SubjectHasher) PageTokenKey() ([]byte, error) {
	return h.derive("sotto/audit/page-token/v1")
}

// PrivacyEventKey is the key that derives the IDs of the events audit
// records for data-subject requests (see server.Privacy), derived like
// PageTokenKey under its own label. Keyed, so that no other workload can
// compute such an ID and take it first (the log would then refuse audit's
// record as EVENT_ID_CONFLICT, and the request could never complete).
func (h *SubjectHasher) PrivacyEventKey() ([]byte, error) {
	return h.derive("sotto/audit/privacy-event-id/v1")
}

func (h *SubjectHasher) derive(label string) ([]byte, error) {
	h.mu.RLock()
	first := h.keys[1]
	h.mu.RUnlock()
	k, err := hkdf.Key(sha256.New, first, nil, label, 32)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.KeyDerivationFailed, "cannot derive a key from the subject HMAC key")
	}
	return k, nil
}

func mac(key []byte, subject string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(subject))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckpointSigner signs checkpoints in the C2SP signed-note format with an
// Ed25519 key held by the KeyManager: the private key never leaves it.
type CheckpointSigner struct {
	km     keys.KeyManager
	key    string
	origin string

	mu       sync.Mutex
	version  int
	pub      ed25519.PublicKey
	verifier note.Verifier
	vkey     string
}

// NewCheckpointSigner uses the KeyManager's Ed25519 key named key; origin is
// the log's identity (first checkpoint line and note key name).
func NewCheckpointSigner(ctx context.Context, km keys.KeyManager, key, origin string) (*CheckpointSigner, error) {
	s := &CheckpointSigner{km: km, key: key, origin: origin}
	if err := s.refresh(ctx, 0); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *CheckpointSigner) refresh(ctx context.Context, version int) error {
	if version == 0 {
		v, err := s.km.LatestVersion(ctx, s.key)
		if err != nil {
			return err
		}
		version = v
	}
	pub, err := s.km.PublicKey(ctx, s.key, version)
	if err != nil {
		return err
	}
	vkey, err := note.NewEd25519VerifierKey(s.origin, pub)
	if err != nil {
		return errs.Wrap(err, errs.InvalidArgument, reasons.InvalidOrigin, "checkpoint origin is not a valid note key name")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return errs.Wrap(err, errs.Internal, reasons.VerifierFailed, "cannot build checkpoint verifier")
	}
	s.mu.Lock()
	s.version, s.pub, s.verifier, s.vkey = version, pub, v, vkey
	s.mu.Unlock()
	return nil
}

// Origin is the log's origin line.
func (s *CheckpointSigner) Origin() string { return s.origin }

// VerifierKey is the note verifier key (name+hash+key) of the signing key.
func (s *CheckpointSigner) VerifierKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vkey
}

// Sign returns the signed checkpoint note for a tree of the given size and root.
func (s *CheckpointSigner) Sign(ctx context.Context, size uint64, root []byte) ([]byte, error) {
	body := log.Checkpoint{Origin: s.origin, Size: size, Hash: root}.Marshal()
	ns := &noteSigner{s: s, ctx: ctx}
	signed, err := note.Sign(&note.Note{Text: string(body)}, ns)
	if ns.err != nil {
		return nil, ns.err
	}
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.CheckpointSignFailed, "cannot sign checkpoint")
	}
	return signed, nil
}

// noteSigner adapts the KeyManager to note.Signer.
type noteSigner struct {
	s   *CheckpointSigner
	ctx context.Context
	err error
}

func (n *noteSigner) Name() string { return n.s.origin }

func (n *noteSigner) KeyHash() uint32 {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	return n.s.verifier.KeyHash()
}

func (n *noteSigner) Sign(msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	defer cancel()
	sig, err := n.s.km.Sign(ctx, n.s.key, msg)
	if err != nil {
		n.err = err
		return nil, err
	}
	n.s.mu.Lock()
	version, pub := n.s.version, n.s.pub
	n.s.mu.Unlock()
	if sig.KeyVersion != version || !ed25519.Verify(pub, msg, sig.Sig) {
		// The key was rotated since we loaded it: pick up the new public key
		// and make the caller retry, so key hash and signature always match.
		if rerr := n.s.refresh(ctx, sig.KeyVersion); rerr != nil {
			n.err = rerr
			return nil, rerr
		}
		n.err = errs.E(errs.Unavailable, reasons.SigningKeyRotated, "checkpoint signing key rotated; retry")
		return nil, n.err
	}
	return sig.Sig, nil
}

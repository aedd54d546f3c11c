// Package sealing holds the conversation service's HPKE (RFC 9180) key
// pairs for end-to-end sealed messages: clients seal a message to the
// service's public key, so the gateway, load balancers and any proxy that
// terminates TLS relay ciphertext only, and the service seals the reply to
// a key the client made for its session.
//
// The suite is MLKEM768-X25519 (X-Wing, draft-ietf-hpke-pq: post-quantum
// and classical at once), HKDF-SHA256 and ChaCha20Poly1305, all from Go's
// crypto/hpke, in base mode. Messages to the service use the info string
// "sotto/conversation/v1 message", replies "sotto/conversation/v1 reply";
// the conversation id is the associated data, so a ciphertext cannot be
// replayed into another conversation.
//
// No private key is stored anywhere. A key belongs to a rotation period
// (SOTTO_CONVERSATION_SEALING_ROTATION, 30 days by default, counted from
// the Unix epoch) and its 32-byte seed is an HMAC under the KeyManager's
// conversation-secrets key of a label naming the period's start; X-Wing's
// DeriveKeyPair turns the seed into the key pair. So every replica derives
// the same keys without sharing anything but the KeyManager, and the
// key material never rests in a file or database. The current and the
// previous period's keys are served; a message sealed to an older key is
// refused (SEALING_KEY_EXPIRED), so a client that fetched the keys just
// before a rotation has a whole period to use them.
package sealing

import (
	"context"
	"crypto/hpke"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/sealclient"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// The wire contract, one definition for the service and its clients
// (pkg/sealclient): the info strings of the two directions (the proto's
// Sealed message) and the suite. X-Wing has the only published HPKE test
// vector with HKDF-SHA256 among the hybrid KEMs crypto/hpke implements,
// with ChaCha20Poly1305 (draft-ietf-hpke-pq), which the tests check.
const (
	InfoMessage = sealclient.InfoMessage
	InfoReply   = sealclient.InfoReply
)

var (
	KEM  = sealclient.KEM
	KDF  = sealclient.KDF
	AEAD = sealclient.AEAD
)

// DefaultRotation is how long a key is the current one.
const DefaultRotation = 30 * 24 * time.Hour

// keyIDPrefix starts every key id; the rest is the period's start in Unix
// seconds. The suite is in the prefix so that another suite gets other ids.
const keyIDPrefix = "xwing-"

// seedVersion is the conversation-secrets version whose HMAC secret seeds
// the keys: the first, as for the service's other derivations, so that a
// Transit rotation of conversation-secrets changes no sealing key.
const seedVersion = 1

// PublicKey is one published key.
type PublicKey struct {
	ID string
	// Bytes is the serialised public key (1216 bytes for X-Wing).
	Bytes []byte
	// Expire is when messages sealed to it start being refused.
	Expire time.Time
}

// Keys derives, caches and opens with the service's key pairs. It is safe
// for concurrent use.
type Keys struct {
	km       keys.KeyManager
	name     string
	rotation time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[int64]hpke.PrivateKey // period start (Unix seconds) → key
}

// New returns the keys derived under the KeyManager key name (an
// aes256-gcm96 key whose HMAC secret is used), rotating every rotation
// (at least a minute; DefaultRotation when zero); now is the clock
// (time.Now when nil).
func New(km keys.KeyManager, name string, rotation time.Duration, now func() time.Time) (*Keys, error) {
	if rotation == 0 {
		rotation = DefaultRotation
	}
	if rotation < time.Minute || rotation%time.Second != 0 {
		return nil, fmt.Errorf("sealing key rotation %v: must be whole seconds, at least a minute", rotation)
	}
	if now == nil {
		now = time.Now
	}
	return &Keys{km: km, name: name, rotation: rotation, now: now, cache: map[int64]hpke.PrivateKey{}}, nil
}

// current is the start of the current period in Unix seconds.
func (k *Keys) current() int64 {
	r := int64(k.rotation / time.Second)
	s := k.now().Unix()
	return s - ((s%r)+r)%r
}

// KeyID is the id of the key of the period starting at start.
func KeyID(start int64) string { return keyIDPrefix + strconv.FormatInt(start, 10) }

// Published returns the current and the previous key, newest first.
func (k *Keys) Published(ctx context.Context) ([]PublicKey, error) {
	cur := k.current()
	r := int64(k.rotation / time.Second)
	k.prune(cur - r)
	var out []PublicKey
	for _, start := range []int64{cur, cur - r} {
		sk, err := k.private(ctx, start)
		if err != nil {
			return nil, err
		}
		out = append(out, PublicKey{ID: KeyID(start), Bytes: sk.PublicKey().Bytes(), Expire: time.Unix(start+2*r, 0).UTC()})
	}
	return out, nil
}

// Open opens a message sealed to the key keyID: base mode, InfoMessage,
// aad (the conversation id) as associated data. An unknown key id is
// InvalidArgument SEALING_KEY_UNKNOWN, an expired one FailedPrecondition
// SEALING_KEY_EXPIRED; anything that does not open (enc, ciphertext, aad,
// a key it was not sealed to) is InvalidArgument SEALED_INVALID with
// nothing said about which part failed.
func (k *Keys) Open(ctx context.Context, keyID string, enc, ciphertext, aad []byte) ([]byte, error) {
	start, err := k.window(keyID)
	if err != nil {
		return nil, err
	}
	sk, err := k.private(ctx, start)
	if err != nil {
		return nil, err
	}
	r, err := hpke.NewRecipient(enc, sk, KDF, AEAD, []byte(InfoMessage))
	if err != nil {
		return nil, errSealedInvalid()
	}
	pt, err := r.Open(aad, ciphertext)
	if err != nil {
		return nil, errSealedInvalid()
	}
	return pt, nil
}

// window checks that keyID names the current or the previous period and
// returns the period's start.
func (k *Keys) window(keyID string) (int64, error) {
	digits, ok := strings.CutPrefix(keyID, keyIDPrefix)
	start, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || strconv.FormatInt(start, 10) != digits {
		return 0, errs.E(errs.InvalidArgument, reasons.SealingKeyUnknown, "the sealing key id is not one this service publishes")
	}
	cur := k.current()
	r := int64(k.rotation / time.Second)
	switch {
	case start == cur || start == cur-r:
		return start, nil
	case start < cur-r:
		return 0, errs.E(errs.FailedPrecondition, reasons.SealingKeyExpired, "the sealing key has expired: fetch the current keys (GetSealingKeys) and seal again")
	}
	return 0, errs.E(errs.InvalidArgument, reasons.SealingKeyUnknown, "the sealing key id is not one this service publishes")
}

// private derives (once per process) the key of the period starting at
// start.
func (k *Keys) private(ctx context.Context, start int64) (hpke.PrivateKey, error) {
	k.mu.Lock()
	sk, ok := k.cache[start]
	k.mu.Unlock()
	if ok {
		return sk, nil
	}
	seed, err := k.km.HMAC(ctx, k.name, seedVersion, []byte("sotto/conversation/sealing/"+KEMName+"/"+strconv.FormatInt(start, 10)))
	if err != nil {
		return nil, err
	}
	sk, err = KEM.DeriveKeyPair(seed)
	clear(seed)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.SealingKeyUnavailable, "the sealing key could not be derived")
	}
	k.mu.Lock()
	k.cache[start] = sk
	k.mu.Unlock()
	return sk, nil
}

// prune forgets keys of periods before oldest: they are refused anyway.
func (k *Keys) prune(oldest int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for start := range k.cache {
		if start < oldest {
			delete(k.cache, start)
		}
	}
}

// KEMName names the KEM in the derivation label.
const KEMName = "MLKEM768-X25519"

// ReplyKey parses a client's reply key: it must be a public key of the
// suite's KEM (InvalidArgument REPLY_KEY_INVALID otherwise).
func ReplyKey(b []byte) (hpke.PublicKey, error) {
	if len(b) == 0 {
		return nil, errs.E(errs.InvalidArgument, reasons.ReplyKeyInvalid, "a sealed message needs sealed.reply_public_key, an %s public key", KEMName)
	}
	pk, err := KEM.NewPublicKey(b)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, reasons.ReplyKeyInvalid, "sealed.reply_public_key is not an %s public key", KEMName)
	}
	return pk, nil
}

// SealReply seals a reply to the client's key: base mode, InfoReply, aad
// (the conversation id) as associated data.
func SealReply(pk hpke.PublicKey, aad, plaintext []byte) (enc, ciphertext []byte, err error) {
	enc, s, err := hpke.NewSender(pk, KDF, AEAD, []byte(InfoReply))
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.Internal, reasons.SealingFailed, "the reply could not be sealed")
	}
	ciphertext, err = s.Seal(aad, plaintext)
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.Internal, reasons.SealingFailed, "the reply could not be sealed")
	}
	return enc, ciphertext, nil
}

func errSealedInvalid() error {
	return errs.E(errs.InvalidArgument, reasons.SealedInvalid, "the sealed message does not open")
}

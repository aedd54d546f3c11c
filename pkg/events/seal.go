package events

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
)

// Sealer encrypts payloads at rest with AES-256-GCM under data keys that
// are generated here and stored wrapped by the service's KeyManager (Vault
// Transit in production), as the audit service's subject HMAC keys are:
// sealing costs no call to the KeyManager, and the event table is useless
// to whoever reads the database without the key-encryption key.
//
// The associated data binds a sealed payload to its event's ID, topic and
// key, so a payload copied onto another row does not open.
type Sealer struct {
	db  *store.DB
	km  keys.KeyManager
	kek string

	mu     sync.RWMutex
	aeads  map[int]cipher.AEAD
	latest int
}

func dataKeyAAD(version int) []byte { return fmt.Appendf(nil, "sotto/events/data-key/v%d", version) }

// aad is length-prefixed so that no two (id, topic, key) triples share one.
func aad(id, topic, key string) []byte {
	b := []byte("sotto/events/payload/v1")
	for _, f := range []string{id, topic, key} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// NewSealer loads the data keys of db wrapped by kek, an aes256-gcm96 key
// of km, and creates the first one on first use.
func NewSealer(ctx context.Context, db *store.DB, km keys.KeyManager, kek string) (*Sealer, error) {
	s := &Sealer{db: db, km: km, kek: kek}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	if s.latest == 0 {
		if err := s.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Sealer) load(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT version, wrapped FROM event_keys`)
	if err != nil {
		return store.MapError(err)
	}
	defer rows.Close()
	aeads := map[int]cipher.AEAD{}
	latest := 0
	for rows.Next() {
		var v int
		var wrapped []byte
		if err := rows.Scan(&v, &wrapped); err != nil {
			return store.MapError(err)
		}
		k, err := s.km.UnwrapKey(ctx, s.kek, wrapped, dataKeyAAD(v))
		if err != nil {
			return err
		}
		if aeads[v], err = newAEAD(k); err != nil {
			return err
		}
		latest = max(latest, v)
	}
	if err := rows.Err(); err != nil {
		return store.MapError(err)
	}
	s.mu.Lock()
	s.aeads, s.latest = aeads, latest
	s.mu.Unlock()
	return nil
}

func newAEAD(k []byte) (cipher.AEAD, error) {
	if len(k) != 32 {
		return nil, errs.E(errs.Internal, "EVENT_KEY_INVALID", "event data key has the wrong length")
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "EVENT_KEY_INVALID", "event data key is unusable")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "EVENT_KEY_INVALID", "event data key is unusable")
	}
	return aead, nil
}

// Rotate adds a data key version that new events are sealed with; older
// versions stay so that the events they sealed still open until trimmed.
func (s *Sealer) Rotate(ctx context.Context) error {
	s.mu.RLock()
	next := s.latest + 1
	s.mu.RUnlock()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return errs.Wrap(err, errs.Internal, "RANDOM_FAILED", "cannot generate a data key")
	}
	w, err := s.km.WrapKey(ctx, s.kek, k, dataKeyAAD(next))
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO event_keys (version, wrapped) VALUES ($1, $2)`, next, w)
		return store.MapError(err)
	})
	// Another replica may have added this version first; then use theirs.
	if err != nil && !errs.Is(err, errs.AlreadyExists) {
		return err
	}
	return s.load(ctx)
}

// seal returns nonce || ciphertext under the latest data key, and its version.
func (s *Sealer) seal(plaintext, aad []byte) ([]byte, int, error) {
	s.mu.RLock()
	aead, version := s.aeads[s.latest], s.latest
	s.mu.RUnlock()
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, 0, errs.Wrap(err, errs.Internal, ReasonSealFailed, "cannot seal the event payload")
	}
	return aead.Seal(nonce, nonce, plaintext, aad), version, nil
}

// open reverses seal. A version this process has not loaded (another
// replica rotated) is loaded from the database first.
func (s *Sealer) open(ctx context.Context, sealed []byte, version int, aad []byte) ([]byte, error) {
	s.mu.RLock()
	aead, ok := s.aeads[version]
	s.mu.RUnlock()
	if !ok {
		if err := s.load(ctx); err != nil {
			return nil, err
		}
		s.mu.RLock()
		aead, ok = s.aeads[version]
		s.mu.RUnlock()
		if !ok {
			return nil, errs.E(errs.Internal, ReasonOpenFailed, "event payload sealed under an unknown data key")
		}
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errs.E(errs.Internal, ReasonOpenFailed, "sealed event payload is truncated")
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		// Tampered with, or moved from another event: never delivered.
		return nil, errs.Wrap(err, errs.Internal, ReasonOpenFailed, "event payload does not open")
	}
	return plain, nil
}

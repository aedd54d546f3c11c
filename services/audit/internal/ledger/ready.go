package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"time"
)

// probe is what the readiness check signs and wraps. It has no trailing
// newline, so its signature can never verify as a signed note (a note's
// text ends in one): the checkpoint key signs nothing that could pass for
// a checkpoint. As AAD it differs from every HMAC key's, so a wrapped
// probe cannot stand in for a wrapped HMAC key.
var probe = []byte("sotto/audit/readiness-probe/v1")

// errKeyProbe is a probe that came back wrong (not the backend failing).
var errKeyProbe = errors.New("key probe did not round-trip")

// usable checks that the KeyManager still signs with the checkpoint key:
// a standby signs nothing until it leads, and then must.
func (s *CheckpointSigner) usable(ctx context.Context) error {
	sig, err := s.km.Sign(ctx, s.key, probe)
	if err != nil {
		return err
	}
	s.mu.Lock()
	version, pub := s.version, s.pub
	s.mu.Unlock()
	if sig.KeyVersion != version {
		// Rotated since start: Sign picks the new version up; check this
		// one against its own public key.
		if pub, err = s.km.PublicKey(ctx, s.key, sig.KeyVersion); err != nil {
			return err
		}
	}
	if !ed25519.Verify(pub, probe, sig.Sig) {
		return errKeyProbe
	}
	return nil
}

// usable checks that the KeyManager still wraps and unwraps with the
// subject key: a rotation of the HMAC keys and a replica's start need both.
func (h *SubjectHasher) usable(ctx context.Context) error {
	k := make([]byte, 32)
	rand.Read(k)
	w, err := h.km.WrapKey(ctx, h.kek, k, probe)
	if err != nil {
		return err
	}
	got, err := h.km.UnwrapKey(ctx, h.kek, w, probe)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, k) {
		return errKeyProbe
	}
	return nil
}

// KeyCheck is a readiness check: the log's keys can be used through the
// KeyManager (Vault Transit in production: reachable, the token valid,
// the policy granting what the log does). A success is trusted for ttl,
// so probes and the health mirror (every 2 s) do not cost three Transit
// calls each; a failure is not, so a replica is ready again as soon as
// the keys are.
type KeyCheck struct {
	signer *CheckpointSigner
	hasher *SubjectHasher
	ttl    time.Duration
	now    func() time.Time

	mu     sync.Mutex
	passed time.Time
}

// NewKeyCheck checks signer's and hasher's keys; now is the clock.
func NewKeyCheck(signer *CheckpointSigner, hasher *SubjectHasher, ttl time.Duration, now func() time.Time) *KeyCheck {
	return &KeyCheck{signer: signer, hasher: hasher, ttl: ttl, now: now}
}

// Check is the readiness check.
func (c *KeyCheck) Check(ctx context.Context) error {
	// Held across the probe: concurrent checks wait for one answer rather
	// than each calling the KeyManager.
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.passed.IsZero() && c.now().Sub(c.passed) < c.ttl {
		return nil
	}
	c.passed = time.Time{}
	if err := c.signer.usable(ctx); err != nil {
		return err
	}
	if err := c.hasher.usable(ctx); err != nil {
		return err
	}
	c.passed = c.now()
	return nil
}

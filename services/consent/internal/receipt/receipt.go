// Package receipt signs consent receipts (Kantara Consent Receipt v1.1,
// pkg/consentclient's Receipt) as compact JWS with the KeyManager's Ed25519
// key: the private key never leaves it (Vault Transit in production).
package receipt

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"

	creceipt "github.com/sottohq/sotto/pkg/consentclient/receipt"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// Controller is the data controller receipts name.
type Controller struct {
	Name, Contact, Address, Email, Phone, URL string
	// PolicyURL is the controller's privacy policy.
	PolicyURL string
	// Jurisdiction is a receipt's jurisdiction when the decision names none.
	Jurisdiction string
}

// Signer signs receipts.
type Signer struct {
	km         keys.KeyManager
	key        string
	controller Controller

	// version is the key version the last signature was made with: the kid
	// of the next receipt, checked against the version that signs it.
	version atomic.Int64

	mu   sync.Mutex
	pubs map[int]ed25519.PublicKey // versions never change
}

// NewSigner signs with km's ed25519 key named key, which must exist.
func NewSigner(km keys.KeyManager, key string, c Controller) *Signer {
	return &Signer{km: km, key: key, controller: c, pubs: map[int]ed25519.PublicKey{}}
}

// Controllers is the receipt's piiControllers.
func (s *Signer) Controllers() []creceipt.ReceiptController {
	c := s.controller
	return []creceipt.ReceiptController{{PIIController: c.Name, Contact: c.Contact, Address: c.Address,
		Email: c.Email, Phone: c.Phone, PIIControllerURL: c.URL}}
}

// Controller is the controller receipts name.
func (s *Signer) Controller() Controller { return s.controller }

// Signed is an issued receipt.
type Signed struct {
	JWS    string
	SHA256 string
	KeyID  string
}

// Sign signs r. The kid goes into the protected header before the
// KeyManager signs with whatever version is latest then; a signature made
// by another version (a rotation in between) is thrown away and redone
// under the right kid, so a receipt never names a key that did not sign it.
func (s *Signer) Sign(ctx context.Context, r creceipt.Receipt) (Signed, error) {
	payload, err := json.Marshal(r)
	if err != nil {
		return Signed{}, errs.Wrap(err, errs.Internal, reasons.ReceiptSigningFailed, "cannot encode the receipt")
	}
	version := int(s.version.Load())
	if version == 0 {
		if version, err = s.km.LatestVersion(ctx, s.key); err != nil {
			return Signed{}, errs.Wrap(err, errs.KindOf(err), reasons.ReceiptSigningFailed, "cannot sign the receipt")
		}
	}
	for range 3 {
		ks := &kmSigner{ctx: ctx, km: s.km, key: s.key}
		kid := creceipt.ReceiptKeyID(s.key, version)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: ks}, &jose.SignerOptions{
			ExtraHeaders: map[jose.HeaderKey]any{jose.HeaderType: creceipt.ReceiptType, "kid": kid},
		})
		if err != nil {
			return Signed{}, errs.Wrap(err, errs.Internal, reasons.ReceiptSigningFailed, "cannot sign the receipt")
		}
		obj, err := signer.Sign(payload)
		if err != nil {
			if ks.err != nil {
				return Signed{}, errs.Wrap(ks.err, errs.KindOf(ks.err), reasons.ReceiptSigningFailed, "cannot sign the receipt")
			}
			return Signed{}, errs.Wrap(err, errs.Internal, reasons.ReceiptSigningFailed, "cannot sign the receipt")
		}
		s.version.Store(int64(ks.version))
		if ks.version == version {
			jws, err := obj.CompactSerialize()
			if err != nil {
				return Signed{}, errs.Wrap(err, errs.Internal, reasons.ReceiptSigningFailed, "cannot serialise the receipt")
			}
			return Signed{JWS: jws, SHA256: creceipt.ReceiptHash(jws), KeyID: kid}, nil
		}
		version = ks.version
	}
	return Signed{}, errs.E(errs.Unavailable, reasons.ReceiptSigningFailed, "the receipt key keeps rotating; try again")
}

// Key is one public version of the receipt key.
type Key struct {
	KeyID  string
	Public ed25519.PublicKey
}

// Keys returns every live version's public key, latest first.
func (s *Signer) Keys(ctx context.Context) ([]Key, error) {
	d, err := s.km.Describe(ctx, s.key)
	if err != nil {
		return nil, err
	}
	var out []Key
	for v := d.Latest; v >= max(d.MinDecryption, 1); v-- {
		pub, err := s.publicKey(ctx, v)
		if err != nil {
			return nil, err
		}
		out = append(out, Key{KeyID: creceipt.ReceiptKeyID(s.key, v), Public: pub})
	}
	return out, nil
}

func (s *Signer) publicKey(ctx context.Context, version int) (ed25519.PublicKey, error) {
	s.mu.Lock()
	pub, ok := s.pubs[version]
	s.mu.Unlock()
	if ok {
		return pub, nil
	}
	pub, err := s.km.PublicKey(ctx, s.key, version)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.pubs[version] = pub
	s.mu.Unlock()
	return pub, nil
}

// kmSigner is a jose.OpaqueSigner over KeyManager.Sign for one signature;
// it records which version signed. (go-jose builds and serialises the JWS;
// only the signature itself must come from the KeyManager.)
type kmSigner struct {
	ctx context.Context
	km  keys.KeyManager
	key string

	version int
	err     error
}

func (k *kmSigner) Public() *jose.JSONWebKey { return nil }

func (k *kmSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.EdDSA} }

func (k *kmSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.EdDSA {
		return nil, jose.ErrUnsupportedAlgorithm
	}
	sig, err := k.km.Sign(k.ctx, k.key, payload)
	if err != nil {
		k.err = err
		return nil, err
	}
	if len(sig.Sig) != ed25519.SignatureSize || sig.KeyVersion < 1 {
		k.err = errs.E(errs.Internal, reasons.ReceiptSigningFailed, "key manager returned a malformed signature")
		return nil, k.err
	}
	k.version = sig.KeyVersion
	return sig.Sig, nil
}

package delivery

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"regexp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// payload is what a delivery sends, before its forms are resolved: kept
// only encrypted (seal), since tokens and a customer's subject together
// say who is in which CRM.
type payload struct {
	Subject string         `json:"s"`
	Items   []mapping.Item `json:"i"`
}

// aad binds a payload and its wrapped key to their delivery: a payload
// copied onto another row does not open.
func aad(id string) []byte { return []byte("crmsync-delivery:" + id) }

// seal encrypts p under a fresh data key wrapped by the KeyManager.
func seal(ctx context.Context, km keys.KeyManager, key, id string, p payload) (string, []byte, error) {
	return sealWith(ctx, km, key, aad(id), p)
}

// sealWith encrypts v under a fresh data key wrapped by the KeyManager,
// both bound to ad.
func sealWith(ctx context.Context, km keys.KeyManager, key string, ad []byte, v any) (string, []byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", nil, err
	}
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return "", nil, err
	}
	defer clear(dek)
	wrapped, err := km.WrapKey(ctx, key, dek, ad)
	if err != nil {
		return "", nil, err
	}
	gcm, err := newGCM(dek)
	if err != nil {
		return "", nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	out := gcm.Seal(nonce, nonce, plain, ad)
	clear(plain)
	return string(wrapped), out, nil
}

// open reverses seal. A payload that does not open is PAYLOAD_UNREADABLE.
// It also returns the data key, which seals the ledger entry of what the
// delivery sends (sealSent); the caller clears it.
func open(ctx context.Context, km keys.KeyManager, key, id, wrapped string, sealed []byte) (payload, []byte, error) {
	var p payload
	dek, err := openWith(ctx, km, key, wrapped, sealed, aad(id), &p)
	return p, dek, err
}

// openWith unwraps a data key and opens sealed with it into v.
func openWith(ctx context.Context, km keys.KeyManager, key, wrapped string, sealed, ad []byte, v any) ([]byte, error) {
	unreadable := errs.E(errs.FailedPrecondition, reasons.PayloadUnreadable, "the delivery's payload does not decrypt")
	if wrapped == "" || len(sealed) == 0 {
		return nil, unreadable
	}
	dek, err := km.UnwrapKey(ctx, key, []byte(wrapped), ad)
	if err != nil {
		if errs.Is(err, errs.Unavailable) {
			return nil, err
		}
		return nil, unreadable
	}
	gcm, err := newGCM(dek)
	if err != nil || len(sealed) < gcm.NonceSize() {
		clear(dek)
		return nil, unreadable
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], ad)
	if err != nil {
		clear(dek)
		return nil, unreadable
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, v); err != nil {
		clear(dek)
		return nil, unreadable
	}
	return dek, nil
}

// sentProperty is one property as the CRM got it: the token or the masked
// view as sent (Value), or, for a plaintext value, its token (Token), so
// the export shows the value from the token vault's own export and crmsync
// keeps no value.
type sentProperty struct {
	Property string       `json:"p"`
	Form     mapping.Form `json:"f"`
	Value    string       `json:"v,omitempty"`
	Token    string       `json:"t,omitempty"`
}

// sentAAD binds a ledger entry to its delivery, apart from its payload.
func sentAAD(id string) []byte { return []byte("crmsync-sent:" + id) }

// sealSent seals what a delivery sent under its data key (dek).
func sealSent(dek []byte, id string, props []sentProperty) ([]byte, error) {
	plain, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	gcm, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, sentAAD(id)), nil
}

// openSent opens a delivery's ledger entry; its key was wrapped with the
// payload's associated data.
func openSent(ctx context.Context, km keys.KeyManager, key, id, wrapped string, sealed []byte) ([]sentProperty, error) {
	unreadable := errs.E(errs.FailedPrecondition, reasons.PayloadUnreadable, "the delivery's ledger entry does not decrypt")
	if wrapped == "" || len(sealed) == 0 {
		return nil, unreadable
	}
	dek, err := km.UnwrapKey(ctx, key, []byte(wrapped), aad(id))
	if err != nil {
		if errs.Is(err, errs.Unavailable) {
			return nil, err
		}
		return nil, unreadable
	}
	defer clear(dek)
	gcm, err := newGCM(dek)
	if err != nil || len(sealed) < gcm.NonceSize() {
		return nil, unreadable
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], sentAAD(id))
	if err != nil {
		return nil, unreadable
	}
	defer clear(plain)
	var out []sentProperty
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, unreadable
	}
	return out, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Token shapes the token vault issues (services/tokenvault/internal/tokens):
// random tokens ("tok_", a two-letter type code, '_', 8 base62 characters
// of the creation time and 22 of random bits), deterministic tokens
// ("det_", the code, '_', 22 base62 characters), format-preserving phone
// tokens ("+0000" and digits: no phone number starts with +0), and card
// tokens (digits that fail the Luhn check).
var (
	opaqueToken = regexp.MustCompile(`^(tok_[a-z]{2}_[0-9A-Za-z]{30}|det_[a-z]{2}_[0-9A-Za-z]{22})$`)
	phoneToken  = regexp.MustCompile(`^\+0000[0-9]{7,16}$`)
	cardToken   = regexp.MustCompile(`^[0-9]{13,19}$`)
)

// isToken says whether v has a token's shape. A value that does not is
// refused rather than sent: a caller that put an e-mail address where a
// token belongs would otherwise send it in the clear under the token form.
func isToken(v string) bool {
	switch {
	case opaqueToken.MatchString(v), phoneToken.MatchString(v):
		return true
	case cardToken.MatchString(v):
		return !luhn(v)
	}
	return false
}

func luhn(digits string) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

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
	plain, err := json.Marshal(p)
	if err != nil {
		return "", nil, err
	}
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return "", nil, err
	}
	defer clear(dek)
	wrapped, err := km.WrapKey(ctx, key, dek, aad(id))
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
	out := gcm.Seal(nonce, nonce, plain, aad(id))
	clear(plain)
	return string(wrapped), out, nil
}

// open reverses seal. A payload that does not open is PAYLOAD_UNREADABLE.
func open(ctx context.Context, km keys.KeyManager, key, id, wrapped string, sealed []byte) (payload, error) {
	unreadable := errs.E(errs.FailedPrecondition, reasons.PayloadUnreadable, "the delivery's payload does not decrypt")
	if wrapped == "" || len(sealed) == 0 {
		return payload{}, unreadable
	}
	dek, err := km.UnwrapKey(ctx, key, []byte(wrapped), aad(id))
	if err != nil {
		if errs.Is(err, errs.Unavailable) {
			return payload{}, err
		}
		return payload{}, unreadable
	}
	defer clear(dek)
	gcm, err := newGCM(dek)
	if err != nil || len(sealed) < gcm.NonceSize() {
		return payload{}, unreadable
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad(id))
	if err != nil {
		return payload{}, unreadable
	}
	defer clear(plain)
	var p payload
	if err := json.Unmarshal(plain, &p); err != nil {
		return payload{}, unreadable
	}
	return p, nil
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

package tokens

import (
	"fmt"
	"strings"

	"github.com/sottohq/sotto/services/tokenvault/internal/ff1"
)

// MaxTweakLen is the longest FF1 tweak accepted, in bytes.
const MaxTweakLen = 256

// minFPEDomain is FF1's minimum domain size (NIST SP 800-38G Rev. 1):
// radix^len must be at least one million.
const minFPEDomain = 1_000_000

// fpeScheme says how values of a data type are format-preserving encrypted.
type fpeScheme struct {
	alphabet string // ff1.Digits or ff1.Base62
	phone    bool   // tokens are phoneTokenPrefix + the cipher's output
}

// A phone token is "+0000" and digits, never a phone number. No E.164
// country code begins with 0 (zone 0 is not assigned), so as written no
// network routes a token. The four zeros also defeat the one lenient reading
// left, the digits dialled without their '+': a run of zeros is taken for an
// international prefix ("0", "00", "000", "0[0-3]x"...) only when a non-zero
// digit follows, since country codes never start with 0, and no country's
// prefix is four zeros; libphonenumber reads a token as a number in no region
// (TestPhoneTokensAreNoNumbers). A shorter marker fails that: after "+0",
// 6 to 8% of tokens are a valid number for some country whose international
// prefix is "0" or "00". An FF1 image of the whole number (the first scheme)
// was often another country's real number.
//
// The cipher sees the value's digits without the '+' when it has one (a
// country code never starts with 0: Normalize refuses "+0"), or "0" and the
// digits of a value written without one, so both kinds share one permutation
// per length and are told apart after decryption.
const phoneTokenPrefix = "+0000"

// maxPhoneTokenDigits is the longest cipher input: "0" and 15 digits.
const maxPhoneTokenDigits = maxPhoneDigits + 1

// fpeSchemeFor returns the scheme for normalised value n of type t, or an
// error wrapping ErrUnsupported.
func fpeSchemeFor(t DataType, n string) (fpeScheme, error) {
	if err := fpeSupported(t); err != nil {
		return fpeScheme{}, err
	}
	switch t {
	case Phone:
		return fpeScheme{alphabet: ff1.Digits, phone: true}, nil
	case NationalID:
		return fpeScheme{alphabet: ff1.Digits}, nil
	default: // Name, PostalAddress, FreeText
		if !isAlnum(n) {
			return fpeScheme{}, fmt.Errorf("%w: format-preserving tokens for %v need a value of [0-9A-Za-z] only", ErrUnsupported, t)
		}
		return fpeScheme{alphabet: ff1.Base62}, nil
	}
}

// plaintext is what the cipher encrypts for normalised value n.
func (s fpeScheme) plaintext(n string) string {
	if !s.phone {
		return n
	}
	if d, ok := strings.CutPrefix(n, "+"); ok {
		return d
	}
	return "0" + n
}

// value reverses plaintext; false if p is not the image of a valid value
// (which a string of the token's shape that no value encrypts to gives).
func (s fpeScheme) value(p string) (string, bool) {
	if !s.phone {
		return p, true
	}
	if d, ok := strings.CutPrefix(p, "0"); ok {
		return d, len(d) >= minPhoneDigits && len(d) <= maxPhoneDigits
	}
	return "+" + p, len(p) >= minPhoneDigits && len(p) <= maxPhoneDigits
}

// token is the token for the cipher's output c; ciphertext reverses it for a
// token of the right shape (fpeShape).
func (s fpeScheme) token(c string) string {
	if s.phone {
		return phoneTokenPrefix + c
	}
	return c
}

func (s fpeScheme) ciphertext(token string) string {
	if s.phone {
		return strings.TrimPrefix(token, phoneTokenPrefix)
	}
	return token
}

// bigEnough reports whether radix^n >= minFPEDomain.
func bigEnough(radix, n int) bool {
	d := 1
	for range n {
		d *= radix
		if d >= minFPEDomain {
			return true
		}
	}
	return d >= minFPEDomain
}

func (s fpeScheme) codec(key, tweak []byte, t DataType) (*ff1.Codec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: format-preserving key must be %d bytes, got %d", ErrInvalidKey, KeySize, len(key))
	}
	if len(tweak) > MaxTweakLen {
		return nil, fmt.Errorf("%w: tweak is %d bytes, at most %d allowed", ErrInvalidTweak, len(tweak), MaxTweakLen)
	}
	c, err := ff1.New(key, len(s.alphabet), MaxTweakLen)
	if err != nil {
		return nil, fmt.Errorf("tokens: %v: FF1: %w", t, err)
	}
	codec, err := ff1.NewCodec(c, s.alphabet)
	if err != nil {
		return nil, fmt.Errorf("tokens: %v: FF1: %w", t, err)
	}
	return codec, nil
}

// FormatPreserving returns the FF1 (NIST SP 800-38G) format-preserving token
// of value for data type t under a 32-byte AES-256 key and a caller-chosen
// tweak of at most MaxTweakLen bytes (the vault passes subject, type and
// attempt). The value is normalised first (Normalize), and the token has the
// shape of the normalised value:
//
//   - Phone: "+0000" and radix 10 over the digits (see phoneTokenPrefix): a
//     token is never a phone number in any country; it has four digits more
//     than the value, five for a value written without a '+';
//   - NationalID: radix 10;
//   - Name, PostalAddress, FreeText: radix 62, only for values made of
//     [0-9A-Za-z] alone (a single word); anything else is ErrUnsupported.
//
// CardNumber (use CardToken), Email and DateOfBirth are ErrUnsupported, and so
// is any value too short for FF1's minimum domain (radix^len < 1,000,000:
// fewer than 6 digits or 4 alphanumerics).
//
// The token decrypts with the same key and tweak: see
// FormatPreservingDecrypt. Errors never contain the value.
func FormatPreserving(key []byte, tweak []byte, t DataType, value string) (string, error) {
	return fpe(key, tweak, t, value, true)
}

// FormatPreservingDecrypt reverses FormatPreserving: given the same key,
// tweak and data type, it returns the normalised value behind token. token
// must have the shape FormatPreserving gives (see ParseAs); errors wrap
// ErrMalformedToken otherwise and never contain the token.
func FormatPreservingDecrypt(key []byte, tweak []byte, t DataType, token string) (string, error) {
	return fpe(key, tweak, t, token, false)
}

func fpe(key, tweak []byte, t DataType, in string, encrypt bool) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("%w: no format-preserving tokens for %v", ErrUnknownDataType, t)
	}
	var n string
	if encrypt {
		var err error
		if n, err = Normalize(t, in); err != nil {
			return "", err
		}
	} else {
		if err := fpeSupported(t); err != nil {
			return "", err
		}
		// Only what the encrypt side could have produced is decrypted.
		if !fpeShape(t, in) {
			return "", fmt.Errorf("%w: not a format-preserving token for %v", ErrMalformedToken, t)
		}
		n = in
	}
	scheme, err := fpeSchemeFor(t, n)
	if err != nil {
		return "", err
	}
	body := scheme.plaintext(n)
	if !encrypt {
		body = scheme.ciphertext(n)
	}
	if !bigEnough(len(scheme.alphabet), len(body)) {
		return "", fmt.Errorf("%w: %v value too short for format-preserving encryption (radix %d, length %d)",
			ErrUnsupported, t, len(scheme.alphabet), len(body))
	}
	codec, err := scheme.codec(key, tweak, t)
	if err != nil {
		return "", err
	}
	if encrypt {
		out, err := codec.EncryptString(body, tweak)
		if err != nil {
			return "", fmt.Errorf("tokens: %v: FF1: %w", t, err)
		}
		return scheme.token(out), nil
	}
	out, err := codec.DecryptString(body, tweak)
	if err != nil {
		return "", fmt.Errorf("tokens: %v: FF1: %w", t, err)
	}
	v, ok := scheme.value(out)
	if !ok {
		return "", fmt.Errorf("%w: not a format-preserving token for %v under this key and tweak", ErrMalformedToken, t)
	}
	return v, nil
}

// fpeSupported returns an error wrapping ErrUnsupported for the data types
// that have no format-preserving tokens.
func fpeSupported(t DataType) error {
	switch t {
	case Phone, NationalID, Name, PostalAddress, FreeText:
		return nil
	case CardNumber:
		// An FF1 image of a card number is another 12..19 digit number that
		// passes Luhn one time in ten, so it could be a real card. CardToken
		// makes tokens that never do.
		return fmt.Errorf("%w: no format-preserving tokens for %v: use CardToken", ErrUnsupported, t)
	default: // Email, DateOfBirth
		return fmt.Errorf("%w: no format-preserving tokens for %v", ErrUnsupported, t)
	}
}

// fpeShape reports whether s has the shape of a FormatPreserving token of
// type t (see ParseAs).
func fpeShape(t DataType, s string) bool {
	if len(s) > MaxValueLen {
		return false
	}
	switch t {
	case Phone:
		d, ok := strings.CutPrefix(s, phoneTokenPrefix)
		return ok && len(d) >= minPhoneDigits && len(d) <= maxPhoneTokenDigits && isDigits(d)
	case NationalID:
		return bigEnough(10, len(s)) && isDigits(s)
	case Name, PostalAddress, FreeText:
		return bigEnough(62, len(s)) && isAlnum(s)
	default:
		return false
	}
}

// isAlnum reports whether s is non-empty and made of [0-9A-Za-z] only.
func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if base62Value[s[i]] < 0 {
			return false
		}
	}
	return true
}

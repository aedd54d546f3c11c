package tokens

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// KeySize is the length in bytes of the keys taken by Deterministic (HMAC-SHA256)
// and FormatPreserving (AES-256).
const KeySize = 32

const (
	randomPrefix = "tok_"
	detPrefix    = "det_"
	// base62Len is the number of base62 characters that hold 128 bits
	// (62^22 > 2^128 > 62^21).
	base62Len = 22
	// opaqueLen is the length of a Deterministic token: prefix, two-letter
	// code, '_', body.
	opaqueLen = len(randomPrefix) + 2 + 1 + base62Len
	// timeLen base62 characters hold a millisecond timestamp (62^8 > 2^47).
	timeLen = 8
	// randomLen is the length of a Random token: a Deterministic token's
	// shape with the timestamp before the random body.
	randomLen = opaqueLen + timeLen
)

// timeAlphabet is base62 in ASCII order, so that random tokens sort by
// creation time: new tokens land at the right edge of the database's index
// instead of on random pages (a batch of 100 then dirties a few pages, not
// a hundred). The timestamp is only coarse metadata; the 128 random bits
// after it are what make the token unguessable.
const timeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func encodeTime(ms uint64) [timeLen]byte {
	var out [timeLen]byte
	for i := timeLen - 1; i >= 0; i-- {
		out[i] = timeAlphabet[ms%62]
		ms /= 62
	}
	return out
}

func validTime(s string) bool {
	if len(s) != timeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(timeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// base62Alphabet orders the digits as ff1.Base62 does.
const base62Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// base62Value maps a byte to its base62 value, or -1.
var base62Value = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(base62Alphabet); i++ {
		v[base62Alphabet[i]] = int8(i)
	}
	return v
}()

// encode128 writes the 16 bytes of b, big-endian, as exactly 22 base62
// characters (left-padded with '0').
func encode128(b *[16]byte) [base62Len]byte {
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	var out [base62Len]byte
	for i := base62Len - 1; i >= 0; i-- {
		var r uint64
		hi, r = bits.Div64(0, hi, 62)
		lo, r = bits.Div64(r, lo, 62)
		out[i] = base62Alphabet[r]
	}
	return out
}

// decode128 is the inverse of encode128. It fails unless s is exactly 22
// base62 characters whose value fits in 128 bits, so every accepted string is
// the encoding of exactly one 128-bit value (tokens are canonical).
func decode128(s string) ([16]byte, bool) {
	var out [16]byte
	if len(s) != base62Len {
		return out, false
	}
	var hi, lo uint64
	for i := 0; i < len(s); i++ {
		d := base62Value[s[i]]
		if d < 0 {
			return out, false
		}
		ovf, hiMul := bits.Mul64(hi, 62)
		carry, loMul := bits.Mul64(lo, 62)
		if ovf != 0 {
			return out, false
		}
		var c uint64
		lo, c = bits.Add64(loMul, uint64(d), 0)
		hi, c = bits.Add64(hiMul, carry, c)
		if c != 0 {
			return out, false
		}
	}
	for i := 7; i >= 0; i-- {
		out[i] = byte(hi)
		out[8+i] = byte(lo)
		hi >>= 8
		lo >>= 8
	}
	return out, true
}

func opaqueToken(prefix string, t DataType, body *[16]byte) string {
	enc := encode128(body)
	var sb strings.Builder
	sb.Grow(opaqueLen)
	sb.WriteString(prefix)
	sb.WriteString(t.Code())
	sb.WriteByte('_')
	sb.Write(enc[:])
	return sb.String()
}

// NewRandom returns a fresh random token for data type t: "tok_<code>_",
// 8 characters of the creation time in milliseconds, and 22 base62
// characters encoding 128 bits from crypto/rand. It says nothing about the
// value; the vault maps it back.
func NewRandom(t DataType) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("%w: cannot mint a random token for %v", ErrUnknownDataType, t)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("tokens: reading random bits: %w", err)
	}
	ms := time.Now().UnixMilli()
	if ms < 0 {
		ms = 0
	}
	ts := encodeTime(uint64(ms))
	enc := encode128(&b)
	var sb strings.Builder
	sb.Grow(randomLen)
	sb.WriteString(randomPrefix)
	sb.WriteString(t.Code())
	sb.WriteByte('_')
	sb.Write(ts[:])
	sb.Write(enc[:])
	return sb.String(), nil
}

// Deterministic returns the deterministic token of value for data type t:
// "det_<code>_" followed by 22 base62 characters of the first 16 bytes of
// HMAC-SHA256(key, code || 0x00 || Normalize(t, value)).
//
// key is the tenant's 32-byte key for this data type. The same key, type and
// (normalised) value always give the same token, which is what makes joins
// and exact-match look-ups possible; it also means equal values are visibly
// equal, so use Random where that matters.
func Deterministic(key []byte, t DataType, value string) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("%w: cannot mint a deterministic token for %v", ErrUnknownDataType, t)
	}
	if len(key) != KeySize {
		return "", fmt.Errorf("%w: deterministic key must be %d bytes, got %d", ErrInvalidKey, KeySize, len(key))
	}
	n, err := Normalize(t, value)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(t.Code()))
	m.Write([]byte{0})
	m.Write([]byte(n))
	var b [16]byte
	copy(b[:], m.Sum(nil))
	return opaqueToken(detPrefix, t, &b), nil
}

// Parse validates a token that came from a client and returns its data type
// and format. It recognises:
//
//   - Random and Deterministic tokens: the exact prefix "tok_" or "det_", a
//     known lower-case type code, '_', and exactly 22 base62 characters whose
//     value fits in 128 bits;
//   - Card tokens: 13 to 19 ASCII digits that FAIL the Luhn check. A
//     Luhn-valid number is rejected: a real card number is never a token.
//   - FormatPreserving phone tokens: "+0000" and 7..16 ASCII digits. No
//     phone number starts with "+0" (Normalize refuses it), so this shape is
//     a token's alone.
//
// Nothing else is accepted: no white space, no other separators. Other
// format-preserving tokens cannot be told apart from values by shape, so
// Parse rejects them; use ParseAs with the expected data type. Errors wrap
// ErrMalformedToken and never contain the token.
func Parse(token string) (DataType, Format, error) {
	var f Format
	switch {
	case strings.HasPrefix(token, randomPrefix):
		f = FormatRandom
	case strings.HasPrefix(token, detPrefix):
		f = FormatDeterministic
	case strings.HasPrefix(token, phoneTokenPrefix):
		if !fpeShape(Phone, token) {
			return 0, 0, fmt.Errorf("%w: a phone token is \"+0000\" and %d to %d digits", ErrMalformedToken, minPhoneDigits, maxPhoneTokenDigits)
		}
		return Phone, FormatFPE, nil
	default:
		if err := parseCardToken(token); err != nil {
			return 0, 0, err
		}
		return CardNumber, FormatCard, nil
	}
	t, err := parseOpaque(token, f)
	if err != nil {
		return 0, 0, err
	}
	return t, f, nil
}

func parseOpaque(token string, f Format) (DataType, error) {
	want := opaqueLen
	if f == FormatRandom {
		want = randomLen
	}
	if len(token) != want {
		return 0, fmt.Errorf("%w: %v token must be %d characters", ErrMalformedToken, f, want)
	}
	rest := token[len(randomPrefix):] // both prefixes have the same length
	if f == FormatRandom {
		if !validTime(rest[3 : 3+timeLen]) {
			return 0, fmt.Errorf("%w: token time is not base62", ErrMalformedToken)
		}
		rest = rest[:3] + rest[3+timeLen:]
	}
	t, ok := typeFromCode(rest[:2])
	if !ok {
		return 0, fmt.Errorf("%w: unknown data type code in token", ErrMalformedToken)
	}
	if rest[2] != '_' {
		return 0, fmt.Errorf("%w: missing '_' after the data type code", ErrMalformedToken)
	}
	if _, ok := decode128(rest[3:]); !ok {
		return 0, fmt.Errorf("%w: token body is not 22 base62 characters encoding 128 bits", ErrMalformedToken)
	}
	return t, nil
}

func parseCardToken(token string) error {
	if len(token) < minCardTokenDigits || len(token) > maxCardDigits || !isDigits(token) {
		return fmt.Errorf("%w: not a random, deterministic or card token", ErrMalformedToken)
	}
	if Luhn(token) {
		return fmt.Errorf("%w: passes the Luhn check, so it may be a real card number and is refused as a token", ErrMalformedToken)
	}
	return nil
}

// ParseAs validates a token expected to stand for a value of data type want
// and returns its format. Random and Deterministic tokens must carry want's
// code; for CardNumber, Card tokens are accepted as by Parse. Otherwise the
// token must have the shape of a FormatPreserving token of want:
//
//   - Phone: "+0000" and 7..16 ASCII digits (as Parse);
//   - NationalID: at least 6 ASCII digits;
//   - Name, PostalAddress, FreeText: at least 4 characters of [0-9A-Za-z].
//
// (Email and DateOfBirth have no format-preserving tokens.) A shape check
// cannot prove the string is a token rather than a value: the vault's look-up
// does that. Errors wrap ErrMalformedToken, or ErrUnknownDataType for an
// invalid want, and never contain the token.
func ParseAs(token string, want DataType) (Format, error) {
	if !want.Valid() {
		return 0, fmt.Errorf("%w: cannot parse a token for %v", ErrUnknownDataType, want)
	}
	if strings.HasPrefix(token, randomPrefix) || strings.HasPrefix(token, detPrefix) ||
		want == CardNumber {
		t, f, err := Parse(token)
		if err != nil {
			return 0, err
		}
		if t != want {
			return 0, fmt.Errorf("%w: token is for %v, expected %v", ErrMalformedToken, t, want)
		}
		return f, nil
	}
	if !fpeShape(want, token) {
		return 0, fmt.Errorf("%w: not a token for %v", ErrMalformedToken, want)
	}
	return FormatFPE, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

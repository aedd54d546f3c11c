package ff1

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Common alphabets. The numeral value of a character is its index in the
// alphabet, so Digits[:10] == Base36[:10] == Base62[:10] and a Base36
// string round-trips through the NIST radix-36 samples as written there.
const (
	Digits = "0123456789"
	Base36 = "0123456789abcdefghijklmnopqrstuvwxyz"
	Base62 = Base36 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// Codec applies a Cipher to strings over an alphabet whose length equals
// the cipher's radix: the i-th character of the alphabet is numeral i.
type Codec struct {
	cipher   *Cipher
	alphabet []rune
	index    map[rune]uint16
}

// NewCodec returns a Codec for c over alphabet. The alphabet must be valid
// UTF-8, consist of distinct characters, and have exactly c.Radix()
// characters.
func NewCodec(c *Cipher, alphabet string) (*Codec, error) {
	if c == nil || c.block == nil {
		return nil, errors.New("ff1: nil cipher")
	}
	if !utf8.ValidString(alphabet) {
		return nil, errors.New("ff1: alphabet is not valid UTF-8")
	}
	runes := []rune(alphabet)
	if len(runes) != c.radix {
		return nil, fmt.Errorf("ff1: alphabet has %d characters, radix is %d", len(runes), c.radix)
	}
	index := make(map[rune]uint16, len(runes))
	for i, r := range runes {
		if _, dup := index[r]; dup {
			return nil, fmt.Errorf("ff1: alphabet has a duplicate character at position %d", i)
		}
		index[r] = uint16(i) // i < radix ≤ 2^16
	}
	return &Codec{cipher: c, alphabet: runes, index: index}, nil
}

// EncryptString encrypts s, a string over the codec's alphabet, and returns
// a string of the same length over the same alphabet.
func (c *Codec) EncryptString(s string, tweak []byte) (string, error) {
	return c.apply(s, tweak, true)
}

// DecryptString reverses EncryptString.
func (c *Codec) DecryptString(s string, tweak []byte) (string, error) {
	return c.apply(s, tweak, false)
}

func (c *Codec) apply(s string, tweak []byte, encrypt bool) (string, error) {
	if c == nil || c.cipher == nil {
		return "", errors.New("ff1: codec not initialised (use NewCodec)")
	}
	x, err := c.decode(s)
	if err != nil {
		return "", err
	}
	var y []uint16
	if encrypt {
		y, err = c.cipher.Encrypt(x, tweak)
	} else {
		y, err = c.cipher.Decrypt(x, tweak)
	}
	if err != nil {
		return "", err
	}
	return c.encode(y), nil
}

// decode maps s to numerals. Errors name the position (in characters), never
// the offending character or the input.
func (c *Codec) decode(s string) ([]uint16, error) {
	x := make([]uint16, 0, len(s))
	for pos := 0; len(s) > 0; pos++ {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			return nil, fmt.Errorf("ff1: input is not valid UTF-8 at character %d", pos)
		}
		d, ok := c.index[r]
		if !ok {
			return nil, fmt.Errorf("ff1: character at position %d is not in the alphabet", pos)
		}
		x = append(x, d)
		s = s[size:]
	}
	return x, nil
}

func (c *Codec) encode(x []uint16) string {
	var sb strings.Builder
	sb.Grow(len(x))
	for _, d := range x {
		sb.WriteRune(c.alphabet[d])
	}
	return sb.String()
}

package tokens

import (
	"crypto/rand"
	"fmt"
)

const (
	// Card tokens of cards with at least keepFirstFrom digits keep this many
	// leading digits (the BIN/IIN)...
	cardKeepFirst = 6
	keepFirstFrom = 16
	// ...and every card token keeps this many trailing digits.
	cardKeepLast = 4
	// minCardTokenDigits: shorter cards are refused.
	minCardTokenDigits = 13
)

// Luhn reports whether digits, a string of ASCII digits, passes the Luhn
// (mod 10) check. It returns false for an empty string or any non-digit.
func Luhn(digits string) bool {
	if digits == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// CardToken returns a card token for card, following the PCI DSS
// tokenisation guidance: the same number of digits as the (normalised) card,
// the last 4 digits kept, and for cards of 16 digits or more the first 6 too;
// the other digits random from crypto/rand; and the whole token deliberately
// failing the Luhn check so it can never be mistaken for, or used as, a real
// card number. (Keeping 6+4 of a 13–15 digit card would leave only 10²–10⁴
// candidates that pass Luhn: the token would all but give the card away.)
//
// card is normalised and validated as by Normalize(CardNumber, card), so it
// must be a Luhn-valid 12..19 digit number (ErrInvalidValue otherwise). Cards
// shorter than 13 digits leave fewer than 3 middle digits and are refused with
// ErrUnsupported.
//
// The middle digits are uniform over all choices that make the token fail
// Luhn: all but the last are uniform, and the last is uniform over the nine
// values (of ten) that fail.
func CardToken(card string) (string, error) {
	n, err := Normalize(CardNumber, card)
	if err != nil {
		return "", err
	}
	if len(n) < minCardTokenDigits {
		return "", fmt.Errorf("%w: card tokens need a card of at least %d digits", ErrUnsupported, minCardTokenDigits)
	}
	tok := []byte(n)
	last := len(tok) - cardKeepLast - 1 // the last middle digit
	first := 0
	if len(tok) >= keepFirstFrom {
		first = cardKeepFirst
	}
	var rnd randomBytes
	for i := first; i < last; i++ {
		d, err := rnd.below(10)
		if err != nil {
			return "", err
		}
		tok[i] = '0' + d
	}
	// Try each value of the last middle digit: exactly one makes the token
	// Luhn-valid (a digit's Luhn contribution is a bijection of 0..9), so
	// nine fail. Pick one of those nine at random.
	var failing [9]byte
	k := 0
	for d := byte(0); d < 10; d++ {
		tok[last] = '0' + d
		if !Luhn(string(tok)) {
			failing[k] = d
			k++
		}
	}
	if k != len(failing) {
		return "", fmt.Errorf("tokens: internal error: %d Luhn-failing digits, want 9", k)
	}
	j, err := rnd.below(9)
	if err != nil {
		return "", err
	}
	tok[last] = '0' + failing[j]
	return string(tok), nil
}

// randomBytes hands out bytes from crypto/rand, read a block at a time.
type randomBytes struct {
	buf [32]byte
	n   int // bytes of buf not yet used, at its end
}

// below returns a uniform random value in [0, n), 1 <= n <= 256, by
// rejection sampling.
func (r *randomBytes) below(n int) (byte, error) {
	limit := 256 - 256%n
	for {
		if r.n == 0 {
			if _, err := rand.Read(r.buf[:]); err != nil {
				return 0, fmt.Errorf("tokens: reading random bits: %w", err)
			}
			r.n = len(r.buf)
		}
		b := r.buf[len(r.buf)-r.n]
		r.n--
		if int(b) < limit {
			return byte(int(b) % n), nil
		}
	}
}

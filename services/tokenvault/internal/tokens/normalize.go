package tokens

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxValueLen is the largest value accepted, in bytes, both as given and once
// normalised.
const MaxValueLen = 4096

// Bounds of the digit counts accepted by Normalize.
const (
	minCardDigits  = 12
	maxCardDigits  = 19
	minPhoneDigits = 7
	maxPhoneDigits = 15 // E.164
)

// Normalize returns the canonical form of value for data type t, or an error
// wrapping ErrInvalidValue (ErrUnknownDataType for an invalid t). The
// canonical form is what Deterministic hashes and what FormatPreserving
// encrypts, so two spellings of one value give one token.
//
// Every value must be valid UTF-8, at most MaxValueLen bytes, and non-empty
// once normalised. Per type:
//
//   - CardNumber: spaces and dashes removed, then 12..19 ASCII digits that pass
//     the Luhn check (a number failing Luhn is a typo, not a card).
//   - Email: surrounding white space trimmed, lower-cased; exactly one '@', a
//     non-empty local part, a domain containing '.' that neither starts nor
//     ends with '.' and has no empty label; no white space or control
//     characters inside.
//   - Phone: surrounding white space trimmed; a leading '+' is kept; spaces,
//     '-', '.', '(' and ')' are removed; anything else is rejected; 7..15
//     digits; a '+' may not be followed by 0 (no country code starts with
//     0, and phone tokens do: a token is never taken for a value).
//   - NationalID: spaces and dashes removed, then ASCII digits only.
//   - Name, PostalAddress: trimmed, every run of white space collapsed to one
//     space (stdlib has no Unicode NFC, so no composition is done); control
//     characters are rejected.
//   - DateOfBirth: trimmed, then exactly YYYY-MM-DD naming a real date.
//   - FreeText: as is.
func Normalize(t DataType, value string) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("%w: cannot normalise for %v", ErrUnknownDataType, t)
	}
	if !utf8.ValidString(value) {
		return "", fmt.Errorf("%w: %v is not valid UTF-8", ErrInvalidValue, t)
	}
	if len(value) > MaxValueLen {
		return "", fmt.Errorf("%w: %v is longer than %d bytes", ErrInvalidValue, t, MaxValueLen)
	}
	var (
		n   string
		err error
	)
	switch t {
	case CardNumber:
		n, err = normalizeCard(value)
	case Email:
		n, err = normalizeEmail(value)
	case Phone:
		n, err = normalizePhone(value)
	case NationalID:
		n, err = digitsOnly(NationalID, value)
	case Name, PostalAddress:
		n, err = normalizeText(t, value)
	case DateOfBirth:
		n, err = normalizeDate(value)
	case FreeText:
		n = value
	}
	if err != nil {
		return "", err
	}
	if n == "" {
		return "", fmt.Errorf("%w: %v is empty", ErrInvalidValue, t)
	}
	if len(n) > MaxValueLen { // lower-casing can lengthen a string
		return "", fmt.Errorf("%w: %v is longer than %d bytes", ErrInvalidValue, t, MaxValueLen)
	}
	return n, nil
}

// digitsOnly removes spaces and dashes and requires ASCII digits in the rest.
func digitsOnly(t DataType, value string) (string, error) {
	b := make([]byte, 0, len(value))
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == ' ' || c == '-':
		default:
			return "", fmt.Errorf("%w: %v may contain only digits, spaces and dashes", ErrInvalidValue, t)
		}
	}
	return string(b), nil
}

func normalizeCard(value string) (string, error) {
	d, err := digitsOnly(CardNumber, value)
	if err != nil {
		return "", err
	}
	if len(d) < minCardDigits || len(d) > maxCardDigits {
		return "", fmt.Errorf("%w: %v must have %d to %d digits", ErrInvalidValue, CardNumber, minCardDigits, maxCardDigits)
	}
	if !Luhn(d) {
		return "", fmt.Errorf("%w: %v fails the Luhn check", ErrInvalidValue, CardNumber)
	}
	return d, nil
}

func normalizeEmail(value string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(value))
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", fmt.Errorf("%w: %v contains white space or control characters", ErrInvalidValue, Email)
		}
	}
	if strings.Count(s, "@") != 1 {
		return "", fmt.Errorf("%w: %v must contain exactly one '@'", ErrInvalidValue, Email)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" {
		return "", fmt.Errorf("%w: %v has an empty local part", ErrInvalidValue, Email)
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", fmt.Errorf("%w: %v has an invalid domain", ErrInvalidValue, Email)
	}
	return s, nil
}

func normalizePhone(value string) (string, error) {
	s := strings.TrimSpace(value)
	b := make([]byte, 0, len(s))
	if strings.HasPrefix(s, "+") {
		b = append(b, '+')
		s = s[1:]
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
			digits++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", fmt.Errorf("%w: %v may contain only digits, a leading '+', spaces, '-', '.', '(' and ')'", ErrInvalidValue, Phone)
		}
	}
	if digits < minPhoneDigits || digits > maxPhoneDigits {
		return "", fmt.Errorf("%w: %v must have %d to %d digits", ErrInvalidValue, Phone, minPhoneDigits, maxPhoneDigits)
	}
	if strings.HasPrefix(string(b), "+0") {
		return "", fmt.Errorf("%w: %v: no country code starts with 0 (a phone token does)", ErrInvalidValue, Phone)
	}
	return string(b), nil
}

func normalizeText(t DataType, value string) (string, error) {
	fields := strings.Fields(value)
	for _, f := range fields {
		for _, r := range f {
			if unicode.IsControl(r) {
				return "", fmt.Errorf("%w: %v contains control characters", ErrInvalidValue, t)
			}
		}
	}
	return strings.Join(fields, " "), nil
}

const dateLayout = "2006-01-02"

func normalizeDate(value string) (string, error) {
	s := strings.TrimSpace(value)
	d, err := time.Parse(dateLayout, s)
	// The round trip rejects any spelling time.Parse tolerates but that is not
	// exactly YYYY-MM-DD.
	if err != nil || len(s) != len(dateLayout) || d.Format(dateLayout) != s {
		return "", fmt.Errorf("%w: %v must be a real date written YYYY-MM-DD", ErrInvalidValue, DateOfBirth)
	}
	return s, nil
}

package tokens

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// masked3 stands for a fully masked value or part of one.
const masked3 = "•••"

// Card and phone numbers with fewer digits than this are masked fully, and
// national IDs with fewer than maskMinIDDigits.
const (
	maskMinDigits   = 7
	maskMinIDDigits = 6
)

// Mask returns a masked view of normalizedValue (a value as returned by
// Normalize for t) that can be shown without detokenising:
//
//	CardNumber     "•••• 4242"         last 4 digits
//	Email          "j•••@example.com"  first character of the local part, domain
//	Phone          "•••• •••• 1234"    last 4 digits
//	Name           "J•••"              first character
//	NationalID     "•••89"             last 2 digits
//	PostalAddress  "•••"
//	DateOfBirth    "••••-••-••"
//	FreeText       "•••"
//
// The length of the value is never shown. Mask never fails: a value too short
// to keep anything safely (a card or phone number of fewer than 7 digits, a
// national ID of fewer than 6, a one-character name or local part) or not of
// the expected shape is masked fully, as is any value of an invalid t.
func Mask(t DataType, normalizedValue string) string {
	v := normalizedValue
	switch t {
	case CardNumber:
		if d := asciiDigits(v); len(d) >= maskMinDigits {
			return "•••• " + d[len(d)-4:]
		}
		return "••••"
	case Email:
		at := strings.LastIndexByte(v, '@')
		if at < 0 {
			return masked3
		}
		local, domain := v[:at], v[at+1:]
		if domain == "" || !utf8.ValidString(domain) || hasControl(domain) {
			return masked3
		}
		return maskFirst(local) + "@" + domain
	case Phone:
		if d := asciiDigits(v); len(d) >= maskMinDigits {
			return "•••• •••• " + d[len(d)-4:]
		}
		return "•••• •••• ••••"
	case Name:
		return maskFirst(v)
	case NationalID:
		if d := asciiDigits(v); len(d) >= maskMinIDDigits {
			return masked3 + d[len(d)-2:]
		}
		return masked3
	case DateOfBirth:
		return "••••-••-••"
	default: // PostalAddress, FreeText, invalid types
		return masked3
	}
}

// maskFirst keeps the first character of s if it is a letter or digit and s
// has at least two characters.
func maskFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || size == len(s) || r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
		return masked3
	}
	return s[:size] + masked3
}

// asciiDigits returns the ASCII digits of s, in order.
func asciiDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

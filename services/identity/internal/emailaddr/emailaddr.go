// Package emailaddr canonicalises the e-mail addresses identity is given,
// before any lookup or message.
//
// Why identity does this itself: the token vault normalises an address
// with a Unicode lower-casing (strings.ToLower), under which a look-alike
// such as alice@gmaİl.com (U+0130) or alice@\u212Aitchen.com (Kelvin sign)
// finds the account of alice@gmail.com or alice@kitchen.com, while the
// message would go to the address as typed, whose domain (under IDNA) is
// someone else's. So an address is reduced to one ASCII form here, that
// form is what the vault sees and what a message is sent to, and any
// address whose non-ASCII characters would turn into ASCII ones is refused:
//
//   - the local part must be ASCII (printable, no white space); it is
//     lower-cased in ASCII only. Internationalised local parts (SMTPUTF8)
//     are not accepted: they would have to be compared under a Unicode
//     folding that the vault does not share.
//   - the domain is mapped with UTS #46 (golang.org/x/net/idna, the lookup
//     profile: STD3 rules, non-transitional, Bidi rule) to its ASCII form.
//     A label typed in ASCII must come out as itself in ASCII lower case; a
//     label with non-ASCII characters must come out as a Punycode label
//     ("xn--"): a non-ASCII label that maps to plain ASCII (the Kelvin
//     sign, full-width letters, ...) is a look-alike and refused.
package emailaddr

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// MaxLength is RFC 5321's limit on a forward path (254 octets of address).
const MaxLength = 254

// profile is UTS #46 for lookups: the mapping a resolver applies, with
// STD3 ASCII rules (letters, digits, hyphen) and the Bidi rule.
var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.StrictDomainName(true))

func invalid() error {
	// One answer for every refusal: which rule failed says nothing the
	// caller needs, and the same answer as any other invalid address.
	return errs.E(errs.InvalidArgument, reasons.EmailInvalid, "the e-mail address is not valid")
}

// Canonical returns the address's canonical ASCII form, or InvalidArgument
// EMAIL_INVALID.
func Canonical(addr string) (string, error) {
	if addr == "" || len(addr) > 4*MaxLength || !utf8.ValidString(addr) {
		return "", invalid()
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(local) > 64 {
		return "", invalid()
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c <= ' ' || c >= 0x7f {
			return "", invalid()
		}
	}
	ascii, err := profile.ToASCII(domain)
	if err != nil {
		return "", invalid()
	}
	in, out := strings.Split(domain, "."), strings.Split(ascii, ".")
	if len(in) != len(out) || len(out) < 2 {
		return "", invalid()
	}
	for i, label := range in {
		if label == "" {
			return "", invalid()
		}
		if isASCII(label) {
			if out[i] != asciiLower(label) {
				return "", invalid()
			}
		} else if !strings.HasPrefix(out[i], "xn--") {
			return "", invalid()
		}
	}
	canon := asciiLower(local) + "@" + ascii
	if len(canon) > MaxLength {
		return "", invalid()
	}
	return canon, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// asciiLower lower-cases A-Z only (strings.ToLower would fold non-ASCII
// letters too, which is the problem this package exists for).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

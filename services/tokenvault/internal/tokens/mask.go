package tokens

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
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
//	Email          "j•••@gmail.com"    first character of the local part, and
//	               "j•••@s•••.co.uk"   the domain if a public mail provider's,
//	                                   else its public suffix and the first
//	                                   character of the label before it
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
		return maskFirst(local) + "@" + maskDomain(domain)
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

// maskDomain masks the domain of an e-mail address. A public mail
// provider's domain is shared by millions and kept; any other may be the
// person's own (jane@smith-family.name), so only its public suffix stays,
// with the first character of the label registered under it, and nothing of
// any subdomain: "mail.smith-family.co.uk" is "s•••.co.uk". The suffix comes
// from the Public Suffix List (golang.org/x/net/publicsuffix) and is shown
// only when it is one of the ICANN section's: a private-section or unknown
// suffix (someone.github.io, a made-up TLD) can itself name a person or a
// company, so such a domain is masked whole, as is one that is not a host
// name or is itself a public suffix.
func maskDomain(domain string) string {
	if publicMailDomains[domain] {
		return domain
	}
	if !hostName(domain) {
		return masked3
	}
	suffix, icann := publicsuffix.PublicSuffix(domain)
	registered, ok := strings.CutSuffix(domain, "."+suffix)
	if !icann || !ok || registered == "" {
		return masked3
	}
	label := registered[strings.LastIndexByte(registered, '.')+1:]
	return maskFirst(label) + "." + suffix
}

// publicMailDomains are the domains of the consumer mail services with the
// most users (Google, Microsoft, Yahoo, Apple, AOL, 1&1's GMX, web.de and
// mail.com, Proton, Zoho, Yandex, Mail.ru, Tencent, NetEase, Naver, Kakao,
// the large European and American ISPs), as each hands them out. Every one
// is on HubSpot's list of free e-mail domains (published as the npm package
// free-email-domains), which is not used whole: it has some 14,000 entries,
// among them one-person vanity domains, which are exactly what must be
// masked. A provider missing here is only masked more, never less.
var publicMailDomains = setOf(
	"gmail.com", "googlemail.com",
	"outlook.com", "outlook.de", "outlook.fr",
	"hotmail.com", "hotmail.co.uk", "hotmail.de", "hotmail.es", "hotmail.fr", "hotmail.it",
	"live.com", "live.co.uk", "live.de", "live.fr", "msn.com",
	"yahoo.com", "yahoo.co.jp", "yahoo.co.uk", "yahoo.com.br", "yahoo.de",
	"yahoo.es", "yahoo.fr", "yahoo.it", "ymail.com", "rocketmail.com",
	"icloud.com", "me.com", "mac.com",
	"aol.com",
	"gmx.at", "gmx.ch", "gmx.co.uk", "gmx.com", "gmx.de", "gmx.fr", "gmx.net",
	"web.de", "mail.com",
	"proton.me", "protonmail.com", "protonmail.ch", "pm.me",
	"zoho.com", "fastmail.com",
	"yandex.com", "yandex.ru", "ya.ru",
	"mail.ru", "bk.ru", "inbox.ru", "list.ru",
	"qq.com", "163.com", "126.com",
	"naver.com", "daum.net", "hanmail.net",
	"t-online.de", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr",
	"libero.it", "virgilio.it", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
	"btinternet.com", "sky.com", "virginmedia.com", "bigpond.com",
	"comcast.net", "verizon.net", "att.net", "sbcglobal.net",
	"rediffmail.com", "uol.com.br", "bol.com.br",
)

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// hostName reports whether domain is dot-separated labels of letters, digits
// and hyphens (the rest, an address literal such as "[192.0.2.1]" or a
// quoted oddity, has no suffix to keep).
func hostName(domain string) bool {
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" {
			return false
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return true
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

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
var publicMailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true,
	"outlook.com": true, "outlook.de": true, "outlook.fr": true,
	"hotmail.com": true, "hotmail.co.uk": true, "hotmail.de": true, "hotmail.es": true, "hotmail.fr": true, "hotmail.it": true,
	"live.com": true, "live.co.uk": true, "live.de": true, "live.fr": true, "msn.com": true,
	"yahoo.com": true, "yahoo.co.jp": true, "yahoo.co.uk": true, "yahoo.com.br": true, "yahoo.de": true,
	"yahoo.es": true, "yahoo.fr": true, "yahoo.it": true, "ymail.com": true, "rocketmail.com": true,
	"icloud.com": true, "me.com": true, "mac.com": true,
	"aol.com": true,
	"gmx.at": true, "gmx.ch": true, "gmx.co.uk": true, "gmx.com": true, "gmx.de": true, "gmx.fr": true, "gmx.net": true,
	"web.de": true, "mail.com": true,
	"proton.me": true, "protonmail.com": true, "protonmail.ch": true, "pm.me": true,
	"zoho.com": true, "fastmail.com": true,
	"yandex.com": true, "yandex.ru": true, "ya.ru": true,
	"mail.ru": true, "bk.ru": true, "inbox.ru": true, "list.ru": true,
	"qq.com": true, "163.com": true, "126.com": true,
	"naver.com": true, "daum.net": true, "hanmail.net": true,
	"t-online.de": true, "orange.fr": true, "wanadoo.fr": true, "free.fr": true, "laposte.net": true, "sfr.fr": true,
	"libero.it": true, "virgilio.it": true, "seznam.cz": true, "wp.pl": true, "o2.pl": true, "interia.pl": true, "onet.pl": true,
	"btinternet.com": true, "sky.com": true, "virginmedia.com": true, "bigpond.com": true,
	"comcast.net": true, "verizon.net": true, "att.net": true, "sbcglobal.net": true,
	"rediffmail.com": true, "uol.com.br": true, "bol.com.br": true,
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

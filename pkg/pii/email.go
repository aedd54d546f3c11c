package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds from RFC 5321: a local part has at most 64 octets, a domain 255.
// They also bound the work per '@', so 50,000 '@' cost linear time.
const (
	maxLocal  = 64
	maxDomain = 255
)

func isLocalByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}

// scanEmails finds addresses at each '@': the local part to the left, the
// domain (dot-separated labels, a TLD of two or more letters) to the right.
// Trailing sentence punctuation is left out.
func (d *doc) scanEmails() {
	t := d.text
	// Encoded @s are rare: only a text that holds one pays for the
	// byte-by-byte search for '%' and '&' beside the fast one for '@'.
	enc := strings.Contains(t, "%40") || strings.Contains(t, "&#") || strings.Contains(t, "&commat;") || strings.Contains(t, "&COMMAT;")
	for off := 0; ; {
		var i int
		if enc {
			i = strings.IndexAny(t[off:], "@%&")
		} else {
			i = strings.IndexByte(t[off:], '@')
		}
		if i < 0 {
			return
		}
		at := off + i
		off = at + 1
		// The @ may come encoded, as a form or a web page stores it:
		// "%40" (URL encoding), "&#64;" or "&commat;" (HTML). The finding
		// spans the text as written.
		atEnd := at + 1
		if t[at] != '@' {
			m := atMarker(t[at:])
			if m == 0 {
				continue
			}
			atEnd = at + m
		}
		d.work++
		// Local part, leftwards.
		s := at
		for s > 0 && at-s <= maxLocal {
			c := t[s-1]
			if c < utf8.RuneSelf {
				if !isLocalByte(c) {
					break
				}
				s--
				continue
			}
			r, n := utf8.DecodeLastRuneInString(t[:s])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			s -= n
		}
		if at-s > maxLocal {
			continue
		}
		for s < at && (t[s] == '.' || t[s] == '\'' || t[s] == '-' || t[s] == '/' || t[s] == '=') {
			s++
		}
		if s == at || t[at-1] == '.' {
			continue
		}
		// Userinfo in a URL (https://user:pw@host) is not an address.
		if s > 0 && t[s-1] == ':' && strings.Contains(t[max(0, s-80):s], "://") {
			continue
		}
		// Domain, rightwards.
		e, lastDot, labelLen := atEnd, -1, 0
		for e < len(t) && e-at <= maxDomain {
			c := t[e]
			if c < utf8.RuneSelf {
				if isAlnum(c) || c == '-' {
					labelLen++
					e++
					continue
				}
				if c == '.' && labelLen > 0 && e+1 < len(t) && (isAlnum(t[e+1]) || t[e+1] >= utf8.RuneSelf) {
					lastDot, labelLen = e, 0
					e++
					continue
				}
				break
			}
			r, n := utf8.DecodeRuneInString(t[e:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			labelLen++
			e += n
		}
		for e > atEnd && t[e-1] == '-' {
			e--
		}
		if lastDot < 0 || e-at > maxDomain || e-lastDot-1 < 2 {
			continue
		}
		tld := t[lastDot+1 : e]
		if !tldShaped(tld) {
			continue
		}
		d.add(s, e, Email, 0.95, "email")
		off = e
	}
}

// atMarker returns the length of an encoded @ that starts t ("%40",
// "&#64;", "&#x40;", "&commat;"), or 0.
func atMarker(t string) int {
	for _, m := range [...]string{"%40", "&#64;", "&#x40;", "&commat;"} {
		if len(t) >= len(m) && strings.EqualFold(t[:len(m)], m) {
			return len(m)
		}
	}
	return 0
}

// tldShaped: a top-level domain is letters (or an IDN's xn--), not digits.
func tldShaped(s string) bool {
	if strings.HasPrefix(strings.ToLower(s), "xn--") {
		return true
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// Spelled-out addresses ("anna dot k at gmail dot com").
var (
	atWords  = map[string]bool{"at": true, "chiocciola": true, "arroba": true, "arobase": true, "apenstaartje": true, "klammeraffe": true, "ät": true, "@": true}
	dotWords = map[string]bool{"dot": true, "punkt": true, "point": true, "punto": true, "punt": true, "dott": true}
	// mailProviders lets "anna at gmail.com" count without a spelled dot.
	mailProviders = map[string]bool{
		"gmail": true, "googlemail": true, "yahoo": true, "hotmail": true, "outlook": true, "live": true, "msn": true,
		"icloud": true, "me": true, "aol": true, "gmx": true, "web": true, "t-online": true, "posteo": true, "mailbox": true,
		"freenet": true, "orange": true, "free": true, "wanadoo": true, "laposte": true, "sfr": true, "libero": true,
		"virgilio": true, "alice": true, "tiscali": true, "tin": true, "pec": true, "ziggo": true, "kpn": true, "kpnmail": true,
		"xs4all": true, "telenet": true, "skynet": true, "proton": true, "protonmail": true, "pm": true, "yandex": true,
		"bluewin": true, "hispeed": true, "movistar": true, "telefonica": true, "ono": true, "fastwebnet": true, "email": true, "mail": true,
	}
	commonTLDs = map[string]bool{
		"com": true, "net": true, "org": true, "de": true, "fr": true, "es": true, "it": true, "nl": true, "be": true, "ch": true,
		"at": true, "uk": true, "co": true, "eu": true, "io": true, "info": true, "biz": true, "ie": true, "us": true, "ca": true,
		"mx": true, "cat": true, "lu": true, "pt": true, "pl": true, "se": true, "dk": true, "no": true, "fi": true, "email": true,
		"me": true, "shop": true, "store": true, "online": true, "app": true, "dev": true, "edu": true, "gov": true,
	}
	notLocal = map[string]bool{
		"look": true, "me": true, "us": true, "is": true, "are": true, "was": true, "arrive": true, "arrived": true, "be": true,
		"him": true, "her": true, "them": true, "it": true, "i": true, "we": true, "you": true, "order": true, "ordered": true,
		"bought": true, "stuff": true, "this": true, "that": true, "sold": true, "available": true, "cheaper": true, "price": true,
	}
)

// spelledTLD reports whether a spelled address may end in label: a common
// top-level domain, any two-letter one (a country's), the documentation
// domain "example" (RFC 2606), or, after a bracketed "(at)" that only an
// address uses, any label of letters a TLD could be.
func spelledTLD(label string, bracketed bool) bool {
	if commonTLDs[label] || label == "example" {
		return true
	}
	letters := len(label) >= 2 && len(label) <= 24
	for i := 0; letters && i < len(label); i++ {
		letters = label[i] >= 'a' && label[i] <= 'z'
	}
	return letters && (len(label) == 2 || bracketed)
}

// scanSpelledEmails finds addresses written with words for '@' and '.':
// the span runs from the first word of the local part to the TLD.
func (d *doc) scanSpelledEmails() {
	n := len(d.toks)
	for k := 1; k < n-2; k++ {
		tk := &d.toks[k]
		bracketed := false
		atK := k
		if tk.kind == tPunct && (d.isPunct(k, '[') || d.isPunct(k, '(') || d.isPunct(k, '{')) && k+2 < n && d.toks[k+1].kind == tWord && atWords[d.lw(k+1)] && d.toks[k+2].kind == tPunct {
			bracketed, atK = true, k+1
		} else if tk.kind != tWord || tk.info&wAt == 0 {
			continue
		}
		d.work++
		after := atK + 1
		if bracketed {
			after = atK + 2
		}
		// Domain: word (dot word)+, ending in a TLD.
		j := after
		if j >= n || (d.toks[j].kind != tWord && d.toks[j].kind != tNum) {
			continue
		}
		first := d.lw(j)
		spelledDot := false
		end := -1
		labels := 1
		for j+2 < n && labels < 6 {
			dj := j + 1
			if d.toks[dj].kind == tPunct && d.isPunct(dj, '.') && !d.toks[dj].sp && !d.toks[dj+1].sp {
				// literal dot
			} else if d.toks[dj].kind == tWord && dotWords[d.lw(dj)] {
				spelledDot = true
			} else if (d.isPunct(dj, '[') || d.isPunct(dj, '(')) && dj+3 < n && dotWords[d.lw(dj+1)] {
				spelledDot = true
				dj += 2
			} else {
				break
			}
			if dj+1 >= n || d.toks[dj+1].kind != tWord {
				break
			}
			j = dj + 1
			labels++
			if spelledTLD(d.lw(j), bracketed) {
				end = j
			}
		}
		if end < 0 {
			continue
		}
		if !bracketed && !spelledDot && !mailProviders[first] {
			continue
		}
		// Local part: a word, extended leftwards over (word dot) pairs.
		i := k - 1
		if d.toks[i].kind != tWord && d.toks[i].kind != tNum {
			continue
		}
		if notLocal[d.lw(i)] {
			continue
		}
		for pairs := 0; pairs < 8 && i-2 >= 0 && (d.toks[i-2].kind == tWord || d.toks[i-2].kind == tNum) && (dotWords[d.lw(i-1)] || d.isPunct(i-1, '.') && !d.toks[i-1].sp || d.isPunct(i-1, '_') || d.lw(i-1) == "underscore"); pairs++ {
			i -= 2
		}
		d.add(d.toks[i].s, d.toks[end].e, Email, 0.85, "email-spelled")
		k = end
	}
}

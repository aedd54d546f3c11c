package pii

import (
	"net/netip"
	"strings"
)

// scanIBANs tries each word that starts with a country code and two check
// digits: it collects the country's IBAN length of letters and digits,
// allowing one space or dash between groups, and keeps it when mod 97 is 1
// and the IBAN ends at a group boundary. Lower case is accepted.
func (d *doc) scanIBANs() {
	t := d.text
	var buf [34]byte
	for k := range d.toks {
		tk := &d.toks[k]
		if tk.kind != tWord || tk.e-tk.s < 4 {
			continue
		}
		s := tk.s
		if !isAlpha(t[s]) || !isAlpha(t[s+1]) {
			continue
		}
		cc := [2]byte{upper(t[s]), upper(t[s+1])}
		want, ok := ibanLengths[string(cc[:])]
		if !ok {
			continue
		}
		d.work++
		n, i, lastGroupEnd := 0, s, s
		for i < len(t) && n < want {
			c := t[i]
			if isAlnum(c) {
				buf[n] = upper(c)
				n++
				i++
				lastGroupEnd = i
				continue
			}
			if (c == ' ' || c == '-' || c == '\n' || c == '\u00a0') && i+1 < len(t) && isAlnum(t[i+1]) && n >= 2 {
				i++
				continue
			}
			break
		}
		if n != want || (i < len(t) && isAlnum(t[i])) {
			continue
		}
		if !isDigit(buf[2]) || !isDigit(buf[3]) || !ibanValid(buf[:n]) {
			continue
		}
		d.add(s, lastGroupEnd, IBAN, 1, "iban-mod97")
	}
}

func upper(c byte) byte {
	if isLower(c) {
		return c - 'a' + 'A'
	}
	return c
}

// Version-string cues: a dotted quad right after one of these is a version.
var versionCues = map[string]bool{
	"version": true, "v": true, "ver": true, "firmware": true, "fw": true, "build": true, "release": true, "update": true,
	"updated": true, "versión": true, "versione": true, "versie": true, "os": true, "ios": true, "android": true,
	"app": true, "software": true, "patch": true, "driver": true, "bios": true, "kernel": true, "windows": true,
	"chrome": true, "macos": true, "aggiornamento": true, "actualización": true, "mise": true, "upgrade": true,
	"installed": true, "installiert": true, "installé": true, "instalado": true, "geïnstalleerd": true, "installato": true,
}

var ipCues = map[string]bool{
	"ip": true, "ipv4": true, "ipv6": true, "address": true, "adresse": true, "dirección": true, "direccion": true,
	"indirizzo": true, "adres": true, "router": true, "server": true, "gateway": true, "dns": true, "ping": true,
	"host": true, "subnet": true, "proxy": true, "vpn": true, "ip-adresse": true, "ip-adres": true, "from": true,
}

// scanIPs finds IPv4 dotted quads (each part ≤ 255, not part of a longer
// dotted number, not a version string by context) and IPv6 addresses
// (validated by net/netip); a ":port" suffix is left out.
func (d *doc) scanIPs() {
	n := len(d.toks)
	for k := 0; k+6 < n; k++ {
		if d.toks[k].kind != tNum {
			continue
		}
		ok := true
		for j := 0; j < 7; j++ {
			tk := &d.toks[k+j]
			if j > 0 && tk.sp {
				ok = false
				break
			}
			if j%2 == 0 {
				if tk.kind != tNum || tk.e-tk.s > 3 || atoiBytes(d.text[tk.s:tk.e]) > 255 {
					ok = false
					break
				}
			} else if !d.isPunct(k+j, '.') {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		d.work++
		// Not a window of a longer dotted number (10.0.22631.2861, 1.2.3.4.5).
		if k >= 2 && d.isPunct(k-1, '.') && !d.toks[k-1].sp && d.toks[k-2].kind == tNum {
			k += 6
			continue
		}
		if k+8 < n && d.isPunct(k+7, '.') && !d.toks[k+7].sp && d.toks[k+8].kind == tNum && !d.toks[k+8].sp {
			k += 8
			continue
		}
		if k >= 1 && !d.toks[k].sp && d.toks[k-1].kind == tWord {
			continue // v2.4.0.17 is tokenised as "v2" ...; letters glued in front
		}
		if d.versionContext(k) {
			k += 6
			continue
		}
		d.add(d.toks[k].s, d.toks[k+6].e, IP, 0.9, "ipv4")
		k += 6
	}
	d.scanIPv6()
}

// versionContext reports whether a version cue precedes token k more
// closely than an IP cue, within five tokens of the same sentence.
func (d *doc) versionContext(k int) bool {
	for j := k - 1; j >= 0 && j >= k-5; j-- {
		tk := &d.toks[j]
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' || c == '\n' {
				return false
			}
			continue
		}
		w := d.lower(j)
		if ipCues[string(w)] {
			return false
		}
		if versionCues[string(w)] {
			return true
		}
	}
	return false
}

func atoiBytes(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
		if v > 1<<20 {
			return v
		}
	}
	return v
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// scanIPv6 expands around each ':' to the maximal run of hex digits, ':'
// and '.', at most 45 characters (the longest textual IPv6), and parses it.
func (d *doc) scanIPv6() {
	t := d.text
	for off := 0; ; {
		i := strings.IndexByte(t[off:], ':')
		if i < 0 {
			return
		}
		c := off + i
		s := c
		for s > 0 && c-s < 46 && (isHex(t[s-1]) || t[s-1] == ':' || t[s-1] == '.') {
			s--
		}
		e := c
		for e < len(t) && (isHex(t[e]) || t[e] == ':' || t[e] == '.') {
			e++
		}
		off = e
		if off == c {
			off = c + 1
		}
		d.work++
		if e-s > 45 || e-s < 3 {
			continue
		}
		// Word boundaries: no letters glued on either side.
		if s > 0 && (isAlnum(t[s-1]) || t[s-1] == '_') || e < len(t) && (isAlnum(t[e]) || t[e] == '_') {
			continue
		}
		for s < e && t[s] == '.' {
			s++
		}
		for e > s && t[e-1] == '.' {
			e--
		}
		cand := t[s:e]
		if strings.Count(cand, ":") < 2 {
			continue
		}
		a, err := netip.ParseAddr(cand)
		if err != nil {
			// "2001:db8::1:8080"-style ports cannot be told apart; a
			// trailing ":digits" that makes it invalid is dropped.
			if j := strings.LastIndexByte(cand, ':'); j > 0 && j < len(cand)-1 {
				if a2, err2 := netip.ParseAddr(cand[:j]); err2 == nil && a2.Is6() && strings.Count(cand[:j], ":") >= 2 {
					d.add(s, s+j, IP, 0.85, "ipv6")
				}
			}
			continue
		}
		if !a.Is6() {
			continue
		}
		groups := strings.Count(cand, ":")
		if groups < 3 && !strings.HasPrefix(cand, "::") && !strings.Contains(cand, "::") {
			continue
		}
		d.add(s, e, IP, 0.9, "ipv6")
	}
}

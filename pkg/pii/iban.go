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
		if n == want && (i >= len(t) || !isAlnum(t[i])) && isDigit(buf[2]) && isDigit(buf[3]) && ibanValid(buf[:n]) {
			d.add(s, lastGroupEnd, IBAN, 1, "iban-mod97")
			continue
		}
		d.ibanShaped(k)
	}
}

// ibanShaped records the span of an IBAN-shaped string that is no valid
// IBAN (wrong check digits or length): a country code, two digits, and
// groups of letters and digits, at least 12 characters in all. Its digit
// groups are account digits, so no phone, card or national ID is taken from
// them (collectTaken hands the span to the number scanners).
func (d *doc) ibanShaped(k int) {
	t := d.text
	tk := &d.toks[k]
	s := tk.s
	if tk.e-s < 4 || !isDigit(t[s+2]) || !isDigit(t[s+3]) {
		return
	}
	// Upper-case country letters, or lower case written compact.
	if !(isUpper(t[s]) && isUpper(t[s+1])) && tk.e-s < 12 {
		return
	}
	n, i, end, groups := 0, s, s, 1
	for i < len(t) && n < 34 {
		c := t[i]
		if isAlnum(c) {
			n++
			i++
			end = i
			continue
		}
		if (c == ' ' || c == '-' || c == '\n') && i+1 < len(t) && isAlnum(t[i+1]) {
			i++
			groups++
			continue
		}
		break
	}
	if n < 12 || groups > 1 && tk.e-s != 4 {
		// Grouped IBANs are written in fours from the country code.
		return
	}
	d.shaped = append(d.shaped, span{s, end})
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
	"instalada": true, "installata": true, "installée": true, "model": true, "modell": true, "modèle": true,
	"modelo": true, "modello": true, "stand": true, "softwarestand": true, "versionsnummer": true, "latest": true,
	"aktuell": true, "aktuellste": true, "neueste": true, "dernière": true, "última": true, "ultima": true,
	"laatste": true, "nieuwste": true, "updating": true, "aktualisiert": true, "aktualisierung": true,
	"actualizado": true, "actualizada": true, "actualizar": true, "aggiornato": true, "aggiornata": true,
	"aggiornare": true, "bijgewerkt": true, "geüpdatet": true, "geupdate": true, "mis": true, "jour": true,
	"beta": true, "sdk": true, "plugin": true, "extension": true, "browser": true, "safari": true, "firefox": true,
	"edge": true, "ipados": true, "watchos": true, "tvos": true, "miui": true, "emui": true, "oneui": true,
	"ubuntu": true, "debian": true, "linux": true, "downgrade": true, "rollback": true, "versions": true,
	"versionen": true, "versiones": true, "versioni": true, "versies": true, "draait": true, "läuft": true,
	"runs": true, "running": true, "tourne": true, "funciona": true, "gira": true,
}

var ipCues = map[string]bool{
	"ip": true, "ipv4": true, "ipv6": true, "address": true, "adresse": true, "dirección": true, "direccion": true,
	"indirizzo": true, "adres": true, "router": true, "server": true, "gateway": true, "dns": true, "ping": true,
	"host": true, "subnet": true, "proxy": true, "vpn": true, "ip-adresse": true, "ip-adres": true,
	"ip's": true, "ips": true, "ip-adressen": true, "whitelist": true, "allowlist": true, "blocked": true,
	"gesperrt": true, "bloqué": true, "bloqueada": true, "bloccato": true, "geblokkeerd": true, "firewall": true,
	"nameserver": true, "resolver": true, "lan": true, "wan": true, "dhcp": true, "netmask": true, "mask": true,
	"adresse-ip": true, "ipv4-adresse": true, "connexion": true, "login": true, "logged": true, "port": true,
	// A machine "on the workshop network at 10.0.4.27" is addressed there,
	// even when a firmware or BIOS word follows ("…, BIOS reinstalada").
	"network": true, "netzwerk": true, "netz": true, "réseau": true, "reseau": true, "rete": true, "netwerk": true,
	"wlan": true, "wifi": true, "wi-fi": true,
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
		var oct [4]int
		for j := range oct {
			oct[j] = atoiBytes(d.tokText(k + 2*j))
		}
		switch ctx := d.ipContext(k); {
		case ctx == weakVersion && specialIPv4(oct):
			// "the till runs on 192.168.1.20", "draait op 10.0.0.5": a
			// running verb says a version only of a quad that is no
			// private, loopback or documentation address.
			d.add(d.toks[k].s, d.toks[k+6].e, IP, 0.85, "ipv4")
		case ctx < 0:
			// A version cue is nearer than any IP cue.
		case ctx > 0 || specialIPv4(oct):
			d.add(d.toks[k].s, d.toks[k+6].e, IP, 0.9, "ipv4")
		case oct[0] <= 20 && oct[1] <= 20 && oct[2] <= 20:
			// No cue either way, and shaped like a version (6.5.8.12,
			// 2.4.0.17, 12.1.3.44): version parts are small, while public
			// addresses this low are rare enough to need a cue.
		default:
			d.add(d.toks[k].s, d.toks[k+6].e, IP, 0.85, "ipv4")
		}
		k += 6
	}
	d.scanIPv6()
}

// specialIPv4 reports the ranges people paste as addresses and versions
// never use the same way: private (RFC 1918), loopback, link-local, carrier
// NAT, documentation (RFC 5737), and the well-known public resolvers.
func specialIPv4(o [4]int) bool {
	switch {
	case o[0] == 10, o[0] == 127,
		o[0] == 172 && o[1] >= 16 && o[1] <= 31,
		o[0] == 192 && o[1] == 168,
		o[0] == 169 && o[1] == 254,
		o[0] == 100 && o[1] >= 64 && o[1] <= 127,
		o[0] == 192 && o[1] == 0 && o[2] == 2,
		o[0] == 198 && o[1] == 51 && o[2] == 100,
		o[0] == 203 && o[1] == 0 && o[2] == 113:
		return true
	}
	// 1.1.1.1, 8.8.8.8, 9.9.9.9, 8.8.4.4, 1.0.0.1
	return o[0] == o[1] && o[1] == o[2] && o[2] == o[3] || o == [4]int{8, 8, 4, 4} || o == [4]int{1, 0, 0, 1}
}

// ipContext looks for the nearest IP or version cue around a dotted quad at
// token k: up to six words before it in the same sentence, else three after
// it ("6.5.8.12 installed"). It returns 1 for an IP cue, -1 for a version
// cue, 0 for none.
func (d *doc) ipContext(k int) int {
	for j, words := k-1, 0; j >= 0 && j >= k-16 && words < 6; j-- {
		tk := &d.toks[j]
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' || c == ';' {
				break
			}
			continue
		}
		words++
		if c := d.ipCue(j); c != 0 {
			if c < 0 && runningVerbs[d.lw(j)] {
				return weakVersion
			}
			if c > 0 && d.versionOf(j) {
				// "die Firmware vom Router ist ...", "the firmware of the
				// router is ...": the device names whose version it is.
				return -1
			}
			return c
		}
		if tk.nl {
			break
		}
	}
	for j, words := k+7, 0; j < len(d.toks) && j < k+16 && words < 3; j++ {
		tk := &d.toks[j]
		if tk.nl {
			break
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' && j+1 < len(d.toks) && d.toks[j+1].sp || c == '!' || c == '?' || c == ';' {
				break
			}
			continue
		}
		words++
		if c := d.ipCue(j); c != 0 {
			return c
		}
	}
	return 0
}

// weakVersion is ipContext's answer for a running verb ("runs", "läuft",
// "draait"): a version of software, or the host a system runs on.
const weakVersion = -2

// runningVerbs are the version cues that also say where a system runs.
var runningVerbs = set(strings.Fields(`draait läuft runs running tourne funciona gira`))

// ipCue classifies word j: 1 an IP word, -1 a version word (also inside a
// compound: Software-Version, Firmwarestand, app-update), 0 neither.
func (d *doc) ipCue(j int) int {
	if !d.isWord(j) {
		return 0
	}
	w := d.lw(j)
	if ipCues[w] || strings.HasSuffix(w, "-ip") || strings.HasPrefix(w, "ip-") {
		return 1
	}
	if w == "red" && (d.lang == "es" || d.lang == "") {
		return 1 // Spanish "la red del taller"; a colour in English
	}
	if versionCues[w] || versionCues[lastPart(w)] || w == "vers" || w == "treiber" || w == "pilote" || w == "controlador" || w == "stuurprogramma" {
		return -1
	}
	// Compounds that start with or hold "version" (Versionsangabe,
	// Versionshinweis, numéro de version is caught word by word).
	if strings.Contains(w, "version") || strings.Contains(w, "versie") || strings.Contains(w, "versión") || strings.Contains(w, "versione") {
		return -1
	}
	for _, suf := range versionSuffixes {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			return -1
		}
	}
	return 0
}

// ofWords join a version word to the device it belongs to ("firmware of
// the router", "Firmware vom Router", "version du routeur", "versión del
// router", "firmware van de router", "versione del router").
var ofWords = set(strings.Fields(`of the vom von des der dem du de la l' del della dello dell' van het`))

// versionOf reports whether the IP word j is governed by a version word
// before it through "of" and articles only (not "update the router").
func (d *doc) versionOf(j int) bool {
	m, of := j-1, false
	for m >= 0 && m >= j-3 && d.isWord(m) && ofWords[d.lw(m)] {
		of = of || !ofArticles[d.lw(m)]
		m--
	}
	if m == j-1 && m >= 0 && versionNouns[d.lw(m)] {
		// "firmware router 1.0.9.88", "Firmware Router ...": a version
		// noun before the device, written apart as a compound.
		return true
	}
	return of && m >= 0 && d.ipCue(m) < 0
}

// versionNouns name a version (not verbs such as "update").
var versionNouns = set(strings.Fields(`firmware fw software versie version versione versión build`))

var ofArticles = set(strings.Fields(`the der dem la het`))

// versionSuffixes end compounds that name a version (Softwareversion,
// Firmwarestand, Buildnummer).
var versionSuffixes = []string{"version", "versie", "firmware", "update", "stand", "buildnummer", "versionsnummer"}

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

package pii

import "strings"

// Round 11: codes a customer writes so that someone can get in or collect
// something (a door, gate or key-box code; a parcel collection code). The
// contract counts them as SECRET, as parcel-locker codes are.

// entryBoxWords name a lock whose code opens it, so that they are a cue on
// their own ("the padlock on the side gate is 3391", "het sleutelkastje
// heeft code ..."), as do compounds of an entrance and "code".
var entryBoxWords = set(strings.Fields(`padlock keysafe key-safe keybox key-box lockbox combination-lock
	vorhängeschloss zahlenschloss schlüsselkasten schlüsselbox schlüsseltresor schlüsselsafe
	cadenas
	candado cajetín
	hangslot cijferslot sleutelkastje sleutelkluis sleutelkast
	lucchetto
	haustürcode haustuercode haustorcode haustor-code haustür-code türcode tür-code torcode tor-code
	eingangscode hauscode klingelcode digicode deurcode poortcode portiekcode gatecode gate-code
	doorcode door-code entrycode entry-code buzzercode`))

// entryNouns name an entrance or a parcel box; with a code word next to
// them ("the gate code", "il codice del portone", "code de la boîte à
// colis") they make a code cue.
var entryNouns = set(strings.Fields(`door gate entrance building intercom buzzer safe
	tür haustür haustor tor eingang gebäude hoftor gartentor hauseingang
	porte portail immeuble interphone résidence boîte
	puerta portal portería edificio verja portero
	deur poort voordeur portiek gebouw appartementsgebouw hek tuinhek slagboom box
	portone cancello citofono palazzo condominio`))

// collectionWords name a parcel collection or locker (with a code word);
// their compounds are cues on their own.
var collectionWords = set(strings.Fields(`collection pickup pick-up locker retrait consigne consigna recogida retiro
	ritiro armadietto abholcode abholung ophaalcode afhaalcode lockercode locker-code kluis pakketkluis
	packstation paketstation casier taquilla`))

// scanEntryCodes finds a door, gate, key-box or collection code after its
// cue in the same sentence, past words and past a tracking number that
// comes between ("Abholcode für Sendung <tracking> ist 7716").
func (d *doc) scanEntryCodes() {
	n := len(d.toks)
	for k := 0; k < n; k++ {
		if d.toks[k].info&wEntry == 0 {
			continue
		}
		lw := d.lw(k)
		start, collect := -1, false
		switch {
		case entryBoxWords[lw]:
			start = k + 1
		case strings.HasSuffix(lw, "code") && collectionWords[lw]:
			start, collect = k+1, true
		case entryNouns[lw] || collectionWords[lw]:
			if lw == "boîte" && !(k+2 < n && (d.lw(k+1) == "à" || d.lw(k+1) == "a") && (d.lw(k+2) == "colis" || d.lw(k+2) == "clés" || d.lw(k+2) == "clefs")) {
				continue // only a parcel or key box, not the box a product came in
			}
			if lw == "portal" && d.lang != "es" {
				continue // the customer portal, in English
			}
			if lw == "box" || lw == "safe" {
				// Only a key box or a lock box ("the key box is on the
				// left, combination 0427"), not the box a product came in.
				if k == 0 || d.lw(k-1) != "key" && d.lw(k-1) != "lock" {
					continue
				}
				start = k + 1
				break
			}
			if c := d.codeWordNear(k); c >= 0 {
				start, collect = max(c, k)+1, collectionWords[lw]
				if lw == "boîte" {
					start = max(c, k+2) + 1 // past "à colis", whose number it is not
				}
			}
		}
		if start < 0 {
			continue
		}
		d.work++
		if s, e := d.entryValue(start, collect); s < e {
			d.add(s, e, Secret, 0.85, "secret-entry")
			k = d.tokenAt(e) - 1
		}
	}
}

// codeWordNear returns a code word joined to the entrance noun at k by
// nothing but articles and prepositions ("gate code", "the code of the
// gate", "il codice del portone", "code de la boîte"), or -1: a code
// word further off in the sentence is another code ("the building is
// old, code compliance certificate ...").
func (d *doc) codeWordNear(k int) int {
	for m := k - 1; m >= 0 && m >= k-4; m-- {
		if d.entryCodeWord(m) {
			return m
		}
		if !d.isWord(m) || !codePreps[d.lw(m)] && !codeFunctionWords[elided(d.lw(m))] {
			break
		}
	}
	for m := k + 1; m < len(d.toks) && m <= k+3; m++ {
		if d.entryCodeWord(m) {
			return m
		}
		if !d.isWord(m) || !codePreps[d.lw(m)] && !codeFunctionWords[elided(d.lw(m))] && !haveWords[d.lw(m)] {
			break
		}
	}
	return -1
}

// haveWords let an entrance "have" its code ("het hek heeft een code").
var haveWords = set(strings.Fields(`has have hat haben heeft hebben a ont tiene tienen ha hanno`))

// entryCodeWords name the code that opens an entrance besides "code":
// a PIN, a Spanish "clave", a combination.
var entryCodeWords = set(strings.Fields(`pin clave combination combinación combinaison combinazione kombination combinatie`))

func (d *doc) entryCodeWord(m int) bool {
	return d.isWord(m) && (genericCodeWords[d.lw(m)] || entryCodeWords[d.lw(m)])
}

// entryValue returns the first code-shaped value from token j to the end
// of its sentence (at most twelve words on). A reference word's own number
// (an order, an invoice, a consignment's tracking number) is passed over,
// never taken; a number with money after it is a price.
func (d *doc) entryValue(j int, collect bool) (int, int) {
	// An English "collection" is as often a fashion line's as a parcel's:
	// after it only a letter-digit code in two groups counts ("collection
	// code K4T 9ZQ"); plain digits need the credential words of scanSecrets.
	weak := collect && j > 0 && d.collectionCue(j-1)
	skip := false
	for words := 0; j < len(d.toks) && words < 12; j++ {
		tk := &d.toks[j]
		if tk.nl && words > 0 || tk.kind == tPunct && strings.IndexByte(".!?;", d.text[tk.s]) >= 0 && (j+1 >= len(d.toks) || d.toks[j+1].sp || d.toks[j+1].nl) {
			return 0, 0
		}
		if tk.kind == tPunct {
			continue
		}
		s, e := d.valueChunk(j)
		if s != tk.s || s >= e {
			words++
			continue
		}
		v := d.text[s:e]
		if tk.kind == tWord && !tk.digit && !(collect && tk.allUp && d.spacedCode(j, collect) > 0) {
			// A reference word's number follows it at once ("Sendung
			// 0034...", "order 3391"); any other word between ends that.
			lw := d.lw(j)
			if numberWords[lw] {
				return 0, 0 // "the locker code number is 1184": the locker's number
			}
			skip = notSecretCues[lw] || kindWords[lw] || cueWords[lw]&(cueRef|cueMoney|cuePhone) != 0 && !otpCues[lw] && !collectionWords[lw]
			words++
			continue
		}
		if !tk.sp && j > 0 && !d.isPunct(j-1, ':') && !d.isPunct(j-1, '(') && !d.isPunct(j-1, '#') && !d.isPunct(j-1, '"') && !quoteMark(d.tokText(j-1)) {
			// "KS-4000": the tail of a longer reference.
			skip = false
			words++
			continue
		}
		if skip || longReference(v) {
			skip = false
			j = d.tokenAt(e - 1)
			words++
			continue
		}
		if ee := d.spacedDigits(j); ee > 0 {
			return s, ee // "Gate code 4 8 2 9", "Türcode: 58 21"
		}
		if ee := d.spacedCode(j, collect); ee > 0 {
			if !d.moneyAfter(ee) {
				return s, ee
			}
			return 0, 0
		}
		if entryShaped(v) && !d.moneyAfter(e) && !weak {
			return s, e
		}
		return 0, 0
	}
	return 0, 0
}

// collectionCue reports "collection" at k or just before the code word at k.
func (d *doc) collectionCue(k int) bool {
	return d.lw(k) == "collection" || k > 0 && d.lw(k-1) == "collection"
}

// longReference: ten characters or more of digits and letters, with
// digits: a tracking or consignment number.
func longReference(v string) bool {
	return len(v) >= 10 && hasDigit(v) && onlyLettersAnd(v, "0123456789")
}

// entryShaped: 4–6 digits (not a year), 4–5 digits with one letter at
// either end (4829B, B4471), or three to six single digits joined by
// dashes (3-6-0-2).
func entryShaped(v string) bool {
	if allDigits(v) {
		return len(v) >= 4 && len(v) <= 6 && !yearLike(v)
	}
	if l := len(v); l >= 5 && l <= 6 {
		if isAlpha(v[0]) && allDigits(v[1:]) || isAlpha(v[l-1]) && allDigits(v[:l-1]) {
			return true
		}
	}
	if len(v) >= 5 && len(v) <= 11 && len(v)%2 == 1 {
		for i := 0; i < len(v); i++ {
			if i%2 == 0 && !isDigit(v[i]) || i%2 == 1 && v[i] != '-' {
				return false
			}
		}
		return true
	}
	return false
}

// spacedDigits returns the end of an entry code typed with spaces: four
// to six single digits ("4 8 2 9"), or two pairs that end the clause
// ("58 21."); 0 when not, or when more digits run on.
func (d *doc) spacedDigits(j int) int {
	n := len(d.toks)
	m := j
	for m < n && m-j < 7 && d.toks[m].kind == tNum && d.toks[m].e-d.toks[m].s == 1 && (m == j || d.toks[m].sp && !d.toks[m].nl) {
		m++
	}
	ends := func(m int) bool {
		return m >= n || d.toks[m].nl || d.toks[m].kind == tPunct && (m+1 >= n || d.toks[m+1].sp || d.toks[m+1].nl) && !d.isPunct(m, ':')
	}
	if c := m - j; c >= 4 && c <= 6 && ends(m) {
		return d.toks[m-1].e
	}
	if j+1 < n && d.toks[j].e-d.toks[j].s == 2 && d.toks[j+1].kind == tNum && d.toks[j+1].e-d.toks[j+1].s == 2 && d.toks[j+1].sp && !d.toks[j+1].nl && ends(j+2) {
		return d.toks[j+1].e
	}
	return 0
}

// spacedCode returns the end of a code in two groups split by one space
// at token j: three digits and three or four ("863 105", "774 0913"), or,
// after a collection cue, capitals and digits ("K4T 9ZQ", "KX 7421"); 0
// when not, or when a third group runs on (a phone number).
func (d *doc) spacedCode(j int, collect bool) int {
	n := len(d.toks)
	if j+1 >= n || !d.toks[j+1].sp || d.toks[j+1].nl || d.toks[j+1].kind == tPunct {
		return 0
	}
	if j+2 < n && d.toks[j+2].sp && (d.toks[j+2].kind == tNum || d.toks[j+2].kind == tWord && d.toks[j+2].digit) {
		return 0
	}
	if j+2 < n && !d.toks[j+2].sp && d.toks[j+2].kind != tPunct {
		return 0
	}
	a, b := d.tokText(j), d.tokText(j+1)
	if allDigits(a) && allDigits(b) && len(a) == 3 && (len(b) == 3 || len(b) == 4) {
		return d.toks[j+1].e
	}
	if !collect || len(a) < 2 || len(a) > 4 || len(b) < 2 || len(b) > 4 || !upperOrDigits(a) || !upperOrDigits(b) {
		return 0
	}
	if v := a + b; hasDigit(v) && hasLetter(v) && !allDigits(b) || allDigits(b) && len(b) == 4 && !hasDigit(a) && len(a) == 2 {
		return d.toks[j+1].e
	}
	return 0
}

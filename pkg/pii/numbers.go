package pii

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A number chain is a run of digit groups joined by short separators
// (space, dash, dot, slash, parentheses, a line break): "4111 1111 1111
// 1111", "+33 (0)1 23 45 67 89", "123-45-6789". Cards, numeric national IDs
// and phones are windows of whole groups of a chain, so a checksum-valid
// window inside a longer number is never taken for an entity on its own.

type grp struct {
	s, e int    // digits
	gap  string // separator before this group ("" for the first)
}

// maxWindow bounds the groups one entity spans; with the digit bounds it
// makes the work per group constant.
const maxWindow = 8

// joinable reports whether gap can separate two groups of one number.
func joinable(gap string) bool {
	if len(gap) == 0 || len(gap) > 4 {
		return false
	}
	punct, open, cls, nl, sp := 0, 0, 0, 0, 0
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case ' ', '\t':
			sp++
		case '\r':
		case '\n':
			nl++
		case '-', '.', '/':
			punct++
		case '(':
			open++
		case ')':
			cls++
		case 0xC2: // U+00A0 no-break space
			if i+1 < len(gap) && gap[i+1] == 0xA0 {
				i++
				sp++
				continue
			}
			return false
		default:
			return false
		}
	}
	return punct <= 1 && open <= 1 && cls <= 1 && nl <= 1 && sp <= 2
}

// gluedBefore/After: a letter touching the digits makes them part of a word
// (DE89, v2, 12a, 5kg), which no number recogniser takes.
func gluedBefore(t string, s int) bool {
	if s == 0 {
		return false
	}
	c := t[s-1]
	if c < utf8.RuneSelf {
		return isAlpha(c) || c == '_'
	}
	r, _ := utf8.DecodeLastRuneInString(t[:s])
	return unicode.IsLetter(r)
}

func gluedAfter(t string, e int) bool {
	if e >= len(t) {
		return false
	}
	c := t[e]
	if c < utf8.RuneSelf {
		return isAlpha(c) || c == '_'
	}
	r, _ := utf8.DecodeRuneInString(t[e:])
	return unicode.IsLetter(r)
}

// scanNumberChains builds the chains in one pass and classifies each.
func (d *doc) scanNumberChains() {
	t := d.text
	g := d.grps[:0]
	d.phoneBudget = 8 + len(t)/128
	d.collectTaken()
	flush := func() {
		if len(g) > 0 {
			d.chain(g)
			g = g[:0]
		}
	}
	for i := 0; i < len(t); {
		if !isDigit(t[i]) {
			i++
			continue
		}
		s := i
		for i < len(t) && isDigit(t[i]) {
			i++
		}
		if gluedBefore(t, s) || gluedAfter(t, i) {
			flush()
			continue
		}
		if len(g) > 0 {
			gap := t[g[len(g)-1].e:s]
			if joinable(gap) {
				g = append(g, grp{s: s, e: i, gap: gap})
				continue
			}
			flush()
		}
		g = append(g, grp{s: s, e: i})
	}
	flush()
	d.grps = g[:0]
}

// chain classifies windows of a chain from left to right: at each group the
// longest window that is a card, national ID or phone wins and the scan
// continues after it.
func (d *doc) chain(g []grp) {
	if d.smallGroupCard(g) {
		return
	}
	for a := 0; a < len(g); {
		found := 0
		for b := min(len(g), a+maxWindow); b > a && found == 0; b-- {
			digits := 0
			for _, x := range g[a:b] {
				digits += x.e - x.s
			}
			if digits > 19 || digits < 6 {
				continue
			}
			d.work++
			if d.taken(g[a].s, g[b-1].e) {
				continue
			}
			if d.cardWindow(g, a, b) || d.idWindow(g, a, b) || d.phoneWindow(g, a, b) {
				found = b
			}
		}
		if found > 0 {
			a = found
		} else {
			a++
		}
	}
}

// smallGroupCard finds a card typed digit by digit or in pairs to get past
// a filter ("4 5 3 2 0 1 7 …", "45-32-01-…"): a whole chain of seven or
// more groups of one or two digits, one separator throughout, 13 to 19
// digits of a card brand that pass Luhn, in a message that names a card
// (before it, or anywhere without a device or barcode word). Such a chain
// has more groups than a window holds, so chain's windows never see it.
func (d *doc) smallGroupCard(g []grp) bool {
	if len(g) < 7 {
		return false
	}
	n := 0
	for _, x := range g {
		if x.e-x.s > 2 {
			return false
		}
		n += x.e - x.s
	}
	if n < 13 || n > 19 {
		return false
	}
	if sep := uniformSep(g, 0, len(g)); sep == 0 || sep == '/' {
		return false
	}
	for _, x := range g[1:] {
		if len(x.gap) != 1 {
			return false // one separator character between groups, no line breaks
		}
	}
	d.work++
	if d.taken(g[0].s, g[len(g)-1].e) {
		return false
	}
	digits := d.compact(g, 0, len(g))
	if cardBrand(digits) == "" || !luhn(digits) {
		return false
	}
	if cue, _ := d.cueBeforeAt(d.tokenAt(g[0].s), 6, cueCard); cue&cueCard == 0 && !d.cardMessage() {
		return false
	}
	d.add(g[0].s, g[len(g)-1].e, Card, 0.95, "card-luhn")
	return true
}

// sentToWords say "to" a number after a message word ("SMS al", "SMS au",
// "SMS an", "sms naar", "text to").
var sentToWords = set(strings.Fields(`to on al a au an naar op allo alla sul`))

// sentTo reports one such word, alone, between the message word at and the
// number at token k.
func (d *doc) sentTo(at, k int) bool {
	return k == at+2 && d.isWord(at+1) && sentToWords[d.lw(at+1)]
}

// spacedRun reports a chain of groups joined by single spaces whose
// digits number from lo to hi.
func spacedRun(g []grp, lo, hi int) bool {
	n := 0
	for i, x := range g {
		if i > 0 && x.gap != " " {
			return false
		}
		n += x.e - x.s
	}
	return n >= lo && n <= hi
}

// compact puts the digits of g[a:b] into d.buf.
func (d *doc) compact(g []grp, a, b int) []byte {
	d.buf = d.buf[:0]
	for _, x := range g[a:b] {
		d.buf = append(d.buf, d.text[x.s:x.e]...)
	}
	return d.buf
}

// sepKind is the separator class of a gap: ' ' (spaces, a line break),
// '-', '.', '/', or 0 for mixed or bracketed gaps.
func sepKind(gap string) byte {
	var k byte
	for i := 0; i < len(gap); i++ {
		c := gap[i]
		switch c {
		case ' ', '\n', '\r', '\t', 0xC2, 0xA0:
			if k == 0 {
				k = ' '
			}
		case '-', '.', '/':
			k = c
		default:
			return 0
		}
	}
	return k
}

// uniformSep returns the common separator class of the gaps inside g[a:b]
// (' ' for a single group), or 0 when they differ.
func uniformSep(g []grp, a, b int) byte {
	if b-a == 1 {
		return ' '
	}
	k := sepKind(g[a+1].gap)
	for _, x := range g[a+2 : b] {
		if sepKind(x.gap) != k {
			return 0
		}
	}
	return k
}

// cardContinued reports whether a grouped card window is part of a longer
// grouped number: a four-digit group joined to it by its own separator.
// Not when the join is a line break the card itself has not (cards listed
// one a line), when the neighbour is another card (two cards on one line),
// or when a standard brand grouping (4-4-4-4, 4-6-5, 4-4-4-4-3) is followed
// by a single last group (an expiry or a CVC written after the number):
// the longer reading has over 19 digits or failed Luhn, as longer windows
// are tried first.
func (d *doc) cardContinued(g []grp, a, b int, sep byte, sizes []int) bool {
	innerNL := false
	for _, x := range g[a+1 : b] {
		innerNL = innerNL || strings.IndexByte(x.gap, '\n') >= 0
	}
	lineBreak := func(gap string) bool { return !innerNL && strings.IndexByte(gap, '\n') >= 0 }
	if a > 0 && sepKind(g[a].gap) == sep && g[a-1].e-g[a-1].s == 4 && !lineBreak(g[a].gap) {
		if c := len(d.cands); c == 0 || d.cands[c-1].typ != Card || d.cands[c-1].e != g[a-1].e {
			return true
		}
	}
	if b == len(g) || sepKind(g[b].gap) != sep || g[b].e-g[b].s != 4 || lineBreak(g[b].gap) {
		return false
	}
	// (A fifth group of four after 4-4-4-4 is the card's expiry, MMYY or
	// a year; any other makes one 20-digit number, a gift card's.)
	standard := len(sizes) == 4 && sizes[3] == 4 && expiryGroup(d.text[g[b].s:g[b].e]) || len(sizes) == 5 && sizes[4] == 3 ||
		len(sizes) == 3 && sizes[1] == 6 && sizes[2] == 5
	if standard && b+1 == len(g) {
		return false
	}
	// Another 4-4-4-4 card right after, ending the chain.
	if len(sizes) == 4 && b+4 == len(g) && uniformSep(g, b, b+4) == sep {
		for _, x := range g[b : b+4] {
			if x.e-x.s != 4 {
				return true
			}
		}
		next := d.compact(g, b, b+4)
		return cardBrand(next) == "" || !luhn(next)
	}
	return true
}

func (d *doc) cardWindow(g []grp, a, b int) bool {
	n := 0
	for _, x := range g[a:b] {
		n += x.e - x.s
	}
	if n < 13 || n > 19 {
		return false
	}
	sep := uniformSep(g, a, b)
	if sep == 0 || sep == '/' {
		return false
	}
	// Card layouts: compact, fours (the last group shorter), Amex 4-6-5,
	// Diners 4-6-4, UnionPay 6-13.
	var sizeArr [maxWindow]int
	sizes := sizeArr[:0]
	wrapped := false
	for _, x := range g[a:b] {
		sizes = append(sizes, x.e-x.s)
	}
	layout := len(sizes) == 1
	if !layout {
		fours := true
		for i, s := range sizes {
			if i < len(sizes)-1 && s != 4 || i == len(sizes)-1 && (s < 1 || s > 4) {
				fours = false
			}
		}
		layout = fours && len(sizes) >= 4 ||
			len(sizes) == 3 && sizes[0] == 4 && sizes[1] == 6 && (sizes[2] == 5 || sizes[2] == 4) ||
			len(sizes) == 2 && sizes[0] == 6 && sizes[1] == 13
		// A compact number wrapped onto the next line ("47729708\n16270591"):
		// two runs split only by a line break, trusted with a card word
		// (near it, or in a message that names a card and no device).
		wrapped = !layout && len(sizes) == 2 && sizes[0] >= 4 && sizes[1] >= 4 && strings.IndexByte(g[a+1].gap, '\n') >= 0
		// Typed in groups of no card layout ("47729708 16270591", "4772
		// 9708 16270591"): the whole number, trusted with a card word too.
		if !layout && !wrapped && len(sizes) <= 4 && a == 0 && b == len(g) {
			wrapped = true
			for _, sz := range sizes {
				wrapped = wrapped && sz >= 3
			}
		}
		layout = layout || wrapped
	}
	if !layout {
		return false
	}
	// A compact number is a whole number by itself (a longer run without
	// separators has more than 19 digits and never gets here): a separated
	// neighbour is a candidate of its own and Luhn decides. Grouped windows
	// must not be cut out of a longer grouped number.
	if len(sizes) > 1 && d.cardContinued(g, a, b, sep, sizes) {
		return false
	}
	digits := d.compact(g, a, b)
	if cardBrand(digits) == "" || !luhn(digits) {
		return false
	}
	k := d.tokenAt(g[a].s)
	cue, at := d.cueBeforeAt(k, 6, cueCard|cueDevice|cueCompany|cueRef)
	if cue&cueCompany != 0 && at >= 0 && ownerCompany[unElide(d.lw(at))] {
		// "Tarjeta de empresa:", "Carte Diners de l'entreprise :",
		// "Mastercard de la empresa:": the company owns the card a card
		// word before it names; it is no company number's label.
		if c2, _ := d.cueBefore(at, 4, cueCard); c2 != 0 {
			cue = cueCard
		}
	}
	if cue&cueDevice != 0 || cue&cueCompany != 0 {
		return false
	}
	if cue == 0 {
		if c2, _ := d.cueAfter(d.tokenAt(g[b-1].e-1), 3, cueDevice|cueCompany); c2 != 0 {
			return false
		}
	}
	// A barcode that also passes Luhn needs a card word to count: near it,
	// or anywhere in a message that names no barcode, article or device
	// ("Visa with 13 digits doesn't work? 4409…").
	if (n == 13 || n == 14) && ean(digits) && cue&cueCard == 0 && !d.cardMessage() {
		return false
	}
	if wrapped && (cue&cueRef != 0 || cue&cueCard == 0 && !d.cardMessage()) {
		return false // two numbers one a line, or an order number's groups
	}
	score := 0.95
	if cue&cueCard != 0 {
		score = 1
	}
	d.add(g[a].s, g[b-1].e, Card, score, "card-luhn")
	return true
}

// cardMessage reports a payment-card word in the message and no device,
// barcode or courier word.
// It is asked once per message, so many barcode-shaped numbers in one text
// stay linear.
func (d *doc) cardMessage() bool {
	if d.cardMsg != 0 {
		return d.cardMsg > 0
	}
	d.cardMsg = -1
	for j := range d.toks {
		d.work++
		if !d.isWord(j) {
			continue
		}
		c := d.cueOf(j)
		if c&cueDevice != 0 {
			d.cardMsg = -1
			return false
		}
		if c&cueCard != 0 {
			d.cardMsg = 1
		}
	}
	return d.cardMsg > 0
}

// idWindow finds US SSNs, German Steuer-IDs and Dutch BSNs. Bare nine-digit
// numbers are too common (orders, customers) to take without a cue.
func (d *doc) idWindow(g []grp, a, b int) bool {
	n := 0
	for _, x := range g[a:b] {
		n += x.e - x.s
	}
	if n != 9 && n != 11 {
		return false
	}
	if a == 0 && g[0].s > 0 && d.text[g[0].s-1] == '+' {
		return false
	}
	sep := uniformSep(g, a, b)
	sizes := [maxWindow]int{}
	for i, x := range g[a:b] {
		sizes[i] = x.e - x.s
	}
	groups := b - a
	digits := d.compact(g, a, b)
	k := d.tokenAt(g[a].s)
	cue, _ := d.cueBefore(k, 6, cueRef|cueCompany|cueDevice|cueCard|cuePhone|cueMoney|cueSSN|cueBSN|cueTaxID)
	if cue&(cueSSN|cueBSN|cueTaxID) == 0 && cue != 0 {
		if cue&(cueRef|cueCard) == 0 {
			return false
		}
		if cue = d.idCueFurther(k); cue == 0 {
			return false
		}
	}
	if cue == 0 {
		if c2, _ := d.cueAfter(d.tokenAt(g[b-1].e-1), 3, cueRef|cueCompany|cueDevice|cuePhone); c2 != 0 {
			return false
		}
	}
	s, e := g[a].s, g[b-1].e
	if n == 9 {
		ssnShape := groups == 3 && sizes[0] == 3 && sizes[1] == 2 && sizes[2] == 4 && (sep == '-' || sep == ' ')
		bsnShape := groups == 3 && sizes[0] == 4 && sizes[1] == 2 && sizes[2] == 3 && (sep == '.' || sep == ' ')
		if ssnShape && ssnValid(digits) {
			d.add(s, e, NationalID, 0.9, "us-ssn")
			return true
		}
		if groups == 1 && (cue&cueSSN != 0 || cue == 0 && d.lang != "nl" && d.ssnContext()) && ssnValid(digits) {
			// With no cue of its own, a plain nine-digit number is an SSN
			// when the message asks for or speaks of one ("asked me for my
			// social security number ... I typed 219604417").
			d.add(s, e, NationalID, 0.85, "us-ssn")
			return true
		}
		// Three groups of three ("123.456.782") are a BSN only after its
		// own cue: the grouping is a phone's or an amount's as often.
		triple := groups == 3 && sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 3 && (sep == '.' || sep == ' ') && cue&cueBSN != 0
		if (groups == 1 || bsnShape || triple) && bsnValid(digits) && (cue&(cueBSN|cueTaxID) != 0 || d.lang == "nl" && cue == 0 && d.identityContext() || bsnShape) {
			score := 0.85
			if cue == 0 {
				score = 0.7
			}
			d.add(s, e, NationalID, score, "nl-bsn")
			return true
		}
		return false
	}
	// Steuer-ID: eleven digits, compact or spaced.
	if sep != ' ' || sizes[0] < 2 {
		return false
	}
	if !steuerIDValid(digits) {
		return false
	}
	if cue&cueTaxID == 0 && d.lang != "de" && d.lang != "" {
		return false
	}
	score := 0.9
	if cue == 0 {
		score = 0.75
	}
	d.add(s, e, NationalID, score, "de-steuer-id")
	return true
}

// identityWords say a message is about a person's identity or official
// papers, where a bare nine-digit number that passes the 11-proof is a
// BSN; elsewhere it is as likely an order, parcel or account number that
// passes by chance (one in eleven do).
var identityWords = set(strings.Fields(`bsn burgerservicenummer sofinummer sofi persoonsnummer identiteit identiteitsbewijs
	id-kaart identiteitskaart paspoort rijbewijs geboren geboortedatum belastingdienst gemeente zorgverzekering
	huurcontract loonstrook werkgever salaris uitkering duo svb uwv digid
	ssn nino steuer-id steuerid identifikationsnummer nir insee sécu dni nie fiscale`))

// identityContext reports, once per message, an identity word anywhere in it.
func (d *doc) identityContext() bool {
	if d.identity != 0 {
		return d.identity > 0
	}
	d.identity = -1
	for m := range d.toks {
		if d.isWord(m) && identityWords[d.lw(m)] {
			d.identity = 1
			break
		}
	}
	return d.identity > 0
}

// ssnContext reports, once per message, "SSN" or "social security"
// anywhere in it.
func (d *doc) ssnContext() bool {
	if d.ssn != 0 {
		return d.ssn > 0
	}
	d.ssn = -1
	for m := range d.toks {
		if d.isWord(m) && (d.lw(m) == "ssn" || d.lw(m) == "social" && m+1 < len(d.toks) && d.lw(m+1) == "security") {
			d.ssn = 1
			break
		}
	}
	return d.ssn > 0
}

// dateShaped reports whether g[a:b] reads as a date or time: d.m.y, d/m/y,
// y-m-d, d.m., h.mm.
func (d *doc) dateShaped(g []grp, a, b int) bool {
	if b-a > 3 {
		return false
	}
	sep := uniformSep(g, a, b)
	if sep != '.' && sep != '/' && sep != '-' {
		return false
	}
	var v [3]int
	var l [3]int
	for i, x := range g[a:b] {
		v[i], l[i] = atoiBytes(d.text[x.s:x.e]), x.e-x.s
	}
	switch b - a {
	case 2:
		return l[0] <= 2 && l[1] <= 2 && v[0] <= 31 && v[1] <= 59
	case 3:
		if l[0] == 4 {
			return v[1] >= 1 && v[1] <= 12 && v[2] >= 1 && v[2] <= 31
		}
		return l[0] <= 2 && l[1] <= 2 && (l[2] == 2 || l[2] == 4) && v[0] <= 31 && v[1] <= 31
	}
	return false
}

func (d *doc) phoneWindow(g []grp, a, b int) bool {
	n := 0
	singles := 0
	for _, x := range g[a:b] {
		n += x.e - x.s
		if x.e-x.s == 1 {
			singles++
		}
	}
	if n < 7 || n > 15 || b-a > 7 || singles > 2 {
		return false
	}
	if a > 0 && (g[a].gap == "-" || g[a].gap == "." || g[a].gap == "/") {
		// Digits glued to more digits ("Kunden-Ref: 2026-0301234567"):
		// the tail of a longer reference, not a phone of its own.
		return false
	}
	if a > 0 && b < len(g) && g[a].gap == " " && g[b].gap == " " && g[a-1].e-g[a-1].s <= 3 && g[b].e-g[b].s <= 3 &&
		(b-a == 1 || uniformSep(g, a, b) == ' ') {
		// A window cut from the middle of a longer spaced number, with
		// short groups on both sides ("2 81 07 75 218 904 17", a social
		// security number's layout): the number is the whole, not a phone.
		return false
	}
	if (a > 0 || b < len(g)) && (a == 0 || g[a].gap == " " && g[a-1].e-g[a-1].s <= 3) && (b == len(g) || g[b].gap == " " && g[b].e-g[b].s <= 3) && spacedRun(g, 13, 15) {
		// A window at either end of a spaced run of 13–15 digits ("2 16 12
		// 06 111 295 81", a social security number): the run is one
		// number, as a Luhn window inside a longer number is no card. Two
		// phones in a row run longer.
		return false
	}
	if d.afterCountryCode(g, a) {
		// "+49 30 12345678" in an English message: the number starts at
		// its '+' (or 00) and is valid for the language's regions as a
		// whole or not at all; the national digits after a foreign
		// country code are never a phone of their own (the contract's
		// span runs from the '+').
		return false
	}
	if b-a >= 2 && cardLayoutAround(g, a, b) {
		// Two four-digit groups cut from a run of fours ("4108 1661 0966
		// 9013", a card number that failed Luhn): part of the card-shaped
		// number, not a phone.
		return false
	}
	t := d.text
	// Where the number starts: '+', '(' or the first digit ("(+34) 612",
	// "(206) 555-0100", "+44 20"); "00" is handled with the digits.
	s := g[a].s
	intl := false
	if s > 0 && t[s-1] == '+' {
		s--
		intl = true
	}
	if s > 0 && t[s-1] == '(' {
		s--
	}
	if d.dateShaped(g, a, b) || d.ipShaped(g, a, b) || d.taken(s, g[b-1].e) {
		return false
	}
	// A log line's timestamp ("2026-11-03 14:22:05"): a window that starts
	// with a date, or whose last group is an hour followed by ":mm", is a
	// date and time, not a phone.
	if b-a > 3 && d.dateShaped(g, a, a+3) && uniformSep(g, a, b) == 0 {
		// (The date's separator running on through every group is a
		// phone's layout in pairs: 06-18-44-27-93, 06.18.44.27.93.)
		return false
	}
	if e := g[b-1].e; e+1 < len(t) && t[e] == ':' && t[e+1] >= '0' && t[e+1] <= '9' && g[b-1].e-g[b-1].s <= 2 {
		return false
	}
	// The number's digits; a "(0)" after a country code is not dialled.
	d.buf = d.buf[:0]
	for i, x := range g[a:b] {
		grpDigits := t[x.s:x.e]
		if i > 0 && grpDigits == "0" && len(x.gap) > 0 && x.gap[len(x.gap)-1] == '(' && (intl || g[a].e-g[a].s >= 4 && t[g[a].s:g[a].s+2] == "00") {
			continue
		}
		d.buf = append(d.buf, grpDigits...)
	}
	digits := string(d.buf)
	if !intl && len(digits) > 2 && digits[0] == '0' && digits[1] == '0' {
		intl, digits = true, digits[2:]
	}
	if n == 16 || (n >= 13 && luhn(d.buf) && cardBrand(d.buf) != "") {
		return false
	}
	// Context: the nearest cue before (or a reference word right after).
	k := d.tokenAt(g[a].s)
	if !intl && vatPrefix(d, k) {
		// "BE 0417.497.106", "NL 8528.71.912": a country code written
		// before a national number makes it a VAT or enterprise number.
		return false
	}
	mask := cueRef | cuePhone | cueCard | cueDevice | cueCompany | cueMoney | cueSSN | cueBSN | cueTaxID | cueOTP | cuePassword | cueKey | cuePromo | cueDate
	cue, at := d.cueBeforeAt(k, 6, mask)
	if cue&cuePhone == 0 && d.callVerbBefore(k) {
		// round 15: "j'ai appelé le 01 86 …", "I rang 0161 …", "llamé al
		// 91 …": a number the writer called is a phone, whatever
		// reference word an earlier clause named.
		cue, at = cuePhone, -1
	}
	switch {
	case cue != 0 && at >= 0 && genericNumber[d.lw(at)]:
		// "number" says nothing alone: "le numéro de commande 06...", or
		// "the order yesterday, the number is 06..." decide by the
		// reference it belongs to, in the same sentence.
		if d.numberOf(at) == cueRef {
			return false
		}
		if c2, at2 := d.cueBeforeAt(at, 8, mask); c2&cuePhone == 0 && c2 != 0 && !d.numberIsMine(at) && !(at2 >= 0 && accountWords[unElide(d.lw(at2))]) {
			return false
		}
	case cue&cueRef != 0 && at >= 0 && accountWords[unElide(d.lw(at))]:
		// "my number for the account is still 020 ...".
		if at2 := d.genericNumberBefore(at, 4); at2 < 0 || d.numberOf(at2) != cuePhone {
			return false
		}
		cue = cuePhone
	case cue&cueRef != 0 && at >= 0 && d.serviceDesk(at):
		// "contactez notre service client au 01 45 ...", "call customer
		// service on 0800 ...": the customer word names the shop's own
		// line, which the contract counts as a PHONE like anyone's.
		cue = cuePhone
	case cue&cueOTP != 0 && at >= 0 && channelWords[d.lw(at)] && d.sentTo(at, k):
		// "Le mandiamo un SMS al 347 ...", "respuesta por SMS al 612
		// ...": a message sent to a number names the number a phone.
		cue = cuePhone
	case cue != 0 && cue&^(cueOTP|cuePassword|cueKey) == 0 && len(digits) >= 10 && (intl || digits[0] == '0'):
		// A code word says nothing of a number longer than any code
		// with a trunk zero or country code ("it asks me for an
		// activation code, is 06 18 24 30 42 your service?").
		cue = 0
	case cue != 0 && cue&cuePhone == 0:
		return false
	}
	if cue == 0 && !intl && b-a >= 3 && uniformSep(g, a, b) == '.' && (d.lang == "nl" || d.lang == "de" || d.lang == "en" || d.lang == "es") {
		// Dots between groups are how French (and Italian) write phone
		// numbers; elsewhere a dotted number with no phone word before it
		// is a reference ("0612.34.56.78 staat op de bon").
		return false
	}
	if cue == 0 {
		// "His number is 0113 ... Mine's still 020 ... for the account",
		// "el mío sigue siendo el ...": the writer's own number, after a
		// phone word; what follows says what it is used for. Asked only
		// when a reference after the number would reject it.
		last := d.tokenAt(g[b-1].e - 1)
		if c2, _ := d.cueAfter(last, 3, cueRef|cueCompany|cueDevice|cueCard|cueMoney|cueOTP); c2 != 0 {
			if !d.mineAfterPhone(k) {
				return false
			}
			cue = cuePhone
		}
		// "06... c'est le numéro de ma commande", "612345678 es mi número
		// de pedido": a number word after it that belongs to a reference.
		if c2, at2 := d.cueAfterAt(last, 5, cuePhone); cue == 0 && c2 != 0 && genericNumber[d.lw(at2)] && d.numberOf(at2) == cueRef {
			if !d.mineAfterPhone(k) {
				return false
			}
			cue = cuePhone
		}
	}
	if d.phoneBudget <= 0 {
		return false
	}
	d.phoneBudget--
	d.work++
	if !d.e.phones.valid(digits, intl, langRegions[d.lang], d.e.cfg.region, d.e.cfg.anyRegion) {
		return false
	}
	score := 0.75
	if cue&cuePhone != 0 {
		score = 0.95
	} else if intl {
		score = 0.9
	}
	d.add(s, g[b-1].e, Phone, score, "phone-libphonenumber")
	return true
}

// afterCountryCode reports whether the group before g[a] (past a "(0)")
// is a country code: one to three digits after '+', or 00 and one to
// three digits, joined to g[a] in one chain.
func (d *doc) afterCountryCode(g []grp, a int) bool {
	t := d.text
	for j := a - 1; j >= 0 && j >= a-2; j-- {
		x := g[j]
		n := x.e - x.s
		if n == 1 && t[x.s] == '0' && strings.IndexByte(x.gap, '(') >= 0 {
			continue // the "(0)" of "+49 (0)30"
		}
		if n <= 3 && x.s > 0 && t[x.s-1] == '+' {
			return true
		}
		return n >= 3 && n <= 5 && t[x.s] == '0' && t[x.s+1] == '0' && (x.s == 0 || !isDigit(t[x.s-1]))
	}
	return false
}

// cardLayoutAround reports whether g[a:b] are four-digit groups with a
// four-digit neighbour joined by the same separator: a window of a
// card-shaped run of fours.
func cardLayoutAround(g []grp, a, b int) bool {
	for _, x := range g[a:b] {
		if x.e-x.s != 4 {
			return false
		}
	}
	sep := uniformSep(g, a, b)
	if a > 0 && g[a-1].e-g[a-1].s == 4 && sepKind(g[a].gap) == sep {
		return true
	}
	return b < len(g) && g[b].e-g[b].s == 4 && sepKind(g[b].gap) == sep
}

// minePronouns stand for "my number" ("mine", "el mío", "het mijne", "il
// mio", "le mien", "meine").
var minePronouns = set(strings.Fields(`mine mine's mine’s mío mía mijne mio mia mien mienne meine meins`))

// mineAfterPhone reports a "mine" pronoun among the four words before the
// number at token k, in its sentence, with a phone word earlier in the
// message (within forty tokens) for it to stand for: a phone word or a
// bare "number".
func (d *doc) mineAfterPhone(k int) bool {
	p := -1
	for j, words := k-1, 0; j >= 0 && words < 4; j-- {
		if d.toks[j].kind == tPunct {
			if c := d.text[d.toks[j].s]; c == '.' || c == '!' || c == '?' {
				break
			}
			continue
		}
		words++
		if d.isWord(j) && minePronouns[d.lw(j)] {
			p = j
			break
		}
	}
	if p < 0 {
		return false
	}
	for j := p - 1; j >= 0 && j >= p-40; j-- {
		if d.isWord(j) && (d.cueOf(j)&cuePhone != 0 || genericNumber[d.lw(j)]) {
			return true
		}
	}
	return false
}

// ipShaped: four groups of at most three digits joined by dots (an IP
// address or a version string), never a phone.
func (d *doc) ipShaped(g []grp, a, b int) bool {
	if b-a != 4 || uniformSep(g, a, b) != '.' {
		return false
	}
	for _, x := range g[a:b] {
		if x.e-x.s > 3 {
			return false
		}
	}
	return true
}

// taken reports whether [s,e) overlaps an IBAN, IP or e-mail already
// found: a number inside one of those is not a phone of its own.
func (d *doc) taken(s, e int) bool {
	sp := d.takenSpans
	i := sort.Search(len(sp), func(i int) bool { return sp[i].e > s })
	return i < len(sp) && sp[i].s < e
}

// collectTaken gathers the IBAN, IP and e-mail spans found so far and the
// IBAN-shaped look-alikes, sorted
// and merged, for taken's binary search.
func (d *doc) collectTaken() {
	d.takenSpans = append(d.takenSpans[:0], d.shaped...)
	for _, c := range d.cands {
		if c.typ == IBAN || c.typ == IP || c.typ == Email {
			d.takenSpans = append(d.takenSpans, span{c.s, c.e})
		}
	}
	sp := d.takenSpans
	sort.Slice(sp, func(i, j int) bool { return sp[i].s < sp[j].s })
	out := sp[:0]
	for _, x := range sp {
		if len(out) > 0 && x.s <= out[len(out)-1].e {
			if x.e > out[len(out)-1].e {
				out[len(out)-1].e = x.e
			}
			continue
		}
		out = append(out, x)
	}
	d.takenSpans = out
}

// vatCountries are the country prefixes of EU VAT and enterprise numbers.
var vatCountries = set(strings.Fields(`at be bg cy cz de dk ee el es fi fr hr hu ie it lt lu lv mt nl pl pt ro se si sk xi gb che`))

// vatPrefix reports a two-letter upper-case country code written apart
// right before the number at token k, on its line.
func vatPrefix(d *doc, k int) bool {
	p := k - 1
	return p >= 0 && d.isWord(p) && d.toks[p].allUp && d.toks[p].letters <= 3 && !d.toks[k].nl && d.toks[k].sp && vatCountries[d.lw(p)]
}

// ownerCompany are the company words that may say whose card it is ("carte
// de la société"), as the registration labels (VAT, SIRET, KvK) may not.
var ownerCompany = set(strings.Fields(`company firma société empresa bedrijf azienda entreprise enterprise impresa`))

// expiryGroup reports four digits that read as a card's expiry: MMYY or a
// year of this century.
func expiryGroup(v string) bool {
	if len(v) != 4 {
		return false
	}
	mm := int(v[0]-'0')*10 + int(v[1]-'0')
	return mm >= 1 && mm <= 12 || v[0] == '2' && v[1] == '0'
}

// serviceDesk reports the customer word at token j as part of a name for
// a shop's customer service ("service client", "customer service",
// "servicio al cliente", "servizio clienti", "atención al cliente").
func (d *doc) serviceDesk(j int) bool {
	switch d.lw(j) {
	case "client", "clients", "clientèle", "customer", "customers", "cliente", "clientes", "clienti":
	default:
		return false
	}
	if j+1 < len(d.toks) && d.isWord(j+1) {
		switch d.lw(j + 1) {
		case "service", "services", "care", "support", "helpline", "hotline":
			return true
		}
	}
	for m := j - 1; m >= 0 && m >= j-2; m-- {
		if !d.isWord(m) {
			return false
		}
		switch d.lw(m) {
		case "service", "servicio", "servizio", "atención", "atencion", "assistenza", "assistance":
			return true
		case "al", "à", "a", "la":
			continue
		}
		return false
	}
	return false
}

// phoneCallVerbs call a number: the past and present forms that stand right
// before it, with at most a preposition or article between.
var phoneCallVerbs = set(strings.Fields(`called call calling rang ring phoned phone dialled dialed dial
	appelé appelée appelle appeler appelez composé rappelé
	llamé llamado llamo llamar llame marqué marcado
	chiamato chiamo chiamare chiamate composto
	gebeld bel bellen belde gedraaid
	angerufen anrufen gewählt wählen rufe`))

// callPreps stand between a calling verb and the number ("appelé le",
// "called on", "llamé al", "chiamato il", "gebeld naar", "unter").
var callPreps = set(strings.Fields(`the on to at le au al el il lo allo al naar op unter bei`))

// callVerbBefore reports a calling verb right before token k, or before a
// preposition or article right before it, on its line.
func (d *doc) callVerbBefore(k int) bool {
	m := k - 1
	if m >= 0 && d.isWord(m) && !d.toks[k].nl && callPreps[d.lw(m)] {
		m--
	}
	return m >= 0 && m < k && d.isWord(m) && !d.toks[m+1].nl && phoneCallVerbs[d.lw(m)]
}

// Package pii finds personal data in chat text and replaces it with typed
// placeholders that round-trip exactly.
//
// Detection is one tokenising pass over the text followed by recognisers
// that start only at cheap triggers (a digit, '@', a cue word, a lexicon
// hit) and validate what they find: checksums for cards, IBANs and national
// IDs, libphonenumber for phones, context for dates of birth, secrets,
// names and addresses. What each type covers is the contract in
// shared/PII-LABELS.md; docs/adr/0010-pii-engine.md records the design.
//
// An Engine is safe for concurrent use.
package pii

import (
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Type is an entity type.
type Type string

// The entity types (shared/PII-LABELS.md).
const (
	Person      Type = "PERSON"
	Email       Type = "EMAIL"
	Phone       Type = "PHONE"
	Card        Type = "CARD"
	IBAN        Type = "IBAN"
	Address     Type = "ADDRESS"
	IP          Type = "IP"
	NationalID  Type = "NATIONAL_ID"
	DateOfBirth Type = "DATE_OF_BIRTH"
	Secret      Type = "SECRET"
)

// Types lists every entity type.
var Types = []Type{Person, Email, Phone, Card, IBAN, Address, IP, NationalID, DateOfBirth, Secret}

// Valid reports whether t is one of the entity types.
func (t Type) Valid() bool {
	_, ok := typePriority[t]
	return ok
}

// Finding is one detected entity.
type Finding struct {
	Start, End int     // Unicode code point offsets, End exclusive
	Type       Type    // entity type
	Score      float64 // confidence, 0..1
	Recognizer string  // which recogniser found it
}

// typePriority decides overlaps: a finding of a higher priority wins over
// any finding it overlaps. Checksum-validated types come first (their
// false-positive rate is lowest), then the syntactic ones, then those that
// rest on context and lexicons. An ADDRESS wins over the PERSON inside a
// street name ("Via Giuseppe Verdi 7").
var typePriority = map[Type]int{
	IBAN:        100,
	Card:        95,
	NationalID:  90,
	Email:       85,
	IP:          80,
	Secret:      75,
	Phone:       70,
	DateOfBirth: 65,
	Address:     60,
	Person:      50,
}

// Engine detects PII. Build one with New and share it.
type Engine struct {
	cfg    compiledConfig
	lex    *lexicon
	phones *phoneValidator
	pool   sync.Pool
}

// New builds an engine from cfg; the zero Config gives the defaults.
func New(cfg Config) (*Engine, error) {
	cc, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cc, lex: defaultLexicon(), phones: newPhoneValidator()}
	if cc.region != "" {
		e.phones.region(cc.region)
	}
	e.pool.New = func() any { return &doc{} }
	return e, nil
}

// cand is a finding in byte offsets, before overlap resolution.
type cand struct {
	s, e  int
	typ   Type
	score float64
	rec   string
	prio  int
}

// doc is the per-call state of Detect; pooled so a call allocates little.
type doc struct {
	e           *Engine
	text        string
	lang        string
	toks        []token
	low         []byte
	cands       []cand
	buf         []byte // scratch for compact digit strings
	occ         []uint64
	grps        []grp
	flags       []uint8
	takenSpans  []span
	shaped      []span // IBAN-shaped strings that are no IBAN
	phoneBudget int
	login       int8     // loginContext's answer: 0 not asked yet, 1 yes, -1 no
	promo       int8     // promoContext's answer: 0 not asked yet, 1 yes, -1 no
	shapedCode  int8     // hasShapedCode's answer: 0 not asked yet, 1 yes, -1 no
	payment     int8     // paymentContext's answer, likewise
	identity    int8     // identityContext's answer, likewise
	ssn         int8     // ssnContext's answer, likewise
	cred        int8     // credentialContext's answer: 0 not asked yet, 1 yes, -1 no
	cardMsg     int8     // cardMessage's answer, likewise
	work        int      // bounded-work counter for tests of linear behaviour
	notNames    []string // words the message says are no person (person_context.go)
	nameEnd     []int32  // last token of the person candidate starting at a token (person_list.go)
	wantsHuman  bool     // the message asks for a human, so its greeting is the assistant's
}

func (d *doc) add(s, e int, t Type, score float64, rec string) {
	if s < 0 || e > len(d.text) || s >= e {
		return
	}
	if t == DateOfBirth && placeholderDate(d.text[s:e]) {
		return // a system's default (01/01/1900) is no one's birth date, whichever rule found it
	}
	if t == Secret {
		s = codeHead(d.text, s)
	}
	if t == Secret && referenceToken(d.text, s, e) {
		return // round 13: "EMP-22-0913", "LN-2026-0588": a reference or a part of one, whichever rule found it
	}
	d.cands = append(d.cands, cand{s: s, e: e, typ: t, score: score, rec: rec, prio: typePriority[t]})
}

// codeHead returns the start of a code whose value a rule took without its
// head: a secret never starts right after a hyphen glued to the letters or
// digits before it ("ZT-73K1-55PD" read from "73K1"). One head part of one
// to four letters or digits, at a word's start, joins it (round 15).
func codeHead(t string, s int) int {
	if s < 2 || t[s-1] != '-' || !isAlnum(t[s-2]) {
		return s
	}
	a := s - 1
	for a > 0 && isAlnum(t[a-1]) && s-1-a < 5 {
		a--
	}
	if l := s - 1 - a; l < 1 || l > 4 || a > 0 && (isAlnum(t[a-1]) || t[a-1] == '-' || t[a-1] >= 0x80) {
		return s
	}
	return a
}

// referenceToken reports whether [s, e) lies inside a hyphen-joined token
// of three or more parts, a word of two or more letters and then numbers
// only ("EMP-22-0913", "LN-2026-0588", "case-2025-114"): the structure of an
// organisation's reference (a prefix, a year or a series, a number), not of
// a code, whether a rule took the whole token or its tail. Two parts
// ("GV-4417", a pickup code with its shop's prefix) are left alone, as is a
// code with letters among its parts ("7G4-2K91").
func referenceToken(t string, s, e int) bool {
	a, b := s, e
	for a > 0 && (isAlnum(t[a-1]) || t[a-1] == '-') {
		a--
	}
	for b < len(t) && (isAlnum(t[b]) || t[b] == '-' && b+1 < len(t) && isAlnum(t[b+1])) {
		b++
	}
	tok := t[a:b]
	if strings.Count(tok, "-") < 2 {
		return false
	}
	parts := strings.Split(tok, "-")
	head := parts[0]
	if len(head) < 2 {
		return false
	}
	for i := 0; i < len(head); i++ {
		if !(head[i] >= 'a' && head[i] <= 'z' || head[i] >= 'A' && head[i] <= 'Z') {
			return false
		}
	}
	for _, p := range parts[1:] {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// Detect returns the PII findings in text, sorted by Start and
// non-overlapping. lang is an ISO 639-1 code (en, de, fr, es, nl, it); ""
// means unknown, which uses the regions and lexicons of every supported
// language.
func (e *Engine) Detect(text, lang string) []Finding {
	if folded, from, ok := fold(text); ok { // invisible and look-alike characters (fold.go)
		out, _ := e.detect(folded, lang)
		return unfold(out, from)
	}
	out, _ := e.detect(text, lang)
	return out
}

// detect is Detect that also reports the work counter.
func (e *Engine) detect(text, lang string) ([]Finding, int) {
	if !utf8.ValidString(text) {
		// Offsets are code points; invalid bytes would make them ambiguous.
		text = toValidUTF8(text)
	}
	d := e.pool.Get().(*doc)
	d.e, d.text, d.lang = e, text, normLang(lang)
	d.toks, d.low, d.cands, d.buf, d.shaped, d.work, d.login = d.toks[:0], d.low[:0], d.cands[:0], d.buf[:0], d.shaped[:0], 0, 0
	d.promo, d.cred, d.payment, d.identity, d.ssn, d.cardMsg, d.shapedCode = 0, 0, 0, 0, 0, 0, 0
	d.notNames, d.wantsHuman = d.notNames[:0], false
	d.tokenize()

	d.scanEmails()
	d.scanSpelledEmails()
	d.scanIBANs()
	d.scanIPs()
	d.scanNumberChains()
	d.scanAlnumIDs()
	d.scanSpokenPhones()
	d.scanSecrets()
	d.scanDOB()
	d.scanAddresses()
	d.scanPersons()
	d.scanClauseSecrets()
	d.scanCredentialPairs()
	d.scanHandedCodes()
	d.applyConfig()

	res := d.resolve()
	work := d.work
	d.e, d.text = nil, ""
	if cap(d.toks) < 1<<16 {
		e.pool.Put(d)
	}
	return res, work
}

// resolve keeps, deterministically, a non-overlapping subset of the
// candidates: by type priority, then longer span, then higher score, then
// earlier start, then recogniser name; each is kept if it overlaps nothing
// kept before it. The result is converted to code-point offsets in one pass.
func (d *doc) resolve() []Finding {
	c := d.cands
	if len(c) == 0 {
		return nil
	}
	sort.Slice(c, func(i, j int) bool {
		a, b := &c[i], &c[j]
		if pa, pb := a.prio, b.prio; pa != pb {
			return pa > pb
		}
		if la, lb := a.e-a.s, b.e-b.s; la != lb {
			return la > lb
		}
		if a.score != b.score {
			return a.score > b.score
		}
		if a.s != b.s {
			return a.s < b.s
		}
		return a.rec < b.rec
	})
	// An occupancy bitmap makes each check cost the candidate's length, so
	// resolution stays linear however many candidates there are.
	need := (len(d.text) + 63) / 64
	if cap(d.occ) < need {
		d.occ = make([]uint64, need)
	}
	occ := d.occ[:need]
	clear(occ)
	isFree := func(s, e int) bool {
		for i := s; i < e; i++ {
			if occ[i>>6]&(1<<(i&63)) != 0 {
				return false
			}
		}
		return true
	}
	take := func(s, e int) {
		for i := s; i < e; i++ {
			occ[i>>6] |= 1 << (i & 63)
		}
	}
	kept := c[:0:0]
	var lost []cand
	for _, x := range c {
		if x.score < d.e.cfg.threshold {
			continue
		}
		if !isFree(x.s, x.e) {
			if x.typ == Phone || x.typ == Card || x.typ == IBAN || x.typ == NationalID {
				lost = append(lost, x) // only a number loses its meaning in pieces (below)
			}
			continue
		}
		take(x.s, x.e)
		kept = append(kept, x)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].s < kept[j].s })
	// A number that lost an overlap may reach past the finding that won it
	// ("Sicherheitscode an 0151 2345 6789": a code taken from the head of a
	// phone number): redacting only the winner would leave the rest of the
	// number in clear. The winner grows over the loser's free ends, keeping
	// its type; a loser that touches two winners, or whose ends are taken,
	// changes nothing.
	for _, x := range lost {
		i := sort.Search(len(kept), func(i int) bool { return kept[i].e > x.s })
		if i == len(kept) || kept[i].s >= x.e || i+1 < len(kept) && kept[i+1].s < x.e {
			continue
		}
		k := &kept[i]
		if x.s >= k.s && x.e <= k.e || !isFree(x.s, min(k.s, x.e)) || !isFree(max(k.e, x.s), x.e) ||
			!numberPart(d.text[x.s:min(k.s, x.e)]) || !numberPart(d.text[max(k.e, x.s):x.e]) {
			continue
		}
		take(x.s, x.e)
		k.s, k.e = min(k.s, x.s), max(k.e, x.e)
	}
	out := make([]Finding, len(kept))
	// One pass converts byte offsets to code points.
	cp, pos := 0, 0
	adv := func(to int) {
		for pos < to {
			_, n := utf8.DecodeRuneInString(d.text[pos:])
			pos += n
			cp++
		}
	}
	for i, k := range kept {
		adv(k.s)
		start := cp
		adv(k.e)
		out[i] = Finding{Start: start, End: cp, Type: k.typ, Score: round2(k.score), Recognizer: k.rec}
	}
	return out
}

// numberPart reports whether an end a winner would grow over is only the
// rest of a number: digits and the separators numbers are written with
// (empty counts: no end on that side).
func numberPart(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ' ', c == '-', c == '.', c == '/', c == '(', c == ')', c == '+':
		default:
			return false
		}
	}
	return true
}

func round2(f float64) float64 {
	if f > 1 {
		return 1
	}
	return float64(int(f*100+0.5)) / 100
}

func normLang(l string) string {
	if len(l) >= 2 {
		a, b := l[0]|0x20, l[1]|0x20
		switch string([]byte{a, b}) {
		case "en", "de", "fr", "es", "nl", "it":
			if len(l) == 2 || l[2] == '-' || l[2] == '_' {
				return string([]byte{a, b})
			}
		}
	}
	return ""
}

// toValidUTF8 replaces each invalid byte with U+FFFD so that every byte
// offset maps to one code point, as callers that counted code points in
// the bytes they sent expect.
func toValidUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

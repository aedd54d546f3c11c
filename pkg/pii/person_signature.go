package pii

import "strings"

// Round 15: a full name that closes a message after its last sentence,
// with no sign-off before it ("… Bitte melden Sie sich. Hiltrud
// Ostermeyer-Kaya", "… ¿me podéis llamar? Iratxe Goikoetxea"). Sign-offs, greetings
// and form lines have their own cues; this is the bare signature of a
// writer who ends with their name. It takes two or three capitalised words
// (not all capitals) that end the message on the line of the sentence
// before, right after that sentence's full stop, question or exclamation
// mark, each a possible name word: no digit, no stop word, brand or place,
// no cue or greeting word. A given name or surname the lexicon knows, or a
// double-barrelled part, must be among them, or the message must speak in
// the first person (a customer's, whose name ends it); "… Vielen Dank",
// "… Frohe Ostern" and "… Customer Service" fail the word tests.
func (d *doc) trailingSignature() {
	n := len(d.toks)
	if n < 4 {
		return
	}
	e := n - 1
	if !d.isWord(e) {
		return
	}
	s := e
	for s > 0 && e-s < 2 && d.isWord(s-1) && !d.toks[s].nl {
		s--
	}
	// s..e are the trailing words of the line; keep the last two or three
	// after a sentence end.
	for s < e && !(s > 0 && d.sentenceEndBefore(s)) {
		s++
	}
	if e-s < 1 || !d.sentenceEndBefore(s) || d.toks[s].nl {
		return
	}
	known, hyphen := false, false
	for k := s; k <= e; k++ {
		tk := &d.toks[k]
		if !tk.upper || tk.allUp || tk.letters < 2 || tk.info&wBrandOrPlace != 0 {
			return
		}
		ok, kn := d.nameWord(k)
		lw := d.lw(k)
		if !ok || d.e.lex.stop[lw] || len(nameCues[lw]) > 0 || greetWord(lw) || thanksWords[lw] || signatureClosers[lw] ||
			legalForms[lw] || commonEnding(lw) {
			return
		}
		known = known || kn
		for i := tk.s; i < tk.e; i++ {
			if d.text[i] == '-' {
				hyphen = true
			}
		}
	}
	if !known && !hyphen && !d.firstPerson() {
		return
	}
	d.addName(s, e, 0.6, "person-trailing-signature")
}

// sentenceEndBefore reports a full stop, question or exclamation mark
// right before token k, on its line, with a sentence before it.
func (d *doc) sentenceEndBefore(k int) bool {
	if k < 2 || d.toks[k].nl {
		return false
	}
	p := k - 1
	return d.toks[p].kind == tPunct && (d.isPunct(p, '.') || d.isPunct(p, '?') || d.isPunct(p, '!')) && d.toks[k].sp
}

// firstPersonWords are the writer speaking of themself.
var firstPersonWords = set(strings.Fields(`i i'm i've i'd my me mine ich mein meine meinen meinem meiner mir mich
	je moi mon ma mes yo mi mis me ik mijn mij io mio mia miei mie`))

// firstPerson reports, once per message, whether the writer speaks in the
// first person.
func (d *doc) firstPerson() bool {
	for k := range d.toks {
		if !d.isWord(k) {
			continue
		}
		lw := d.lw(k)
		if firstPersonWords[lw] || strings.HasPrefix(lw, "j'") || strings.HasPrefix(lw, "j’") || strings.HasPrefix(lw, "m'") {
			return true
		}
	}
	return false
}

package pii

import (
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// tokKind is what a token is made of.
type tokKind uint8

const (
	tWord  tokKind = iota // letters, possibly with digits, '_', inner ' ’ -
	tNum                  // ASCII digits only
	tPunct                // one other non-space character
)

// token is one token of the text, in byte offsets. Words carry their lower
// case form in the document's arena so lexicon look-ups allocate nothing.
type token struct {
	s, e    int
	lo, le  int32 // lower-case form: doc.low[lo:le]
	kind    tokKind
	sp      bool // whitespace (or the start of the text) before it
	nl      bool // a line break before it (or the start of the text)
	upper   bool // first rune is upper case
	allUp   bool // every letter upper case (and more than one letter)
	digit   bool // contains a digit
	letters int  // number of letters
	info    wordInfo
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// tokenize splits d.text into tokens in one pass. Apostrophes and hyphens
// join letters on both sides (O'Sullivan, Dupont-Moreau, Hans-Sachs-Straße)
// but not digits (12-14 stays three tokens) so number ranges and dates keep
// their parts.
func (d *doc) tokenize() {
	text := d.text
	sp, nl := true, true
	i := 0
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			switch c {
			case ' ', '\t', '\r', '\f', '\v':
				sp = true
				i++
				continue
			case '\n':
				sp, nl = true, true
				i++
				continue
			}
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
			if unicode.IsSpace(r) {
				sp = true
				if r == '\u2028' || r == '\u2029' || r == '\u0085' {
					nl = true
				}
				i += size
				continue
			}
		}
		t := token{s: i, sp: sp, nl: nl}
		sp, nl = false, false
		if !isWordRune(r) {
			t.kind = tPunct
			t.e = i + size
			i += size
			d.toks = append(d.toks, t)
			continue
		}
		// A word or number.
		allDigits := true
		lo := int32(len(d.low))
		t.lo = lo
		first := true
		upLetters, letters := 0, 0
		prevLetter := false
		for i < len(text) {
			c := text[i]
			r, size := rune(c), 1
			if c >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(text[i:])
			}
			if (r == '\'' || r == '’' || r == '-') && prevLetter && i+size < len(text) {
				// Join only letter–letter.
				nr, _ := utf8.DecodeRuneInString(text[i+size:])
				if unicode.IsLetter(nr) {
					d.low = utf8.AppendRune(d.low, r)
					allDigits = false
					prevLetter = false
					i += size
					continue
				}
				break
			}
			if !isWordRune(r) {
				break
			}
			if c >= '0' && c <= '9' {
				t.digit = true
				prevLetter = false
				d.low = append(d.low, c)
			} else {
				allDigits = false
				isLetter := c < utf8.RuneSelf && isAlpha(c) || c >= utf8.RuneSelf && unicode.IsLetter(r)
				prevLetter = isLetter
				if isLetter {
					letters++
					up := c < utf8.RuneSelf && isUpper(c) || c >= utf8.RuneSelf && unicode.IsUpper(r)
					if up {
						upLetters++
						if first {
							t.upper = true
						}
					}
				}
				if c < utf8.RuneSelf {
					if isUpper(c) {
						c += 'a' - 'A'
					}
					d.low = append(d.low, c)
				} else {
					d.low = utf8.AppendRune(d.low, foldRune(r))
				}
				if c >= '0' && c <= '9' {
					t.digit = true
				}
			}
			first = false
			i += size
		}
		t.e = i
		t.le = int32(len(d.low))
		t.info = d.e.lex.info[string(d.low[t.lo:t.le])]
		t.letters = letters
		t.allUp = letters > 1 && upLetters == letters
		if allDigits {
			t.kind = tNum
		}
		d.toks = append(d.toks, t)
	}
}

// lower is the lower-case form of word or number token k.
func (d *doc) lower(k int) []byte {
	t := &d.toks[k]
	return d.low[t.lo:t.le]
}

// lw is lower(k) as a string that shares the document's arena: it is only
// valid during the Detect call, and callers compare it or look it up but
// never keep it. (Converting would allocate once per call, and the
// recognisers call this thousands of times per message.)
func (d *doc) lw(k int) string {
	if k < 0 || k >= len(d.toks) {
		return ""
	}
	b := d.lower(k)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// tokText is the original text of token k.
func (d *doc) tokText(k int) string {
	t := &d.toks[k]
	return d.text[t.s:t.e]
}

// isPunct reports whether token k is the punctuation character c.
func (d *doc) isPunct(k int, c byte) bool {
	if k < 0 || k >= len(d.toks) {
		return false
	}
	t := &d.toks[k]
	return t.kind == tPunct && t.e-t.s == 1 && d.text[t.s] == c
}

// tokenAt returns the index of the first token that ends after byte offset
// off (binary search).
func (d *doc) tokenAt(off int) int {
	lo, hi := 0, len(d.toks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if d.toks[m].e <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// sentenceStart reports whether token k begins a sentence or line: the
// first token, after a line break, or after . ! ? : or an opening quote
// that follows one of those.
func (d *doc) sentenceStart(k int) bool {
	if k <= 0 || d.toks[k].nl {
		return true
	}
	j := k - 1
	for j >= 0 && d.toks[j].kind == tPunct {
		c := d.text[d.toks[j].s]
		switch c {
		case '.', '!', '?', ':', ';':
			return true
		case '"', '\'', '(', '-', '*', '>':
			j--
			continue
		}
		if tt := d.tokText(j); tt == "¡" || tt == "¿" {
			j-- // Spanish opening marks stand before the sentence's first word
			continue
		}
		return false
	}
	return j < 0 || d.toks[j+1].nl
}

// foldRune lower-cases r for look-ups. Turkish dotless ı folds to i, as
// the capital I of Işıl or Irmak does under unicode.ToLower, so a name
// matches its lexicon entry whichever way its i's were typed.
func foldRune(r rune) rune {
	if r == 'ı' {
		return 'i'
	}
	return unicode.ToLower(r)
}

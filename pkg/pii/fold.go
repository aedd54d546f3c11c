package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text typed with invisible or look-alike characters must not slip past the
// recognisers, which read ASCII digits, '@', '-' and spaces: a card number
// with narrow no-break spaces (French keyboards, macOS) or zero-width spaces
// between its groups, full-width or Arabic-Indic digits, an e-mail address
// with a full-width '@' or a soft hyphen inside. Detect therefore runs on a
// folded copy of the text and maps each finding back onto the original, so
// the span covers what the customer typed, invisible characters included.
//
// Folding, rune by rune (so every folded rune comes from exactly one original
// rune and offsets map back simply):
//   - format characters (Unicode Cf: zero-width space and joiners, word
//     joiner, soft hyphen, byte-order mark, bidirectional controls) are
//     dropped;
//   - space separators (Zs) become ' ', line and paragraph separators '\n';
//   - a dash (Pd) or minus sign joining two letters or digits ("4111–1111")
//     becomes '-'; a dash between spaces stays ("cheers — Kiri" signs off);
//   - decimal digits of any script (Nd) become ASCII digits;
//   - full-width forms ('＠', 'Ａ') and small forms ('﹫', '﹒') become their
//     NFKC form, which is ASCII (golang.org/x/text's tables); letters with
//     accents, other compatibility characters and every other script stay.

// fold returns the folded text and, for each of its runes, the index of the
// original rune it came from (plus one entry for the end), or ok false when
// nothing needs folding, which is the common case and costs one scan.
func fold(text string) (folded string, from []int, ok bool) {
	i := 0
	for i < len(text) {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if _, changed := lookalike(r); changed || joiningDash(text, i, n) {
			break
		}
		i += n
	}
	if i == len(text) {
		return "", nil, false
	}
	var b strings.Builder
	b.Grow(len(text))
	from = make([]int, 0, utf8.RuneCountInString(text)+1)
	cp := 0
	for i, r := range text {
		out, changed := lookalike(r)
		if joiningDash(text, i, utf8.RuneLen(r)) {
			out, changed = "-", true
		}
		if !changed {
			out = string(r)
		}
		for _, fr := range out {
			b.WriteRune(fr)
			from = append(from, cp)
		}
		cp++
	}
	from = append(from, cp)
	return b.String(), from, true
}

// lookalike is one rune's folded form ("" drops it), and whether it differs.
func lookalike(r rune) (string, bool) {
	switch {
	case r < utf8.RuneSelf:
		return "", false
	case unicode.Is(unicode.Cf, r):
		return "", true
	case unicode.Is(unicode.Zs, r):
		return " ", true
	case r == '\u2028' || r == '\u2029':
		return "\n", true
	case unicode.Is(unicode.Nd, r):
		return string(rune('0' + digitValue(r))), true
	}
	if unicode.In(r, halfAndFullWidth, smallForms) {
		if s := norm.NFKC.String(string(r)); isASCII(s) && s != "" {
			return s, true
		}
	}
	return "", false
}

// The blocks whose compatibility forms stand in for ASCII ('＠', '１', '﹫',
// '﹒'). Other compatibility characters are left alone: the ordinal
// indicators in "4ºA" are part of Spanish and Italian addresses, and
// superscripts would make digits out of "m²".
var (
	halfAndFullWidth = &unicode.RangeTable{R16: []unicode.Range16{{Lo: 0xff01, Hi: 0xff5e, Stride: 1}}}
	smallForms       = &unicode.RangeTable{R16: []unicode.Range16{{Lo: 0xfe50, Hi: 0xfe6b, Stride: 1}}}
)

// joiningDash tells whether the rune of n bytes at i in text is a non-ASCII
// dash or minus sign with a letter or digit right before and after it.
func joiningDash(text string, i, n int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	if r < utf8.RuneSelf || !(unicode.Is(unicode.Pd, r) || r == '\u2212') || i == 0 || i+n >= len(text) {
		return false
	}
	before, _ := utf8.DecodeLastRuneInString(text[:i])
	after, _ := utf8.DecodeRuneInString(text[i+n:])
	alnum := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	return alnum(before) && alnum(after)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// digitValue is a decimal digit's value. Unicode allocates the decimal
// digits of each script as contiguous runs of ten starting at zero (some
// runs adjoin, as the mathematical digits do), so the value is the distance
// from the start of the run, modulo ten.
func digitValue(r rune) int {
	start := r
	for start > 0 && r-start < 60 && unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}

// unfold maps findings on the folded text back onto the original: a finding
// starts where its first folded rune came from and ends after the original
// rune its last one came from, so dropped characters inside it are covered.
func unfold(fs []Finding, from []int) []Finding {
	for i := range fs {
		f := &fs[i]
		f.Start = from[f.Start]
		f.End = from[f.End-1] + 1
	}
	return fs
}

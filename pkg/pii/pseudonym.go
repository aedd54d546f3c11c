package pii

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Pseudonymisation replaces each finding with a typed placeholder such as
// [EMAIL_1]. Within one Scope (a conversation) the same value of the same
// type always gets the same placeholder, so a model can still tell two
// people apart; Restore puts the values back byte for byte.
//
// Text that already looks like a placeholder is itself replaced, by a
// [LITERAL_n] placeholder, so that restoring can never turn a customer's
// "[CARD_1]" into someone's card number and the round trip stays exact.

// Literal is the placeholder type of input text that was shaped like a
// placeholder.
const Literal Type = "LITERAL"

// Scope is the placeholder map of one conversation. Implementations must
// be safe for concurrent use and keep numbering per type stable: once a
// value has a placeholder it keeps it for the life of the scope. The
// conversation service persists it (values as tokenvault tokens);
// MemoryScope serves tests and the CLI.
type Scope interface {
	// Placeholder returns the placeholder of value as type t, assigning the
	// next free number of that type on first sight.
	Placeholder(ctx context.Context, t Type, value string) (string, error)
	// Lookup returns the placeholder of value as type t if it has one.
	Lookup(ctx context.Context, t Type, value string) (string, bool, error)
	// Value returns the value a placeholder stands for.
	Value(ctx context.Context, placeholder string) (string, bool, error)
}

// Entry is one placeholder and its value.
type Entry struct {
	Placeholder string
	Type        Type
	Value       string
}

// MemoryScope is a Scope held in memory.
type MemoryScope struct {
	mu      sync.Mutex
	byValue map[Type]map[string]string
	byPh    map[string]Entry
	next    map[Type]int
	order   []string
}

// NewMemoryScope returns an empty in-memory scope.
func NewMemoryScope() *MemoryScope {
	return &MemoryScope{byValue: map[Type]map[string]string{}, byPh: map[string]Entry{}, next: map[Type]int{}}
}

var _ Scope = (*MemoryScope)(nil)

// Placeholder implements Scope.
func (m *MemoryScope) Placeholder(_ context.Context, t Type, value string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ph, ok := m.byValue[t][value]; ok {
		return ph, nil
	}
	m.next[t]++
	ph := FormatPlaceholder(t, m.next[t])
	if m.byValue[t] == nil {
		m.byValue[t] = map[string]string{}
	}
	m.byValue[t][value] = ph
	m.byPh[ph] = Entry{Placeholder: ph, Type: t, Value: value}
	m.order = append(m.order, ph)
	return ph, nil
}

// Lookup implements Scope.
func (m *MemoryScope) Lookup(_ context.Context, t Type, value string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ph, ok := m.byValue[t][value]
	return ph, ok, nil
}

// Value implements Scope.
func (m *MemoryScope) Value(_ context.Context, placeholder string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byPh[placeholder]
	return e.Value, ok, nil
}

// Entries lists the scope's placeholders in the order they were assigned.
func (m *MemoryScope) Entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Entry, 0, len(m.order))
	for _, ph := range m.order {
		out = append(out, m.byPh[ph])
	}
	return out
}

// FormatPlaceholder is the placeholder of the n-th value of type t: [T_n].
func FormatPlaceholder(t Type, n int) string {
	return "[" + string(t) + "_" + strconv.Itoa(n) + "]"
}

// placeholderAt reports the length of a placeholder starting at byte i of
// s ("[" TYPE "_" digits "]", TYPE upper-case letters, digits and '_'),
// and its type, or 0.
func placeholderAt(s string, i int) (int, Type) {
	if i >= len(s) || s[i] != '[' {
		return 0, ""
	}
	j := i + 1
	if j >= len(s) || !isUpper(s[j]) {
		return 0, ""
	}
	lastUnderscore := -1
	for j < len(s) && j-i < 48 && (isUpper(s[j]) || isDigit(s[j]) || s[j] == '_') {
		if s[j] == '_' {
			lastUnderscore = j
		}
		j++
	}
	if j >= len(s) || s[j] != ']' || lastUnderscore < 0 || lastUnderscore == j-1 || lastUnderscore == i+1 {
		return 0, ""
	}
	for k := lastUnderscore + 1; k < j; k++ {
		if !isDigit(s[k]) {
			return 0, ""
		}
	}
	if s[lastUnderscore+1] == '0' {
		return 0, ""
	}
	return j + 1 - i, Type(s[i+1 : lastUnderscore])
}

// span is a byte range.
type span struct{ s, e int }

// placeholders lists the placeholder-shaped substrings of s.
func placeholders(s string) []span {
	var out []span
	for off := 0; ; {
		i := strings.IndexByte(s[off:], '[')
		if i < 0 {
			return out
		}
		p := off + i
		if l, _ := placeholderAt(s, p); l > 0 {
			out = append(out, span{p, p + l})
			off = p + l
			continue
		}
		off = p + 1
	}
}

// byteOffsets converts findings' code-point offsets in text to byte
// offsets, in one pass (findings sorted by Start).
func byteOffsets(text string, fs []Finding) []span {
	out := make([]span, len(fs))
	cp, pos := 0, 0
	adv := func(to int) {
		for cp < to && pos < len(text) {
			_, n := utf8.DecodeRuneInString(text[pos:])
			pos += n
			cp++
		}
	}
	for i, f := range fs {
		adv(f.Start)
		s := pos
		adv(f.End)
		out[i] = span{s, pos}
	}
	return out
}

// Pseudonymizer replaces PII with placeholders and checks model output.
type Pseudonymizer struct {
	engine *Engine
}

// NewPseudonymizer returns a Pseudonymizer that detects with e.
func NewPseudonymizer(e *Engine) *Pseudonymizer { return &Pseudonymizer{engine: e} }

// Result is pseudonymised text.
type Result struct {
	Text     string    // the text with every finding replaced by its placeholder
	Findings []Finding // what was replaced, offsets in the original text
}

// Pseudonymize replaces every finding in text with its placeholder in
// scope. Restore(scope, result.Text) returns text exactly.
func (p *Pseudonymizer) Pseudonymize(ctx context.Context, scope Scope, text, lang string) (Result, error) {
	// Invalid UTF-8 is not repaired here: Detect counts each invalid byte
	// as one code point and byteOffsets does too, so the bytes round-trip.
	fs := p.engine.Detect(text, lang)
	spans := byteOffsets(text, fs)
	// Placeholder-shaped input outside findings is escaped as a literal.
	lits := placeholders(text)
	type repl struct {
		s, e int
		t    Type
	}
	var rs []repl
	fi, li := 0, 0
	for fi < len(spans) || li < len(lits) {
		if li < len(lits) && (fi >= len(spans) || lits[li].s < spans[fi].s) {
			l := lits[li]
			li++
			if len(rs) > 0 && l.s < rs[len(rs)-1].e {
				continue
			}
			if fi < len(spans) && spans[fi].s < l.e {
				continue // a finding overlaps it; the finding is replaced whole
			}
			rs = append(rs, repl{l.s, l.e, Literal})
			continue
		}
		sp := spans[fi]
		rs = append(rs, repl{sp.s, sp.e, fs[fi].Type})
		fi++
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, r := range rs {
		ph, err := scope.Placeholder(ctx, r.t, text[r.s:r.e])
		if err != nil {
			return Result{}, fmt.Errorf("pii: assign placeholder: %w", err)
		}
		b.WriteString(text[prev:r.s])
		b.WriteString(ph)
		prev = r.e
	}
	b.WriteString(text[prev:])
	return Result{Text: b.String(), Findings: fs}, nil
}

// Restore replaces every placeholder in text that scope knows with its
// value; placeholders it does not know are left as they are (CheckOutput
// finds them).
func Restore(ctx context.Context, scope Scope, text string) (string, error) {
	phs := placeholders(text)
	if len(phs) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, sp := range phs {
		v, ok, err := scope.Value(ctx, text[sp.s:sp.e])
		if err != nil {
			return "", fmt.Errorf("pii: restore placeholder: %w", err)
		}
		if !ok {
			continue
		}
		b.WriteString(text[prev:sp.s])
		b.WriteString(v)
		prev = sp.e
	}
	b.WriteString(text[prev:])
	return b.String(), nil
}

// Problem is something wrong in a model's output.
type Problem struct {
	Start, End int    // code points in the output
	Type       Type   // the leaked value's type, or the invented placeholder's
	Kind       string // "leak" or "invented"
}

// OutputCheck is the result of CheckOutput.
type OutputCheck struct {
	Problems []Problem
	// Text is the output with every leak replaced by its placeholder when
	// the scope has the value, else by [REDACTED_<TYPE>], and every
	// invented placeholder by [REDACTED].
	Text string
}

// Redacted is what replaces an invented placeholder.
const Redacted = "[REDACTED]"

// CheckOutput scans a model's output for PII that is not a placeholder (a
// leak: the model saw or made up a real value) and for placeholders the
// scope never gave out (invented), and returns the output with both
// redacted. Only placeholders of the scope survive.
func (p *Pseudonymizer) CheckOutput(ctx context.Context, scope Scope, output, lang string) (OutputCheck, error) {
	var res OutputCheck
	type repl struct {
		s, e int
		with string
	}
	var rs []repl
	phs := placeholders(output)
	for _, sp := range phs {
		_, ok, err := scope.Value(ctx, output[sp.s:sp.e])
		if err != nil {
			return OutputCheck{}, fmt.Errorf("pii: check placeholder: %w", err)
		}
		if !ok {
			_, t := placeholderAt(output, sp.s)
			rs = append(rs, repl{sp.s, sp.e, Redacted})
			res.Problems = append(res.Problems, Problem{Start: sp.s, End: sp.e, Type: t, Kind: "invented"})
		}
	}
	fs := p.engine.Detect(output, lang)
	for i, sp := range byteOffsets(output, fs) {
		overlaps := false
		for _, ph := range phs {
			if sp.s < ph.e && ph.s < sp.e {
				overlaps = true
				break
			}
		}
		if overlaps {
			continue
		}
		with := "[REDACTED_" + string(fs[i].Type) + "]"
		if ph, ok, err := scope.Lookup(ctx, fs[i].Type, output[sp.s:sp.e]); err != nil {
			return OutputCheck{}, fmt.Errorf("pii: check leak: %w", err)
		} else if ok {
			with = ph
		}
		rs = append(rs, repl{sp.s, sp.e, with})
		res.Problems = append(res.Problems, Problem{Start: sp.s, End: sp.e, Type: fs[i].Type, Kind: "leak"})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].s < rs[j].s })
	sort.Slice(res.Problems, func(i, j int) bool { return res.Problems[i].Start < res.Problems[j].Start })
	var b strings.Builder
	prev := 0
	for _, r := range rs {
		if r.s < prev {
			continue
		}
		b.WriteString(output[prev:r.s])
		b.WriteString(r.with)
		prev = r.e
	}
	b.WriteString(output[prev:])
	res.Text = b.String()
	// Problems carry code points, like findings: one pass over the
	// offsets in order.
	offs := make([]*int, 0, 2*len(res.Problems))
	for i := range res.Problems {
		offs = append(offs, &res.Problems[i].Start, &res.Problems[i].End)
	}
	sort.Slice(offs, func(i, j int) bool { return *offs[i] < *offs[j] })
	cp, pos := 0, 0
	for _, o := range offs {
		for pos < *o {
			_, n := utf8.DecodeRuneInString(output[pos:])
			pos += n
			cp++
		}
		*o = cp
	}
	return res, nil
}

// Placeholders returns the placeholder-shaped substrings of s ([EMAIL_1],
// [PERSON_2], ...) in order, each once: what a placeholder view reveals
// about a text without any of its words.
func Placeholders(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, sp := range placeholders(s) {
		if ph := s[sp.s:sp.e]; !seen[ph] {
			seen[ph] = true
			out = append(out, ph)
		}
	}
	return out
}

// Package labelset turns the hand-written, human-editable source of Sotto's
// labelled PII set (pkg/pii/testdata/labelled/<lang>.txt) into the JSON lines
// the scorer reads (dev.jsonl and holdout.jsonl beside it), and the same for the
// fresh split (testdata/labelled/fresh/<lang>.txt into fresh/fresh.jsonl).
//
// Source format, one file per language:
//
//	;; a comment line (anywhere; chat text never starts a line with ";;")
//	@@ en-001
//	Hi, this is [[PERSON:Anna Keller]], card [[CARD:4111 1111 1111 1111]]
//	second line of the same message
//	@@ en-002
//	...
//
// A message is every line after its "@@ <id>" header up to the next header,
// without trailing blank lines. A label is [[TYPE:value]] with TYPE one of the
// ten contract types; the value may run over line breaks. [[~TYPE:value]] marks a
// deliberate look-alike: it becomes plain text with no span, and for CARD, IBAN
// and NATIONAL_ID the tests require it to FAIL its checksum, so a "Luhn-failing
// number" in the set really fails Luhn. "[[" followed by anything else is text.
// Offsets in the output are Unicode code points, End exclusive.
package labelset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sottohq/sotto/pkg/pii/eval"
)

// Languages are the set's languages, in output order.
var Languages = []string{"en", "de", "fr", "es", "nl", "it"}

// LookAlike is a [[~TYPE:value]] mark: text that resembles a TYPE but is not one.
type LookAlike struct {
	Type, Value string
}

// Source is one parsed message with its look-alike marks.
type Source struct {
	eval.Message
	LookAlikes []LookAlike
}

// Split assigns a message to "dev" (about 70%) or "holdout" by a hash of its id,
// so the assignment never changes when messages are added or reordered.
func Split(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	if h.Sum32()%100 < 70 {
		return "dev"
	}
	return "holdout"
}

// ParseFile parses one language's source file.
func ParseFile(path, lang string) ([]Source, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, lang, filepath.Base(path))
}

// Parse parses source text; name is used in error messages.
func Parse(data []byte, lang, name string) ([]Source, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8", name)
	}
	type raw struct {
		id    string
		line  int
		lines []string
	}
	var msgs []*raw
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, ";;"):
			continue
		case strings.HasPrefix(line, "@@"):
			f := strings.Fields(strings.TrimPrefix(line, "@@"))
			if len(f) == 0 {
				return nil, fmt.Errorf("%s:%d: header without an id", name, n)
			}
			msgs = append(msgs, &raw{id: f[0], line: n})
		default:
			if len(msgs) == 0 {
				if strings.TrimSpace(line) != "" {
					return nil, fmt.Errorf("%s:%d: text before the first @@ header", name, n)
				}
				continue
			}
			m := msgs[len(msgs)-1]
			m.lines = append(m.lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	seen := map[string]bool{}
	out := make([]Source, 0, len(msgs))
	for _, m := range msgs {
		if seen[m.id] {
			return nil, fmt.Errorf("%s:%d: duplicate id %s", name, m.line, m.id)
		}
		seen[m.id] = true
		if !strings.HasPrefix(m.id, lang+"-") {
			return nil, fmt.Errorf("%s:%d: id %s does not start with %s-", name, m.line, m.id, lang)
		}
		body := strings.TrimRight(strings.Join(m.lines, "\n"), "\n ")
		src, err := parseMarkup(body)
		if err != nil {
			return nil, fmt.Errorf("%s:%d (%s): %w", name, m.line, m.id, err)
		}
		if strings.TrimSpace(src.Text) == "" {
			return nil, fmt.Errorf("%s:%d (%s): empty message", name, m.line, m.id)
		}
		src.ID, src.Lang = m.id, lang
		out = append(out, src)
	}
	return out, nil
}

// parseMarkup strips [[TYPE:value]] marks from body, recording code-point spans.
func parseMarkup(body string) (Source, error) {
	var src Source
	var text []rune
	rest := body
	for {
		i := strings.Index(rest, "[[")
		if i < 0 {
			text = append(text, []rune(rest)...)
			break
		}
		typ, look, valStart, ok := openLabel(rest[i+2:])
		if !ok {
			// "[[" that opens no label is chat text; step past one bracket so
			// "[[[IP:…]]]" still finds its label.
			text = append(text, []rune(rest[:i+1])...)
			rest = rest[i+1:]
			continue
		}
		text = append(text, []rune(rest[:i])...)
		after := rest[i+2+valStart:]
		j := strings.Index(after, "]]")
		if j < 0 {
			return src, fmt.Errorf("label of type %s is never closed with ]]", typ)
		}
		val := after[:j]
		if err := lintValue(typ, val); err != nil {
			return src, err
		}
		start := len(text)
		text = append(text, []rune(val)...)
		if look {
			src.LookAlikes = append(src.LookAlikes, LookAlike{Type: typ, Value: val})
		} else {
			src.Spans = append(src.Spans, eval.Span{Start: start, End: len(text), Type: typ})
		}
		rest = after[j+2:]
	}
	src.Text = string(text)
	if src.Spans == nil {
		src.Spans = []eval.Span{}
	}
	return src, nil
}

// openLabel recognises "TYPE:" or "~TYPE:" at the start of s.
func openLabel(s string) (typ string, lookAlike bool, valStart int, ok bool) {
	if strings.HasPrefix(s, "~") {
		lookAlike, valStart = true, 1
	}
	k := strings.IndexByte(s[valStart:], ':')
	if k < 0 {
		return "", false, 0, false
	}
	typ = s[valStart : valStart+k]
	if !eval.IsType(typ) {
		return "", false, 0, false
	}
	return typ, lookAlike, valStart + k + 1, true
}

// lintValue enforces the contract's span boundaries on a gold value: nothing
// around the entity, no nested marks.
func lintValue(typ, val string) error {
	if val == "" {
		return fmt.Errorf("empty [[%s:]]", typ)
	}
	if strings.Contains(val, "[[") {
		return fmt.Errorf("nested label in %q", val)
	}
	first, _ := utf8.DecodeRuneInString(val)
	last, _ := utf8.DecodeLastRuneInString(val)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Errorf("%s %q: surrounding whitespace", typ, val)
	}
	if strings.ContainsRune(",;:!?\"»“”‘’«", last) || (last == ')' && !strings.Contains(val, "(")) {
		return fmt.Errorf("%s %q: trailing punctuation belongs outside the span", typ, val)
	}
	if last == '.' && typ != "PERSON" && typ != "ADDRESS" {
		return fmt.Errorf("%s %q: trailing full stop belongs outside the span", typ, val)
	}
	if strings.ContainsRune("\"'“‘«([", first) && !(typ == "PHONE" && first == '(') {
		return fmt.Errorf("%s %q: leading quote or bracket belongs outside the span", typ, val)
	}
	if typ == "PERSON" && strings.HasSuffix(val, "'s") {
		return fmt.Errorf("PERSON %q: the possessive 's is outside the span", val)
	}
	if typ == "PERSON" {
		first := strings.ToLower(strings.Fields(val)[0])
		for _, t := range titles {
			if first == t {
				return fmt.Errorf("PERSON %q: the title %q is outside the span", val, t)
			}
		}
	}
	return nil
}

// titles are honorifics the contract keeps outside PERSON spans, lower-cased.
var titles = []string{
	"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "dr", "dr.", "prof", "prof.", "sir",
	"herr", "herrn", "frau", "fr.", "hr.",
	"mme", "mme.", "mlle", "monsieur", "madame", "mademoiselle",
	"sr", "sr.", "sra", "sra.", "srta.", "don", "doña", "dña.",
	"dhr", "dhr.", "mevrouw", "mw", "mw.", "meneer",
	"sig", "sig.", "sig.ra", "sig.na", "signor", "signora", "dott", "dott.", "dott.ssa", "avv.", "ing.",
}

// LoadDir parses every language's source in dir (<lang>.txt).
func LoadDir(dir string) ([]Source, error) {
	var all []Source
	ids := map[string]bool{}
	for _, lang := range Languages {
		msgs, err := ParseFile(filepath.Join(dir, lang+".txt"), lang)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if ids[m.ID] {
				return nil, fmt.Errorf("duplicate id %s", m.ID)
			}
			ids[m.ID] = true
		}
		all = append(all, msgs...)
	}
	return all, nil
}

// Render writes the messages of one split as JSON lines, in source order.
func Render(srcs []Source, split string) ([]byte, error) {
	return render(srcs, func(id string) bool { return Split(id) == split })
}

// FreshDir is the directory, inside the labelled set, of the fresh split: messages
// written later and independently of the engine and of dev/holdout, kept whole in
// one file (fresh/fresh.jsonl) to measure how the engine generalises.
const FreshDir = "fresh"

// FreshSplit is the fresh split's name, and its generated file's base name.
const FreshSplit = "fresh"

// RenderAll writes every message as JSON lines, in source order: the fresh split
// is not divided by hash, all of it is held out.
func RenderAll(srcs []Source) ([]byte, error) {
	return render(srcs, func(string) bool { return true })
}

func render(srcs []Source, keep func(id string) bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, s := range srcs {
		if !keep(s.ID) {
			continue
		}
		if err := enc.Encode(s.Message); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

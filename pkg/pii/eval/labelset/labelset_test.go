package labelset

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/pii/eval"
)

var update = flag.Bool("update", false, "rewrite testdata/labelled/{dev,holdout}.jsonl and fresh/fresh.jsonl from the source files")

// dir is the labelled set, relative to this package; freshDir its fresh split.
// authorSplits are the splits written by authors who saw neither the engine
// nor the other sets (unseen, then blind, then blind2): their jsonl is the author's; these
// tests only check it.
var (
	dir          = filepath.Join("..", "..", "testdata", "labelled")
	freshDir     = filepath.Join(dir, FreshDir)
	authorSplits = []string{"unseen", "blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9", "blind10", "blind12", "blind13"}
)

func loadSplit(t *testing.T, split string) []Source {
	t.Helper()
	srcs, err := LoadDir(filepath.Join(dir, split))
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// TestAuthorSplitsMatchTheirSources: each author split's <split>.jsonl is
// what the parser makes of its <lang>.txt files, message for message, in
// source order.
func TestAuthorSplitsMatchTheirSources(t *testing.T) {
	for _, split := range authorSplits {
		t.Run(split, func(t *testing.T) {
			srcs := loadSplit(t, split)
			path := filepath.Join(dir, split, split+".jsonl")
			msgs, err := eval.LoadJSONL(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != len(srcs) {
				t.Errorf("%s holds %d messages, its source %d", path, len(msgs), len(srcs))
			}
			for i, m := range msgs {
				if i >= len(srcs) {
					break
				}
				if diff := cmp.Diff(srcs[i].Message, m); diff != "" {
					// The diff would print the set's text; the id is enough to look.
					t.Errorf("%s differs from its source", m.ID)
				}
			}
			if b, err := RenderAll(srcs); err != nil {
				t.Fatal(err)
			} else if got, err := os.ReadFile(path); err != nil {
				t.Fatal(err)
			} else if !bytes.Equal(got, b) {
				t.Errorf("%s is not byte for byte what RenderAll makes of its sources", path)
			}
		})
	}
}

// authorLabelSkips are author-split labels that break the contract, by id and
// type, so the checks below stay on for the rest of the set; each has its
// reason.
var authorLabelSkips = map[string]string{}

// TestAuthorSplitValuesPassChecks: every checksummed or libphonenumber-checked
// gold value of each author split passes its check, and every CARD, IBAN and
// NATIONAL_ID look-alike fails it. Errors name the id and the rule, never the
// value, so running the test does not show the sets' texts.
func TestAuthorSplitValuesPassChecks(t *testing.T) {
	for _, split := range authorSplits {
		t.Run(split, func(t *testing.T) {
			checked := map[string]int{}
			for _, s := range loadSplit(t, split) {
				runes := []rune(s.Text)
				for _, sp := range s.Spans {
					checked[sp.Type]++
					if _, skip := authorLabelSkips[s.ID+" "+sp.Type]; skip {
						continue
					}
					if err := Check(sp.Type, string(runes[sp.Start:sp.End]), s.Lang); err != nil {
						t.Errorf("%s: gold %s fails its check", s.ID, sp.Type)
					}
				}
				for _, la := range s.LookAlikes {
					switch la.Type {
					case "CARD", "IBAN", "NATIONAL_ID":
						if _, skip := authorLabelSkips[s.ID+" ~"+la.Type]; skip {
							continue
						}
						checked["~"+la.Type]++
						if Check(la.Type, la.Value, s.Lang) == nil {
							t.Errorf("%s: look-alike %s passes its check", s.ID, la.Type)
						}
					}
				}
			}
			for _, typ := range []string{"CARD", "IBAN", "NATIONAL_ID", "PHONE"} {
				if checked[typ] == 0 {
					t.Errorf("%s: no %s labels were checked", split, typ)
				}
			}
			t.Logf("%s labels checked per type: %v", split, checked)
		})
	}
}

func load(t *testing.T) []Source {
	t.Helper()
	srcs, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

func loadFresh(t *testing.T) []Source {
	t.Helper()
	srcs, err := LoadDir(freshDir)
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// loadAll is every message of both sets, for the checks that hold for each label.
func loadAll(t *testing.T) []Source {
	t.Helper()
	return append(load(t), loadFresh(t)...)
}

// genFile is one generated file and the bytes its source renders to.
type genFile struct {
	path string
	want []byte
}

// generated renders every generated file from its source.
func generated(t *testing.T) []genFile {
	t.Helper()
	srcs := load(t)
	var out []genFile
	for _, split := range []string{"dev", "holdout"} {
		b, err := Render(srcs, split)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, genFile{filepath.Join(dir, split+".jsonl"), b})
	}
	b, err := RenderAll(loadFresh(t))
	if err != nil {
		t.Fatal(err)
	}
	return append(out, genFile{filepath.Join(freshDir, FreshSplit+".jsonl"), b})
}

// TestGeneratedFilesAreUpToDate fails when someone edits a <lang>.txt without
// regenerating (go test ./pii/eval/labelset -run TestGenerated -update).
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	for _, f := range generated(t) {
		path, want := f.path, f.want
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go test ./pii/eval/labelset -run TestGenerated -update", path)
		}
	}
}

// TestGeneratedFilesRoundTrip reads the JSON lines back through the scorer's
// loader and checks each span's text is exactly the value written in the source.
func TestGeneratedFilesRoundTrip(t *testing.T) {
	srcs := load(t)
	byID := map[string]Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	n := 0
	for _, split := range []string{"dev", "holdout"} {
		msgs, err := eval.LoadJSONL(filepath.Join(dir, split+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			n++
			if diff := cmp.Diff(byID[m.ID].Message, m); diff != "" {
				t.Errorf("%s differs from its source (-source +jsonl):\n%s", m.ID, diff)
			}
			if Split(m.ID) != split {
				t.Errorf("%s is in %s, its hash says %s", m.ID, split, Split(m.ID))
			}
		}
	}
	if n != len(srcs) {
		t.Errorf("splits hold %d messages, the source %d", n, len(srcs))
	}

	fresh := loadFresh(t)
	msgs, err := eval.LoadJSONL(filepath.Join(freshDir, FreshSplit+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(fresh) {
		t.Errorf("fresh.jsonl holds %d messages, its source %d", len(msgs), len(fresh))
	}
	for i, m := range msgs {
		if i >= len(fresh) {
			break
		}
		if diff := cmp.Diff(fresh[i].Message, m); diff != "" {
			t.Errorf("%s differs from its source (-source +jsonl):\n%s", m.ID, diff)
		}
	}
}

// TestGoldValuesPassChecks is the set's sanity check of its own labels: every
// CARD passes Luhn with a real brand prefix, every IBAN mod-97 with its country's
// length, every NATIONAL_ID its scheme's check, every numeric PHONE is valid in
// libphonenumber for a region of its message's language.
func TestGoldValuesPassChecks(t *testing.T) {
	for _, s := range loadAll(t) {
		runes := []rune(s.Text)
		for _, sp := range s.Spans {
			val := string(runes[sp.Start:sp.End])
			if err := Check(sp.Type, val, s.Lang); err != nil {
				t.Errorf("%s: %v", s.ID, err)
			}
		}
	}
}

// TestLookAlikesFailChecks: a [[~CARD:…]], [[~IBAN:…]] or [[~NATIONAL_ID:…]] mark
// promises a look-alike that fails its checksum; hold the source to it.
func TestLookAlikesFailChecks(t *testing.T) {
	for name, srcs := range map[string][]Source{"labelled": load(t), "fresh": loadFresh(t)} {
		n := 0
		for _, s := range srcs {
			for _, la := range s.LookAlikes {
				switch la.Type {
				case "CARD", "IBAN", "NATIONAL_ID":
					n++
					if Check(la.Type, la.Value, s.Lang) == nil {
						t.Errorf("%s: look-alike %s %q passes its check", s.ID, la.Type, la.Value)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("no checksum look-alikes in the %s set", name)
		}
	}
}

// TestSetShape holds the set to the brief: size, languages, a third clean,
// and both splits covering every type and language.
func TestSetShape(t *testing.T) {
	srcs := load(t)
	if len(srcs) < 480 {
		t.Errorf("%d messages, want at least 480", len(srcs))
	}
	clean := 0
	perLang := map[string]int{}
	type key struct{ split, what string }
	cover := map[key]int{}
	perType := map[string]int{}
	for _, s := range srcs {
		perLang[s.Lang]++
		split := Split(s.ID)
		cover[key{split, s.Lang}]++
		if len(s.Spans) == 0 {
			clean++
			cover[key{split, "clean"}]++
		}
		for _, sp := range s.Spans {
			cover[key{split, sp.Type}]++
			perType[sp.Type]++
		}
	}
	if frac := float64(clean) / float64(len(srcs)); frac < 0.28 || frac > 0.40 {
		t.Errorf("%.0f%% of messages are clean, want about a third", 100*frac)
	}
	for _, lang := range Languages {
		if perLang[lang] < len(srcs)/len(Languages)*8/10 {
			t.Errorf("%s has %d messages; languages should be roughly equal", lang, perLang[lang])
		}
	}
	for _, typ := range eval.Types {
		if perType[typ] < 36 {
			t.Errorf("%s has %d gold spans, want several dozen", typ, perType[typ])
		}
	}
	for _, split := range []string{"dev", "holdout"} {
		for _, what := range append(append([]string{"clean"}, Languages...), eval.Types...) {
			if cover[key{split, what}] == 0 {
				t.Errorf("%s has no %s", split, what)
			}
		}
	}
	t.Logf("%d messages, %d clean; per language %v; per type %v", len(srcs), clean, perLang, perType)
}

// TestFreshSetShape holds the fresh split to its brief: at least 60 messages per
// language, about 40% clean, every type several times in every language, long
// messages in every language, and independence from dev/holdout (no shared id,
// text or checksummed/contact value), so it measures generalisation rather
// than recall of the set the engine was tuned on.
func TestFreshSetShape(t *testing.T) {
	fresh, old := loadFresh(t), load(t)
	oldIDs, oldTexts, oldValues := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var oldAll strings.Builder
	for _, s := range old {
		oldIDs[s.ID], oldTexts[s.Text] = true, true
		oldAll.WriteString(s.Text)
		oldAll.WriteByte(0)
		runes := []rune(s.Text)
		for _, sp := range s.Spans {
			oldValues[sp.Type+" "+alnum(string(runes[sp.Start:sp.End]))] = true
		}
	}
	clean := 0
	perLang := map[string]int{}
	long := map[string]int{}
	type key struct{ lang, typ string }
	perType := map[key]int{}
	for _, s := range fresh {
		perLang[s.Lang]++
		if n := utf8.RuneCountInString(s.Text); n >= 500 && n <= 1500 {
			long[s.Lang]++
		}
		if len(s.Spans) == 0 {
			clean++
		}
		if oldIDs[s.ID] {
			t.Errorf("%s: id also used in dev/holdout", s.ID)
		}
		if oldTexts[s.Text] {
			t.Errorf("%s: text copied from dev/holdout", s.ID)
		}
		runes := []rune(s.Text)
		for _, sp := range s.Spans {
			perType[key{s.Lang, sp.Type}]++
			switch sp.Type {
			case "EMAIL", "PHONE", "CARD", "IBAN", "NATIONAL_ID":
				v := string(runes[sp.Start:sp.End])
				if strings.Contains(oldAll.String(), v) || oldValues[sp.Type+" "+alnum(v)] {
					t.Errorf("%s: %s value %q also occurs in dev/holdout", s.ID, sp.Type, v)
				}
			}
		}
	}
	if len(fresh) < 360 {
		t.Errorf("%d fresh messages, want at least 360", len(fresh))
	}
	if frac := float64(clean) / float64(len(fresh)); frac < 0.35 || frac > 0.45 {
		t.Errorf("%.0f%% of fresh messages are clean, want about 40%%", 100*frac)
	}
	for _, lang := range Languages {
		if perLang[lang] < 60 {
			t.Errorf("fresh %s has %d messages, want at least 60", lang, perLang[lang])
		}
		if long[lang] < 5 {
			t.Errorf("fresh %s has %d messages of 500–1500 characters, want at least 5", lang, long[lang])
		}
		for _, typ := range eval.Types {
			if perType[key{lang, typ}] < 3 {
				t.Errorf("fresh %s has %d %s spans, want several", lang, perType[key{lang, typ}], typ)
			}
		}
	}
	t.Logf("fresh: %d messages, %d clean; per language %v; long %v", len(fresh), clean, perLang, long)
}

// alnum lower-cases s and keeps only its letters and digits, so one value written
// with other separators or case still compares equal.
func alnum(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestParseMarkup(t *testing.T) {
	src := "@@ en-1\nHi [[PERSON:Zoë Ng]], ip [[[IP:2001:db8::1]]]:8080\n[[CARD:4111 1111\n1111 1111]] ok [[~IBAN:GB00 WEST]] [[x]]\n\n@@ en-2\n;; comment\nno pii\n"
	got, err := Parse([]byte(src), "en", "t")
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{{
		Message: eval.Message{
			ID: "en-1", Lang: "en",
			Text:  "Hi Zoë Ng, ip [2001:db8::1]:8080\n4111 1111\n1111 1111 ok GB00 WEST [[x]]",
			Spans: []eval.Span{{Start: 3, End: 9, Type: "PERSON"}, {Start: 15, End: 26, Type: "IP"}, {Start: 33, End: 52, Type: "CARD"}},
		},
		LookAlikes: []LookAlike{{"IBAN", "GB00 WEST"}},
	}, {Message: eval.Message{ID: "en-2", Lang: "en", Text: "no pii", Spans: []eval.Span{}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestParseRejectsBadLabels(t *testing.T) {
	for name, body := range map[string]string{
		"unclosed":       "[[EMAIL:a@b.c",
		"space inside":   "[[PERSON: Anna]]",
		"trailing comma": "[[PERSON:Anna,]]",
		"trailing stop":  "[[EMAIL:a@b.co.]]",
		"possessive":     "[[PERSON:Anna's]]",
		"leading quote":  `[[SECRET:"hunter2]]`,
		"empty":          "[[IP:]]",
		"nested":         "[[ADDRESS:1 [[PERSON:A]] St]]",
	} {
		if _, err := Parse([]byte("@@ en-1\n"+body+"\n"), "en", "t"); err == nil {
			t.Errorf("%s: %q parsed", name, body)
		}
	}
	for name, src := range map[string]string{
		"duplicate id": "@@ en-1\na\n@@ en-1\nb\n",
		"wrong lang":   "@@ de-1\na\n",
		"empty":        "@@ en-1\n\n",
		"before":       "hello\n@@ en-1\na\n",
	} {
		if _, err := Parse([]byte(src), "en", "t"); err == nil {
			t.Errorf("%s parsed", name)
		}
	}
}

// Known answers from the schemes' public documentation and worked examples.
func TestChecksKnownAnswers(t *testing.T) {
	valid := []struct{ typ, v, lang string }{
		{"CARD", "4111 1111 1111 1111", ""}, {"CARD", "5500-0000-0000-0004", ""}, {"CARD", "3400 000000 00009", ""},
		{"CARD", "2223000048400011", ""}, {"CARD", "6011000990139424", ""}, {"CARD", "3530111333300000", ""},
		{"CARD", "30569309025904", ""}, {"CARD", "4111.1111.1111.1111", ""},
		{"IBAN", "GB82 WEST 1234 5698 7654 32", ""}, {"IBAN", "DE89370400440532013000", ""},
		{"IBAN", "fr14 2004 1010 0505 0001 3m02 606", ""}, {"IBAN", "NL91ABNA0417164300", ""},
		{"IBAN", "BE68539007547034", ""}, {"IBAN", "IT60X0542811101000000123456", ""}, {"IBAN", "CH9300762011623852957", ""},
		{"NATIONAL_ID", "123-45-6789", "en"}, {"NATIONAL_ID", "AB 12 34 56 C", "en"}, {"NATIONAL_ID", "86095742719", "de"},
		{"NATIONAL_ID", "12345678Z", "es"}, {"NATIONAL_ID", "12.345.678-Z", "es"}, {"NATIONAL_ID", "X1234567L", "es"},
		{"NATIONAL_ID", "111222333", "nl"}, {"NATIONAL_ID", "1112.22.333", "nl"}, {"NATIONAL_ID", "RSSMRA85T10A562S", "it"},
		{"NATIONAL_ID", "rssmra85t10a562s", "it"}, {"NATIONAL_ID", "2 69 05 49 588 157 80", "fr"},
	}
	for _, c := range valid {
		if err := Check(c.typ, c.v, c.lang); err != nil {
			t.Errorf("valid %s rejected: %v", c.typ, err)
		}
	}
	invalid := []struct{ typ, v, lang string }{
		{"CARD", "4111 1111 1111 1112", ""}, {"CARD", "1234 5678 9012 3452", ""}, {"CARD", "490154203237518", ""}, // IMEI: Luhn ok, no brand
		{"IBAN", "GB83 WEST 1234 5698 7654 32", ""}, {"IBAN", "DE89 3704 0044 0532 0130 0", ""}, {"IBAN", "XX82WEST12345698765432", ""},
		{"NATIONAL_ID", "666-45-6789", "en"}, {"NATIONAL_ID", "123-00-6789", "en"}, {"NATIONAL_ID", "900-12-3456", "en"},
		{"NATIONAL_ID", "QQ 12 34 56 C", "en"}, {"NATIONAL_ID", "AB 12 34 56 E", "en"}, {"NATIONAL_ID", "86095742718", "de"},
		{"NATIONAL_ID", "11111111111", "de"}, {"NATIONAL_ID", "12345678A", "es"}, {"NATIONAL_ID", "111222334", "nl"},
		{"NATIONAL_ID", "RSSMRA85T10A562T", "it"}, {"NATIONAL_ID", "2 69 05 49 588 157 81", "fr"},
		{"NATIONAL_ID", "123-45-6789", "nl"}, // an SSN is not a Dutch message's ID
	}
	for _, c := range invalid {
		if err := Check(c.typ, c.v, c.lang); err == nil {
			t.Errorf("invalid %s %q accepted", c.typ, c.v)
		}
	}
	if err := CheckPhone("+44 20 7946 0123", "en"); err != nil {
		t.Error(err)
	}
	if err := CheckPhone("+44 20 7946 0123", "it"); err == nil {
		t.Error("a UK number accepted for Italian's regions")
	}
	if err := CheckPhone("zero six one two", "en"); err != nil {
		t.Error("spoken numbers are exempt:", err)
	}
}

func TestSplitIsStable(t *testing.T) {
	// Pinned so a change to the hash, which would reshuffle dev and holdout, is deliberate.
	want := map[string]string{"en-001": "dev", "de-042": "holdout", "it-080": "dev", "fr-007": "holdout", "nl-001": "dev"}
	for id, split := range want {
		if got := Split(id); got != split {
			t.Errorf("Split(%s) = %s, want %s", id, got, split)
		}
	}
}

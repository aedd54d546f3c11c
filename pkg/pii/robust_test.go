package pii

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkFindings asserts the output contract: offsets inside the text and
// on code-point boundaries (they are code points, so any integer in range
// is one), sorted, non-overlapping, known types, scores in (0, 1].
func checkFindings(t testing.TB, text string, fs []Finding) {
	t.Helper()
	n := utf8.RuneCountInString(text)
	prevEnd := 0
	for i, f := range fs {
		if f.Start < 0 || f.End > n || f.Start >= f.End {
			t.Fatalf("finding %d %+v outside the text of %d code points", i, f, n)
		}
		if f.Start < prevEnd {
			t.Fatalf("finding %d %+v overlaps or precedes the one before (end %d)", i, f, prevEnd)
		}
		if !f.Type.Valid() || f.Score <= 0 || f.Score > 1 || f.Recognizer == "" {
			t.Fatalf("finding %d %+v has a bad type, score or recogniser", i, f)
		}
		prevEnd = f.End
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		"", "@", "@@@@", "a@b.co", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "::1", "1.2.3.4",
		"+33 (0)1 23 45 67 89", "zero six one two three four five six seven", "Hi Anna, born 02/11/1979",
		"12 rue Victor Hugo, 75011 Paris", "password: Sommer2024!", "😩 ü 日本 \u0301\u0301", "\xff\xfe", "2 85 06 2A 123 456 96",
		"X-1234567-L", "AB 12 34 56 C", "[EMAIL_1] [CARD_", "eyJ.eyJ.eyJ", "Sig.ra Conti", "K. de Groot", "\n\n\n", "1 1 1 1 1 1 1 1",
		"anna dot k at gmail dot com", "C/ de Alcalá 120, 3º B\n28009 Madrid", "geb. 5. Juni 1971", "sk_live_" + strings.Repeat("a1", 20),
	} {
		f.Add(s, "")
		f.Add(s, "de")
	}
	f.Fuzz(func(t *testing.T, text, lang string) {
		fs := testEngine.Detect(text, lang)
		checkFindings(t, text, fs)
	})
}

// pathological inputs: each builds a message of about n bytes.
var pathological = map[string]func(n int) string{
	"digits":        func(n int) string { return strings.Repeat("7", n) },
	"at-signs":      func(n int) string { return strings.Repeat("@", n) },
	"spaced-digits": func(n int) string { return strings.Repeat("1 ", n/2) },
	"pairs":         func(n int) string { return strings.Repeat("12 ", n/3) },
	"dotted":        func(n int) string { return strings.Repeat("1.", n/2) },
	"colons":        func(n int) string { return strings.Repeat(":", n) },
	"hex-colons":    func(n int) string { return strings.Repeat("a:", n/2) },
	"emails":        func(n int) string { return strings.Repeat("a@b.co ", n/7) },
	"local-parts":   func(n int) string { return strings.Repeat("a", n/2) + strings.Repeat("@b", n/4) },
	"cards":         func(n int) string { return strings.Repeat("4111 1111 1111 1111 ", n/20) },
	"phones":        func(n int) string { return strings.Repeat("+44 20 7946 0958 ", n/17) },
	"names":         func(n int) string { return strings.Repeat("Hi Anna Maria ", n/14) },
	"streets":       func(n int) string { return strings.Repeat("Via Roma 1, ", n/12) },
	"spoken":        func(n int) string { return strings.Repeat("zero six ", n/9) },
	"codes":         func(n int) string { return strings.Repeat("code - ", n/7) },
	"jwt":           func(n int) string { return strings.Repeat("eyJ.", n/4) },
	"key-prefixes":  func(n int) string { return strings.Repeat("sk_live_x.", n/10) },
	"brackets":      func(n int) string { return strings.Repeat("[EMAIL_", n/7) },
	"words":         func(n int) string { return strings.Repeat("word ", n/5) },
	"newlines":      func(n int) string { return strings.Repeat("\n", n) },
	"birth":         func(n int) string { return strings.Repeat("born 1.1.1990, ", n/15) },
	"url-params":    func(n int) string { return "?" + strings.Repeat("token=ab12cd34ef&", n/17) },
	// 13 digits that pass both Luhn and the barcode check: each asks
	// whether the message names a card.
	"barcode-cards": func(n int) string { return "visa " + strings.Repeat("4732557441437 ok ", n/17) },
	// Many findings, then many cue words: the clause walk asks about the
	// findings at every cue (security review).
	"findings-then-cues": func(n int) string {
		return strings.Repeat("u1@ex.de ", n/18) + strings.Repeat("password code ", n/28)
	},
	// A code word, then one long run of two-digit groups: each group asked
	// how long its run is (security review, session 14).
	"code-pairs": func(n int) string { return "code " + strings.Repeat("12 34 ", n/6) },
	// Many lists of names one per line, each line asked whether a
	// finding covers it (security review, session 14).
	"name-lists": func(n int) string { return strings.Repeat("Names:\nAnna\nBob\n", n/16) },
	// Many findings, then codes sent to a phone: each asks whether only
	// channel phones lie between cue and code (security review, session 14).
	"channel-phones": func(n int) string {
		return strings.Repeat("a@b.co ", n/14) + strings.Repeat("code par SMS au 06 12 34 56 78, c'est 481 206. ", n/92)
	},
}

// TestPathologicalInputsAreLinear: doubling the input at most about
// doubles the engine's work counter and the bytes it allocates. The work
// counter counts recogniser attempts (and libphonenumber calls), so a
// quadratic loop shows up as a ratio near 4.
func TestPathologicalInputsAreLinear(t *testing.T) {
	for name, gen := range pathological {
		t.Run(name, func(t *testing.T) {
			const n = 20000
			small, large := gen(n), gen(2*n)
			_, w1 := testEngine.detect(small, "")
			_, w2 := testEngine.detect(large, "")
			if w1 > 0 && float64(w2)/float64(w1) > 2.3 {
				t.Errorf("work grew %d → %d for twice the input", w1, w2)
			}
			if w2 > 40*len(large)+1000 {
				t.Errorf("work %d for %d bytes is more than linear in the input", w2, len(large))
			}
			a1, a2 := allocBytes(small), allocBytes(large)
			if float64(a2)/float64(a1) > 2.6 {
				t.Errorf("allocated %d → %d bytes for twice the input", a1, a2)
			}
		})
	}
}

// allocBytes is what one Detect call allocates on an engine whose pool is
// empty, so buffers are grown from nothing as in a cold call.
func allocBytes(text string) uint64 {
	e, err := New(Config{})
	if err != nil {
		panic(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e.Detect(text, "")
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc + 1
}

// TestHugeInputs: a megabyte of each pathological input and 100,000 digits
// are processed (the time is measured by BenchmarkPathological, not here).
func TestHugeInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	for _, text := range []string{strings.Repeat("9", 100000), strings.Repeat("@", 50000), pathological["phones"](1 << 20)} {
		fs := testEngine.Detect(text, "en")
		checkFindings(t, text, fs)
	}
}

// TestInvalidUTF8 counts each invalid byte as one code point.
func TestInvalidUTF8(t *testing.T) {
	text := "\xff\xfe mail a@b.co"
	fs := testEngine.Detect(text, "")
	if len(fs) != 1 || fs[0].Start != 8 || fs[0].End != 14 {
		t.Fatalf("findings = %+v, want EMAIL at 8..14", fs)
	}
}

// TestConcurrentDetect: one Engine serves many goroutines (run with -race);
// each result equals the serial one.
func TestConcurrentDetect(t *testing.T) {
	msgs := make([]string, len(benchSentences))
	want := make([][]Finding, len(msgs))
	for i := range msgs {
		msgs[i] = message(i, 300)
		want[i] = testEngine.Detect(msgs[i], "")
	}
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for r := 0; r < 20; r++ {
				i := (g + r) % len(msgs)
				got := testEngine.Detect(msgs[i], "")
				if len(got) != len(want[i]) {
					done <- fmt.Errorf("message %d: %d findings, serial %d", i, len(got), len(want[i]))
					return
				}
				for k := range got {
					if got[k] != want[i][k] {
						done <- fmt.Errorf("message %d finding %d: %+v, serial %+v", i, k, got[k], want[i][k])
						return
					}
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

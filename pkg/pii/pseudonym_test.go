package pii

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPseudonymizeRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := NewPseudonymizer(testEngine)
	for _, text := range []string{
		"mail anna@example.com or call +44 20 7946 0958, anna@example.com again",
		"Card 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00 😩 Grüße, Birgit",
		"literal [EMAIL_1] typed by the customer, and [CARD_2] too, with a@b.co",
		"no PII here at all",
		"\xff\xfe invalid bytes then a@b.co",
		"[EMAIL_1][EMAIL_1]a@b.co[LITERAL_1]",
		"",
	} {
		scope := NewMemoryScope()
		r, err := p.Pseudonymize(ctx, scope, text, "")
		if err != nil {
			t.Fatal(err)
		}
		back, err := Restore(ctx, scope, r.Text)
		if err != nil {
			t.Fatal(err)
		}
		if back != text {
			t.Errorf("round trip of %q gave %q (via %q)", text, back, r.Text)
		}
		for _, e := range scope.Entries() {
			if strings.Contains(r.Text, e.Value) && e.Type != Literal && len(e.Value) > 3 {
				t.Errorf("pseudonymised text %q still holds %q", r.Text, e.Value)
			}
		}
	}
}

func TestSameValueSamePlaceholder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := NewPseudonymizer(testEngine)
	scope := NewMemoryScope()
	r1, err := p.Pseudonymize(ctx, scope, "write to anna@example.com or bob@example.com", "en")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := p.Pseudonymize(ctx, scope, "did bob@example.com get it? card 4111 1111 1111 1111", "en")
	if err != nil {
		t.Fatal(err)
	}
	if r1.Text != "write to [EMAIL_1] or [EMAIL_2]" {
		t.Errorf("first = %q", r1.Text)
	}
	if r2.Text != "did [EMAIL_2] get it? card [CARD_1]" {
		t.Errorf("second = %q (same value, same scope: same placeholder)", r2.Text)
	}
	// Another scope numbers afresh.
	r3, _ := p.Pseudonymize(ctx, NewMemoryScope(), "bob@example.com", "en")
	if r3.Text != "[EMAIL_1]" {
		t.Errorf("new scope = %q", r3.Text)
	}
}

// TestLiteralPlaceholdersCannotPullValues: a customer who types another
// placeholder gets their own text back, not the value behind it.
func TestLiteralPlaceholdersCannotPullValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := NewPseudonymizer(testEngine)
	scope := NewMemoryScope()
	if _, err := p.Pseudonymize(ctx, scope, "my card 4111 1111 1111 1111", "en"); err != nil {
		t.Fatal(err)
	}
	r, err := p.Pseudonymize(ctx, scope, "what is [CARD_1]?", "en")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.Text, "[CARD_1]") {
		t.Fatalf("typed placeholder reached the model as itself: %q", r.Text)
	}
	back, _ := Restore(ctx, scope, r.Text)
	if back != "what is [CARD_1]?" {
		t.Errorf("restored %q", back)
	}
}

func TestCheckOutput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := NewPseudonymizer(testEngine)
	scope := NewMemoryScope()
	if _, err := p.Pseudonymize(ctx, scope, "I'm at anna@example.com", "en"); err != nil {
		t.Fatal(err)
	}
	out := "Sure [EMAIL_1], I also emailed bob@example.org and [EMAIL_7]; your card [CARD_1] is fine. anna@example.com"
	res, err := p.CheckOutput(ctx, scope, out, "en")
	if err != nil {
		t.Fatal(err)
	}
	want := "Sure [EMAIL_1], I also emailed [REDACTED_EMAIL] and [REDACTED]; your card [REDACTED] is fine. [EMAIL_1]"
	if res.Text != want {
		t.Errorf("redacted = %q\nwant       %q", res.Text, want)
	}
	var kinds []string
	for _, pr := range res.Problems {
		kinds = append(kinds, pr.Kind+":"+string(pr.Type)+":"+string([]rune(out)[pr.Start:pr.End]))
	}
	wantKinds := []string{"leak:EMAIL:bob@example.org", "invented:EMAIL:[EMAIL_7]", "invented:CARD:[CARD_1]", "leak:EMAIL:anna@example.com"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// A clean answer passes unchanged.
	clean, _ := p.CheckOutput(ctx, scope, "Thanks [EMAIL_1], done.", "en")
	if clean.Text != "Thanks [EMAIL_1], done." || len(clean.Problems) != 0 {
		t.Errorf("clean output changed: %+v", clean)
	}
}

func TestPlaceholderShape(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{
		"[EMAIL_1]": 9, "[NATIONAL_ID_12]": 16, "[CUSTOMER_ID_3]": 15, "[EMAIL_0]": 0, "[EMAIL_]": 0, "[email_1]": 0,
		"[EMAIL_1": 0, "[_1]": 0, "[EMAIL_1a]": 0, "[E_1]": 5,
	} {
		if got, _ := placeholderAt(s, 0); got != want {
			t.Errorf("placeholderAt(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzPseudonymizeRoundTrip(f *testing.F) {
	for _, s := range []string{"a@b.co [EMAIL_1]", "[[EMAIL_1]]", "4111 1111 1111 1111[CARD_1]", "\xff[X_1]"} {
		f.Add(s)
	}
	p := NewPseudonymizer(testEngine)
	f.Fuzz(func(t *testing.T, text string) {
		ctx := context.Background()
		scope := NewMemoryScope()
		r, err := p.Pseudonymize(ctx, scope, text, "")
		if err != nil {
			t.Fatal(err)
		}
		back, err := Restore(ctx, scope, r.Text)
		if err != nil || back != text {
			t.Fatalf("round trip of %q gave %q (%v)", text, back, err)
		}
	})
}

package emailaddr_test

import (
	"testing"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/emailaddr"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

func TestCanonical(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Alice@Example.COM", "alice@example.com"},
		{"bob+tag@sub.example.org", "bob+tag@sub.example.org"},
		// A real IDN domain keeps its Punycode form (the message goes there).
		{"anna@bücher.de", "anna@xn--bcher-kva.de"},
		{"anna@BÜCHER.de", "anna@xn--bcher-kva.de"},
		{"anna@xn--bcher-kva.de", "anna@xn--bcher-kva.de"},
		// U+0130 is not i under UTS #46: gmaİl.com is its own IDN domain,
		// never gmail.com.
		{"alice@gma\u0130l.com", "alice@xn--gmail-bgd.com"},
	} {
		got, err := emailaddr.Canonical(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestCanonicalRefusesLookalikes: non-ASCII that folds to ASCII, non-ASCII
// local parts and malformed addresses are InvalidArgument EMAIL_INVALID.
func TestCanonicalRefusesLookalikes(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"alice@\u212Aitchen.com", // Kelvin sign → k
		"alice@ｇmail.com",        // full-width g → g
		"alice@gmail.ｃom",        // in the TLD
		"\u0130lse@example.com",  // U+0130 in the local part
		"\u212Aarl@example.com",  // Kelvin sign in the local part
		"ålice@example.com",      // any non-ASCII local part
		"alice @example.com",     // white space
		"alice@example",          // no dot
		"alice@@example.com",     // two @
		"alice@example..com",     // empty label
		"@example.com", "alice@", "", "alice",
		"alice@exa_mple.com", // STD3
	} {
		got, err := emailaddr.Canonical(in)
		if errs.KindOf(err) != errs.InvalidArgument || errs.ReasonOf(err) != reasons.EmailInvalid {
			t.Errorf("Canonical(%q) = %q, %v; want InvalidArgument EMAIL_INVALID", in, got, err)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"a@b.c", "alice@gma\u0130l.com", "x@\u212A.com", "A@B.DE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := emailaddr.Canonical(s)
		if err != nil {
			if errs.KindOf(err) != errs.InvalidArgument {
				t.Fatalf("Canonical(%q): %v", s, err)
			}
			return
		}
		// The canonical form is ASCII and a fixed point.
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x80 || ('A' <= got[i] && got[i] <= 'Z') {
				t.Fatalf("Canonical(%q) = %q is not lower-case ASCII", s, got)
			}
		}
		if again, err := emailaddr.Canonical(got); err != nil || again != got {
			t.Fatalf("Canonical(%q) = %q; again %q, %v", s, got, again, err)
		}
	})
}

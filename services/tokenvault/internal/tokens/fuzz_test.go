package tokens

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, dt := range DataTypes() {
		tok, _ := NewRandom(dt)
		f.Add(tok)
		tok, _ = Deterministic(testKey(1), dt, "seed@example.com")
		f.Add(tok)
	}
	card, _ := CardToken("4242424242424242")
	for _, s := range []string{
		card, "4242424242424242", "", "tok_", "det_cc_", "tok_zz_0000000000000000000000",
		"det_ph_ZZZZZZZZZZZZZZZZZZZZZZ", "tok_em_7N42dgm5tFLK9N8MT7fHC7", "+442079460958", "+0000442079460958",
		"123456", "abcd", "tok_ph_\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dt, format, err := Parse(s)
		if err != nil {
			if dt != 0 || format != 0 {
				t.Fatalf("Parse(%q) returned %v, %v with error %v", s, dt, format, err)
			}
		} else {
			if !dt.Valid() || !format.Valid() {
				t.Fatalf("Parse(%q) = %v, %v: invalid result", s, dt, format)
			}
			dt2, format2, err2 := Parse(s)
			if err2 != nil || dt2 != dt || format2 != format {
				t.Fatalf("re-parse of %q = %v, %v, %v; first %v, %v", s, dt2, format2, err2, dt, format)
			}
			if !utf8.ValidString(s) {
				t.Fatalf("Parse accepted invalid UTF-8 %q", s)
			}
			switch format {
			case FormatRandom, FormatDeterministic:
				// Canonical: the body re-encodes to itself.
				b, ok := decode128(s[len(s)-base62Len:])
				enc := encode128(&b)
				if !ok || string(enc[:]) != s[len(s)-base62Len:] {
					t.Fatalf("token %q is not canonical", s)
				}
				if !strings.HasPrefix(s[4:], dt.Code()+"_") {
					t.Fatalf("token %q does not carry the code of %v", s, dt)
				}
			case FormatCard:
				if dt != CardNumber || Luhn(s) {
					t.Fatalf("card token %q: type %v, Luhn %v", s, dt, Luhn(s))
				}
			case FormatFPE:
				if dt != Phone || !strings.HasPrefix(s, phoneTokenPrefix) {
					t.Fatalf("Parse(%q) = %v, %v", s, dt, format)
				}
				if _, err := Normalize(Phone, s); err == nil {
					t.Fatalf("phone token %q is also a phone number", s)
				}
			default:
				t.Fatalf("Parse(%q) returned format %v", s, format)
			}
			if f, err := ParseAs(s, dt); err != nil || f != format {
				t.Fatalf("ParseAs(%q, %v) = %v, %v; Parse said %v", s, dt, f, err, format)
			}
		}
		for _, want := range DataTypes() {
			f, err := ParseAs(s, want)
			if err != nil {
				continue
			}
			if f == FormatFPE {
				if strings.HasPrefix(s, "tok_") || strings.HasPrefix(s, "det_") || want == CardNumber {
					t.Fatalf("ParseAs(%q, %v) = FormatFPE", s, want)
				}
				continue
			}
			if pt, pf, perr := Parse(s); perr != nil || pt != want || pf != f {
				t.Fatalf("ParseAs(%q, %v) = %v but Parse = %v, %v, %v", s, want, f, pt, pf, perr)
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "John@Example.com ", "4242 4242 4242 4242", "+44 20 7946 0958", "1990-01-31",
		"  Jean-Luc \t Picard ", "123-45-6789", "AbC123xyz", "\xff", "\u023a@x.co",
		strings.Repeat("9", 20),
	} {
		f.Add(s)
	}
	key := testKey(9)
	f.Fuzz(func(t *testing.T, s string) {
		for _, dt := range DataTypes() {
			n, err := Normalize(dt, s)
			m := Mask(dt, n)
			if !utf8.ValidString(m) {
				t.Fatalf("Mask(%v, %q) = %q: invalid UTF-8", dt, n, m)
			}
			_ = Mask(dt, s) // masks never panic, normalised or not
			if err != nil {
				if n != "" {
					t.Fatalf("Normalize(%v, %q) = %q with error %v", dt, s, n, err)
				}
				continue
			}
			if n == "" || len(n) > MaxValueLen || !utf8.ValidString(n) {
				t.Fatalf("Normalize(%v, %q) = %q", dt, s, n)
			}
			again, err := Normalize(dt, n)
			if err != nil || again != n {
				t.Fatalf("Normalize(%v) not idempotent: %q -> %q -> %q, %v", dt, s, n, again, err)
			}
			d1, err1 := Deterministic(key, dt, s)
			d2, err2 := Deterministic(key, dt, n)
			if err1 != nil || err2 != nil || d1 != d2 {
				t.Fatalf("Deterministic(%v) differs for %q and its normal form: %q, %q, %v, %v", dt, s, d1, d2, err1, err2)
			}
			if dt == CardNumber && len(n) >= minCardTokenDigits {
				tok, err := CardToken(s)
				if err != nil || Luhn(tok) || len(tok) != len(n) {
					t.Fatalf("CardToken(%q) = %q, %v", s, tok, err)
				}
			}
			if tok, err := FormatPreserving(key, []byte("t"), dt, s); err == nil {
				want := len(n)
				if dt == Phone {
					// "+0000" and the digits, with a "0" before those of
					// a value written without a '+'.
					want = len(phoneTokenPrefix) + len(strings.TrimPrefix(n, "+"))
					if !strings.HasPrefix(n, "+") {
						want++
					}
					if _, err := Normalize(Phone, tok); err == nil {
						t.Fatalf("phone token %q of %q is also a phone number", tok, s)
					}
				}
				if len(tok) != want {
					t.Fatalf("FormatPreserving(%v, %q) = %q: length %d, want %d", dt, s, tok, len(tok), want)
				}
				if back, err := FormatPreservingDecrypt(key, []byte("t"), dt, tok); err != nil || back != n {
					t.Fatalf("FPE round trip of %q: %q, %v", n, back, err)
				}
			}
		}
	})
}

package tokens

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// bigBase62 is an independent base62 encoder (math/big) to check encode128.
func bigBase62(b []byte) string {
	n := new(big.Int).SetBytes(b)
	var out []byte
	sixtyTwo := big.NewInt(62)
	m := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, sixtyTwo, m)
		out = append([]byte{base62Alphabet[m.Int64()]}, out...)
	}
	return strings.Repeat("0", base62Len-len(out)) + string(out)
}

func TestBase62(t *testing.T) {
	cases := [][16]byte{{}, {15: 1}, {0: 0x80}}
	var ones [16]byte
	for i := range ones {
		ones[i] = 0xff
	}
	cases = append(cases, ones)
	for range 200 {
		var b [16]byte
		rand.Read(b[:])
		cases = append(cases, b)
	}
	for _, b := range cases {
		enc := encode128(&b)
		if got, want := string(enc[:]), bigBase62(b[:]); got != want {
			t.Fatalf("encode128(%x) = %s, want %s", b, got, want)
		}
		dec, ok := decode128(string(enc[:]))
		if !ok || dec != b {
			t.Fatalf("decode128(encode128(%x)) = %x, %v", b, dec, ok)
		}
	}
	if got := encode128(&ones); string(got[:]) != "7N42dgm5tFLK9N8MT7fHC7" {
		t.Fatalf("encode128(2^128-1) = %s", got)
	}
	// Just above 2^128-1, and the largest 22-character string, do not decode.
	for _, s := range []string{"7N42dgm5tFLK9N8MT7fHC8", "ZZZZZZZZZZZZZZZZZZZZZZ", "8000000000000000000000"} {
		if _, ok := decode128(s); ok {
			t.Errorf("decode128(%s) accepted a value over 128 bits", s)
		}
	}
}

func TestNewRandom(t *testing.T) {
	for _, dt := range DataTypes() {
		t.Run(dt.String(), func(t *testing.T) {
			tok, err := NewRandom(dt)
			if err != nil {
				t.Fatal(err)
			}
			if want := "tok_" + dt.Code() + "_"; !strings.HasPrefix(tok, want) {
				t.Fatalf("token %q lacks prefix %q", tok, want)
			}
			if len(tok) != 37 {
				t.Fatalf("token %q has length %d, want 37", tok, len(tok))
			}
			gt, gf, err := Parse(tok)
			if err != nil || gt != dt || gf != FormatRandom {
				t.Fatalf("Parse(%q) = %v, %v, %v", tok, gt, gf, err)
			}
		})
	}
	t.Run("sorted by creation time", func(t *testing.T) {
		a, _ := NewRandom(Name)
		time.Sleep(2 * time.Millisecond)
		b, _ := NewRandom(Name)
		if !(a[:len("tok_nm_")+timeLen] < b[:len("tok_nm_")+timeLen]) {
			t.Fatalf("later token %q does not sort after %q", b, a)
		}
	})
	t.Run("unique", func(t *testing.T) {
		seen := make(map[string]bool, 1000)
		for range 1000 {
			tok, err := NewRandom(Email)
			if err != nil {
				t.Fatal(err)
			}
			if seen[tok] {
				t.Fatalf("duplicate token %q", tok)
			}
			seen[tok] = true
			for _, c := range []byte(tok[len("tok_em_"):]) {
				if !strings.ContainsRune(base62Alphabet, rune(c)) {
					t.Fatalf("token %q has a non-base62 body", tok)
				}
			}
			if _, f, err := Parse(tok); err != nil || f != FormatRandom {
				t.Fatalf("Parse(%q) = %v, %v", tok, f, err)
			}
		}
	})
}

func testKey(seed byte) []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func TestDeterministic(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	mustDet := func(t *testing.T, key []byte, dt DataType, v string) string {
		t.Helper()
		tok, err := Deterministic(key, dt, v)
		if err != nil {
			t.Fatalf("Deterministic(%v): %v", dt, err)
		}
		return tok
	}

	t.Run("known answer", func(t *testing.T) {
		// Independent computation: HMAC-SHA256(key, code || 0 || value)[:16]
		// in fixed-width base62.
		m := hmac.New(sha256.New, k1)
		m.Write([]byte("em\x00john@example.com"))
		want := "det_em_" + bigBase62(m.Sum(nil)[:16])
		if got := mustDet(t, k1, Email, "john@example.com"); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
		// Pinned: the format is stored by the vault and must never drift.
		if got := mustDet(t, k1, Email, "john@example.com"); got != goldenDetEmail {
			t.Fatalf("got %s, want pinned %s", got, goldenDetEmail)
		}
	})

	tests := []struct {
		name      string
		k1, k2    []byte
		t1, t2    DataType
		v1, v2    string
		wantEqual bool
	}{
		{"stable", k1, k1, Email, Email, "john@example.com", "john@example.com", true},
		{"normalised email", k1, k1, Email, Email, "John@Example.com ", "john@example.com", true},
		{"normalised card", k1, k1, CardNumber, CardNumber, "4242 4242-4242 4242", "4242424242424242", true},
		{"normalised name", k1, k1, Name, Name, "  Jane \t  Doe ", "Jane Doe", true},
		{"by key", k1, k2, Email, Email, "john@example.com", "john@example.com", false},
		{"by type", k1, k1, Name, FreeText, "John", "John", false},
		{"by value", k1, k1, Email, Email, "john@example.com", "jon@example.com", false},
		{"case kept for names", k1, k1, Name, Name, "John", "john", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := mustDet(t, tc.k1, tc.t1, tc.v1)
			b := mustDet(t, tc.k2, tc.t2, tc.v2)
			if (a == b) != tc.wantEqual {
				t.Fatalf("tokens %s and %s: equal = %v, want %v", a, b, a == b, tc.wantEqual)
			}
			for _, tok := range []string{a, b} {
				dt, f, err := Parse(tok)
				if err != nil || f != FormatDeterministic || (dt != tc.t1 && dt != tc.t2) {
					t.Fatalf("Parse(%s) = %v, %v, %v", tok, dt, f, err)
				}
			}
			if !strings.HasPrefix(a, "det_"+tc.t1.Code()+"_") {
				t.Fatalf("token %s lacks its prefix", a)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		for _, key := range [][]byte{nil, make([]byte, 16), make([]byte, 33)} {
			if _, err := Deterministic(key, Email, "john@example.com"); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("key of %d bytes: error = %v", len(key), err)
			}
		}
		_, err := Deterministic(k1, CardNumber, "4242424242424241")
		if !errors.Is(err, ErrInvalidValue) {
			t.Fatalf("Luhn-invalid card: error = %v", err)
		}
		if strings.Contains(err.Error(), "4242") {
			t.Fatalf("error %q contains the value", err)
		}
	})

	t.Run("key not retained", func(t *testing.T) {
		key := testKey(7)
		a := mustDet(t, key, Phone, "+44 20 7946 0958")
		orig := bytes.Clone(key)
		key[0] ^= 0xff
		if b := mustDet(t, orig, Phone, "+442079460958"); a != b {
			t.Fatalf("%s != %s", a, b)
		}
	})
}

const goldenDetEmail = "det_em_61PUX679tEQYestFKLiI7j"

func TestParseRejects(t *testing.T) {
	rnd, _ := NewRandom(Phone)
	body := rnd[len("tok_ph_"):]
	tests := []struct{ name, tok string }{
		{"empty", ""},
		{"prefix only", "tok_"},
		{"upper-case prefix", "TOK_ph_" + body},
		{"unknown code", "tok_zz_" + body},
		{"upper-case code", "tok_PH_" + body},
		{"missing underscore", "tok_ph-" + body},
		{"short body", "tok_ph_" + body[1:]},
		{"long body", "tok_ph_" + body + "0"},
		{"non-base62 body", "tok_ph_" + body[:21] + "-"},
		{"body over 128 bits", "det_ph_ZZZZZZZZZZZZZZZZZZZZZZ"},
		{"leading space", " " + rnd},
		{"trailing newline", rnd + "\n"},
		{"other prefix", "tik_ph_" + body},
		{"real card", "4242424242424242"},
		{"card with spaces", "4242 4242 4242 4241"},
		{"card too short", "424242424241"},
		{"card too long", "42424242424242424241"},
		{"card with letter", "42424242424242a1"},
		{"non-ASCII digits", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤١"},
		{"invalid UTF-8", "tok_ph_\xff" + body[1:]},
		{"phone token too short", "+0000123456"},
		{"phone token too long", "+000012345678901234567"},
		{"phone token separators", "+0000 4915112345678"},
		{"phone number", "+4915112345678"},
		{"phone token with three zeros", "+0004915112345678"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dt, f, err := Parse(tc.tok)
			if !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("Parse = %v, %v, %v; want ErrMalformedToken", dt, f, err)
			}
			if dt != 0 || f != 0 {
				t.Fatalf("Parse returned %v, %v with an error", dt, f)
			}
			if tc.tok != "" && strings.Contains(err.Error(), tc.tok) {
				t.Fatalf("error %q contains the token", err)
			}
		})
	}
}

func TestParseAs(t *testing.T) {
	rndPh, _ := NewRandom(Phone)
	detEm, _ := Deterministic(testKey(1), Email, "a@b.co")
	card, _ := CardToken("4242424242424242")
	tests := []struct {
		name    string
		tok     string
		want    DataType
		format  Format
		wantErr error
	}{
		{"random", rndPh, Phone, FormatRandom, nil},
		{"deterministic", detEm, Email, FormatDeterministic, nil},
		{"random wrong type", rndPh, Email, 0, ErrMalformedToken},
		{"deterministic wrong type", detEm, Name, 0, ErrMalformedToken},
		{"card", card, CardNumber, FormatCard, nil},
		{"real card", "4242424242424242", CardNumber, 0, ErrMalformedToken},
		{"card shape as national id", card, NationalID, FormatFPE, nil},
		{"fpe phone", "+00004915112345678", Phone, FormatFPE, nil},
		{"fpe phone 16 digits", "+00001234567890123456", Phone, FormatFPE, nil},
		{"fpe phone 17 digits", "+000012345678901234567", Phone, 0, ErrMalformedToken},
		{"fpe phone 7 digits", "+00001234567", Phone, FormatFPE, nil},
		{"fpe phone too short", "+0000123456", Phone, 0, ErrMalformedToken},
		{"fpe phone separators", "+0000 49 151 12345678", Phone, 0, ErrMalformedToken},
		// A real number is never a phone token, in either notation.
		{"phone number", "+4915112345678", Phone, 0, ErrMalformedToken},
		{"national phone number", "015112345678", Phone, 0, ErrMalformedToken},
		{"one zero", "+04915112345678", Phone, 0, ErrMalformedToken},
		{"fpe national id", "123456", NationalID, FormatFPE, nil},
		{"fpe national id short", "12345", NationalID, 0, ErrMalformedToken},
		{"fpe name", "xY3q", Name, FormatFPE, nil},
		{"fpe name short", "xY3", Name, 0, ErrMalformedToken},
		{"fpe name space", "xY3q abc", Name, 0, ErrMalformedToken},
		{"fpe free text", "Zz09Zz09", FreeText, FormatFPE, nil},
		{"fpe address", "abcd1234", PostalAddress, FormatFPE, nil},
		{"email has no fpe", "abcd@example.com", Email, 0, ErrMalformedToken},
		{"dob has no fpe", "1990-01-01", DateOfBirth, 0, ErrMalformedToken},
		{"fpe too long", strings.Repeat("a", MaxValueLen+1), FreeText, 0, ErrMalformedToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseAs(tc.tok, tc.want)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ParseAs = %v, %v; want %v", f, err, tc.wantErr)
				}
				return
			}
			if err != nil || f != tc.format {
				t.Fatalf("ParseAs = %v, %v; want %v", f, err, tc.format)
			}
		})
	}
}

package tokens

import (
	"errors"
	"strings"
	"testing"
)

func TestLuhn(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"4242424242424242", true},
		{"5555555555554444", true},
		{"378282246310005", true},
		{"6011111111111117", true},
		{"79927398713", true},
		{"0", true},
		{"4242424242424241", false},
		{"79927398710", false},
		{"", false},
		{"4242 4242 4242 4242", false},
		{"42424242424242a2", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Luhn(tc.in); got != tc.want {
				t.Fatalf("Luhn(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestCardToken(t *testing.T) {
	const n = 10_000
	pans := []string{
		"4242424242424242", "5555555555554444", "378282246310005", "6011111111111117",
		"4222222222222",       // 13 digits: 3 middle digits
		"6212345678901234569", // 19 digits
	}
	for _, pan := range pans {
		t.Run(pan, func(t *testing.T) {
			if !Luhn(pan) {
				t.Fatalf("test PAN %s must be Luhn-valid", pan)
			}
			if _, _, err := Parse(pan); !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("Parse accepted the real PAN: %v", err)
			}
			middles := make(map[string]bool)
			for range n {
				tok, err := CardToken(pan)
				if err != nil {
					t.Fatal(err)
				}
				if len(tok) != len(pan) {
					t.Fatalf("token %s has length %d, want %d", tok, len(tok), len(pan))
				}
				// Cards of 16+ digits keep BIN and last 4; shorter ones only the
				// last 4, or the token would narrow the card down to a handful.
				if tok[len(tok)-4:] != pan[len(pan)-4:] || (len(pan) >= 16 && tok[:6] != pan[:6]) {
					t.Fatalf("token %s does not keep the right digits of %s", tok, pan)
				}
				if !isDigits(tok) {
					t.Fatalf("token %s has non-digits", tok)
				}
				if Luhn(tok) {
					t.Fatalf("token %s passes Luhn", tok)
				}
				dt, f, err := Parse(tok)
				if err != nil || dt != CardNumber || f != FormatCard {
					t.Fatalf("Parse(%s) = %v, %v, %v", tok, dt, f, err)
				}
				middles[tok[6:len(tok)-4]] = true
			}
			// The middle is random: with >= 5 middle digits, 10,000 draws
			// from 90,000+ values give thousands of distinct ones.
			if len(pan) >= 15 && len(middles) < n/4 {
				t.Fatalf("only %d distinct middles in %d tokens", len(middles), n)
			}
		})
	}
}

func TestCardTokenDigitDistribution(t *testing.T) {
	// 13 digits: 3 middle digits, the last one constrained to 9 values.
	const pan = "4222222222222" // Visa test number, 13 digits
	if !Luhn(pan) {
		t.Fatalf("%s is not Luhn-valid", pan)
	}
	var counts [3][10]int
	const n = 9000
	for range n {
		tok, err := CardToken(pan)
		if err != nil {
			t.Fatal(err)
		}
		if Luhn(tok) {
			t.Fatalf("token %s passes Luhn", tok)
		}
		for i := range 3 {
			counts[i][tok[6+i]-'0']++
		}
	}
	// The free middle digits are roughly uniform (expected 900 each).
	for i := range 2 {
		for d, c := range counts[i] {
			if c < 700 || c > 1100 {
				t.Errorf("middle digit %d = %d drawn %d times of %d", i, d, c, n)
			}
		}
	}
}

func TestCardTokenErrors(t *testing.T) {
	if !Luhn("123456789007") {
		t.Fatal("test PAN 123456789007 must be Luhn-valid")
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"12 digits", "123456789007", ErrUnsupported},
		{"Luhn-invalid", "4242424242424241", ErrInvalidValue},
		{"too short", "42424242424", ErrInvalidValue},
		{"too long", "42424242424242424242", ErrInvalidValue},
		{"letters", "4242x24242424242", ErrInvalidValue},
		{"empty", "", ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := CardToken(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CardToken = %q, %v; want %v", tok, err, tc.want)
			}
			if tc.in != "" && strings.Contains(err.Error(), tc.in) {
				t.Fatalf("error %q contains the value", err)
			}
		})
	}
}

func TestCardTokenNormalises(t *testing.T) {
	tok, err := CardToken("4242 4242-4242 4242")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 16 || !strings.HasPrefix(tok, "424242") || !strings.HasSuffix(tok, "4242") {
		t.Fatalf("token %s", tok)
	}
}

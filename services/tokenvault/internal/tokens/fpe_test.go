package tokens

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/sottohq/sotto/services/tokenvault/internal/ff1"
)

// ff1Decrypt decrypts body with ff1 directly, independently of this package.
func ff1Decrypt(t *testing.T, key, tweak []byte, alphabet, body string) string {
	t.Helper()
	c, err := ff1.New(key, len(alphabet), len(tweak))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := ff1.NewCodec(c, alphabet)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := codec.DecryptString(body, tweak)
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

func TestFormatPreservingNISTVectors(t *testing.T) {
	// NIST SP 800-38G FF1 samples 7 and 8 (AES-256, radix 10).
	key, _ := hex.DecodeString("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
	tweak8, _ := hex.DecodeString("39383736353433323130")
	for _, tc := range []struct {
		tweak []byte
		want  string
	}{{nil, "6657667009"}, {tweak8, "1001623463"}} {
		got, err := FormatPreserving(key, tc.tweak, NationalID, "0123456789")
		if err != nil || got != tc.want {
			t.Fatalf("FormatPreserving(tweak %x) = %q, %v; want %q", tc.tweak, got, err, tc.want)
		}
	}
}

func TestFormatPreserving(t *testing.T) {
	key := testKey(3)
	tweakA := []byte("subject-1/ph/0")
	tweakB := []byte("subject-1/ph/1")
	tests := []struct {
		name     string
		dt       DataType
		in       string
		norm     string // Normalize(dt, in)
		alphabet string
		prefix   string // the token's part outside the cipher
		plain    string // what FF1 encrypts
	}{
		{"phone with plus", Phone, "+44 20 7946 0958", "+442079460958", ff1.Digits, "+0000", "442079460958"},
		{"phone without plus", Phone, "(415) 555-0123", "4155550123", ff1.Digits, "+0000", "04155550123"},
		{"phone 7 digits", Phone, "555-0123", "5550123", ff1.Digits, "+0000", "05550123"},
		{"phone 15 digits", Phone, "+123456789012345", "+123456789012345", ff1.Digits, "+0000", "123456789012345"},
		{"phone 15 digits without plus", Phone, "123456789012345", "123456789012345", ff1.Digits, "+0000", "0123456789012345"},
		{"national id", NationalID, "123-45-6789", "123456789", ff1.Digits, "", "123456789"},
		{"national id 6 digits", NationalID, "123456", "123456", ff1.Digits, "", "123456"},
		{"free text alnum", FreeText, "AbC123xyz", "AbC123xyz", ff1.Base62, "", "AbC123xyz"},
		{"name alnum", Name, " John ", "John", ff1.Base62, "", "John"},
		{"address alnum", PostalAddress, "SW1A1AA", "SW1A1AA", ff1.Base62, "", "SW1A1AA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := FormatPreserving(key, tweakA, tc.dt, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != len(tc.prefix)+len(tc.plain) {
				t.Fatalf("token %q has length %d, want %d", a, len(a), len(tc.prefix)+len(tc.plain))
			}
			if a == tc.norm {
				t.Fatalf("token equals the value")
			}
			body, ok := strings.CutPrefix(a, tc.prefix)
			if !ok {
				t.Fatalf("token %q does not start with %q", a, tc.prefix)
			}
			for _, r := range body {
				if !strings.ContainsRune(tc.alphabet, r) {
					t.Fatalf("token %q leaves the alphabet", a)
				}
			}
			if tc.alphabet == ff1.Base62 && isDigits(body) && len(body) > 6 {
				t.Fatalf("radix-62 token %q is all digits", a)
			}
			again, err := FormatPreserving(key, tweakA, tc.dt, tc.in)
			if err != nil || again != a {
				t.Fatalf("not deterministic: %q then %q, %v", a, again, err)
			}
			b, err := FormatPreserving(key, tweakB, tc.dt, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if a == b {
				t.Fatalf("tweaks A and B give the same token %q", a)
			}
			c, err := FormatPreserving(testKey(4), tweakA, tc.dt, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if a == c {
				t.Fatalf("two keys give the same token %q", a)
			}
			// Round trip through ff1 directly.
			if got := ff1Decrypt(t, key, tweakA, tc.alphabet, body); got != tc.plain {
				t.Fatalf("ff1 decrypts %q to %q, want %q", a, got, tc.plain)
			}
			// And through FormatPreservingDecrypt.
			if got, err := FormatPreservingDecrypt(key, tweakA, tc.dt, a); err != nil || got != tc.norm {
				t.Fatalf("FormatPreservingDecrypt = %q, %v; want %q", got, err, tc.norm)
			}
			if f, err := ParseAs(a, tc.dt); err != nil || f != FormatFPE {
				t.Fatalf("ParseAs(%q, %v) = %v, %v", a, tc.dt, f, err)
			}
		})
	}
}

func TestFormatPreservingErrors(t *testing.T) {
	key := testKey(3)
	tests := []struct {
		name  string
		key   []byte
		tweak []byte
		dt    DataType
		in    string
		want  error
	}{
		{"dob", key, nil, DateOfBirth, "1990-01-31", ErrUnsupported},
		{"email", key, nil, Email, "john@example.com", ErrUnsupported},
		{"card", key, nil, CardNumber, "4242424242424242", ErrUnsupported},
		{"national id too short", key, nil, NationalID, "12345", ErrUnsupported},
		{"alnum too short", key, nil, FreeText, "Ab1", ErrUnsupported},
		{"name with space", key, nil, Name, "John Smith", ErrUnsupported},
		{"free text punctuation", key, nil, FreeText, "hello!", ErrUnsupported},
		{"free text non-ASCII", key, nil, FreeText, "Zoë1234", ErrUnsupported},
		{"invalid phone", key, nil, Phone, "12345", ErrInvalidValue},
		{"invalid national id", key, nil, NationalID, "AB123456C", ErrInvalidValue},
		{"short key", key[:16], nil, Phone, "+442079460958", ErrInvalidKey},
		{"nil key", nil, nil, Phone, "+442079460958", ErrInvalidKey},
		{"long tweak", key, make([]byte, MaxTweakLen+1), Phone, "+442079460958", ErrInvalidTweak},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := FormatPreserving(tc.key, tc.tweak, tc.dt, tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("FormatPreserving = %q, %v; want %v", tok, err, tc.want)
			}
			if strings.Contains(err.Error(), tc.in) {
				t.Fatalf("error %q contains the value", err)
			}
		})
	}
	if _, err := FormatPreserving(key, make([]byte, MaxTweakLen), Phone, "+442079460958"); err != nil {
		t.Fatalf("tweak of MaxTweakLen bytes: %v", err)
	}
}

func TestFormatPreservingDecryptErrors(t *testing.T) {
	key := testKey(3)
	for _, tc := range []struct {
		name string
		dt   DataType
		tok  string
		want error
	}{
		{"dob", DateOfBirth, "1990-01-31", ErrUnsupported},
		{"card", CardNumber, "4242424242424241", ErrUnsupported},
		{"phone separators", Phone, "+0000 44 20 7946 0958", ErrMalformedToken},
		{"phone too short", Phone, "+0000123456", ErrMalformedToken},
		{"phone too long", Phone, "+000012345678901234567", ErrMalformedToken},
		{"phone number", Phone, "+442079460958", ErrMalformedToken},
		{"national phone number", Phone, "02079460958", ErrMalformedToken},
		{"name with space", Name, "John Smith", ErrMalformedToken},
		{"too short", FreeText, "Ab1", ErrMalformedToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := FormatPreservingDecrypt(key, nil, tc.dt, tc.tok); !errors.Is(err, tc.want) {
				t.Fatalf("FormatPreservingDecrypt = %q, %v; want %v", got, err, tc.want)
			}
		})
	}
}

package tokens

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		dt   DataType
		in   string
		want string
	}{
		{"card plain", CardNumber, "4242424242424242", "4242424242424242"},
		{"card spaces and dashes", CardNumber, " 4242-4242 4242-4242 ", "4242424242424242"},
		{"card 12 digits", CardNumber, "123456789007", "123456789007"},
		{"card amex", CardNumber, "3782 822463 10005", "378282246310005"},
		{"email", Email, "  John.Doe@Example.COM\t", "john.doe@example.com"},
		{"email plus", Email, "a+tag@sub.example.org", "a+tag@sub.example.org"},
		{"phone e164", Phone, "+44 20 7946 0958", "+442079460958"},
		{"phone punctuation", Phone, " (415) 555-0123 ", "4155550123"},
		{"phone dots", Phone, "+1.415.555.0123", "+14155550123"},
		{"phone 15 digits", Phone, "+123456789012345", "+123456789012345"},
		{"national id", NationalID, "123-45-6789", "123456789"},
		{"national id spaces", NationalID, "85 12 31 123 45", "85123112345"},
		{"name", Name, "  Jean-Luc \t Picard\n", "Jean-Luc Picard"},
		{"name unicode", Name, "Zoë  Ångström", "Zoë Ångström"},
		{"address", PostalAddress, "10 Downing St\nLondon\r\n SW1A 2AA ", "10 Downing St London SW1A 2AA"},
		{"dob", DateOfBirth, " 1990-02-28 ", "1990-02-28"},
		{"dob leap day", DateOfBirth, "2000-02-29", "2000-02-29"},
		{"free text as is", FreeText, "  Hello,\tworld!  ", "  Hello,\tworld!  "},
		{"max length", FreeText, strings.Repeat("a", MaxValueLen), strings.Repeat("a", MaxValueLen)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.dt, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Normalize(%v, %q) = %q, want %q", tc.dt, tc.in, got, tc.want)
			}
			again, err := Normalize(tc.dt, got)
			if err != nil || again != got {
				t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name string
		dt   DataType
		in   string
		want error
	}{
		{"invalid UTF-8", FreeText, "abc\xffdef", ErrInvalidValue},
		{"invalid UTF-8 name", Name, "J\xc3\x28ohn", ErrInvalidValue},
		{"empty free text", FreeText, "", ErrInvalidValue},
		{"empty name", Name, "", ErrInvalidValue},
		{"blank name", Name, " \t\n ", ErrInvalidValue},
		{"blank card", CardNumber, " - - ", ErrInvalidValue},
		{"blank national id", NationalID, "  ", ErrInvalidValue},
		{"too long", FreeText, strings.Repeat("a", MaxValueLen+1), ErrInvalidValue},
		{"too long name", Name, strings.Repeat("a ", MaxValueLen/2+1), ErrInvalidValue},
		{"card Luhn-invalid", CardNumber, "4242424242424241", ErrInvalidValue},
		{"card too short", CardNumber, "42424242426", ErrInvalidValue},
		{"card too long", CardNumber, "42424242424242424242", ErrInvalidValue},
		{"card letters", CardNumber, "4242-4242-4242-424x", ErrInvalidValue},
		{"card dots", CardNumber, "4242.4242.4242.4242", ErrInvalidValue},
		{"card Arabic-Indic digits", CardNumber, "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", ErrInvalidValue},
		{"email no at", Email, "john.example.com", ErrInvalidValue},
		{"email two ats", Email, "john@doe@example.com", ErrInvalidValue},
		{"email empty local", Email, "@example.com", ErrInvalidValue},
		{"email no dot in domain", Email, "john@localhost", ErrInvalidValue},
		{"email empty domain", Email, "john@", ErrInvalidValue},
		{"email leading dot", Email, "john@.example.com", ErrInvalidValue},
		{"email trailing dot", Email, "john@example.com.", ErrInvalidValue},
		{"email empty label", Email, "john@example..com", ErrInvalidValue},
		{"email inner space", Email, "john doe@example.com", ErrInvalidValue},
		{"email control", Email, "john\x00@example.com", ErrInvalidValue},
		{"phone too short", Phone, "123456", ErrInvalidValue},
		{"phone too long", Phone, "+1234567890123456", ErrInvalidValue},
		{"phone letters", Phone, "+1 800 FLOWERS", ErrInvalidValue},
		{"phone inner plus", Phone, "44+2079460958", ErrInvalidValue},
		{"phone double plus", Phone, "++442079460958", ErrInvalidValue},
		{"phone plus only", Phone, "+", ErrInvalidValue},
		{"phone country code 0", Phone, "+0 44 20 7946 0958", ErrInvalidValue},
		{"phone token", Phone, "+0000442079460958", ErrInvalidValue},
		{"national id letters", NationalID, "AB123456C", ErrInvalidValue},
		{"name control char", Name, "John\x1b[31m", ErrInvalidValue},
		{"address NUL", PostalAddress, "10 Downing St\x00", ErrInvalidValue},
		{"dob bad format", DateOfBirth, "31/01/1990", ErrInvalidValue},
		{"dob bad month", DateOfBirth, "1990-13-01", ErrInvalidValue},
		{"dob bad day", DateOfBirth, "1990-02-30", ErrInvalidValue},
		{"dob not leap", DateOfBirth, "1900-02-29", ErrInvalidValue},
		{"dob single digits", DateOfBirth, "1990-1-1", ErrInvalidValue},
		{"dob with time", DateOfBirth, "1990-01-01T00:00:00Z", ErrInvalidValue},
		{"dob empty", DateOfBirth, "", ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.dt, tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Normalize(%v) = %q, %v; want %v", tc.dt, got, err, tc.want)
			}
			if got != "" {
				t.Fatalf("Normalize returned %q with an error", got)
			}
			if len(tc.in) >= 4 && strings.Contains(err.Error(), tc.in) {
				t.Fatalf("error %q contains the value", err)
			}
		})
	}
}

func TestNormalizeLengthAfterLowerCase(t *testing.T) {
	// U+023A (2 bytes) lower-cases to U+2C65 (3 bytes): within the limit as
	// given, over it once normalised.
	v := strings.Repeat("\u023a", (MaxValueLen-len("@x.co"))/2) + "@x.co"
	if len(v) > MaxValueLen {
		t.Fatalf("test value too long: %d", len(v))
	}
	if _, err := Normalize(Email, v); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("Normalize = %v; want ErrInvalidValue", err)
	}
}

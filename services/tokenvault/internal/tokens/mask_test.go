package tokens

import (
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		dt   DataType
		in   string
		want string
	}{
		{"card", CardNumber, "4242424242424242", "•••• 4242"},
		{"card amex", CardNumber, "378282246310005", "•••• 0005"},
		{"card too short", CardNumber, "4242", "••••"},
		{"card empty", CardNumber, "", "••••"},
		{"email", Email, "john@example.com", "j•••@example.com"},
		{"email unicode", Email, "émile@example.fr", "é•••@example.fr"},
		{"email one-char local", Email, "j@example.com", "•••@example.com"},
		{"email no at", Email, "johnexample.com", "•••"},
		{"email empty domain", Email, "john@", "•••"},
		{"phone", Phone, "+442079461234", "•••• •••• 1234"},
		{"phone no plus", Phone, "4155550123", "•••• •••• 0123"},
		{"phone too short", Phone, "1234", "•••• •••• ••••"},
		{"name", Name, "John Smith", "J•••"},
		{"name unicode", Name, "Ångström", "Å•••"},
		{"name one char", Name, "J", "•••"},
		{"name empty", Name, "", "•••"},
		{"name punctuation first", Name, "'Neil", "•••"},
		{"national id", NationalID, "123456789", "•••89"},
		{"national id short", NationalID, "12345", "•••"},
		{"address", PostalAddress, "10 Downing St London SW1A 2AA", "•••"},
		{"dob", DateOfBirth, "1990-01-31", "••••-••-••"},
		{"free text", FreeText, "anything at all", "•••"},
		{"invalid UTF-8 name", Name, "\xffJohn", "•••"},
		{"invalid UTF-8 email", Email, "\xff@example.com", "•••@example.com"},
		{"invalid UTF-8 email domain", Email, "j@ex\xff.com", "•••"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Mask(tc.dt, tc.in)
			if got != tc.want {
				t.Fatalf("Mask(%v, %q) = %q, want %q", tc.dt, tc.in, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("Mask returned invalid UTF-8 %q", got)
			}
		})
	}
}

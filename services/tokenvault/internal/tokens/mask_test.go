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
		{"email", Email, "john@example.com", "j•••@e•••.com"},
		{"email public provider", Email, "john@gmail.com", "j•••@gmail.com"},
		{"email unicode", Email, "émile@example.fr", "é•••@e•••.fr"},
		{"email one-char local", Email, "j@example.com", "•••@e•••.com"},
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
		{"invalid UTF-8 email", Email, "\xff@example.com", "•••@e•••.com"},
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

// TestMaskEmailDomain: a domain is kept only when a public mail provider's;
// any other (perhaps the person's own) keeps its ICANN public suffix and the
// first character of the label registered under it, never a subdomain.
func TestMaskEmailDomain(t *testing.T) {
	tests := []struct {
		domain, want string
	}{
		// Public providers: shared by millions, kept.
		{"gmail.com", "gmail.com"},
		{"outlook.com", "outlook.com"},
		{"hotmail.co.uk", "hotmail.co.uk"},
		{"yahoo.com", "yahoo.com"},
		{"icloud.com", "icloud.com"},
		{"gmx.de", "gmx.de"},
		{"gmx.net", "gmx.net"},
		{"web.de", "web.de"},
		{"proton.me", "proton.me"},
		// Anyone's own domain: the registered label is masked.
		{"personal-domain.name", "p•••.name"},
		{"smith-family.co.uk", "s•••.co.uk"},
		{"example.com", "e•••.com"},
		{"xn--bcher-kva.de", "x•••.de"},
		{"bücher.de", "b•••.de"},
		// Subdomains go, so their number and names are not shown either.
		{"mail.smith-family.co.uk", "s•••.co.uk"},
		{"a.b.c.personal-domain.name", "p•••.name"},
		// A provider's name under another suffix, or as a subdomain, is
		// not the provider.
		{"gmail.co", "g•••.co"},
		{"mail.gmail.com.evil.com", "e•••.com"},
		{"gmail.com.personal.name", "p•••.name"},
		// One-character labels keep nothing.
		{"x.com", "•••.com"},
		// Suffixes outside the ICANN section (private ones, unknown TLDs)
		// can name their owner: masked whole.
		{"someone.github.io", "•••"},
		{"localhost.localdomain", "•••"},
		// Nothing registered under the suffix, or not a host name at all.
		{"co.uk", "•••"},
		{"[192.0.2.1]", "•••"},
		{"under_score.com", "•••"},
		{"trailing.", "•••"},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			got := Mask(Email, "jane@"+tc.domain)
			if want := "j•••@" + tc.want; got != want {
				t.Fatalf("Mask(Email, %q) = %q, want %q", "jane@"+tc.domain, got, want)
			}
		})
	}
}

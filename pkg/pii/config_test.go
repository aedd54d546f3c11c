package pii

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
)

const tenantYAML = `
default_region: FR
threshold: 0.5
allow: [support@shop.example]
allow_patterns: ['\bSO-\d{10}\b']
deny: [{value: Bello, type: PERSON}]
patterns:
  - {name: customer-id, type: CUSTOMER_ID, regex: '\bKD-\d{7}\b', score: 0.9}
`

func TestTenantConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(tenantYAML))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := "SO-0612345678 for KD-1234567: write support@shop.example or anna@example.com; the dog Bello bites"
	want := []string{"CUSTOMER_ID:KD-1234567", "EMAIL:anna@example.com", "PERSON:Bello"}
	if diff := cmp.Diff(want, got(e, text, "en")); diff != "" {
		t.Errorf("tenant engine (-want +got):\n%s", diff)
	}
	// Without the configuration the order number is a phone, the shop's
	// address is an e-mail, and neither custom type is found.
	wantDefault := []string{"PHONE:0612345678", "EMAIL:support@shop.example", "EMAIL:anna@example.com"}
	if diff := cmp.Diff(wantDefault, got(testEngine, text, "fr")); diff != "" {
		t.Errorf("default engine (-want +got):\n%s", diff)
	}
}

func TestConfigTypesAndThreshold(t *testing.T) {
	t.Parallel()
	e, err := New(Config{Types: []Type{Email}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"EMAIL:a@b.co"}, got(e, "a@b.co 4111 1111 1111 1111", "")); diff != "" {
		t.Error(diff)
	}
	e, err = New(Config{Threshold: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	// Only checksum-certain findings reach 0.99.
	if diff := cmp.Diff([]string{"IBAN:DE89370400440532013000"}, got(e, "Hi Anna, DE89370400440532013000, a@b.co", "")); diff != "" {
		t.Error(diff)
	}
}

func TestConfigDefaultRegion(t *testing.T) {
	t.Parallel()
	// A Belgian landline in an English message is a phone only when the
	// tenant's region says so.
	text := "call 02 555 12 34"
	if g := got(testEngine, text, "en"); len(g) != 0 {
		t.Fatalf("default engine found %v", g)
	}
	e, err := New(Config{DefaultRegion: "be"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"PHONE:02 555 12 34"}, got(e, text, "en")); diff != "" {
		t.Error(diff)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	t.Parallel()
	for name, y := range map[string]string{
		"unknown field":   "thresold: 0.5",
		"bad yaml":        "threshold: [",
		"threshold":       "threshold: 2",
		"type":            "types: [NAME]",
		"allow regex":     "allow_patterns: ['(']",
		"pattern regex":   "patterns: [{type: CUSTOMER_ID, regex: '('}]",
		"empty match":     "patterns: [{type: CUSTOMER_ID, regex: 'x*'}]",
		"pattern type":    "patterns: [{type: 'lower case', regex: 'x'}]",
		"deny value":      "deny: [{value: ' ', type: PERSON}]",
		"region":          "default_region: XX",
		"pattern score":   "patterns: [{type: CUSTOMER_ID, regex: 'x', score: 3}]",
		"deny type":       "deny: [{value: Bello, type: pet}]",
		"types not list":  "types: EMAIL",
		"allow not list":  "allow: {a: b}",
		"patterns object": "patterns: {a: b}",
	} {
		_, err := ParseConfig([]byte(y))
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.InvalidArgument || e.Reason != ReasonConfigInvalid {
			t.Errorf("%s: ParseConfig(%q) = %v, want InvalidArgument %s", name, y, err, ReasonConfigInvalid)
		}
	}
	if _, err := ParseConfig(nil); err != nil {
		t.Errorf("empty configuration: %v", err)
	}
}

// TestInternationalPhoneRegions: a number with a country code is a phone
// when its country is a region of the message's language or the tenant's
// (shared/PII-LABELS.md), like a national one.
func TestInternationalPhoneRegions(t *testing.T) {
	t.Parallel()
	text := "call me on +49 170 1234567"
	if diff := cmp.Diff([]string{"PHONE:+49 170 1234567"}, got(testEngine, text, "de")); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"PHONE:+49 170 1234567"}, got(testEngine, text, "")); diff != "" {
		t.Errorf("unknown language: %s", diff)
	}
	if g := got(testEngine, text, "en"); len(g) != 0 {
		t.Errorf("a German number in an English message: found %v", g)
	}
	e, err := New(Config{DefaultRegion: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"PHONE:+49 170 1234567"}, got(e, text, "en")); diff != "" {
		t.Errorf("tenant region DE: %s", diff)
	}
}

// TestAnyRegionPhones: with AnyRegionPhones a number written with its
// country code is a phone wherever that country's numbering plan says it
// is valid, in a message of any language; without a country code, or
// invalid in its country, it stays what the contract makes of it.
func TestAnyRegionPhones(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte("any_region_phones: true\n"))
	if err != nil || !cfg.AnyRegionPhones {
		t.Fatalf("any_region_phones: %v, %+v", err, cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, text, want string }{
		{"en", "call me on +49 170 1234567", "PHONE:+49 170 1234567"},
		{"en", "Munich branch: 0049 30 12345678", "PHONE:0049 30 12345678"},
		{"fr", "mon numéro polonais : +48 512 345 678", "PHONE:+48 512 345 678"},
		{"", "whatsapp +91 98765 43210", "PHONE:+91 98765 43210"},
		{"it", "chiamami al +61 412 345 678", "PHONE:+61 412 345 678"},
	} {
		if diff := cmp.Diff([]string{c.want}, got(e, c.text, c.lang)); diff != "" {
			t.Errorf("%s %q: %s", c.lang, c.text, diff)
		}
		if c.lang == "en" || c.lang == "fr" {
			if g := got(testEngine, c.text, c.lang); len(g) != 0 {
				t.Errorf("the default engine (the contract's reading) found %v in %q", g, c.text)
			}
		}
	}
	for _, text := range []string{
		"order 4915173920418 has not arrived", // no country code: an order number
		"call +49 12",                         // too short for any plan
		"ref +999 1234 5678",                  // no such country code
	} {
		if g := got(e, text, "en"); len(g) != 0 {
			t.Errorf("%q: found %v", text, g)
		}
	}
}

// TestStorageConfigDropsCardSecurityCodes: the storage configuration
// reports a card's security code after its name in six languages (the
// value only), which the contract's default does not; a code without its
// name, or a longer number after it, is left alone.
func TestStorageConfigDropsCardSecurityCodes(t *testing.T) {
	t.Parallel()
	e, err := New(StorageConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, text, want string }{
		{"en", "card 4532017392648153 exp 12/29 cvv 737", "SECRET:737"},
		{"en", "the security code on the back is 4021", "SECRET:4021"},
		{"de", "Kartenprüfnummer: 318", "SECRET:318"},
		{"fr", "le cryptogramme visuel est 552", "SECRET:552"},
		{"es", "código de seguridad 907", "SECRET:907"},
		{"it", "codice di sicurezza = 664", "SECRET:664"},
		{"nl", "beveiligingscode 129", "SECRET:129"},
		{"fr", "le code de sécurité 123 de ma carte", "SECRET:123"},
		{"en", "cvv: 737.", "SECRET:737"},
		// A number after the code's name that goes on is not cut: the card
		// or phone recogniser has it whole (security review).
		{"en", "my card security code 4111 1111 1111 1111 thanks", "CARD:4111 1111 1111 1111"},
		{"de", "Sicherheitscode bitte an 0151 2345 6789 schicken", "PHONE:0151 2345 6789"},
	} {
		found := false
		for _, g := range got(e, c.text, c.lang) {
			found = found || g == c.want
		}
		if !found {
			t.Errorf("%s %q: %v, want %s among them", c.lang, c.text, got(e, c.text, c.lang), c.want)
		}
		if (c.lang == "de" || c.lang == "es") && strings.HasPrefix(c.want, "SECRET:") {
			for _, g := range got(testEngine, c.text, c.lang) {
				if g == c.want {
					t.Errorf("the default engine (the contract's reading) found %s", g)
				}
			}
		}
	}
	for _, text := range []string{
		"my order 737 has not arrived",
		"the security code for order 12345678 was sent",
		"cvv field is empty",
	} {
		if g := got(e, text, "en"); len(g) != 0 {
			t.Errorf("%q: found %v", text, g)
		}
	}
}

// TestPatternValueGroup: a tenant pattern with a group named value reports
// that group, not the cue around it.
func TestPatternValueGroup(t *testing.T) {
	t.Parallel()
	e, err := New(Config{Patterns: []Pattern{{Name: "kd", Type: "CUSTOMER_ID", Regex: `Kundennr\.? (?P<value>KD-\d{7})`}}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"CUSTOMER_ID:KD-1234567"}, got(e, "Kundennr. KD-1234567 bitte", "de")); diff != "" {
		t.Error(diff)
	}
}

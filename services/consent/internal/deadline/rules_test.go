package deadline_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/deadline"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// TestRulesCoverJurisdictions: the embedded file covers exactly the EU's 27
// member states, the EEA's IS, LI and NO and "EU" under the GDPR, GB under
// the UK GDPR, and US-CA under the CCPA; nothing else.
func TestRulesCoverJurisdictions(t *testing.T) {
	t.Parallel()
	rules, err := deadline.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"GB": "uk_gdpr", "US-CA": "ccpa"}
	eu := strings.Fields("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK")
	if len(eu) != 27 {
		t.Fatalf("the test lists %d member states", len(eu))
	}
	for _, j := range append(eu, "IS", "LI", "NO", "EU") {
		want[j] = "gdpr"
	}
	got := map[string]string{}
	for _, j := range rules.Jurisdictions() {
		r, err := rules.For(j)
		if err != nil {
			t.Fatalf("For(%s): %v", j, err)
		}
		got[j] = r.Name
		wantRegime := deadline.GDPR
		if j == "US-CA" {
			wantRegime = deadline.CCPA
		}
		if r.Regime != wantRegime {
			t.Errorf("For(%s).Regime = %v, want %v", j, r.Regime, wantRegime)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jurisdictions (-want +got):\n%s", diff)
	}
}

// TestRulesSay: the settings of each rule, as the law has them.
func TestRulesSay(t *testing.T) {
	t.Parallel()
	rules, err := deadline.Load()
	if err != nil {
		t.Fatal(err)
	}
	gdpr := deadline.Rule{Regime: deadline.GDPR, Base: deadline.Period{Months: 1}, Extension: deadline.Period{Months: 2},
		MaxExtensions: 1, ExtensionNoticeWithinBase: true, WeekendRoll: true, PausesStopClock: true}
	ccpa := deadline.Rule{Regime: deadline.CCPA, Base: deadline.Period{Days: 45}, Extension: deadline.Period{Days: 45},
		MaxExtensions: 1, ExtensionNoticeWithinBase: true, AcknowledgeBusinessDays: 10}
	// The zones whose calendars never date a request later than the law's
	// local reading (the package documentation says why these).
	zones := map[string]string{"DE": "Atlantic/Azores", "GB": "Europe/London", "US-CA": "America/Los_Angeles"}
	for j, want := range map[string]deadline.Rule{"DE": gdpr, "GB": gdpr, "US-CA": ccpa} {
		got, err := rules.For(j)
		if err != nil {
			t.Fatal(err)
		}
		if got.Law == "" {
			t.Errorf("%s: no law cited", j)
		}
		if got.Location == nil || got.Location.String() != zones[j] {
			t.Errorf("%s: zone %v, want %s", j, got.Location, zones[j])
		}
		got.Name, got.Law, got.Location = "", "", nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", j, diff)
		}
	}
}

// TestForUnsupported: a jurisdiction without a rule is InvalidArgument
// JURISDICTION_UNSUPPORTED, whatever its form.
func TestForUnsupported(t *testing.T) {
	t.Parallel()
	rules, err := deadline.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []string{"US", "US-NY", "CH", "UK", "EL", "de", "", "DE ", "US-ca", "XX"} {
		_, err := rules.For(j)
		if errs.KindOf(err) != errs.InvalidArgument || errs.ReasonOf(err) != reasons.JurisdictionUnsupported {
			t.Errorf("For(%q): %v, want InvalidArgument %s", j, err, reasons.JurisdictionUnsupported)
		}
	}
	// The zero Rules (never loaded) support nothing rather than panic.
	if _, err := (deadline.Rules{}).For("DE"); errs.ReasonOf(err) != reasons.JurisdictionUnsupported {
		t.Errorf("zero Rules: %v", err)
	}
}

// TestParseStrict: every way a rules file can be wrong stops it loading.
func TestParseStrict(t *testing.T) {
	t.Parallel()
	const good = `version: 1
rules:
  - name: gdpr
    regime: gdpr
    law: "GDPR Art. 12(3)"
    base: {months: 1}
    extension: {months: 2}
    max_extensions: 1
    extension_notice_within_base: true
    acknowledge_business_days: 0
    weekend_roll: true
    pauses_stop_clock: true
    time_zone: Atlantic/Azores
    jurisdictions: [DE, FR]
  - name: ccpa
    regime: ccpa
    law: "Cal. Civ. Code §1798.130"
    base: {days: 45}
    extension: {days: 45}
    max_extensions: 1
    extension_notice_within_base: true
    acknowledge_business_days: 10
    weekend_roll: false
    pauses_stop_clock: false
    time_zone: America/Los_Angeles
    jurisdictions: [US-CA]
`
	if _, err := deadline.Parse([]byte(good)); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	tests := []struct {
		name, old, new string
	}{
		{"unknown field", "weekend_roll: true", "weekend_roll: true\n    grace_days: 3"},
		{"unknown field of a period", "base: {months: 1}", "base: {months: 1, weeks: 1}"},
		{"missing setting", "    weekend_roll: true\n", ""},
		{"missing pause setting", "    pauses_stop_clock: false\n", ""},
		{"unknown regime", "regime: ccpa", "regime: lgpd"},
		{"no law", `law: "GDPR Art. 12(3)"`, `law: ""`},
		{"bad name", "name: gdpr", "name: GDPR"},
		{"same name twice", "name: ccpa", "name: gdpr"},
		{"jurisdiction twice", "[US-CA]", "[US-CA, FR]"},
		{"bad jurisdiction", "[DE, FR]", "[DE, fr]"},
		{"no jurisdictions", "[US-CA]", "[]"},
		{"months and days", "base: {months: 1}", "base: {months: 1, days: 3}"},
		{"empty base", "base: {months: 1}", "base: {}"},
		{"mixed units", "extension: {months: 2}", "extension: {days: 60}"},
		{"negative period", "extension: {days: 45}", "extension: {days: -45}"},
		{"period out of bounds", "base: {days: 45}", "base: {days: 450}"},
		{"two extensions", "max_extensions: 1\n    extension_notice_within_base: true\n    acknowledge_business_days: 10", "max_extensions: 2\n    extension_notice_within_base: true\n    acknowledge_business_days: 10"},
		{"extension without extensions", "max_extensions: 1\n    extension_notice_within_base: true\n    acknowledge_business_days: 10", "max_extensions: 0\n    extension_notice_within_base: true\n    acknowledge_business_days: 10"},
		{"negative acknowledgement", "acknowledge_business_days: 10", "acknowledge_business_days: -1"},
		{"wrong version", "version: 1", "version: 2"},
		{"two documents", "    jurisdictions: [US-CA]\n", "    jurisdictions: [US-CA]\n---\nversion: 1\n"},
		{"not YAML", "version: 1", "version: [1"},
		{"wrong type", "weekend_roll: true", "weekend_roll: sometimes"},
		// An unknown or machine-dependent zone must not count in UTC or in
		// the zone of whatever machine runs the service.
		{"missing zone", "    time_zone: America/Los_Angeles\n", ""},
		{"empty zone", "time_zone: America/Los_Angeles", `time_zone: ""`},
		{"unknown zone", "time_zone: America/Los_Angeles", "time_zone: America/San_Francisco"},
		{"zone in the wrong case", "time_zone: America/Los_Angeles", "time_zone: america/los_angeles"},
		{"the machine's zone", "time_zone: America/Los_Angeles", "time_zone: Local"},
		{"an abbreviation", "time_zone: America/Los_Angeles", "time_zone: PST"},
		{"a path", "time_zone: America/Los_Angeles", "time_zone: ../../etc/passwd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the good file has no %q", tc.old)
			}
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if _, err := deadline.Parse([]byte(bad)); err == nil {
				t.Fatalf("Parse accepted:\n%s", bad)
			}
		})
	}
	if _, err := deadline.Parse([]byte("version: 1\nrules: []\n")); err == nil {
		t.Error("Parse accepted a file without rules")
	}
}

package retention_test

import (
	"strings"
	"testing"

	"github.com/sottohq/sotto/services/conversation/internal/retention"
)

// TestEmbeddedFile: the built-in periods are web 30 days, WhatsApp and
// Messenger 90, an integrator's channel 30; model improvement 365.
func TestEmbeddedFile(t *testing.T) {
	p, err := retention.Load("")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"web": 30, "whatsapp": 90, "messenger": 90, "api": 30} {
		if got := p.Days("any-shop", retention.Channels[name]); got != want {
			t.Errorf("%s: %d days, want %d", name, got, want)
		}
	}
	if p.ModelImprovementDays != 365 {
		t.Errorf("model improvement %d days", p.ModelImprovementDays)
	}
}

// TestTenantOverrides: a shop's period replaces the default for its
// channel only, and the default rule of that channel excludes the shop.
func TestTenantOverrides(t *testing.T) {
	p, err := retention.Parse([]byte(`version: 1
default_days: {web: 30, whatsapp: 90, messenger: 90, api: 30}
tenants:
  acme: {web: 7}
  zeta: {web: 60, messenger: 10}
`))
	if err != nil {
		t.Fatal(err)
	}
	web, wa, ms := retention.Channels["web"], retention.Channels["whatsapp"], retention.Channels["messenger"]
	for _, c := range []struct {
		tenant string
		ch     int32
		want   int
	}{{"acme", web, 7}, {"acme", wa, 90}, {"zeta", web, 60}, {"zeta", ms, 10}, {"other", web, 30}} {
		if got := p.Days(c.tenant, c.ch); got != c.want {
			t.Errorf("%s/%d: %d days, want %d", c.tenant, c.ch, got, c.want)
		}
	}
	if got := p.Excluding(web); strings.Join(got, ",") != "acme,zeta" {
		t.Errorf("web default excludes %v", got)
	}
	if got := p.Excluding(wa); len(got) != 0 {
		t.Errorf("whatsapp default excludes %v", got)
	}
	if n := len(p.Rules()); n != 3+4 {
		t.Errorf("%d rules, want 3 overrides and 4 defaults", n)
	}
}

// TestBrokenFilesAreRefused: the service must not start on a file it
// cannot read as meant.
func TestBrokenFilesAreRefused(t *testing.T) {
	full := "default_days: {web: 30, whatsapp: 90, messenger: 90, api: 30}\n"
	for name, src := range map[string]string{
		"no version":         full,
		"version 2":          "version: 2\n" + full,
		"missing channel":    "version: 1\ndefault_days: {web: 30, whatsapp: 90, messenger: 90}\n",
		"unknown channel":    "version: 1\ndefault_days: {web: 30, whatsapp: 90, messenger: 90, api: 30, fax: 1}\n",
		"zero days":          "version: 1\ndefault_days: {web: 0, whatsapp: 90, messenger: 90, api: 30}\n",
		"too many days":      "version: 1\ndefault_days: {web: 3651, whatsapp: 90, messenger: 90, api: 30}\n",
		"unknown field":      "version: 1\n" + full + "keep_forever: true\n",
		"bad tenant":         "version: 1\n" + full + "tenants: {\"Bad Shop\": {web: 3}}\n",
		"bad tenant period":  "version: 1\n" + full + "tenants: {acme: {web: -1}}\n",
		"negative model":     "version: 1\n" + full + "model_improvement_days: -1\n",
		"two documents":      "version: 1\n" + full + "---\nversion: 1\n",
		"not yaml":           "{",
		"tenant unknown ch.": "version: 1\n" + full + "tenants: {acme: {sms: 3}}\n",
	} {
		if _, err := retention.Parse([]byte(src)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

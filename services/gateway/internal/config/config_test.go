package config

import (
	"net/netip"
	"testing"

	"github.com/caarlos0/env/v11"
	"github.com/google/go-cmp/cmp"
)

func TestTrustedProxiesParse(t *testing.T) {
	var c Config
	err := env.ParseWithOptions(&c, env.Options{Prefix: "SOTTO_", Environment: map[string]string{
		"SOTTO_GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8,2001:db8::/32",
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	if diff := cmp.Diff(want, c.TrustedProxies, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Fatal(diff)
	}
	if c.AuthRatePerMinute != 30 || c.AuthBurst != 10 {
		t.Fatalf("defaults %d/%d", c.AuthRatePerMinute, c.AuthBurst)
	}
	if err := env.ParseWithOptions(&Config{}, env.Options{Prefix: "SOTTO_", Environment: map[string]string{
		"SOTTO_GATEWAY_TRUSTED_PROXIES": "10.0.0.0/33",
	}}); err == nil {
		t.Fatal("a malformed CIDR was accepted")
	}
}

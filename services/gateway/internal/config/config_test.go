package config

import (
	"net/netip"
	"testing"
	"time"

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

func TestGRPCEdgeSettings(t *testing.T) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Prefix: "SOTTO_", Environment: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if c.GRPCAddr != "127.0.0.1:0" || c.GRPCTLSCert != "" || c.GRPCClientRatePerSecond != 20 || c.GRPCClientBurst != 40 ||
		len(c.GRPCClientQuotas) != 0 || c.MaxRecvMsgBytes != 4<<20 || c.ShutdownTimeout != 15*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	err := env.ParseWithOptions(&c, env.Options{Prefix: "SOTTO_", Environment: map[string]string{
		"SOTTO_GATEWAY_GRPC_CLIENT_QUOTAS": "cli_crm=100/200, cli-small=0.5/1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := ClientQuotas{"cli_crm": {PerSecond: 100, Burst: 200}, "cli-small": {PerSecond: 0.5, Burst: 1}}
	if diff := cmp.Diff(want, c.GRPCClientQuotas); diff != "" {
		t.Fatal(diff)
	}
	for _, bad := range []string{"cli", "cli=1", "cli=0/1", "cli=-1/1", "cli=NaN/1", "cli=1/0", "cli=1/x", "c l=1/1", "cli=1/1,cli=2/2"} {
		if err := env.ParseWithOptions(&Config{}, env.Options{Prefix: "SOTTO_", Environment: map[string]string{
			"SOTTO_GATEWAY_GRPC_CLIENT_QUOTAS": bad,
		}}); err == nil {
			t.Errorf("quota %q was accepted", bad)
		}
	}
}

// TestPublicOrigin: scheme://host[:port] and an optional path prefix;
// a trailing slash, credentials, a query or another scheme stop the start.
func TestPublicOrigin(t *testing.T) {
	for _, ok := range []string{"https://api.example.com", "https://api.example.com:8443", "http://127.0.0.1:8080", "https://example.com/sotto/edge", ""} {
		var c Config
		if err := env.ParseWithOptions(&c, env.Options{Prefix: "SOTTO_", Environment: map[string]string{
			"SOTTO_GATEWAY_PUBLIC_ORIGIN": ok}}); err != nil || string(c.PublicOrigin) != ok {
			t.Errorf("%q: %v, %q", ok, err, c.PublicOrigin)
		}
	}
	for _, bad := range []string{"api.example.com", "https://api.example.com/", "https://api.example.com/prefix/", "https://api.example.com/../x", "https://api.example.com/a%2Fb", "ftp://api.example.com",
		"https://user@api.example.com", "https://api.example.com?x=1", "https://api.example.com#f", "https://:443", "https://api.example.com:99999"} {
		if err := env.ParseWithOptions(&Config{}, env.Options{Prefix: "SOTTO_", Environment: map[string]string{
			"SOTTO_GATEWAY_PUBLIC_ORIGIN": bad}}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

package signals

import (
	"net/netip"
	"testing"
)

// TestAddressScopeIsTheSubscriberLine: two addresses of one IPv6 /64 share
// the source-address scope (seen failing keyed per /128), addresses of
// different /64s and IPv4 addresses do not, and an IPv4-mapped address is
// its IPv4 address.
func TestAddressScopeIsTheSubscriberLine(t *testing.T) {
	m := &Monitor{d: Deps{Key: []byte("test key")}}
	key := func(a string) string {
		return m.keys(Subject{Tenant: "shop", ConversationID: "c1", Address: netip.MustParseAddr(a)})[ScopeSourceAddress]
	}
	if key("2001:db8:1:2::1") != key("2001:db8:1:2:ffff:ee:dd:cc") {
		t.Error("two addresses of one /64 have different scopes")
	}
	if key("2001:db8:1:2::1") == key("2001:db8:1:3::1") {
		t.Error("two /64s share a scope")
	}
	if key("203.0.113.9") == key("203.0.113.10") {
		t.Error("two IPv4 addresses share a scope")
	}
	if key("::ffff:203.0.113.9") != key("203.0.113.9") {
		t.Error("an IPv4-mapped address is not its IPv4 address")
	}
}

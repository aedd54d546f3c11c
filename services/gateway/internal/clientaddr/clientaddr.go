// Package clientaddr says where a request to the gateway comes from, one way
// for every edge (the REST routes, the channel webhooks, the gRPC edge):
// the client's address as far as the gateway can believe it, and the unit
// per-address limits count by.
package clientaddr

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// FromRequest is the client's address: the connection's peer, or, when
// that peer is a trusted proxy, the right-most X-Forwarded-For entry that
// is not one. Entries left of it were written by the client and prove
// nothing; a malformed entry stops the walk at the last proxy trusted.
// false when the peer's address does not parse.
func FromRequest(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer, true
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A malformed hop: what is left of it cannot be trusted, and the
			// last proxy we trust is the best we know.
			return peer, true
		}
		hop = hop.Unmap()
		if !isTrusted(hop, trusted) {
			return hop, true
		}
		peer = hop
	}
	return peer, true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Source is the unit a per-address limit counts by: the address for IPv4,
// its /64 for IPv6 (one host usually holds a whole /64).
func Source(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

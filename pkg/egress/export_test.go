package egress

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// SetHosts makes c resolve the names in hosts to the given IP literals, as a
// DNS server (a rebinding one, say) could. The address guard still checks
// what is dialed.
func SetHosts(c *Client, hosts map[string]string) {
	c.base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, p, err := net.SplitHostPort(addr); err == nil {
			if ip, ok := hosts[h]; ok {
				addr = net.JoinHostPort(ip, p)
			}
		}
		return c.dialer.DialContext(ctx, network, addr)
	}
}

// SetSleep replaces the wait between attempts.
func SetSleep(c *Client, f func(context.Context, time.Duration) error) { c.sleep = f }

// SetNow replaces the clock that Retry-After dates are read against.
func SetNow(c *Client, f func() time.Time) { c.now = f }

// CheckAddress runs the dial-time address check on an "ip:port".
func CheckAddress(allowed []netip.Prefix, address string) error {
	return addressGuard(allowed)("tcp", address, nil)
}

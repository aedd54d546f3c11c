package egress

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/sottohq/sotto/pkg/errs"
)

// parseAllowedHosts turns Config.AllowedHosts into the set of "host:port"
// strings hostPort produces.
func parseAllowedHosts(entries []string, plainHTTP bool) (map[string]bool, error) {
	if len(entries) == 0 {
		return nil, errs.E(errs.InvalidArgument, "EGRESS_NO_ALLOWED_HOSTS", "the egress allow-list is empty")
	}
	allowed := make(map[string]bool, len(entries))
	for _, e := range entries {
		// Parsed as a URL's host, so entries mean what they would in a URL.
		u, err := url.Parse("https://" + e)
		if err != nil || u.Host != e || u.User != nil || u.Hostname() == "" || strings.ContainsAny(e, "*/?#") {
			return nil, errs.E(errs.InvalidArgument, "EGRESS_INVALID_ALLOWED_HOST",
				"allowed hosts are host names or IP literals with an optional port, without scheme, path or wildcard")
		}
		host := strings.ToLower(u.Hostname())
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return nil, errs.E(errs.InvalidArgument, "EGRESS_INVALID_ALLOWED_HOST", "an allowed host has an invalid port")
			}
			allowed[net.JoinHostPort(host, p)] = true
			continue
		}
		allowed[net.JoinHostPort(host, "443")] = true
		if plainHTTP {
			allowed[net.JoinHostPort(host, "80")] = true
		}
	}
	return allowed, nil
}

// destination checks u's scheme and host against the configuration and
// returns its "host:port". It runs before anything is dialed.
func (c *Client) destination(u *url.URL) (string, error) {
	var port string
	switch strings.ToLower(u.Scheme) {
	case "https":
		port = "443"
	case "http":
		if c.cfg.AllowPlainHTTP {
			port = "80"
			break
		}
		fallthrough
	default:
		return "", errs.E(errs.PermissionDenied, "EGRESS_SCHEME_NOT_ALLOWED", "only https URLs may be called")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	hp := net.JoinHostPort(strings.ToLower(u.Hostname()), port)
	if !c.allowed[hp] {
		return "", errs.E(errs.PermissionDenied, "EGRESS_HOST_NOT_ALLOWED", "the destination host is not on the egress allow-list")
	}
	return hp, nil
}

// blocked are the ranges no third party lives in: reaching one means a
// request was steered into Sotto's own network or host (SSRF). From the IANA
// IPv4 and IPv6 special-purpose address registries, plus multicast.
var blocked = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this network"; 0.0.0.0 reaches the local host
		"10.0.0.0/8",     // RFC 1918
		"100.64.0.0/10",  // carrier-grade NAT, RFC 6598
		"127.0.0.0/8",    // loopback
		"169.254.0.0/16", // link-local, cloud metadata (169.254.169.254) among it
		"172.16.0.0/12",  // RFC 1918
		"192.0.0.0/24",   // IETF protocol assignments
		"192.168.0.0/16", // RFC 1918
		"198.18.0.0/15",  // benchmarking
		"224.0.0.0/4",    // multicast
		"240.0.0.0/4",    // reserved, and the broadcast address
		"::/96",          // unspecified, loopback, IPv4-compatible
		"64:ff9b::/96",   // NAT64: the gateway would reach the embedded IPv4 address
		"64:ff9b:1::/48", // local-use NAT64
		"100::/64",       // discard-only
		"fc00::/7",       // unique local
		"fe80::/10",      // link-local
		"fec0::/10",      // site-local (deprecated, still routed by some)
		"ff00::/8",       // multicast
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// addressGuard returns a net.Dialer Control function, which runs for every
// address a dial tries, after name resolution and before connect: the
// address it checks is the one the socket would connect to.
func addressGuard(allowed []netip.Prefix) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return errs.Wrap(err, errs.PermissionDenied, "EGRESS_ADDRESS_NOT_ALLOWED", "the destination address could not be checked")
		}
		// ::ffff:127.0.0.1 is 127.0.0.1 to the kernel.
		ip := ap.Addr().Unmap().WithZone("")
		for _, p := range allowed {
			if p.Contains(ip) {
				return nil
			}
		}
		for _, p := range blocked {
			if p.Contains(ip) {
				return errs.E(errs.PermissionDenied, "EGRESS_ADDRESS_NOT_ALLOWED", "the destination resolves to an address egress may not reach")
			}
		}
		return nil
	}
}

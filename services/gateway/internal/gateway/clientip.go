package gateway

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/metadata"

	"github.com/sottohq/sotto/services/gateway/internal/clientaddr"
)

// The client's address is decided once, here, and travels to the services
// as the gRPC metadata key clientIPMetadata (identity throttles logins per
// address). Any incoming header of that name is ignored: only the gateway
// sets it, and the services accept it only from the gateway's workload.
const clientIPMetadata = "x-sotto-client-ip"

func clientIPOf(ctx context.Context) (netip.Addr, bool) {
	ri := infoOf(ctx)
	if ri == nil || !ri.clientIP.IsValid() {
		return netip.Addr{}, false
	}
	return ri.clientIP, true
}

// clientIP finds the address of the client: the peer of the connection, or,
// when that peer is one of the trusted proxies (a load balancer in front of
// the gateway), the right-most X-Forwarded-For entry that is not a trusted
// proxy. Entries left of it were written by the client and prove nothing.
func clientIP(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip, ok := clientaddr.FromRequest(r, trusted); ok {
			if ri := infoOf(r.Context()); ri != nil {
				ri.clientIP = ip
			}
		}
		// grpc-gateway copies these into metadata on its own; what the
		// client wrote there must not reach a service looking credible.
		r.Header.Del("X-Forwarded-For")
		r.Header.Del("X-Forwarded-Host")
		next.ServeHTTP(w, r)
	})
}

// userAgentMetadata carries the browser's User-Agent, shortened, so that a
// person can tell their sessions apart.
const userAgentMetadata = "x-sotto-user-agent"

// edgeMetadata is what the gateway tells the services about a request
// besides the access token: the client's address (identity throttles per
// address) and a shortened User-Agent.
func edgeMetadata(ctx context.Context, r *http.Request) metadata.MD {
	md := metadata.MD{}
	if ip, ok := clientIPOf(ctx); ok {
		md.Set(clientIPMetadata, ip.String())
	}
	if ua := r.UserAgent(); ua != "" {
		md.Set(userAgentMetadata, shorten(strings.ToValidUTF8(ua, ""), 128))
	}
	return md
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

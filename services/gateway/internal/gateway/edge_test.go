package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/services/gateway/internal/clientaddr"
)

// TestEveryRouteHasAnAccessRule: each REST route in the OpenAPI document
// the gateway serves (the generated one and the gateway's own routes) has
// its own line in routeAccess (none falls to the default by accident),
// and each line names a route that exists (a typo would leave the real
// route on the default).
func TestEveryRouteHasAnAccessRule(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	served, err := servedOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(served, &doc); err != nil {
		t.Fatal(err)
	}
	var routes []string
	for path, ops := range doc.Paths {
		for method := range ops {
			routes = append(routes, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(routes)
	var listed []string
	for r := range routeAccess {
		listed = append(listed, r)
	}
	slices.Sort(listed)
	if diff := cmp.Diff(routes, listed); diff != "" {
		t.Errorf("routes (-OpenAPI +routeAccess):\n%s", diff)
	}
}

// TestAuthRoutesAreRateLimited: the public routes answer 429 with a
// Retry-After once an address spent its burst, while another address and
// the signed-in routes are unaffected.
func TestAuthRoutesAreRateLimited(t *testing.T) {
	h := newTestGateway(t)
	login := func(addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/sessions:login", strings.NewReader(`{"email":"a@b.c","password":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	limited := 0
	for range 30 {
		if rec := login("192.0.2.1:1234"); rec.Code == http.StatusTooManyRequests {
			limited++
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			var body map[string]any
			json.Unmarshal(rec.Body.Bytes(), &body)
			if reason(body) != reasonRateLimited {
				t.Fatalf("429 body %v", body)
			}
		}
	}
	// The default burst is 10 and the refill 30/min: within this loop about
	// 20 requests are refused.
	if limited < 15 {
		t.Fatalf("%d of 30 logins from one address were limited, want most beyond the burst", limited)
	}
	if rec := login("192.0.2.2:1234"); rec.Code == http.StatusTooManyRequests {
		t.Fatal("another address was limited too")
	}
	// IPv6 addresses share their /64.
	for range 10 {
		login("[2001:db8:1:2::1]:1")
	}
	if rec := login("[2001:db8:1:2::ffff]:1"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("another address of the same /64: %d, want 429", rec.Code)
	}
}

func TestIPLimiterForgetsIdleSourcesWhenFull(t *testing.T) {
	l := newIPLimiter(60, 1, 2)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	l.allow(a)
	l.allow(b)
	// Full, nobody idle: c shares the overflow bucket, which it can empty
	// but not escape by being new.
	if ok, _ := l.allow(c); !ok {
		t.Fatal("first request of a new source refused")
	}
	if ok, _ := l.allow(netip.MustParseAddr("192.0.2.4")); ok {
		t.Fatal("a second new source got a fresh bucket while the table was full")
	}
	now = now.Add(2 * time.Second) // a and b refill: idle
	if ok, _ := l.allow(netip.MustParseAddr("192.0.2.5")); !ok {
		t.Fatal("a new source was refused after idle ones could be forgotten")
	}
	if len(l.buckets) > 2 {
		t.Fatalf("%d buckets, want at most 2", len(l.buckets))
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct client", "198.51.100.7:1", nil, "198.51.100.7"},
		{"direct client's own XFF ignored", "198.51.100.7:1", []string{"203.0.113.1"}, "198.51.100.7"},
		{"behind a trusted proxy", "10.0.0.5:1", []string{"203.0.113.1"}, "203.0.113.1"},
		{"spoofed left-most entry ignored", "10.0.0.5:1", []string{"1.1.1.1, 203.0.113.1"}, "203.0.113.1"},
		{"chain of trusted proxies", "10.0.0.5:1", []string{"203.0.113.1, 10.0.0.9"}, "203.0.113.1"},
		{"two headers", "10.0.0.5:1", []string{"1.1.1.1", "203.0.113.1"}, "203.0.113.1"},
		{"malformed hop stops at the last trusted", "10.0.0.5:1", []string{"203.0.113.1, junk"}, "10.0.0.5"},
		{"only trusted hops", "10.0.0.5:1", []string{"10.0.0.6"}, "10.0.0.6"},
		{"v4-mapped peer", "[::ffff:198.51.100.7]:1", nil, "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := clientaddr.FromRequest(r, trusted)
			if !ok || got.String() != tc.want {
				t.Fatalf("got %v %v, want %s", got, ok, tc.want)
			}
		})
	}
}

package channels

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sottohq/sotto/services/gateway/internal/clientaddr"
)

// Defaults of the per-address limit on the webhook routes. The platforms
// post from a few addresses of their own for every shop on the gateway,
// so the budget is wide: it is there to stop one source from hammering
// made-up shops (each a secrets read once the cache has forgotten it) or
// the signature check, not to pace the platforms, which retry a 429.
const (
	DefaultRatePerMinute = 1200
	DefaultBurst         = 200
	// maxLimiterEntries bounds the buckets kept; beyond it new sources
	// share one overflow bucket.
	maxLimiterEntries = 100_000
)

// AddressLimiter is a token bucket (golang.org/x/time/rate) per client
// address, IPv6 grouped by /64, with the gateway's rules for who the
// client is (internal/gateway's clientip.go and ratelimit.go, which the
// channel routes do not pass through: they are mounted in front of the
// REST API's handler). Memory is bounded: when maxEntries buckets are
// held, the full ones (idle sources) are dropped, and if none is, new
// sources share an overflow bucket, which is strict rather than open. The
// CRM webhooks (internal/crmhooks), mounted beside the channels, use it too.
type AddressLimiter struct {
	every      rate.Limit
	burst      int
	maxEntries int
	trusted    []netip.Prefix
	now        func() time.Time

	mu       sync.Mutex
	buckets  map[netip.Prefix]*rate.Limiter
	overflow *rate.Limiter
}

// NewAddressLimiter allows perMinute requests a minute per client address,
// burst at once; trusted are the proxies whose X-Forwarded-For names the
// client.
func NewAddressLimiter(perMinute, burst int, trusted []netip.Prefix, now func() time.Time) *AddressLimiter {
	every := rate.Limit(float64(perMinute) / 60)
	return &AddressLimiter{every: every, burst: burst, maxEntries: maxLimiterEntries, trusted: trusted, now: now,
		buckets: map[netip.Prefix]*rate.Limiter{}, overflow: rate.NewLimiter(every, burst)}
}

// Allow takes a token for r's client; without one it says how long until
// there is one. A request whose peer address cannot be read (never over
// TCP) counts against the overflow bucket.
func (l *AddressLimiter) Allow(r *http.Request) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.overflow
	if ip, ok := clientaddr.FromRequest(r, l.trusted); ok {
		b = l.bucket(clientaddr.Source(ip), now)
	}
	res := b.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *AddressLimiter) bucket(key netip.Prefix, now time.Time) *rate.Limiter {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if len(l.buckets) >= l.maxEntries {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k) // full again: a new bucket is the same
			}
		}
	}
	if len(l.buckets) >= l.maxEntries {
		return l.overflow
	}
	b := rate.NewLimiter(l.every, l.burst)
	l.buckets[key] = b
	return b
}

// RetryAfter is a Retry-After value: whole seconds, at least one.
func RetryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

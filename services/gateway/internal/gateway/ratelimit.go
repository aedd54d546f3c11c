package gateway

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"

	"github.com/sottohq/sotto/services/gateway/internal/clientaddr"
)

// ipLimiter throttles the authentication routes per client IP address: a
// token bucket per address (golang.org/x/time/rate), IPv6 addresses grouped
// by /64 since one host usually holds a whole /64. Identity throttles per
// account as well; this limit is what stops one source from spraying many
// accounts before identity sees a pattern.
type ipLimiter struct {
	*keyedLimiter[netip.Prefix]
}

func newIPLimiter(perMinute, burst, maxEntries int) *ipLimiter {
	return &ipLimiter{newKeyedLimiter[netip.Prefix](perMinute, burst, maxEntries)}
}

// allow takes one token for addr; when there is none it says how long until
// there will be.
func (l *ipLimiter) allow(addr netip.Addr) (bool, time.Duration) {
	return l.take(clientaddr.Source(addr))
}

// keyedLimiter is a token bucket per key (a client address, a token's
// subject).
//
// Memory is bounded: at most maxEntries buckets; when full, buckets that
// have refilled (an idle source) are dropped, and if none has, new sources
// share one overflow bucket, which is strict rather than open.
type keyedLimiter[K comparable] struct {
	every      rate.Limit
	burst      int
	maxEntries int
	now        func() time.Time

	mu       sync.Mutex
	buckets  map[K]*rate.Limiter
	overflow *rate.Limiter
}

func newKeyedLimiter[K comparable](perMinute, burst, maxEntries int) *keyedLimiter[K] {
	every := rate.Limit(float64(perMinute) / 60)
	return &keyedLimiter[K]{
		every: every, burst: burst, maxEntries: maxEntries, now: time.Now,
		buckets:  make(map[K]*rate.Limiter),
		overflow: rate.NewLimiter(every, burst),
	}
}

// take takes one token for key; when there is none it says how long until
// there will be.
func (l *keyedLimiter[K]) take(key K) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxEntries {
			l.evictIdle(now)
		}
		if len(l.buckets) >= l.maxEntries {
			b = l.overflow
		} else {
			b = rate.NewLimiter(l.every, l.burst)
			l.buckets[key] = b
		}
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// evictIdle drops the buckets that are full again: forgetting them changes
// nothing, a new bucket starts full too.
func (l *keyedLimiter[K]) evictIdle(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}

// limitAuth answers 429 with Retry-After when the client's address has
// spent its budget on the routes limited (the authentication routes).
func (l *ipLimiter) limit(w http.ResponseWriter, r *http.Request) bool {
	ip, ok := clientIPOf(r.Context())
	if !ok {
		return true
	}
	if allowed, wait := l.allow(ip); !allowed {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted, reasonRateLimited, "too many requests from this address; retry later")
		return false
	}
	return true
}

// refuse429 answers 429 RATE_LIMITED with a Retry-After of wait.
func refuse429(w http.ResponseWriter, wait time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted, reasonRateLimited, msg)
}

// limitSubject answers 429 with Retry-After when subject (a token's sub:
// a visitor, a customer) has spent its budget on the route limited.
func (l *keyedLimiter[K]) limitSubject(w http.ResponseWriter, subject K) bool {
	if allowed, wait := l.take(subject); !allowed {
		refuse429(w, wait, "too many messages; retry later")
		return false
	}
	return true
}

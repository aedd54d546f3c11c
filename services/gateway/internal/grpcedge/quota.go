package grpcedge

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Quota is a call rate: a token bucket refilled at PerSecond calls a second
// that holds at most Burst.
type Quota struct {
	PerSecond float64
	Burst     int
}

func (q Quota) valid() bool { return q.PerSecond > 0 && q.Burst >= 1 }

// limiter is a token bucket per key (golang.org/x/time/rate): per
// integrator (client id) for authenticated calls, per source address for
// the public ones. A stream is one call: the quota bounds how often a client
// starts work, the server's per-connection stream limit how much runs at
// once.
//
// Memory is bounded: at most maxEntries buckets. When full, buckets that
// have refilled (an idle key) are dropped, since a new bucket starts full
// too; if none has, new keys share one overflow bucket, which is strict
// rather than open (a flood of fresh client ids or addresses cannot buy
// itself fresh buckets).
type limiter[K comparable] struct {
	quota      func(K) Quota
	maxEntries int

	mu       sync.Mutex
	buckets  map[K]*bucket
	overflow *bucket
}

type bucket struct {
	lim   *rate.Limiter
	burst int
}

// newLimiter keeps at most maxEntries buckets; quota gives a key's rate
// (overflow gets the rate of the key that first needed it).
func newLimiter[K comparable](maxEntries int, quota func(K) Quota) *limiter[K] {
	return &limiter[K]{quota: quota, maxEntries: maxEntries, buckets: make(map[K]*bucket)}
}

func newBucket(q Quota) *bucket {
	return &bucket{lim: rate.NewLimiter(rate.Limit(q.PerSecond), q.Burst), burst: q.Burst}
}

// allow takes one call from key's bucket at now; when there is none it says
// how long until there will be.
func (l *limiter[K]) allow(key K, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxEntries {
			l.evictIdle(now)
		}
		switch {
		case len(l.buckets) < l.maxEntries:
			b = newBucket(l.quota(key))
			l.buckets[key] = b
		default:
			if l.overflow == nil {
				l.overflow = newBucket(l.quota(key))
			}
			b = l.overflow
		}
	}
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// evictIdle drops the buckets that are full again.
func (l *limiter[K]) evictIdle(now time.Time) {
	for k, b := range l.buckets {
		if b.lim.TokensAt(now) >= float64(b.burst) {
			delete(l.buckets, k)
		}
	}
}

// size is the number of buckets kept (tests).
func (l *limiter[K]) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

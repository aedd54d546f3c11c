// Package throttle limits authentication attempts per client source and
// detects credential stuffing: many different accounts failing from one
// source.
//
// The source is the client's address as the gateway saw it (see
// internal/server: identity trusts x-forwarded-for only from the gateway
// workload, and only its last entry, which grpc-gateway appends from the
// connection's remote address), or the calling workload's name for other
// callers. Per-account lockout is not here: it lives in the database
// (storage.Lockout), reserved atomically before a password is evaluated, so
// it holds across replicas and parallel requests.
//
// Each source has a token bucket (golang.org/x/time/rate). A source whose
// failures in the window span Threshold distinct accounts raises the
// stuffing signal once per window (the caller audits it; a counter counts
// it) and is held to a bucket Penalty times slower until the window after
// its last such failure has passed. State is per process and bounded (an
// LRU of sources): an attacker spreading over more sources than it holds
// only loses the per-source memory, never the per-account lockout.
package throttle

import (
	"net/netip"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Config tunes a Limiter.
type Config struct {
	// Rate and Burst are each source's bucket (attempts per second).
	Rate  float64
	Burst int
	// Window is how long a failure counts towards the stuffing signal.
	Window time.Duration
	// Threshold is the number of distinct failing accounts in Window that
	// raises the signal.
	Threshold int
	// Penalty divides the rate of a flagged source (and its burst drops
	// to 1).
	Penalty float64
	// MaxSources bounds the sources remembered.
	MaxSources int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DefaultConfig: 20 attempts at once, then one every 3 s (20 a minute) per
// source; 10 accounts failing from a source within 10 min flag it, and it
// gets a tenth of that rate.
var DefaultConfig = Config{
	Rate: 1.0 / 3, Burst: 20, Window: 10 * time.Minute, Threshold: 10, Penalty: 10, MaxSources: 100_000,
}

// Limiter is the per-source limiter.
type Limiter struct {
	cfg     Config
	sources *lru.Cache[string, *source]
	// OnStuffing is called (outside the lock) when a source raises the
	// signal.
	onStuffing func(source string, accounts int)
	mu         sync.Mutex
}

type source struct {
	mu        sync.Mutex
	bucket    *rate.Limiter
	failures  map[string]time.Time // account key → last failure
	flagged   time.Time            // when the signal was last raised
	penalised time.Time            // penalty until
}

// New returns a Limiter; onStuffing may be nil.
func New(cfg Config, onStuffing func(source string, accounts int)) *Limiter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = DefaultConfig.MaxSources
	}
	if cfg.Penalty < 1 {
		cfg.Penalty = 1
	}
	c, _ := lru.New[string, *source](cfg.MaxSources)
	return &Limiter{cfg: cfg, sources: c, onStuffing: onStuffing}
}

// SourceKey is the unit a source's limits apply to: an IPv4 address as it
// is, an IPv6 address's /64 (one host usually holds a whole /64, so keying
// by the full address would give it 2^64 fresh buckets; the gateway groups
// the same way), and anything else (a workload's name) as it is.
func SourceKey(src string) string {
	a, err := netip.ParseAddr(src)
	if err != nil {
		return src
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return src
	}
	return p.String()
}

func (l *Limiter) get(src string) *source {
	key := SourceKey(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sources.Get(key)
	if !ok {
		s = &source{bucket: rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst), failures: map[string]time.Time{}}
		l.sources.Add(key, s)
	}
	return s
}

// Allow takes one attempt from the source's bucket. When it is empty it
// returns false and how long until the next attempt is allowed.
func (l *Limiter) Allow(src string) (bool, time.Duration) {
	s := l.get(src)
	now := l.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.penalised.IsZero() && !now.Before(s.penalised) {
		// The penalty is over: back to the normal bucket, full.
		s.bucket = rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst)
		s.penalised = time.Time{}
	}
	r := s.bucket.ReserveN(now, 1)
	if !r.OK() {
		return false, l.cfg.Window
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Failure records a failed attempt of the source against an account (any
// stable key of the account or of the name typed: the caller passes the
// login's deterministic token, so unknown names count too) and reports
// whether it raised the stuffing signal.
func (l *Limiter) Failure(src, account string) bool {
	s := l.get(src)
	now := l.cfg.Now()
	s.mu.Lock()
	for k, t := range s.failures {
		if now.Sub(t) > l.cfg.Window {
			delete(s.failures, k)
		}
	}
	// Bounded: past the threshold, more keys change nothing.
	if len(s.failures) <= 4*l.cfg.Threshold {
		s.failures[account] = now
	}
	n := len(s.failures)
	raised := false
	if n >= l.cfg.Threshold {
		if s.penalised.IsZero() {
			s.bucket = rate.NewLimiter(rate.Limit(l.cfg.Rate/l.cfg.Penalty), 1)
		}
		s.penalised = now.Add(l.cfg.Window)
		if s.flagged.IsZero() || now.Sub(s.flagged) > l.cfg.Window {
			s.flagged = now
			raised = true
		}
	}
	s.mu.Unlock()
	if raised && l.onStuffing != nil {
		l.onStuffing(SourceKey(src), n)
	}
	return raised
}

// Flagged reports whether the source is under the stuffing penalty.
func (l *Limiter) Flagged(src string) bool {
	s := l.get(src)
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.penalised.IsZero() && l.cfg.Now().Before(s.penalised)
}

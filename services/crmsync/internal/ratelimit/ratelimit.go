// Package ratelimit keeps crmsync under each shop's CRM limits: a token
// bucket per shop and connector for the short window (HubSpot's burst
// limit) and a second one for the day's allocation (HubSpot's daily limit,
// Salesforce's 24-hour API request allocation), both counting requests (a
// batch of 100 or 200 records is one). 429 Retry-After answers are honoured
// on top of this (internal/delivery), for what the estimate misses: other
// apps of the same portal or org spend the same allocation.
//
// The buckets are per process. With n replicas, either divide the rates by
// n (Config.Replicas) or accept up to n times the rate and let the 429s
// catch the rest; a limit shared through the database is left (ADR 0015).
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults from the vendors' documented limits (ADR 0015):
//   - HubSpot private apps: 100 requests per 10 s (Free and Starter; 190
//     on Professional and Enterprise) and 250,000 a day (Free and
//     Starter; 650,000 Professional, 1,000,000 Enterprise): the lowest tier's,
//     so a shop on any tier stays under.
//   - Salesforce: no short window, a rolling 24-hour allocation of 100,000
//     plus 1,000 per licence (Enterprise): the base. The short bucket only
//     spreads a backlog out (5/s, 25 at once).
var (
	HubSpotDaily    = 250_000
	SalesforceDaily = 100_000
)

// Daily is the default daily allocation of a connector (0: none known).
func Daily(connector string) int {
	switch connector {
	case "hubspot":
		return HubSpotDaily
	case "salesforce":
		return SalesforceDaily
	}
	return 0
}

// Rate is a short-window bucket: PerSecond on average, Burst at once.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Config of one shop's CRM.
type Config struct {
	Rate Rate
	// Daily is the requests allowed in 24 hours (0: none).
	Daily int
	// Replicas divides both rates: each of n processes takes 1/n.
	Replicas int
}

// Limiter is one shop's CRM's buckets. A nil *Limiter allows everything.
type Limiter struct {
	mu    sync.Mutex
	short *rate.Limiter
	daily *rate.Limiter
}

// New returns the buckets of cfg, full.
func New(cfg Config) *Limiter {
	n := max(cfg.Replicas, 1)
	l := &Limiter{short: rate.NewLimiter(rate.Limit(cfg.Rate.PerSecond/float64(n)), max(cfg.Rate.Burst/n, 1))}
	if cfg.Daily > 0 {
		perDay := float64(cfg.Daily) / float64(n)
		// The day's allocation may go at once (the short bucket paces it).
		l.daily = rate.NewLimiter(rate.Limit(perDay/(24*time.Hour).Seconds()), max(int(perDay), 1))
	}
	return l
}

// Take spends one request at now from both buckets, or spends nothing and
// says how long until both have one.
func (l *Limiter) Take(now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.short.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	var d *rate.Reservation
	if l.daily != nil {
		d = l.daily.ReserveN(now, 1)
		wait = max(wait, d.DelayFrom(now))
	}
	if wait == 0 {
		return 0, true
	}
	r.CancelAt(now)
	if d != nil {
		d.CancelAt(now)
	}
	return wait, false
}

// Set is the limiters of every shop's connectors.
type Set struct {
	mu sync.Mutex
	m  map[string]*Limiter
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{m: map[string]*Limiter{}} }

// Add sets the limiter of tenant's connector.
func (s *Set) Add(tenant, connector string, cfg Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[tenant+"/"+connector] = New(cfg)
}

// For returns tenant's connector's limiter (nil, which allows everything,
// if none was added).
func (s *Set) For(tenant, connector string) *Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[tenant+"/"+connector]
}

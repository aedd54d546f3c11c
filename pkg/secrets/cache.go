package secrets

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

// Defaults of a Cache.
const (
	DefaultCacheTTL     = 30 * time.Second
	DefaultCacheEntries = 10_000
)

// Cache is a Store that remembers another Store's answers, secrets and
// ErrNotFound alike, for a fixed TTL. Remembering "not found" matters as
// much as remembering secrets: webhooks to made-up shops would otherwise
// each cost a Vault read. Other errors are not remembered, so the next call
// tries again. A changed secret takes effect within the TTL.
//
// The cache holds at most a fixed number of paths; when it is full of
// unexpired entries, new answers are passed on without being remembered
// (the store is asked again next time) rather than evicting what is there.
type Cache struct {
	store Store
	ttl   time.Duration
	max   int
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	secret  map[string]string // nil: not found
	expires time.Time
}

var _ Store = (*Cache)(nil)

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) CacheOption { return func(c *Cache) { c.now = now } }

// WithMaxEntries bounds the paths remembered (DefaultCacheEntries).
func WithMaxEntries(n int) CacheOption { return func(c *Cache) { c.max = n } }

// NewCache returns a Cache over store; ttl <= 0 means DefaultCacheTTL.
func NewCache(store Store, ttl time.Duration, opts ...CacheOption) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	c := &Cache{store: store, ttl: ttl, max: DefaultCacheEntries, now: time.Now, entries: map[string]cacheEntry{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Get answers from the cache while the entry is fresh, else from the store.
func (c *Cache) Get(ctx context.Context, path string) (map[string]string, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[path]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		if e.secret == nil {
			return nil, ErrNotFound
		}
		return maps.Clone(e.secret), nil
	}
	secret, err := c.store.Get(ctx, path)
	switch {
	case err == nil:
		c.remember(path, cacheEntry{secret: maps.Clone(secret), expires: now.Add(c.ttl)})
		return secret, nil
	case errors.Is(err, ErrNotFound):
		c.remember(path, cacheEntry{expires: now.Add(c.ttl)})
		return nil, err
	default:
		return nil, err
	}
}

func (c *Cache) remember(path string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[path]; !ok && len(c.entries) >= c.max {
		now := c.now()
		for p, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, p)
			}
		}
		if len(c.entries) >= c.max {
			return
		}
	}
	c.entries[path] = e
}

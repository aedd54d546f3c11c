package secrets

import (
	"container/list"
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
	// DefaultCacheMissing bounds the "not found" answers remembered. They
	// only need to absorb a probe repeated within the TTL; the most recent
	// are kept.
	DefaultCacheMissing = 4096
)

// Cache is a Store that remembers another Store's answers, secrets and
// ErrNotFound alike, for a fixed TTL. Remembering "not found" matters as
// much as remembering secrets: webhooks to made-up shops would otherwise
// each cost a Vault read. Other errors are not remembered, so the next call
// tries again. A changed secret takes effect within the TTL.
//
// Secrets found and paths not found are kept apart, because anyone can
// name a path that does not exist (a webhook URL for a made-up shop) but
// only an operator can add one that does. Secrets found are at most a
// fixed number of paths; when that is full of unexpired entries, new ones
// are passed on without being remembered rather than evicting what is
// there. Paths not found go to a small LRU of their own, which a flood of
// made-up names churns without touching the secrets found or stopping the
// cache from remembering.
type Cache struct {
	store      Store
	ttl        time.Duration
	max        int
	maxMissing int
	now        func() time.Time

	mu      sync.Mutex
	entries map[string]cacheEntry
	missing missingLRU
}

type cacheEntry struct {
	secret  map[string]string
	expires time.Time
}

var _ Store = (*Cache)(nil)

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) CacheOption { return func(c *Cache) { c.now = now } }

// WithMaxEntries bounds the secrets remembered (DefaultCacheEntries).
func WithMaxEntries(n int) CacheOption { return func(c *Cache) { c.max = n } }

// WithMaxMissing bounds the "not found" answers remembered
// (DefaultCacheMissing).
func WithMaxMissing(n int) CacheOption { return func(c *Cache) { c.maxMissing = n } }

// NewCache returns a Cache over store; ttl <= 0 means DefaultCacheTTL.
func NewCache(store Store, ttl time.Duration, opts ...CacheOption) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	c := &Cache{store: store, ttl: ttl, max: DefaultCacheEntries, maxMissing: DefaultCacheMissing, now: time.Now, entries: map[string]cacheEntry{}}
	for _, o := range opts {
		o(c)
	}
	c.missing = missingLRU{max: c.maxMissing, items: map[string]*list.Element{}}
	return c
}

// Get answers from the cache while the entry is fresh, else from the store.
func (c *Cache) Get(ctx context.Context, path string) (map[string]string, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	now := c.now()
	c.mu.Lock()
	e, found := c.entries[path]
	missing := c.missing.fresh(path, now)
	c.mu.Unlock()
	if found && now.Before(e.expires) {
		return maps.Clone(e.secret), nil
	}
	if missing {
		return nil, ErrNotFound
	}
	secret, err := c.store.Get(ctx, path)
	switch {
	case err == nil:
		c.remember(path, cacheEntry{secret: maps.Clone(secret), expires: now.Add(c.ttl)})
		return secret, nil
	case errors.Is(err, ErrNotFound):
		c.mu.Lock()
		delete(c.entries, path) // a secret removed
		c.missing.add(path, now.Add(c.ttl))
		c.mu.Unlock()
		return nil, err
	default:
		return nil, err
	}
}

func (c *Cache) remember(path string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.missing.remove(path) // a secret added
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

// missingLRU remembers paths not found, each until it expires, at most
// max of them: adding one more drops the least recently asked. Written
// here (container/list) rather than taken from a library: it is a few
// lines and the cache's lock already guards it.
type missingLRU struct {
	max   int
	order list.List // front: most recently asked; values: *missingEntry
	items map[string]*list.Element
}

type missingEntry struct {
	path    string
	expires time.Time
}

// fresh says whether path is remembered as not found at now, and marks it
// recently asked.
func (l *missingLRU) fresh(path string, now time.Time) bool {
	el, ok := l.items[path]
	if !ok {
		return false
	}
	if !now.Before(el.Value.(*missingEntry).expires) {
		l.order.Remove(el)
		delete(l.items, path)
		return false
	}
	l.order.MoveToFront(el)
	return true
}

func (l *missingLRU) add(path string, expires time.Time) {
	if l.max <= 0 {
		return
	}
	if el, ok := l.items[path]; ok {
		el.Value.(*missingEntry).expires = expires
		l.order.MoveToFront(el)
		return
	}
	for l.order.Len() >= l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.items, oldest.Value.(*missingEntry).path)
	}
	l.items[path] = l.order.PushFront(&missingEntry{path: path, expires: expires})
}

func (l *missingLRU) remove(path string) {
	if el, ok := l.items[path]; ok {
		l.order.Remove(el)
		delete(l.items, path)
	}
}

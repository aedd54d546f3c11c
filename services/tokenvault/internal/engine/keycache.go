package engine

import (
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// keyCache is a size-bounded LRU whose entries expire ttl after they were
// added, as read from the engine's clock (Options.Now), so that expiry
// follows the same clock as everything else the engine decides by time.
// golang-lru's expirable cache reads the wall clock with no way to inject
// another, hence this thin layer over its plain LRU.
//
// Expired entries are dropped when they are next read and by sweep, which
// RunCacheSweep calls every interval, so unwrapped keys do not outstay the
// TTL in memory by more than that interval.
type keyCache[V any] struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, cached[V]]
	ttl time.Duration
	now func() time.Time
}

type cached[V any] struct {
	value   V
	expires time.Time
}

func newKeyCache[V any](size int, ttl time.Duration, now func() time.Time) *keyCache[V] {
	l, err := simplelru.NewLRU[string, cached[V]](size, nil)
	if err != nil {
		panic(err) // only for a size <= 0, which New never passes
	}
	return &keyCache[V]{lru: l, ttl: ttl, now: now}
}

// Add stores value under key until ttl from now.
func (c *keyCache[V]) Add(key string, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Add(key, cached[V]{value: value, expires: c.now().Add(c.ttl)})
}

// Get returns the value under key unless it has expired.
func (c *keyCache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	if !ok {
		var zero V
		return zero, false
	}
	if !c.now().Before(e.expires) {
		c.lru.Remove(key)
		var zero V
		return zero, false
	}
	return e.value, true
}

// Contains reports whether key holds a value that has not expired.
func (c *keyCache[V]) Contains(key string) bool {
	_, ok := c.Get(key)
	return ok
}

// Remove drops key.
func (c *keyCache[V]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}

// RemovePrefix drops every key that starts with prefix.
func (c *keyCache[V]) RemovePrefix(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.lru.Keys() {
		if strings.HasPrefix(k, prefix) {
			c.lru.Remove(k)
		}
	}
}

// Keys returns the keys held, expired or not.
func (c *keyCache[V]) Keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Keys()
}

// sweep drops every expired entry.
func (c *keyCache[V]) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, k := range c.lru.Keys() {
		if e, ok := c.lru.Peek(k); ok && !now.Before(e.expires) {
			c.lru.Remove(k)
		}
	}
}

package webhook

import (
	"container/list"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

var (
	errReplayed        = errors.New("seen before")
	errReplayCacheFull = errors.New("replay cache full")
)

// replayCache remembers the digests of verified requests until they expire.
//
// Hand-written: golang-lru's expirable LRU evicts unexpired entries when
// full, which reopens a replay window, and reads the wall clock, which the
// tests could not control. Entries share one TTL, so insertion order is
// expiry order and expired ones are dropped from the front.
type replayCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // of *replayEntry, oldest first
	entries map[[sha256.Size]byte]*list.Element
}

type replayEntry struct {
	key     [sha256.Size]byte
	expires time.Time
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, order: list.New(), entries: make(map[[sha256.Size]byte]*list.Element)}
}

// reserve records key until now+ttl. It fails with errReplayed if key is
// recorded and unexpired, and with errReplayCacheFull if max unexpired keys
// are.
func (c *replayCache) reserve(key [sha256.Size]byte, now time.Time, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for front := c.order.Front(); front != nil; front = c.order.Front() {
		e := front.Value.(*replayEntry)
		if now.Before(e.expires) {
			break
		}
		c.order.Remove(front)
		delete(c.entries, e.key)
	}
	if _, ok := c.entries[key]; ok {
		return errReplayed
	}
	if len(c.entries) >= c.max {
		return errReplayCacheFull
	}
	c.entries[key] = c.order.PushBack(&replayEntry{key: key, expires: now.Add(ttl)})
	return nil
}

// release forgets key.
func (c *replayCache) release(key [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.order.Remove(el)
		delete(c.entries, key)
	}
}

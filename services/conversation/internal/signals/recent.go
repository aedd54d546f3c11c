package signals

import (
	"container/list"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// recentCache keeps, when the windows are counted in memory (one process
// owns the SQLite file, so every signal is raised and cleared by this
// Monitor), the recent signals of each scope key the message path has
// read, so that a message costs no read of the signals table once its
// scopes are known. A key's list is read from the database the first time
// (and after the key was forgotten), then kept up to date by store and
// Clear. At most max keys are kept, the least recently used forgotten first
// (it is read again when next needed).
type recentCache struct {
	mu  sync.Mutex
	m   map[string]*list.Element // of *recentEntry
	lru list.List
	max int
	// version grows with every signal stored or cleared: a list read from
	// the database while one changed may miss it and is not kept.
	version uint64
}

type recentEntry struct {
	key  string
	sigs []storage.Signal
}

func newRecentCache(max int) *recentCache {
	if max <= 0 {
		max = DefaultMaxWindows
	}
	return &recentCache{m: map[string]*list.Element{}, max: max}
}

// get returns the recent signals over keys (see storage.RecentSignals),
// newest first, reading the keys it does not hold with read.
func (c *recentCache) get(ctx context.Context, keys []string, since, now time.Time,
	read func(ctx context.Context, keys []string) ([]storage.Signal, error)) ([]storage.Signal, error) {
	var out []storage.Signal
	var missing []string
	c.mu.Lock()
	v := c.version
	for _, k := range keys {
		e, ok := c.m[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		c.lru.MoveToFront(e)
		ent := e.Value.(*recentEntry)
		// Signals neither recent nor in force any more are dropped.
		ent.sigs = slices.DeleteFunc(ent.sigs, func(g storage.Signal) bool { return !isRecent(g, since, now) })
		out = append(out, ent.sigs...)
	}
	c.mu.Unlock()
	if len(missing) > 0 {
		read, err := read(ctx, missing)
		if err != nil {
			return nil, err
		}
		out = append(out, read...)
		c.mu.Lock()
		if c.version == v {
			for _, k := range missing {
				var sigs []storage.Signal
				for _, g := range read {
					if g.ScopeKey == k {
						sigs = append(sigs, g)
					}
				}
				c.put(k, sigs)
			}
		}
		c.mu.Unlock()
	}
	// The database's order: newest first.
	slices.SortFunc(out, func(a, b storage.Signal) int {
		if d := b.CreateTime.Compare(a.CreateTime); d != 0 {
			return d
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

func isRecent(g storage.Signal, since, now time.Time) bool {
	return g.ClearTime.IsZero() && (g.CreateTime.After(since) || g.ExpireTime.After(now))
}

func (c *recentCache) put(k string, sigs []storage.Signal) {
	if e, ok := c.m[k]; ok {
		e.Value.(*recentEntry).sigs = sigs
		c.lru.MoveToFront(e)
		return
	}
	c.m[k] = c.lru.PushFront(&recentEntry{key: k, sigs: sigs})
	for len(c.m) > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.m, old.Value.(*recentEntry).key)
	}
}

// stored adds signals just committed to the keys held.
func (c *recentCache) stored(gs []storage.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version++
	for _, g := range gs {
		if e, ok := c.m[g.ScopeKey]; ok {
			ent := e.Value.(*recentEntry)
			ent.sigs = append(ent.sigs, g)
		}
	}
}

// cleared drops a signal a staff member cleared.
func (c *recentCache) cleared(g storage.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version++
	if e, ok := c.m[g.ScopeKey]; ok {
		ent := e.Value.(*recentEntry)
		ent.sigs = slices.DeleteFunc(ent.sigs, func(h storage.Signal) bool { return h.ID == g.ID })
	}
}

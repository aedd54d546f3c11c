package signals

import (
	"container/list"
	"hash/maphash"
	"sync"
	"time"

	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Counting says where a Monitor counts its sliding windows.
type Counting int

const (
	// CountAuto counts in memory when the store is SQLite (the embedded
	// default: one process owns the database file, so it sees every
	// event) and in the database otherwise.
	CountAuto Counting = iota
	// CountInDatabase counts in signal_events, which every replica
	// shares: the only correct choice with several replicas on one
	// PostgreSQL database, where each replica sees a share of a scope's
	// events and in-memory counts would let an attacker who spreads their
	// messages over the replicas stay under every threshold.
	CountInDatabase
	// CountInMemory counts in the process (windows).
	CountInMemory
)

// DefaultMaxWindows bounds the in-memory windows (one per scope key and
// kind): at most this many are kept, the least recently used forgotten
// first. A window holds at most its rules' highest threshold of events
// (16 bytes each), so the bound is some tens of MiB at the shipped policy.
const DefaultMaxWindows = 200_000

// windows are the sliding windows of CountInMemory: per (scope key, kind)
// the newest events, at most the highest threshold of the rules that count
// them, which is all a count capped at a rule's threshold needs (see
// count). They are lost when the process ends: a restart starts every
// window empty (at most the longest rule window, an hour at the shipped
// policy, of counts forgotten); the signals raised, and so every throttle,
// step-up and block in force, are the database's and survive it.
type windows struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[windowKey]*list.Element // of *window
	lru  list.List                   // most recently used first
	max  int
}

// windowKey names a window by its scope key's hash under the process's
// seed rather than the 64-character key itself, which would be a third of
// a window's memory (BenchmarkWindowMemory). Two scope keys sharing a
// window need a 64-bit collision under a seed no caller knows: about one
// in 10⁹ at the bound, and then only two counts merge.
type windowKey struct {
	scope uint64
	kind  int32
}

type window struct {
	key windowKey
	// span is the longest rule window over it: older events count for
	// nothing.
	span time.Duration
	// evs are the events, oldest first, one per distinct digest (its
	// latest time), at most capacity.
	evs []windowEvent
}

type windowEvent struct {
	t int64  // Unix microseconds
	h uint64 // the digest's hash under the process's seed
}

func newWindows(max int) *windows {
	if max <= 0 {
		max = DefaultMaxWindows
	}
	return &windows{seed: maphash.MakeSeed(), m: map[windowKey]*list.Element{}, max: max}
}

// add records an event of kind with digest over scopeKey at now, in a
// window keeping at most capacity distinct digests over span.
func (w *windows) add(scopeKey string, kind int32, digest string, now time.Time, capacity int, span time.Duration) {
	h := maphash.String(w.seed, digest)
	t := now.UnixMicro()
	w.mu.Lock()
	defer w.mu.Unlock()
	k := windowKey{maphash.String(w.seed, scopeKey), kind}
	var win *window
	if e, ok := w.m[k]; ok {
		w.lru.MoveToFront(e)
		win = e.Value.(*window)
	} else {
		win = &window{key: k}
		w.m[k] = w.lru.PushFront(win)
		for len(w.m) > w.max {
			old := w.lru.Back()
			w.lru.Remove(old)
			delete(w.m, old.Value.(*window).key)
		}
	}
	win.span = max(win.span, span)
	// A digest seen again moves to now (distinct digests count once).
	for i, e := range win.evs {
		if e.h == h {
			win.evs = append(win.evs[:i], win.evs[i+1:]...)
			break
		}
	}
	// Times only grow within a window, so that count can stop at the
	// first event before its since (a clock stepping back is clamped).
	if n := len(win.evs); n > 0 && win.evs[n-1].t > t {
		t = win.evs[n-1].t
	}
	win.evs = append(win.evs, windowEvent{t: t, h: h})
	// Beyond capacity and beyond the span, the oldest count for nothing.
	drop := max(len(win.evs)-max(capacity, 1), 0)
	for cut := t - win.span.Microseconds(); drop < len(win.evs) && win.evs[drop].t <= cut; drop++ {
	}
	if drop > 0 {
		win.evs = append(win.evs[:0], win.evs[drop:]...)
	}
}

// count is the number of distinct digests of kind over scopeKey after
// since, up to limit. Exact as long as limit is at most the capacity the
// window was added with: the window keeps the newest capacity distinct
// digests, and those after since are the newest of all.
func (w *windows) count(scopeKey string, kind int32, since time.Time, limit int) int {
	s := since.UnixMicro()
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[windowKey{maphash.String(w.seed, scopeKey), kind}]
	if !ok {
		return 0
	}
	evs := e.Value.(*window).evs
	n := 0
	for i := len(evs) - 1; i >= 0 && evs[i].t > s && n < limit; i-- {
		n++
	}
	return n
}

// sweep forgets the windows whose newest event is older than their span.
func (w *windows) sweep(now time.Time) {
	t := now.UnixMicro()
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, e := range w.m {
		win := e.Value.(*window)
		if n := len(win.evs); n == 0 || win.evs[n-1].t <= t-win.span.Microseconds() {
			w.lru.Remove(e)
			delete(w.m, k)
		}
	}
}

// size is the windows kept and the events they hold.
func (w *windows) size() (windows, events int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.m {
		events += len(e.Value.(*window).evs)
	}
	return len(w.m), events
}

// scoped is an event with the scope its key belongs to (the window's
// capacity and span are its rules').
type scoped struct {
	storage.SignalEvent
	scope Scope
}

package signals

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWindowsAreBounded: however many scopes post, at most max windows are
// kept (the least recently used forgotten first), each holding at most its
// capacity of events; windows past their span are swept. Fails without the
// LRU eviction (windows grow with the scopes) or the capacity cut.
func TestWindowsAreBounded(t *testing.T) {
	w := newWindows(100)
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		// 40 events per scope against a capacity of 30.
		key := "scope-" + strconv.Itoa(i%1000)
		w.add(key, int32(Velocity), "evt-"+strconv.Itoa(i), now, 30, time.Minute)
		w.add(key, int32(Velocity), "evt-b-"+strconv.Itoa(i), now, 30, time.Minute)
		w.add(key, int32(Velocity), "evt-c-"+strconv.Itoa(i), now, 30, time.Minute)
		w.add(key, int32(Velocity), "evt-d-"+strconv.Itoa(i), now, 30, time.Minute)
	}
	for i := range 1000 {
		w.add("busy", int32(Velocity), "evt-"+strconv.Itoa(i), now, 30, time.Minute)
	}
	if n, evs := w.size(); n > 100 || evs > 100*30 {
		t.Fatalf("%d windows with %d events, want at most 100 windows of 30", n, evs)
	}
	// The most recently used are kept, and count up to their capacity.
	if got := w.count("busy", int32(Velocity), now.Add(-time.Second), 30); got != 30 {
		t.Errorf("the busy scope counts %d, want 30", got)
	}
	if got := w.count("scope-999", int32(Velocity), now.Add(-time.Second), 30); got != 4 {
		t.Errorf("a recent scope counts %d, want its 4", got)
	}
	if got := w.count("scope-0", int32(Velocity), now.Add(-time.Second), 30); got != 0 {
		t.Errorf("a scope used least recently counts %d, want 0 (forgotten)", got)
	}
	w.sweep(now.Add(time.Minute))
	if n, evs := w.size(); n != 0 || evs != 0 {
		t.Errorf("after the span: %d windows, %d events, want none", n, evs)
	}
}

// TestWindowCountsDistinctAndSlides: a digest seen again counts once and
// moves to its latest time; count sees only events after since.
func TestWindowCountsDistinctAndSlides(t *testing.T) {
	w := newWindows(0)
	t0 := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	for i, d := range []string{"a", "b", "a", "c", "a"} {
		w.add("k", int32(CardTesting), d, t0.Add(time.Duration(i)*time.Minute), 10, time.Hour)
	}
	if got := w.count("k", int32(CardTesting), t0.Add(-time.Second), 10); got != 3 {
		t.Errorf("distinct: %d, want 3", got)
	}
	// After minute 2: b (1) is out, c (3) and a (4) are in.
	if got := w.count("k", int32(CardTesting), t0.Add(2*time.Minute), 10); got != 2 {
		t.Errorf("after since: %d, want 2", got)
	}
	if got := w.count("k", int32(CardTesting), t0.Add(-time.Second), 2); got != 2 {
		t.Errorf("capped: %d, want 2", got)
	}
	if got := w.count("k", int32(Velocity), t0.Add(-time.Second), 10); got != 0 {
		t.Errorf("another kind: %d, want 0", got)
	}
}

// BenchmarkWindowMemory reports the heap one in-memory window holds at its
// smallest (one event, as a visitor's first message leaves it) and so what
// DefaultMaxWindows bounds the windows to: bytes/window × the bound. The
// soak's conversation RSS is read against it (docs/benchmarks.md).
func BenchmarkWindowMemory(b *testing.B) {
	const n = 100_000
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	keys := make([]string, n)
	for i := range keys {
		// Scope keys are hex HMAC-SHA256 digests: 64 characters.
		keys[i] = fmt.Sprintf("%064x", i)
	}
	var perWindow float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w := newWindows(n)
		for _, k := range keys {
			// A fresh copy, as each message's digest is: the window keeps it.
			w.add(strings.Clone(k), int32(Velocity), "evt", now, 30, time.Minute)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perWindow = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(w)
	}
	b.ReportMetric(perWindow, "B/window")
	b.ReportMetric(perWindow*DefaultMaxWindows/(1<<20), "MiB-at-bound")
}

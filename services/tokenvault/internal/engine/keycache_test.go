package engine

import (
	"slices"
	"testing"
	"time"
)

// TestKeyCacheExpiresByTheEngineClock: entries live ttl on the injected
// clock, not the wall clock; a sweep drops expired entries from memory; the
// size bound evicts the least recently used.
func TestKeyCacheExpiresByTheEngineClock(t *testing.T) {
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // long past, by the wall clock
	c := newKeyCache[int](2, time.Minute, func() time.Time { return now })
	c.Add("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("fresh entry: %d %v", v, ok)
	}
	now = now.Add(59 * time.Second)
	c.Add("b", 2)
	if !c.Contains("a") {
		t.Fatal("entry gone before its TTL")
	}
	now = now.Add(time.Second)
	if c.Contains("a") {
		t.Fatal("entry still served at its TTL")
	}
	now = now.Add(59 * time.Second)
	c.Add("c", 3)
	c.sweep() // b expires now; c is fresh
	if got := c.Keys(); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("keys after sweep: %q, want %q", got, []string{"c"})
	}
	c.Add("d", 4)
	c.Get("c")
	c.Add("e", 5) // evicts d, the least recently used
	if got := c.Keys(); !slices.Equal(got, []string{"c", "e"}) {
		t.Fatalf("keys after eviction: %q, want %q", got, []string{"c", "e"})
	}
	c.RemovePrefix("e")
	if got := c.Keys(); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("keys after RemovePrefix: %q, want %q", got, []string{"c"})
	}
}

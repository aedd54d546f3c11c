package grpcedge

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterPerKey: each key has its own bucket, with its own quota.
func TestLimiterPerKey(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(100, func(k string) Quota {
		if k == "big" {
			return Quota{PerSecond: 1, Burst: 3}
		}
		return Quota{PerSecond: 1, Burst: 1}
	})
	for _, k := range []string{"a", "b", "big", "big", "big"} {
		if ok, _ := l.allow(k, now); !ok {
			t.Fatalf("%s refused within its burst", k)
		}
	}
	for _, k := range []string{"a", "big"} {
		ok, wait := l.allow(k, now)
		if ok || wait <= 0 || wait > time.Second {
			t.Fatalf("%s over its burst: allowed %v, wait %v", k, ok, wait)
		}
	}
	// A second later each has one call again.
	if ok, _ := l.allow("a", now.Add(time.Second)); !ok {
		t.Fatal("no refill")
	}
}

// TestLimiterMemoryIsBounded: a flood of keys keeps at most maxEntries
// buckets; keys that find no room share one strict overflow bucket, and
// idle buckets make room again.
func TestLimiterMemoryIsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(10, func(string) Quota { return Quota{PerSecond: 1, Burst: 1} })
	allowed := 0
	for i := range 1000 {
		if ok, _ := l.allow(fmt.Sprintf("k%d", i), now); ok {
			allowed++
		}
	}
	if n := l.size(); n != 10 {
		t.Fatalf("%d buckets kept, want 10", n)
	}
	// 10 own buckets plus the overflow's one call: fresh keys buy no more.
	if allowed != 11 {
		t.Fatalf("%d of 1000 fresh keys allowed, want 11", allowed)
	}
	// Once the buckets have refilled they are forgotten for new keys.
	later := now.Add(time.Minute)
	if ok, _ := l.allow("fresh", later); !ok {
		t.Fatal("a new key was refused after the others went idle")
	}
	if n := l.size(); n != 1 {
		t.Fatalf("%d buckets after eviction, want 1", n)
	}
}

package ratelimit

import (
	"testing"
	"time"
)

// TestBurstThenPaced: the short bucket lets the burst through, then asks
// to wait one token's interval; spending nothing while refused.
func TestBurstThenPaced(t *testing.T) {
	l := New(Config{Rate: Rate{PerSecond: 10, Burst: 100}})
	now := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		if _, ok := l.Take(now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	wait, ok := l.Take(now)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("over the burst: ok=%v wait=%v, want refused for 100ms", ok, wait)
	}
	// A refusal spent nothing: the next token is due after one interval.
	if _, ok := l.Take(now.Add(100 * time.Millisecond)); !ok {
		t.Fatal("a token due after one interval was refused")
	}
	if _, ok := l.Take(now.Add(100 * time.Millisecond)); ok {
		t.Fatal("two requests allowed for one interval's token")
	}
}

// TestDailyAllocation: under a daily allocation, the short bucket cannot
// spend more than the day allows.
func TestDailyAllocation(t *testing.T) {
	l := New(Config{Rate: Rate{PerSecond: 1000, Burst: 1000}, Daily: 50})
	now := time.Unix(1_800_000_000, 0)
	for i := range 50 {
		if _, ok := l.Take(now); !ok {
			t.Fatalf("request %d of the day's 50 refused", i+1)
		}
	}
	wait, ok := l.Take(now)
	if ok || wait != 24*time.Hour/50 {
		t.Fatalf("the 51st request of the day: ok=%v wait=%v, want refused for about 24h/50", ok, wait)
	}
}

// TestReplicasDivide: with 4 replicas each takes a quarter.
func TestReplicasDivide(t *testing.T) {
	l := New(Config{Rate: Rate{PerSecond: 10, Burst: 100}, Replicas: 4})
	now := time.Unix(1_800_000_000, 0)
	n := 0
	for {
		if _, ok := l.Take(now); !ok {
			break
		}
		n++
	}
	if n != 25 {
		t.Fatalf("a replica's burst = %d, want 25", n)
	}
}

func TestNilAllows(t *testing.T) {
	var l *Limiter
	if _, ok := l.Take(time.Now()); !ok {
		t.Fatal("no limiter refused")
	}
}

package throttle

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBucketPerSource(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	l := New(Config{Rate: 1, Burst: 3, Window: time.Minute, Threshold: 5, Penalty: 10, Now: c.now}, nil)
	for i := range 3 {
		if ok, _ := l.Allow("1.2.3.4"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, retry := l.Allow("1.2.3.4")
	if ok || retry <= 0 || retry > time.Second {
		t.Fatalf("4th attempt: ok=%v retry=%v, want refused with a delay up to 1s", ok, retry)
	}
	// Another source has its own bucket.
	if ok, _ := l.Allow("5.6.7.8"); !ok {
		t.Fatal("another source was refused")
	}
	c.t = c.t.Add(time.Second)
	if ok, _ := l.Allow("1.2.3.4"); !ok {
		t.Fatal("refused after the bucket refilled")
	}
}

// TestStuffingSignal: failures against many accounts from one source raise
// the signal once per window and slow the source; failures against one
// account (a user mistyping) do not.
func TestStuffingSignal(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	var signals []string
	l := New(Config{Rate: 1, Burst: 100, Window: time.Minute, Threshold: 5, Penalty: 10, Now: c.now},
		func(src string, n int) { signals = append(signals, fmt.Sprintf("%s:%d", src, n)) })
	for range 20 {
		if l.Failure("9.9.9.9", "det_same") {
			t.Fatal("one account's failures raised the signal")
		}
	}
	for i := range 4 {
		l.Failure("1.1.1.1", fmt.Sprintf("det_%d", i))
	}
	if len(signals) != 0 || l.Flagged("1.1.1.1") {
		t.Fatal("signal below the threshold")
	}
	if !l.Failure("1.1.1.1", "det_4") {
		t.Fatal("5 accounts did not raise the signal")
	}
	l.Failure("1.1.1.1", "det_5")
	if len(signals) != 1 || signals[0] != "1.1.1.1:5" {
		t.Fatalf("signals = %v, want one", signals)
	}
	// The flagged source gets one attempt, then waits 10 s (rate/10).
	if ok, _ := l.Allow("1.1.1.1"); !ok {
		t.Fatal("flagged source got no attempt")
	}
	if ok, retry := l.Allow("1.1.1.1"); ok || retry < 9*time.Second {
		t.Fatalf("flagged source: ok=%v retry=%v, want refused ~10s", ok, retry)
	}
	if ok, _ := l.Allow("9.9.9.9"); !ok {
		t.Fatal("an unflagged source was slowed")
	}
	// After the window, the penalty ends and the bucket is whole again.
	c.t = c.t.Add(time.Minute + time.Second)
	if l.Flagged("1.1.1.1") {
		t.Fatal("still flagged after the window")
	}
	for i := range 50 {
		if ok, _ := l.Allow("1.1.1.1"); !ok {
			t.Fatalf("attempt %d refused after the penalty", i)
		}
	}
}

// TestIPv6GroupedBySlash64: the addresses of one /64 share a bucket (a
// host rotating through its /64 gets no fresh attempts), another /64 and
// IPv4 addresses do not. Fails if sources are keyed by the full address.
func TestIPv6GroupedBySlash64(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	l := New(Config{Rate: 1, Burst: 3, Window: time.Minute, Threshold: 5, Penalty: 10, Now: c.now}, nil)
	for i := range 3 {
		if ok, _ := l.Allow(fmt.Sprintf("2001:db8:1:2::%x", i+1)); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if ok, _ := l.Allow("2001:db8:1:2:ffff:ffff:ffff:ffff"); ok {
		t.Fatal("a fresh address of the same /64 got a fresh bucket")
	}
	if ok, _ := l.Allow("2001:db8:1:3::1"); !ok {
		t.Fatal("another /64 was refused")
	}
	for in, want := range map[string]string{
		"2001:db8:1:2:aaaa::1": "2001:db8:1:2::/64",
		"2001:DB8:1:2::1%eth0": "2001:db8:1:2::/64",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"192.0.2.1":            "192.0.2.1",
		"gateway":              "gateway",
	} {
		if got := SourceKey(in); got != want {
			t.Errorf("SourceKey(%q) = %q; want %q", in, got, want)
		}
	}
}

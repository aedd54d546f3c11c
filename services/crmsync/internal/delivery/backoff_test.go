package delivery

import (
	"testing"
	"time"
)

// TestBackoffDoublesUpToTheCeiling: attempt n waits between half and all of
// min(ceiling, 1 s·2ⁿ⁻¹); a late attempt waits no longer than the ceiling
// (SOTTO_CRMSYNC_RETRY_BACKOFF_MAX), not the 10-minute default.
func TestBackoffDoublesUpToTheCeiling(t *testing.T) {
	cases := []struct {
		attempt int
		ceiling time.Duration
		full    time.Duration
	}{
		{1, 10 * time.Minute, time.Second},
		{4, 10 * time.Minute, 8 * time.Second},
		{12, 10 * time.Minute, 10 * time.Minute},
		{12, 4 * time.Second, 4 * time.Second},
		{64, 4 * time.Second, 4 * time.Second}, // the shift saturates, no overflow
	}
	for _, c := range cases {
		for range 50 {
			if got := backoff(c.attempt, c.ceiling); got < c.full/2 || got > c.full {
				t.Fatalf("backoff(%d, %v) = %v, want within [%v, %v]", c.attempt, c.ceiling, got, c.full/2, c.full)
			}
		}
	}
}

// TestBackoffCapBelowTheFirstRetryIsRefused: a cap under a second would
// spend every attempt within seconds (dead-lettering through a short CRM
// outage): the service refuses to start with it.
func TestBackoffCapBelowTheFirstRetryIsRefused(t *testing.T) {
	for _, c := range []time.Duration{time.Nanosecond, 500 * time.Millisecond, -time.Second} {
		if _, err := New(Deps{RetryBackoffMax: c}); err == nil {
			t.Errorf("RetryBackoffMax %v accepted, want an error", c)
		}
	}
}

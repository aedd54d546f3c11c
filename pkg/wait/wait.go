// Package wait is for tests that wait on effects they cannot join: another
// process, a goroutine behind an API, a replica taking over. It polls a
// condition, soon at first and then less often, and fails the test after
// a bound so generous that only a real failure reaches it: no assertion
// depends on how fast the condition comes true.
package wait

import (
	"testing"
	"time"
)

// Bound is how long For waits before it fails the test.
const Bound = 90 * time.Second

// Polling starts at minPoll and doubles up to maxPoll, so a cheap
// condition is seen at once and an expensive one (HTTP calls to other
// processes) is not run in a tight loop.
const (
	minPoll = 5 * time.Millisecond
	maxPoll = 200 * time.Millisecond
)

// For waits until cond holds, or fails t with "never: what" after Bound.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	within(t, Bound, what, cond)
}

func within(t testing.TB, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	poll := minPoll
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(poll)
		poll = min(2*poll, maxPoll)
	}
}

package wait

import (
	"sync/atomic"
	"testing"
	"time"
)

// fatalRecorder stands in for a test that must fail: Fatalf records and
// ends the goroutine as testing's does.
type fatalRecorder struct {
	testing.TB
	failed atomic.Bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(string, ...any) {
	f.failed.Store(true)
	panic(f)
}

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	For(t, "the third poll", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("polled %d times, want 3", n)
	}
}

func TestForFailsTheTestWhenTheConditionNeverHolds(t *testing.T) {
	f := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != f {
				panic(r)
			}
		}()
		within(f, 50*time.Millisecond, "nothing", func() bool { return false })
	}()
	if !f.failed.Load() {
		t.Fatal("For returned for a condition that never held")
	}
}

package groupcommit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of the batching itself, each against a reference: a
// hand-written loop over a channel with one long-lived goroutine, as the
// users of this package had before. The commit does no work but use about
// 64 KiB of stack, as a database driver's call chain does (a flusher that
// started afresh for each commit would pay to grow its stack every time),
// and, with many callers, wait as long as a durable commit takes, so that
// batches form as they do in production.

//go:noinline
func useStack(depth int) byte {
	var frame [512]byte
	frame[depth%len(frame)] = byte(depth)
	if depth == 0 {
		return frame[0]
	}
	return useStack(depth-1) + frame[depth%len(frame)]
}

var commits atomic.Int64

func deepCommit(_ context.Context, batch []int) ([]Result[int], error) {
	commits.Add(1)
	useStack(120)
	return make([]Result[int], len(batch)), nil
}

// slowCommit waits about as long as an fsync'd commit on this machine.
func slowCommit(ctx context.Context, batch []int) ([]Result[int], error) {
	time.Sleep(200 * time.Microsecond)
	return deepCommit(ctx, batch)
}

// chanLoop is the reference: one goroutine receiving jobs from a channel
// and committing whatever else is already waiting with them.
type chanLoop struct{ queue chan *refJob }

type refJob struct {
	v    int
	done chan error
}

func startChanLoop(b *testing.B, commit CommitFunc[int, int]) *chanLoop {
	l := &chanLoop{queue: make(chan *refJob, 1024)}
	go func() {
		for j := range l.queue {
			batch := []*refJob{j}
		gather:
			for {
				select {
				case k := <-l.queue:
					batch = append(batch, k)
				default:
					break gather
				}
			}
			ins := make([]int, len(batch))
			for i, j := range batch {
				ins[i] = j.v
			}
			_, err := commit(context.Background(), ins)
			for _, j := range batch {
				j.done <- err
			}
		}
	}()
	b.Cleanup(func() { close(l.queue) })
	return l
}

func (l *chanLoop) submit(v int) error {
	j := &refJob{v: v, done: make(chan error, 1)}
	l.queue <- j
	return <-j.done
}

// BenchmarkLoneSubmit: one caller, one item per commit: the latency a
// synchronous caller on an idle service sees.
func BenchmarkLoneSubmit(b *testing.B) {
	b.Run("groupcommit", func(b *testing.B) {
		g := New(deepCommit, Options[int]{})
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			if _, err := g.Submit(ctx, i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reference", func(b *testing.B) {
		l := startChanLoop(b, deepCommit)
		for i := 0; i < b.N; i++ {
			if err := l.submit(i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConcurrentSubmit: 64 callers, one item each; items/commit is
// the average batch.
func BenchmarkConcurrentSubmit(b *testing.B) {
	run := func(b *testing.B, submit func(int) error) {
		work := make(chan int, b.N)
		for i := 0; i < b.N; i++ {
			work <- i
		}
		close(work)
		b.ResetTimer()
		commits.Store(0)
		defer func() { b.ReportMetric(float64(b.N)/float64(commits.Load()), "items/commit") }()
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for i := range work {
					if err := submit(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	b.Run("groupcommit", func(b *testing.B) {
		g := New(slowCommit, Options[int]{})
		ctx := context.Background()
		run(b, func(v int) error { _, err := g.Submit(ctx, v); return err })
	})
	b.Run("reference", func(b *testing.B) {
		run(b, startChanLoop(b, slowCommit).submit)
	})
}

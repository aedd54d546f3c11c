package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder is a commit function that keeps every batch it was given and,
// when held, blocks its first commit until released, so tests can line up
// items behind a commit in flight without sleeping.
type recorder struct {
	hold    bool
	entered chan struct{}
	release chan struct{}

	mu      sync.Mutex
	batches [][]int
	calls   int
}

func newHeld() *recorder {
	return &recorder{hold: true, entered: make(chan struct{}), release: make(chan struct{})}
}

func (r *recorder) commit(ctx context.Context, batch []int) ([]Result[int], error) {
	r.mu.Lock()
	r.calls++
	first := r.calls == 1
	r.batches = append(r.batches, slices.Clone(batch))
	r.mu.Unlock()
	if first && r.hold {
		close(r.entered)
		<-r.release
	}
	out := make([]Result[int], len(batch))
	for i, v := range batch {
		if v < 0 {
			out[i].Err = fmt.Errorf("item %d refused", v)
			continue
		}
		out[i].Value = 2 * v
	}
	return out, nil
}

func (r *recorder) seen() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// waitQueued returns once n items wait in b's queue.
func waitQueued[In, Out any](b *Batcher[In, Out], n int) {
	for b.Queued() < n {
		runtime.Gosched()
	}
}

// waitIdle returns once the flusher has found the queue empty.
func waitIdle[In, Out any](b *Batcher[In, Out]) {
	for {
		b.mu.Lock()
		idle := b.idle
		b.mu.Unlock()
		if idle {
			return
		}
		runtime.Gosched()
	}
}

type answer struct {
	v   int
	err error
}

// submitAsync submits v in a goroutine and returns where its answer arrives.
func submitAsync(ctx context.Context, b *Batcher[int, int], v int) chan answer {
	ch := make(chan answer, 1)
	go func() {
		got, err := b.Submit(ctx, v)
		ch <- answer{got, err}
	}()
	return ch
}

// TestEachCallerGetsItsOwnResult: items queued behind a commit in flight go
// out together in the next one, and each submitter gets its own item's value
// or error.
func TestEachCallerGetsItsOwnResult(t *testing.T) {
	r := newHeld()
	b := New(r.commit, Options[int]{})
	ctx := context.Background()
	first := submitAsync(ctx, b, 1)
	<-r.entered
	waiting := map[int]chan answer{}
	for i, v := range []int{10, -11, 12} {
		waiting[v] = submitAsync(ctx, b, v)
		waitQueued(b, i+1)
	}
	close(r.release)
	if a := <-first; a.err != nil || a.v != 2 {
		t.Fatalf("first: %+v, want 2", a)
	}
	for v, ch := range waiting {
		a := <-ch
		switch {
		case v < 0 && (a.err == nil || a.err.Error() != fmt.Sprintf("item %d refused", v)):
			t.Errorf("item %d: %+v, want its own refusal", v, a)
		case v >= 0 && (a.err != nil || a.v != 2*v):
			t.Errorf("item %d: %+v, want %d", v, a, 2*v)
		}
	}
	batches := r.seen()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 3 {
		t.Fatalf("batches %v, want the first alone and then the three queued together", batches)
	}
}

// TestMaxBatchByWeight: a batch takes queued items in order while their
// total weight fits MaxBatch; an item heavier than MaxBatch goes alone.
func TestMaxBatchByWeight(t *testing.T) {
	r := newHeld()
	b := New(r.commit, Options[int]{MaxBatch: 4, Weight: func(v int) int { return v }})
	ctx := context.Background()
	first := submitAsync(ctx, b, 1)
	<-r.entered
	var rest []chan answer
	for i, v := range []int{2, 2, 2, 5, 1} {
		rest = append(rest, submitAsync(ctx, b, v))
		waitQueued(b, i+1)
	}
	close(r.release)
	for _, ch := range append(rest, first) {
		if a := <-ch; a.err != nil {
			t.Fatal(a.err)
		}
	}
	want := [][]int{{1}, {2, 2}, {2}, {5}, {1}}
	if diff := cmp.Diff(want, r.seen()); diff != "" {
		t.Fatalf("batches (-want +got):\n%s", diff)
	}
}

// TestFailedCommitFailsItsBatchOnly: an error from the commit reaches every
// item of that batch, and the next batch commits normally.
func TestFailedCommitFailsItsBatchOnly(t *testing.T) {
	boom := errors.New("boom")
	b := New(func(_ context.Context, batch []int) ([]Result[int], error) {
		if slices.Contains(batch, 13) {
			return nil, boom
		}
		return make([]Result[int], len(batch)), nil
	}, Options[int]{})
	ctx := context.Background()
	if _, err := b.Submit(ctx, 13); !errors.Is(err, boom) {
		t.Fatalf("failed commit: %v, want boom", err)
	}
	if _, err := b.Submit(ctx, 14); err != nil {
		t.Fatalf("next commit: %v", err)
	}
}

// TestWrongResultCountFailsClosed: a commit that answers for fewer items
// than it was given fails them all rather than pairing results with the
// wrong items.
func TestWrongResultCountFailsClosed(t *testing.T) {
	hold, entered := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	b := New(func(_ context.Context, batch []int) ([]Result[int], error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-hold
			return make([]Result[int], len(batch)), nil
		}
		return make([]Result[int], len(batch)-1), nil
	}, Options[int]{})
	ctx := context.Background()
	first := submitAsync(ctx, b, 1)
	<-entered
	a, c := submitAsync(ctx, b, 2), submitAsync(ctx, b, 3)
	waitQueued(b, 2)
	close(hold)
	<-first
	for _, ch := range []chan answer{a, c} {
		if got := <-ch; got.err == nil {
			t.Fatal("an item of a batch answered with too few results was acknowledged")
		}
	}
}

// TestCancelledWhileQueuedIsNotCommitted: a submitter that gives up while
// its item still waits in the queue gets its context's error, and the item
// is never handed to a commit.
func TestCancelledWhileQueuedIsNotCommitted(t *testing.T) {
	r := newHeld()
	b := New(r.commit, Options[int]{})
	first := submitAsync(context.Background(), b, 1)
	<-r.entered
	ctx, cancel := context.WithCancel(context.Background())
	gone := submitAsync(ctx, b, 2)
	waitQueued(b, 1)
	cancel()
	if a := <-gone; !errors.Is(a.err, context.Canceled) {
		t.Fatalf("cancelled submitter: %+v, want context.Canceled", a)
	}
	close(r.release)
	<-first
	waitIdle(b)
	if diff := cmp.Diff([][]int{{1}}, r.seen()); diff != "" {
		t.Fatalf("batches (-want +got): the abandoned item was committed\n%s", diff)
	}
}

// TestCancelledWhileCommittingReturnsAtOnce: a submitter whose item is in
// the commit in flight stops waiting when its context ends; the commit goes
// on (the item may still commit: the package's documented contract).
func TestCancelledWhileCommittingReturnsAtOnce(t *testing.T) {
	r := newHeld()
	b := New(r.commit, Options[int]{})
	ctx, cancel := context.WithCancel(context.Background())
	a := submitAsync(ctx, b, 1)
	<-r.entered
	cancel()
	if got := <-a; !errors.Is(got.err, context.Canceled) {
		t.Fatalf("cancelled during its commit: %+v, want context.Canceled", got)
	}
	close(r.release)
	waitIdle(b)
	if diff := cmp.Diff([][]int{{1}}, r.seen()); diff != "" {
		t.Fatalf("batches (-want +got):\n%s", diff)
	}
}

// TestRunStopsAndDrains: when Run's context ends, the commit in flight sees
// its context cancelled, queued submitters get ErrStopped, later Submits
// fail at once, and Run returns only after the commit did.
func TestRunStopsAndDrains(t *testing.T) {
	entered, finish := make(chan struct{}), make(chan struct{})
	var committed [][]int
	var returned atomic.Bool
	b := New(func(ctx context.Context, batch []int) ([]Result[int], error) {
		committed = append(committed, slices.Clone(batch))
		close(entered)
		<-ctx.Done()
		<-finish
		returned.Store(true)
		return nil, ctx.Err()
	}, Options[int]{})
	runCtx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- b.Run(runCtx) }()

	ctx := context.Background()
	inFlight := submitAsync(ctx, b, 1)
	<-entered
	queued := submitAsync(ctx, b, 2)
	waitQueued(b, 1)
	stop()
	if a := <-queued; !errors.Is(a.err, ErrStopped) {
		t.Fatalf("queued at shutdown: %+v, want ErrStopped", a)
	}
	if _, err := b.Submit(ctx, 3); !errors.Is(err, ErrStopped) {
		t.Fatalf("submitted after shutdown: %v, want ErrStopped", err)
	}
	select {
	case <-runDone:
		t.Fatal("Run returned while a commit was still running")
	default:
	}
	close(finish)
	if err := <-runDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !returned.Load() {
		t.Fatal("Run returned before the commit in flight")
	}
	if a := <-inFlight; !errors.Is(a.err, context.Canceled) {
		t.Fatalf("in flight at shutdown: %+v, want the cancelled commit's error", a)
	}
	if diff := cmp.Diff([][]int{{1}}, committed); diff != "" {
		t.Fatalf("batches (-want +got):\n%s", diff)
	}
}

// TestConcurrentSubmitters: many submitters at once (run with -race): each
// gets the answer for its own item, every item is committed exactly once,
// commits never overlap and batches respect MaxBatch.
func TestConcurrentSubmitters(t *testing.T) {
	const maxBatch = 10
	var running atomic.Int32
	var overlap, oversize atomic.Bool
	var mu sync.Mutex
	count := map[int]int{}
	b := New(func(_ context.Context, batch []int) ([]Result[int], error) {
		if running.Add(1) != 1 {
			overlap.Store(true)
		}
		defer running.Add(-1)
		weight := 0
		out := make([]Result[int], len(batch))
		mu.Lock()
		for i, v := range batch {
			weight += v%3 + 1
			count[v]++
			out[i].Value = -v
		}
		mu.Unlock()
		if len(batch) > 1 && weight > maxBatch {
			oversize.Store(true)
		}
		return out, nil
	}, Options[int]{MaxBatch: maxBatch, Weight: func(v int) int { return v%3 + 1 }})

	const workers, per = 16, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				v := w*per + i
				got, err := b.Submit(context.Background(), v)
				if err != nil || got != -v {
					t.Errorf("item %d: %d, %v; want %d", v, got, err, -v)
					return
				}
			}
		})
	}
	wg.Wait()
	if overlap.Load() {
		t.Error("two commits ran at once")
	}
	if oversize.Load() {
		t.Error("a batch of several items exceeded MaxBatch")
	}
	if len(count) != workers*per {
		t.Errorf("%d distinct items committed, want %d", len(count), workers*per)
	}
	for v, n := range count {
		if n != 1 {
			t.Errorf("item %d committed %d times", v, n)
		}
	}
}

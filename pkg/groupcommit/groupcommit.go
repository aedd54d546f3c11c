// Package groupcommit shares one commit among concurrent callers (group
// commit). Each caller submits one item and waits for that item's own
// result; one flusher at a time commits whatever has queued as a batch, so
// items that arrive while a commit is in flight go out together in the next
// one. A commit that costs the same for one item as for fifty (a database
// transaction, an RPC) then costs each caller a fraction of it, and the
// single flusher is also a single writer: commits never overlap.
//
// It is hand-written: the batching libraries on the module proxy (the
// OpenTelemetry batch processors, for instance) batch fire-and-forget
// telemetry and give no caller a result of its own.
//
// # Design
//
// The first Submit starts the flusher goroutine. It commits batch after
// batch until the queue is empty, then parks until the next Submit wakes it.
// A lone caller is therefore committed at once, and no batch waits for a
// timer: the batch size follows the load, since the queue fills while the
// previous commit runs. The flusher stays for the Batcher's life rather than
// exiting when idle: a fresh goroutine starts on a small stack and grows it
// again, by copying, through the commit's call chain (database drivers run
// deep), which cost a lone caller tens of microseconds per commit
// (BenchmarkLoneSubmit). (There is no linger option:
// every submitter here waits for its answer, and a linger would add its full
// length to a lone caller's latency. It pays where nobody waits, as in the
// audit outbox's relay.)
//
// Run is only the shutdown hook: items commit whether or not it runs. When
// Run's context ends, queued items fail with ErrStopped, the commit in
// flight sees its context cancelled, later Submits fail at once, and Run
// returns once no commit is running. Nothing is dropped silently: every
// Submit returns either the commit's answer for its item or an error.
//
// # Cancellation
//
// A submitter whose context ends stops waiting and gets the context's
// error. If its item had not yet been taken for a commit, it never will be;
// if it had, it may still commit. Callers must treat a failed Submit as
// "maybe committed", which all current users do: the audit log deduplicates
// by event ID, tokenvault never acknowledged the tokens of a failed write,
// and a caller whose audit record failed refuses its operation.
//
// # Users
//
// The audit ledger's sequencer (services/audit/internal/ledger), the
// tokenvault writer (services/tokenvault/internal/engine) and the audit
// client's synchronous Record (pkg/auditclient). Their special behaviour
// lives in their commit functions: the ledger's compare-and-set retry,
// tokenvault's savepoint-per-job fallback, the client's per-caller retry of
// a refused batch.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrStopped is the error of an item that was still queued when the Batcher
// stopped, or was submitted after it had.
var ErrStopped = errors.New("groupcommit: stopped")

// Result is one item's outcome.
type Result[Out any] struct {
	Value Out
	Err   error
}

// CommitFunc commits one batch. It returns one Result per item, in the
// order of batch, or an error that fails every item of the batch. It is
// never called concurrently with itself. ctx is cancelled when the Batcher
// stops; the submitters' own contexts are not part of it (a batch serves
// several), so a commit that needs them must carry them in In.
type CommitFunc[In, Out any] func(ctx context.Context, batch []In) ([]Result[Out], error)

// Options tune batching.
type Options[In any] struct {
	// MaxBatch bounds the total weight of a batch; 0 means no bound. An
	// item heavier than MaxBatch on its own is committed alone.
	MaxBatch int
	// Weight is an item's share of MaxBatch (rows, events); nil counts
	// every item as 1.
	Weight func(In) int
}

// Batcher groups submitted items into commits.
type Batcher[In, Out any] struct {
	commit CommitFunc[In, Out]
	opts   Options[In]

	ctx    context.Context // the commits' context
	cancel context.CancelFunc

	wake    chan struct{} // to the flusher, when it is idle and items arrive
	mu      sync.Mutex
	queue   []*call[In, Out]
	started bool // the flusher goroutine was started
	idle    bool // the flusher waits for wake
	stopped bool
	flusher sync.WaitGroup
}

type call[In, Out any] struct {
	ctx    context.Context
	in     In
	weight int
	res    Result[Out]
	done   chan struct{}
}

func (c *call[In, Out]) finish(r Result[Out]) {
	c.res = r
	close(c.done)
}

// New returns a Batcher that commits with commit.
func New[In, Out any](commit CommitFunc[In, Out], opts Options[In]) *Batcher[In, Out] {
	ctx, cancel := context.WithCancel(context.Background())
	return &Batcher[In, Out]{commit: commit, opts: opts, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
}

// Submit queues in for the next commit and waits for its result. See the
// package doc for what a context that ends while waiting means.
func (b *Batcher[In, Out]) Submit(ctx context.Context, in In) (Out, error) {
	var zero Out
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c := &call[In, Out]{ctx: ctx, in: in, weight: 1, done: make(chan struct{})}
	if b.opts.Weight != nil {
		c.weight = b.opts.Weight(in)
	}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return zero, ErrStopped
	}
	b.queue = append(b.queue, c)
	wake := b.idle
	b.idle = false
	if !b.started {
		b.started = true
		b.flusher.Add(1)
		// A goroutine rather than this caller: it waits for its own result
		// only, not for the batches of those who queued after it.
		go b.flush()
	}
	b.mu.Unlock()
	if wake {
		b.wake <- struct{}{} // never blocks: one send per idle spell, into a buffer of one
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		select {
		case <-c.done: // the answer is there too: better than none
		default:
			return zero, ctx.Err()
		}
	}
	return c.res.Value, c.res.Err
}

// Queued is the number of items waiting for a commit, not counting the
// batch in flight.
func (b *Batcher[In, Out]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// Run waits until ctx ends, then stops the Batcher (see the package doc).
// It returns nil once no commit is running.
func (b *Batcher[In, Out]) Run(ctx context.Context) error {
	<-ctx.Done()
	b.mu.Lock()
	b.stopped = true
	queued := b.queue
	b.queue = nil
	b.mu.Unlock()
	b.cancel()
	for _, c := range queued {
		c.finish(Result[Out]{Err: ErrStopped})
	}
	b.flusher.Wait()
	return nil
}

// flush commits batches whenever items are queued, until the Batcher stops.
func (b *Batcher[In, Out]) flush() {
	defer b.flusher.Done()
	for {
		b.mu.Lock()
		batch := b.take()
		if len(batch) == 0 {
			b.idle = true
		}
		b.mu.Unlock()
		if len(batch) > 0 {
			b.commitBatch(batch)
			continue
		}
		select {
		case <-b.wake:
		case <-b.ctx.Done():
			return
		}
	}
}

// take removes the next batch from the queue: items in order while their
// total weight stays within MaxBatch, and always at least one. b.mu is held.
func (b *Batcher[In, Out]) take() []*call[In, Out] {
	n, weight := 0, 0
	for n < len(b.queue) {
		w := b.queue[n].weight
		if n > 0 && b.opts.MaxBatch > 0 && weight+w > b.opts.MaxBatch {
			break
		}
		weight += w
		n++
	}
	batch := b.queue[:n:n]
	if n == len(b.queue) {
		b.queue = nil
	} else {
		b.queue = b.queue[n:]
	}
	return batch
}

// commitBatch commits the items whose submitters still wait and hands each
// its result.
func (b *Batcher[In, Out]) commitBatch(batch []*call[In, Out]) {
	live := make([]*call[In, Out], 0, len(batch))
	ins := make([]In, 0, len(batch))
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			// Its submitter has gone: committing it now would only do work
			// nobody is told about.
			c.finish(Result[Out]{Err: err})
			continue
		}
		live = append(live, c)
		ins = append(ins, c.in)
	}
	if len(live) == 0 {
		return
	}
	results, err := b.commit(b.ctx, ins)
	if err == nil && len(results) != len(live) {
		// Fail closed: a result cannot be matched to its item.
		err = fmt.Errorf("groupcommit: commit returned %d results for %d items", len(results), len(live))
	}
	for i, c := range live {
		if err != nil {
			c.finish(Result[Out]{Err: err})
		} else {
			c.finish(results[i])
		}
	}
}

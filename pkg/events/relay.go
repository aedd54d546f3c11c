package events

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/logging"
)

// A Queue is what a Relay delivers from: the pending rows of an outbox
// table, or the events after a consumer's cursor.
type Queue[T any] interface {
	// Pending returns up to limit items awaiting delivery, oldest first.
	Pending(ctx context.Context, limit int) ([]T, error)
	// Done records that the destination confirmed items, which are the
	// first len(items) items of the last Pending, in order.
	Done(ctx context.Context, items []T) error
	// SetAside records that the destination refused item for good, so that
	// it is no longer sent and the items behind it are.
	SetAside(ctx context.Context, item T, cause error) error
}

// Deliver sends items to their destination. It returns nil only when the
// destination confirmed exactly these items; an answer for other items, or
// for fewer, must be an error.
type Deliver[T any] func(ctx context.Context, items []T) error

// RelayOptions tune a Relay; zero values take the defaults.
type RelayOptions struct {
	// Name identifies the relay in logs ("component").
	Name string
	// Batch is the most items delivered in one call (default 500).
	Batch int
	// Interval is how often an idle relay looks for items (default 1 s).
	Interval time.Duration
	// MaxBackoff bounds the wait between attempts while delivery fails
	// (default 30 s).
	MaxBackoff time.Duration
	// Linger is how long a woken relay waits for more commits to join the
	// same delivery (default 20 ms).
	Linger time.Duration
	// Refused tells a destination's "never" (the item is malformed or
	// conflicts) from "not now". Default: gRPC InvalidArgument.
	Refused func(error) bool
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Relay moves items from a Queue to a destination at least once: an item
// counts as delivered only after the destination confirmed it, so a crash
// in between sends it again, and the destination deduplicates by ID. An item
// the destination refuses is set aside (kept, logged, no longer sent) so
// that it cannot hold up every item behind it.
//
// The audit outbox (pkg/auditclient) and event consumers (Outbox.Relay) are
// both Relays: the loop, the batching and the set-aside are written once.
type Relay[T any] struct {
	q       Queue[T]
	deliver Deliver[T]
	opts    RelayOptions
	wake    chan struct{}
}

// NewRelay relays from q through deliver.
func NewRelay[T any](q Queue[T], deliver Deliver[T], opts RelayOptions) *Relay[T] {
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Linger <= 0 {
		opts.Linger = 20 * time.Millisecond
	}
	if opts.Refused == nil {
		opts.Refused = func(err error) bool { return status.Code(err) == codes.InvalidArgument }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Relay[T]{q: q, deliver: deliver, opts: opts, wake: make(chan struct{}, 1)}
}

// Notify asks the relay to run now rather than at its next tick (call it
// after committing a transaction that added items).
func (r *Relay[T]) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Flush relays one batch and returns how many items were delivered. The
// error is the destination's (not refused) or the queue's; what was
// delivered before it stays delivered.
func (r *Relay[T]) Flush(ctx context.Context) (int, error) {
	delivered, _, err := r.flush(ctx)
	return delivered, err
}

// flush also returns how many items left the queue (delivered or set
// aside), which tells Run whether more may be waiting.
func (r *Relay[T]) flush(ctx context.Context) (delivered, done int, err error) {
	items, err := r.q.Pending(ctx, r.opts.Batch)
	if err != nil || len(items) == 0 {
		return 0, 0, err
	}
	err = r.deliver(ctx, items)
	if err == nil {
		return len(items), len(items), r.q.Done(ctx, items)
	}
	if !r.opts.Refused(err) {
		return 0, 0, err
	}
	if len(items) == 1 {
		if err := r.q.SetAside(ctx, items[0], err); err != nil {
			return 0, 0, err
		}
		return 0, 1, nil
	}
	// Something in the batch is refused: find it by sending one at a time.
	for _, it := range items {
		err := r.deliver(ctx, []T{it})
		switch {
		case err == nil:
			if err := r.q.Done(ctx, []T{it}); err != nil {
				return delivered, done, err
			}
			delivered++
		case r.opts.Refused(err):
			if err := r.q.SetAside(ctx, it, err); err != nil {
				return delivered, done, err
			}
		default:
			return delivered, done, err
		}
		done++
	}
	return delivered, done, nil
}

// Run relays until ctx is done, backing off while delivery fails.
func (r *Relay[T]) Run(ctx context.Context) error {
	backoff := r.opts.Interval
	for {
		_, done, err := r.flush(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.opts.Logger.Warn("relay failed", "component", r.opts.Name, logging.Err(err))
			backoff = min(backoff*2, r.opts.MaxBackoff)
		case done > 0:
			backoff = r.opts.Interval
			continue // more may be waiting
		default:
			backoff = r.opts.Interval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
			// Let the commits that follow this one join its delivery: one
			// call and one update for many items, not one each.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(r.opts.Linger):
			}
		case <-time.After(backoff):
		}
	}
}

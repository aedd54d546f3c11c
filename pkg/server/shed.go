package server

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

// ReasonOverloaded refuses a call the service had no room for: it answered
// as many calls as it may at once and none finished within QueueWait, or
// the call's caller already ran its share of a room running short and
// none of its own finished within QueueWait.
// Nothing of the call was done; it may be retried after
// retry_after_seconds.
const ReasonOverloaded = "OVERLOADED"

// Load shedding. Offered more calls than it can answer, a service that
// takes them all answers none in time: every call queues behind the others
// (for the one SQLite writer, the vault, the CPU), the callers' deadlines
// pass while the work is still being done, and the work done for callers
// that gave up is wasted. The chat load at 1,000 messages/s offered to a
// path that carries ~650 answered 306 a second and timed the rest out
// (docs/benchmarks.md). So a service answers at most MaxInFlightPerCPU ×
// GOMAXPROCS unary calls at once; a call that finds no room waits at most QueueWait for
// one, and is otherwise refused at once with Unavailable OVERLOADED, which
// costs next to nothing and tells the caller to come back (the gateway
// relays it as 503 with Retry-After). The wait is bounded in time, not in
// places in line, so the queue's delay stays bounded whatever the load.
//
// Streams are not counted (a Watch lives for minutes and does its work when
// events arrive), nor are health checks: a loaded replica is still alive,
// and failing its probes would move its load onto the others.
//
// A method that bounds its own concurrency (identity's password hashing,
// with its own queue and PASSWORD_HASH_BUSY) is exempt (WithShedExempt):
// counted here, a flood of it would hold every slot while it waits for its
// own, and refuse the service's other methods (a credential-stuffing run
// would stop visitor sessions and key lookups).
//
// Callers share the room fairly when it runs short: a calling workload
// (its mTLS identity) that already runs a quarter of the slots gets
// another only while more than a quarter of them are free; past that its
// calls wait, as calls do when the room is full. One caller alone may run
// three quarters, and a flood from one (a compromised or runaway service
// filling tokenvault's or audit's room) waits and is refused past its
// queue wait, leaving a quarter for the others. A freed slot goes to the
// waiting caller that runs the fewest, each caller's calls in turn; at
// most as many of one caller's calls wait as the room holds.
type shedder struct {
	wait   time.Duration
	exempt map[string]bool
	shed   metric.Int64Counter

	max, share int // share: a caller's running calls past which it must leave a share free
	mu         sync.Mutex
	running    int
	held       map[string]int       // caller → calls it runs
	queued     map[string][]*waiter // caller → its calls waiting for room, oldest first
}

// waiter is a call waiting for room; ready is closed when it is given a
// slot.
type waiter struct{ ready chan struct{} }

// newShedder admits limit calls at once (limit <= 0: no limit, nil), other
// than those of the exempt methods.
func newShedder(limit int, wait time.Duration, exempt map[string]bool, meter metric.Meter) (*shedder, error) {
	if limit <= 0 {
		return nil, nil
	}
	shed, err := meter.Int64Counter("sotto.server.shed",
		metric.WithDescription("Unary calls refused with OVERLOADED because the service answered as many as it may at once"),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, err
	}
	return &shedder{wait: wait, exempt: exempt, shed: shed, max: limit, share: max(1, limit/4),
		held: map[string]int{}, queued: map[string][]*waiter{}}, nil
}

func (s *shedder) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if s == nil || isHealthCheck(info.FullMethod) || s.exempt[info.FullMethod] {
			return handler(ctx, req)
		}
		caller := callerOf(ctx)
		if err := s.acquire(ctx, caller, info.FullMethod); err != nil {
			return nil, err
		}
		defer s.release(caller)
		return handler(ctx, req)
	}
}

// admissible says whether caller may run another call now. s.mu is held.
func (s *shedder) admissible(caller string) bool {
	return s.running < s.max && (s.held[caller] < s.share || s.max-s.running > s.share)
}

// take gives caller a slot. s.mu is held.
func (s *shedder) take(caller string) {
	s.held[caller]++
	s.running++
}

// acquire takes a slot for a call of caller, waiting at most s.wait for
// one. A caller's calls run in the order they came: one with calls
// already waiting waits behind them.
func (s *shedder) acquire(ctx context.Context, caller, method string) error {
	s.mu.Lock()
	if len(s.queued[caller]) == 0 && s.admissible(caller) {
		s.take(caller)
		s.mu.Unlock()
		return nil
	}
	if len(s.queued[caller]) >= s.max {
		// As many of this caller's calls wait as the room holds: a flood
		// is refused at once, not kept (goroutines, requests) for the wait.
		s.mu.Unlock()
		s.refused(ctx, method)
		return overloaded(s.wait)
	}
	w := &waiter{ready: make(chan struct{})}
	s.queued[caller] = append(s.queued[caller], w)
	s.mu.Unlock()

	t := time.NewTimer(s.wait)
	defer t.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = status.FromContextError(ctx.Err()).Err()
	case <-t.C:
		err = overloaded(s.wait)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.queued[caller], w)
	if i < 0 {
		return nil // given a slot as the wait ended: it runs (release gives it back)
	}
	s.unqueue(caller, i)
	if status.Code(err) == codes.Unavailable {
		s.refused(ctx, method)
	}
	return err
}

// release gives back caller's slot and hands free slots to waiting calls,
// the waiting caller that runs the fewest first (ties: by name, so that
// the order does not depend on map iteration).
func (s *shedder) release(caller string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[caller]--; s.held[caller] == 0 {
		delete(s.held, caller)
	}
	s.running--
	for {
		next, found := "", false
		for c := range s.queued {
			if !s.admissible(c) {
				continue
			}
			if !found || s.held[c] < s.held[next] || s.held[c] == s.held[next] && c < next {
				next, found = c, true
			}
		}
		if !found {
			return
		}
		w := s.queued[next][0]
		s.unqueue(next, 0)
		s.take(next)
		close(w.ready)
	}
}

// unqueue removes caller's i-th waiting call. s.mu is held.
func (s *shedder) unqueue(caller string, i int) {
	if q := slices.Delete(s.queued[caller], i, i+1); len(q) > 0 {
		s.queued[caller] = q
	} else {
		delete(s.queued, caller)
	}
}

// callerOf is the calling workload (authorization ran before: every call
// here has one).
func callerOf(ctx context.Context) string {
	id, err := mtls.PeerID(ctx)
	if err != nil {
		return ""
	}
	return id.String()
}

func (s *shedder) refused(ctx context.Context, method string) {
	s.shed.Add(ctx, 1, metric.WithAttributes(attribute.String("rpc.method", method)))
}

// overloaded is the refusal: Unavailable (retry is safe: nothing was
// done) with how long to wait, in whole seconds, as identity's throttles
// say it.
func overloaded(wait time.Duration) error {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	st := status.New(codes.Unavailable, "the service is answering as many calls as it can; retry shortly")
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: ReasonOverloaded, Domain: errs.Domain,
		Metadata: map[string]string{"retry_after_seconds": strconv.Itoa(secs)}}); err == nil {
		st = d
	}
	return st.Err()
}

func isHealthCheck(method string) bool {
	return method == grpc_health_v1.Health_Check_FullMethodName || method == grpc_health_v1.Health_List_FullMethodName
}

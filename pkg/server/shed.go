package server

import (
	"context"
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
// the call's caller already held its share of a room running short.
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
// (its mTLS identity) that already has a quarter of the slots, running or
// waiting, gets another only while more than a quarter of them are free.
// One caller alone may use three quarters, and a flood from one (a
// compromised or runaway service filling tokenvault's or audit's room) is
// refused at once past that, leaving a quarter for the others.
type shedder struct {
	slots  chan struct{}
	wait   time.Duration
	exempt map[string]bool
	shed   metric.Int64Counter

	max, share int // share: a caller's slots past which it must leave a share free
	mu         sync.Mutex
	held       map[string]int // caller → slots it runs or waits for
	total      int            // sum of held
}

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
	return &shedder{slots: make(chan struct{}, limit), wait: wait, exempt: exempt, shed: shed,
		max: limit, share: max(1, limit/4), held: map[string]int{}}, nil
}

func (s *shedder) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if s == nil || isHealthCheck(info.FullMethod) || s.exempt[info.FullMethod] {
			return handler(ctx, req)
		}
		caller := callerOf(ctx)
		if !s.enter(caller) {
			s.refused(ctx, info.FullMethod)
			return nil, overloaded(s.wait)
		}
		defer s.leave(caller)
		if err := s.acquire(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		defer func() { <-s.slots }()
		return handler(ctx, req)
	}
}

// enter counts a call of caller, unless the caller has its share already
// and no more than a share of the room is free.
func (s *shedder) enter(caller string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[caller] >= s.share && s.max-s.total <= s.share {
		return false
	}
	s.held[caller]++
	s.total++
	return true
}

func (s *shedder) leave(caller string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[caller]--; s.held[caller] == 0 {
		delete(s.held, caller)
	}
	s.total--
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

// acquire takes a slot, waiting at most s.wait for one.
func (s *shedder) acquire(ctx context.Context, method string) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	case <-t.C:
		s.refused(ctx, method)
		return overloaded(s.wait)
	}
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

package server

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/errs"
)

// ReasonOverloaded refuses a call the service had no room for: it answered
// MaxInFlight calls already and none finished within QueueWait. Nothing
// of the call was done; it may be retried after retry_after_seconds.
const ReasonOverloaded = "OVERLOADED"

// Load shedding. Offered more calls than it can answer, a service that
// takes them all answers none in time: every call queues behind the others
// (for the one SQLite writer, the vault, the CPU), the callers' deadlines
// pass while the work is still being done, and the work done for callers
// that gave up is wasted. The chat load at 1,000 messages/s offered to a
// path that carries ~650 answered 306 a second and timed the rest out
// (docs/benchmarks.md). So a service answers at most MaxInFlight unary
// calls at once; a call that finds no room waits at most QueueWait for
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
type shedder struct {
	slots  chan struct{}
	wait   time.Duration
	exempt map[string]bool
	shed   metric.Int64Counter
}

// newShedder admits max calls at once (max <= 0: no limit, nil), other
// than those of the exempt methods.
func newShedder(max int, wait time.Duration, exempt map[string]bool, meter metric.Meter) (*shedder, error) {
	if max <= 0 {
		return nil, nil
	}
	shed, err := meter.Int64Counter("sotto.server.shed",
		metric.WithDescription("Unary calls refused with OVERLOADED because the service answered as many as it may at once"),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, err
	}
	return &shedder{slots: make(chan struct{}, max), wait: wait, exempt: exempt, shed: shed}, nil
}

func (s *shedder) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if s == nil || isHealthCheck(info.FullMethod) || s.exempt[info.FullMethod] {
			return handler(ctx, req)
		}
		if err := s.acquire(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		defer func() { <-s.slots }()
		return handler(ctx, req)
	}
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
		s.shed.Add(ctx, 1, metric.WithAttributes(attribute.String("rpc.method", method)))
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

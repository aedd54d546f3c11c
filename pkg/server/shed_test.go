package server_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

// heldService holds every call until release is closed (or, one call, a
// send on one), saying on entered that it has one.
type heldService struct {
	testpb.UnimplementedTestServiceServer
	entered chan struct{}
	release chan struct{}
	one     chan struct{}
}

func (s *heldService) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	s.entered <- struct{}{}
	select {
	case <-s.release:
	case <-s.one:
	case <-ctx.Done():
	}
	return &testpb.SimpleResponse{}, nil
}

// EmptyCall answers at once.
func (s *heldService) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

// shedding is a heldService served with room for 4 calls per CPU (max; a
// caller's share is a quarter of it), reached by three workloads.
type shedding struct {
	client, other, third testpb.TestServiceClient
	health               healthpb.HealthClient
	svc                  *heldService
	max, share           int
}

func startShedding(t *testing.T, wait time.Duration, opts ...server.Option) shedding {
	t.Helper()
	pki := servertest.NewPKI(t)
	cfg := pki.Config(t, "svc")
	cfg.MaxInFlightPerCPU, cfg.QueueWait = 4, wait
	callers := []string{"client", "other", "third"}
	srv, err := server.New(context.Background(), "svc", cfg, authz.Policy{
		testpb.TestService_UnaryCall_FullMethodName: callers,
		testpb.TestService_EmptyCall_FullMethodName: callers,
		healthpb.Health_Check_FullMethodName:        callers,
	}, servertest.Logger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	svc := &heldService{entered: make(chan struct{}, 256), release: make(chan struct{}), one: make(chan struct{})}
	testpb.RegisterTestServiceServer(srv.GRPC(), svc)
	addr := servertest.Start(t, srv)
	dial := func(name string) testpb.TestServiceClient {
		return testpb.NewTestServiceClient(pki.Dial(t, name, "svc", addr))
	}
	max := 4 * runtime.GOMAXPROCS(0)
	return shedding{client: dial("client"), other: dial("other"), third: dial("third"),
		health: healthpb.NewHealthClient(pki.Dial(t, "client", "svc", addr)), svc: svc, max: max, share: max / 4}
}

// fill starts n calls and waits until the service holds them all; their
// errors arrive on the returned channel once released.
func fill(t *testing.T, c testpb.TestServiceClient, svc *heldService, n int) <-chan error {
	t.Helper()
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := c.UnaryCall(context.Background(), &testpb.SimpleRequest{})
			done <- err
		}()
	}
	for i := range n {
		select {
		case <-svc.entered:
		case err := <-done:
			t.Fatalf("call %d of %d ended before the service held it: %v", i+1, n, err)
		}
	}
	return done
}

// full fills every slot: one caller takes what it may alone (all but a
// share), another the rest.
func (h shedding) full(t *testing.T) func() {
	t.Helper()
	a := fill(t, h.client, h.svc, h.max-h.share)
	b := fill(t, h.other, h.svc, h.share)
	return func() {
		close(h.svc.release)
		for range h.max - h.share {
			if err := <-a; err != nil {
				t.Errorf("a call in progress: %v, want it answered", err)
			}
		}
		for range h.share {
			if err := <-b; err != nil {
				t.Errorf("a call in progress: %v, want it answered", err)
			}
		}
	}
}

func overloadedInfo(t *testing.T, err error) *errdetails.ErrorInfo {
	t.Helper()
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("call beyond the limit: %v, want Unavailable", err)
	}
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i
		}
	}
	return nil
}

// TestOverloadedServiceRefusesQuickly: with as many calls in progress as
// it may answer at once, a service refuses the next one once it has
// waited its queue wait, with Unavailable OVERLOADED and a retry delay,
// instead of queueing it behind the others until its caller gives up;
// health checks are still answered, and the calls in progress finish.
func TestOverloadedServiceRefusesQuickly(t *testing.T) {
	h := startShedding(t, 50*time.Millisecond)
	release := h.full(t)

	// Without shedding this call would wait for the held ones, past its
	// deadline (DeadlineExceeded).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := h.third.UnaryCall(ctx, &testpb.SimpleRequest{})
	info := overloadedInfo(t, err)
	if info.GetReason() != server.ReasonOverloaded || info.GetMetadata()["retry_after_seconds"] != "1" || info.GetDomain() != "svc.sotto.dev" {
		t.Errorf("refusal's ErrorInfo = %v, want reason %s in svc.sotto.dev with retry_after_seconds 1", info, server.ReasonOverloaded)
	}
	if _, err := h.health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health check while overloaded: %v, want an answer", err)
	}
	release()
	if _, err := h.third.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Errorf("a call once there is room again: %v", err)
	}
}

// TestQueuedCallRunsWhenRoomFrees: a call that finds no room waits for
// one within its queue wait and is then answered like any other.
func TestQueuedCallRunsWhenRoomFrees(t *testing.T) {
	h := startShedding(t, time.Minute)
	release := h.full(t)
	queued := make(chan error, 1)
	go func() {
		_, err := h.third.UnaryCall(context.Background(), &testpb.SimpleRequest{})
		queued <- err
	}()
	select {
	case err := <-queued:
		t.Fatalf("a call beyond the limit returned before any room freed: %v", err)
	case <-h.svc.entered:
		t.Fatal("a call beyond the limit reached the handler before any room freed")
	case <-time.After(200 * time.Millisecond):
	}
	release() // every held call ends, the queued one enters
	<-h.svc.entered
	if err := <-queued; err != nil {
		t.Errorf("queued call: %v, want it answered", err)
	}
}

// TestOneCallerCannotTakeAllTheRoom: a calling workload that floods a
// service runs in three quarters of its room, the rest of its calls wait
// and are refused past the queue wait, and another workload's call is
// still answered. Seen failing without the shares (the flood took every
// slot and the other caller's call was refused after its wait).
func TestOneCallerCannotTakeAllTheRoom(t *testing.T) {
	h := startShedding(t, 50*time.Millisecond)
	done := make(chan error, h.max)
	for range h.max {
		go func() {
			_, err := h.client.UnaryCall(context.Background(), &testpb.SimpleRequest{})
			done <- err
		}()
	}
	entered, refused := 0, 0
	for entered+refused < h.max {
		select {
		case <-h.svc.entered:
			entered++
		case err := <-done:
			if info := overloadedInfo(t, err); info.GetReason() != server.ReasonOverloaded {
				t.Fatalf("refusal %v, want %s", info, server.ReasonOverloaded)
			}
			refused++
		}
	}
	if entered != h.max-h.share || refused != h.share {
		t.Errorf("one caller's flood of %d: %d served, %d refused; want %d and %d", h.max, entered, refused, h.max-h.share, h.share)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := h.other.EmptyCall(ctx, &testpb.Empty{}); err != nil {
		t.Errorf("another caller during the flood: %v, want an answer", err)
	}
	close(h.svc.release)
	for range entered {
		if err := <-done; err != nil {
			t.Errorf("a served call: %v", err)
		}
	}
}

// TestFloodOfAnExemptMethodLeavesRoomForOthers: a method exempt from
// shedding (one that bounds its own concurrency, as identity's password
// hashing does) takes no room, so a flood of it, far past the limit, is
// neither refused here nor makes the service refuse its other methods.
func TestFloodOfAnExemptMethodLeavesRoomForOthers(t *testing.T) {
	h := startShedding(t, 50*time.Millisecond, server.WithShedExempt(testpb.TestService_UnaryCall_FullMethodName))
	held := fill(t, h.client, h.svc, h.max+4) // every one entered: none waited for room
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := h.client.EmptyCall(ctx, &testpb.Empty{}); err != nil {
		t.Errorf("another method during the flood: %v, want an answer", err)
	}
	close(h.svc.release)
	for range h.max + 4 {
		if err := <-held; err != nil {
			t.Errorf("exempt call: %v", err)
		}
	}
}

// TestCallsPastACallersShareWaitForItsOwn: a caller running its share of
// a room running short does not have its next call refused at once; the
// call waits, and runs when one of the caller's own calls ends. Seen
// failing when such calls were refused at once (the chat load, 600
// messages/s from the gateway alone, had 2 % refused by a conversation
// service with room to spare, after a pause of a few milliseconds).
func TestCallsPastACallersShareWaitForItsOwn(t *testing.T) {
	h := startShedding(t, time.Minute)
	held := fill(t, h.client, h.svc, h.max-h.share)
	queued := make(chan error, 1)
	go func() {
		_, err := h.client.UnaryCall(context.Background(), &testpb.SimpleRequest{})
		queued <- err
	}()
	select {
	case err := <-queued:
		t.Fatalf("a call past the caller's share returned before any of its calls ended: %v", err)
	case <-h.svc.entered:
		t.Fatal("a call past the caller's share ran before any of its calls ended")
	case <-time.After(200 * time.Millisecond):
	}
	close(h.svc.release)
	<-h.svc.entered
	if err := <-queued; err != nil {
		t.Errorf("the waiting call: %v, want it answered", err)
	}
	for range h.max - h.share {
		if err := <-held; err != nil {
			t.Errorf("a call in progress: %v", err)
		}
	}
}

// TestFreedRoomGoesToTheCallerRunningFewest: with the room full, calls of
// a flooding caller (running its share and more) and of another wait; a
// slot that frees goes to the other's call, though it came after the
// flood's, and the flood's calls run once there is room again. Fails if a
// freed slot goes to the first call in line, or if the flood's calls are
// refused at once.
func TestFreedRoomGoesToTheCallerRunningFewest(t *testing.T) {
	h := startShedding(t, time.Minute)
	release := h.full(t) // client runs 3/4 of the room, other 1/4
	flood := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := h.client.EmptyCall(context.Background(), &testpb.Empty{})
			flood <- err
		}()
	}
	time.Sleep(100 * time.Millisecond) // the flood's calls wait first
	third := make(chan error, 1)
	go func() {
		_, err := h.third.EmptyCall(context.Background(), &testpb.Empty{})
		third <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-flood:
		t.Fatalf("a call of the flood ended with the room full: %v", err)
	case err := <-third:
		t.Fatalf("a call ended with the room full: %v", err)
	default:
	}
	h.svc.one <- struct{}{} // one held call ends: one slot
	if err := <-third; err != nil {
		t.Errorf("third caller: %v, want it answered", err)
	}
	select {
	case err := <-flood:
		t.Fatalf("a call of the flood ran in the one freed slot (or was refused): %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	for range 4 {
		if err := <-flood; err != nil {
			t.Errorf("flood: %v, want it answered once there is room", err)
		}
	}
}

// TestACallersWaitingCallsAreBounded: past its share with the room short,
// a caller's calls wait, but no more of them than the room holds; the next
// is refused at once instead of being kept for the queue wait. Seen failing
// (the call waited out the test's deadline) with the waiting calls
// unbounded.
func TestACallersWaitingCallsAreBounded(t *testing.T) {
	h := startShedding(t, time.Minute)
	running := fill(t, h.client, h.svc, h.max-h.share)
	waiting := make(chan error, h.max)
	for range h.max {
		go func() {
			_, err := h.client.EmptyCall(context.Background(), &testpb.Empty{})
			waiting <- err
		}()
	}
	time.Sleep(200 * time.Millisecond) // they queue
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := h.client.EmptyCall(ctx, &testpb.Empty{})
	if info := overloadedInfo(t, err); info.GetReason() != server.ReasonOverloaded {
		t.Errorf("a call past the waiting bound: %v, want %s at once", err, server.ReasonOverloaded)
	}
	close(h.svc.release)
	for range h.max - h.share {
		if err := <-running; err != nil {
			t.Errorf("a running call: %v", err)
		}
	}
	for range h.max {
		if err := <-waiting; err != nil {
			t.Errorf("a waiting call: %v, want it answered once there is room", err)
		}
	}
}

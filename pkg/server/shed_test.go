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

// heldService holds every call until release is closed, saying on entered
// that it has one.
type heldService struct {
	testpb.UnimplementedTestServiceServer
	entered chan struct{}
	release chan struct{}
}

func (s *heldService) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	s.entered <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return &testpb.SimpleResponse{}, nil
}

// EmptyCall answers at once.
func (s *heldService) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

// startShedding serves a heldService allowed one call per CPU at once
// (GOMAXPROCS of them) with the given queue wait.
func startShedding(t *testing.T, wait time.Duration, opts ...server.Option) (testpb.TestServiceClient, healthpb.HealthClient, *heldService, int) {
	t.Helper()
	pki := servertest.NewPKI(t)
	cfg := pki.Config(t, "svc")
	cfg.MaxInFlightPerCPU, cfg.QueueWait = 1, wait
	srv, err := server.New(context.Background(), "svc", cfg, authz.Policy{
		testpb.TestService_UnaryCall_FullMethodName: {"client"},
		testpb.TestService_EmptyCall_FullMethodName: {"client"},
		healthpb.Health_Check_FullMethodName:        {"client"},
	}, servertest.Logger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	svc := &heldService{entered: make(chan struct{}, 64), release: make(chan struct{})}
	testpb.RegisterTestServiceServer(srv.GRPC(), svc)
	addr := servertest.Start(t, srv)
	conn := pki.Dial(t, "client", "svc", addr)
	return testpb.NewTestServiceClient(conn), healthpb.NewHealthClient(conn), svc, runtime.GOMAXPROCS(0)
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

// TestOverloadedServiceRefusesQuickly: with as many calls in progress as
// it may answer at once, a service refuses the next one once it has
// waited its queue wait, with Unavailable OVERLOADED and a retry delay,
// instead of queueing it behind the others until its caller gives up;
// health checks are still answered, and the calls in progress finish.
func TestOverloadedServiceRefusesQuickly(t *testing.T) {
	c, health, svc, n := startShedding(t, 50*time.Millisecond)
	held := fill(t, c, svc, n)

	// Without shedding this call would wait for the held ones, past its
	// deadline (DeadlineExceeded).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("call beyond the limit: %v, want Unavailable", err)
	}
	var info *errdetails.ErrorInfo
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info.GetReason() != server.ReasonOverloaded || info.GetMetadata()["retry_after_seconds"] != "1" || info.GetDomain() != "svc.sotto.dev" {
		t.Errorf("refusal's ErrorInfo = %v, want reason %s in svc.sotto.dev with retry_after_seconds 1", info, server.ReasonOverloaded)
	}
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health check while overloaded: %v, want an answer", err)
	}

	close(svc.release)
	for range n {
		if err := <-held; err != nil {
			t.Errorf("a call in progress: %v, want it answered", err)
		}
	}
	if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Errorf("a call once there is room again: %v", err)
	}
}

// TestQueuedCallRunsWhenRoomFrees: a call that finds no room waits for
// one within its queue wait and is then answered like any other.
func TestQueuedCallRunsWhenRoomFrees(t *testing.T) {
	c, _, svc, n := startShedding(t, time.Minute)
	held := fill(t, c, svc, n)
	queued := make(chan error, 1)
	go func() {
		_, err := c.UnaryCall(context.Background(), &testpb.SimpleRequest{})
		queued <- err
	}()
	select {
	case err := <-queued:
		t.Fatalf("a call beyond the limit returned before any room freed: %v", err)
	case <-svc.entered:
		t.Fatal("a call beyond the limit reached the handler before any room freed")
	case <-time.After(200 * time.Millisecond):
	}
	close(svc.release) // every held call ends, the queued one enters
	<-svc.entered
	if err := <-queued; err != nil {
		t.Errorf("queued call: %v, want it answered", err)
	}
	for range n {
		if err := <-held; err != nil {
			t.Errorf("held call: %v", err)
		}
	}
}

// TestFloodOfAnExemptMethodLeavesRoomForOthers: a method exempt from
// shedding (one that bounds its own concurrency, as identity's password
// hashing does) takes no room, so a flood of it, far past the limit, is
// neither refused here nor makes the service refuse its other methods.
func TestFloodOfAnExemptMethodLeavesRoomForOthers(t *testing.T) {
	c, _, svc, n := startShedding(t, 50*time.Millisecond, server.WithShedExempt(testpb.TestService_UnaryCall_FullMethodName))
	held := fill(t, c, svc, n+4) // every one entered: none waited for room
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.EmptyCall(ctx, &testpb.Empty{}); err != nil {
		t.Errorf("another method during the flood: %v, want an answer", err)
	}
	close(svc.release)
	for range n + 4 {
		if err := <-held; err != nil {
			t.Errorf("exempt call: %v", err)
		}
	}
}

// Interleaving tests of Record batching against a scripted AuditServiceClient, which
// makes the in-flight windows deterministic; the real service path is in test/e2e.

package auditclient

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
)

// fakeRPC is a scripted AuditServiceClient: it can hold the first call open
// (signalling entered once it is inside), refuses batches containing an event
// whose resource is "bad", and keeps the size of every call it was given.
type fakeRPC struct {
	auditv1.AuditServiceClient
	calls   atomic.Int32
	entered chan struct{}
	gate    chan struct{}
	mu      sync.Mutex
	got     map[string]bool
	sizes   []int
}

func (f *fakeRPC) AppendEvents(ctx context.Context, in *auditv1.AppendEventsRequest, _ ...grpc.CallOption) (*auditv1.AppendEventsResponse, error) {
	if f.calls.Add(1) == 1 && f.gate != nil {
		close(f.entered)
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sizes = append(f.sizes, len(in.Events))
	resp := &auditv1.AppendEventsResponse{}
	for _, e := range in.Events {
		if e.ResourceId == "bad" {
			return nil, status.Error(codes.AlreadyExists, "conflict")
		}
	}
	for _, e := range in.Events {
		f.got[e.EventId] = true
		resp.Results = append(resp.Results, &auditv1.AppendResult{EventId: e.EventId})
	}
	return resp, nil
}

func TestRegressionBatchStress(t *testing.T) {
	f := &fakeRPC{got: map[string]bool{}}
	c := newClient(f, time.Second)
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				ev := New(context.Background(), "tokenvault.detokenize", Success)
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				err := c.Record(ctx, ev)
				cancel()
				f.mu.Lock()
				ok := f.got[ev.ID]
				f.mu.Unlock()
				if err != nil || !ok {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("calls=%d bad=%d", f.calls.Load(), bad.Load())
	if bad.Load() != 0 {
		t.Fatal("lost or failed records")
	}
}

// TestRegressionBatchRetry: three callers queued behind a call in flight
// share the next call; the audit service refuses that batch for one caller's
// event, and the client retries it one caller at a time, so only that caller
// fails.
func TestRegressionBatchRetry(t *testing.T) {
	f := &fakeRPC{got: map[string]bool{}, entered: make(chan struct{}), gate: make(chan struct{})}
	c := newClient(f, 2*time.Second)
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- c.Record(ctx, New(ctx, "tokenvault.detokenize", Success)) }()
	<-f.entered // the first call is in flight: later records queue
	res := make([]chan error, 3)
	events := make([]Event, 3)
	for i := range res {
		res[i] = make(chan error, 1)
		events[i] = New(ctx, "tokenvault.detokenize", Success)
		if i == 1 {
			events[i].ResourceType, events[i].ResourceID = "token", "bad"
		}
		go func(ch chan error, ev Event) { ch <- c.Record(ctx, ev) }(res[i], events[i])
	}
	// Release the first call only once all three wait in the queue, so the
	// next batch holds all of them.
	for c.records.Queued() < len(res) {
		runtime.Gosched()
	}
	close(f.gate)
	if err := <-first; err != nil {
		t.Errorf("first record: %v", err)
	}
	for i, ch := range res {
		err := <-ch
		switch {
		case i == 1 && errs.ReasonOf(err) != "AUDIT_EVENT_REJECTED":
			t.Errorf("refused event: %v, want AUDIT_EVENT_REJECTED", err)
		case i != 1 && err != nil:
			t.Errorf("event %d, batched with a refused one: %v, want recorded", i, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// The first call, the refused batch of three, then one call per caller.
	if diff := cmp.Diff([]int{1, 3, 1, 1, 1}, f.sizes); diff != "" {
		t.Errorf("AppendEvents call sizes (-want +got):\n%s", diff)
	}
	for i, ev := range events {
		if f.got[ev.ID] != (i != 1) {
			t.Errorf("event %d recorded: %v", i, f.got[ev.ID])
		}
	}
}

// TestCancelledRecordIsUnavailable: a caller that gives up while its record
// waits behind a call in flight is told Unavailable (it must refuse its
// operation), and its event is not sent afterwards.
func TestCancelledRecordIsUnavailable(t *testing.T) {
	f := &fakeRPC{got: map[string]bool{}, entered: make(chan struct{}), gate: make(chan struct{})}
	c := newClient(f, 2*time.Second)
	bg := context.Background()
	first := make(chan error, 1)
	go func() { first <- c.Record(bg, New(bg, "tokenvault.detokenize", Success)) }()
	<-f.entered
	ctx, cancel := context.WithCancel(bg)
	ev := New(ctx, "tokenvault.detokenize", Success)
	gone := make(chan error, 1)
	go func() { gone <- c.Record(ctx, ev) }()
	for c.records.Queued() < 1 {
		runtime.Gosched()
	}
	cancel()
	if err := <-gone; !errs.Is(err, errs.Unavailable) || errs.ReasonOf(err) != "AUDIT_UNAVAILABLE" {
		t.Fatalf("record given up on: %v, want Unavailable AUDIT_UNAVAILABLE", err)
	}
	close(f.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// A later record goes out after the abandoned one would have.
	if err := c.Record(bg, New(bg, "tokenvault.detokenize", Success)); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.got[ev.ID] {
		t.Fatal("the abandoned record was sent")
	}
}

// liarRPC answers for events other than those sent.
type liarRPC struct{ auditv1.AuditServiceClient }

func (liarRPC) AppendEvents(_ context.Context, in *auditv1.AppendEventsRequest, _ ...grpc.CallOption) (*auditv1.AppendEventsResponse, error) {
	resp := &auditv1.AppendEventsResponse{}
	for range in.Events {
		resp.Results = append(resp.Results, &auditv1.AppendResult{EventId: "0193a5b0-0000-7000-8000-000000000000"})
	}
	return resp, nil
}

// TestAnswerMustCoverTheEventsSent: an answer about other events is not a
// confirmation; the caller must not proceed as if recorded.
func TestAnswerMustCoverTheEventsSent(t *testing.T) {
	c := newClient(liarRPC{}, time.Second)
	ctx := context.Background()
	if err := c.Record(ctx, New(ctx, "tokenvault.detokenize", Success)); errs.ReasonOf(err) != "AUDIT_UNAVAILABLE" {
		t.Fatalf("answer for another event: %v, want AUDIT_UNAVAILABLE", err)
	}
}

// okRPC confirms every event at once, so that a benchmark of Record
// measures the client's own batching rather than a server.
type okRPC struct{ auditv1.AuditServiceClient }

func (okRPC) AppendEvents(_ context.Context, in *auditv1.AppendEventsRequest, _ ...grpc.CallOption) (*auditv1.AppendEventsResponse, error) {
	resp := &auditv1.AppendEventsResponse{Results: make([]*auditv1.AppendResult, len(in.Events))}
	for i, e := range in.Events {
		resp.Results[i] = &auditv1.AppendResult{EventId: e.EventId}
	}
	return resp, nil
}

// BenchmarkRecordConcurrent: 64 callers (32 per core here) recording one
// event each against an instant audit service; events/call is how many
// events an AppendEvents call carried on average.
func BenchmarkRecordConcurrent(b *testing.B) {
	var calls atomic.Int64
	c := newClient(countingRPC{okRPC{}, &calls}, time.Second)
	ctx := context.Background()
	ev := New(ctx, "tokenvault.detokenize", Success)
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Record(ctx, ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/float64(calls.Load()), "events/call")
}

type countingRPC struct {
	okRPC
	calls *atomic.Int64
}

func (r countingRPC) AppendEvents(ctx context.Context, in *auditv1.AppendEventsRequest, opts ...grpc.CallOption) (*auditv1.AppendEventsResponse, error) {
	r.calls.Add(1)
	return r.okRPC.AppendEvents(ctx, in, opts...)
}

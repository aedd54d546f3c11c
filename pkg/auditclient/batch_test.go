// Interleaving tests of Record batching against a scripted AuditServiceClient, which
// makes the in-flight windows deterministic; the real service path is in test/e2e.

package auditclient

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
)

// fakeRPC is a scripted AuditServiceClient: it can hold the first call open and
// refuses batches containing an event whose resource is "bad".
type fakeRPC struct {
	auditv1.AuditServiceClient
	calls atomic.Int32
	gate  chan struct{}
	mu    sync.Mutex
	got   map[string]bool
}

func (f *fakeRPC) AppendEvents(ctx context.Context, in *auditv1.AppendEventsRequest, _ ...grpc.CallOption) (*auditv1.AppendEventsResponse, error) {
	if f.calls.Add(1) == 1 && f.gate != nil {
		<-f.gate
	}
	resp := &auditv1.AppendEventsResponse{}
	for _, e := range in.Events {
		if e.ResourceId == "bad" {
			return nil, status.Error(codes.AlreadyExists, "conflict")
		}
	}
	f.mu.Lock()
	for _, e := range in.Events {
		f.got[e.EventId] = true
		resp.Results = append(resp.Results, &auditv1.AppendResult{EventId: e.EventId})
	}
	f.mu.Unlock()
	return resp, nil
}

func TestRegressionBatchStress(t *testing.T) {
	f := &fakeRPC{got: map[string]bool{}}
	c := &Client{rpc: f, timeout: time.Second}
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

func TestRegressionBatchRetry(t *testing.T) {
	f := &fakeRPC{got: map[string]bool{}, gate: make(chan struct{})}
	c := &Client{rpc: f, timeout: 2 * time.Second}
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- c.Record(ctx, New(ctx, "tokenvault.detokenize", Success)) }()
	time.Sleep(50 * time.Millisecond)
	res := make([]chan error, 3)
	for i := range res {
		res[i] = make(chan error, 1)
		ev := New(ctx, "tokenvault.detokenize", Success)
		if i == 1 {
			ev.ResourceType, ev.ResourceID = "token", "bad"
		}
		go func(ch chan error, ev Event) { ch <- c.Record(ctx, ev) }(res[i], ev)
	}
	time.Sleep(50 * time.Millisecond)
	close(f.gate)
	// The refused event fails its caller alone; the others in its batch are
	// retried and recorded.
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
	c := &Client{rpc: liarRPC{}, timeout: time.Second}
	ctx := context.Background()
	if err := c.Record(ctx, New(ctx, "tokenvault.detokenize", Success)); errs.ReasonOf(err) != "AUDIT_UNAVAILABLE" {
		t.Fatalf("answer for another event: %v, want AUDIT_UNAVAILABLE", err)
	}
}

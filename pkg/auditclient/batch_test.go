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
	t.Log(<-first, <-res[0], <-res[1], <-res[2], f.calls.Load())
}

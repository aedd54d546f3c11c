package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
)

// TestConcurrentRecordsShareCalls: many callers recording at once (their
// Records are batched into shared AppendEvents calls) each get the answer for
// their own events: all good events land exactly once, a malformed event or
// an event ID another workload already used fails only its own caller.
func TestConcurrentRecordsShareCalls(t *testing.T) {
	s := startSuite(t, t.TempDir())
	ctx := context.Background()
	client := s.auditClient("tokenvault")

	taken := auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success)
	taken.Subject = "cus_taken"
	// identity uses the event ID first, for an event of its own.
	claim := taken
	claim.Action = "identity.login"
	if err := s.auditClient("identity").Record(ctx, claim); err != nil {
		t.Fatal(err)
	}

	const callers, each = 24, 10
	var wg sync.WaitGroup
	errc := make(chan error, callers*each)
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e := auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success)
				e.Subject = fmt.Sprintf("cus_batch_%d", c)
				if err := client.Record(ctx, e); err != nil {
					errc <- err
				}
			}
		}(c)
	}
	// Bad records race with the good ones.
	bad := auditclient.New(ctx, "Not An Action", auditclient.Success)
	if err := client.Record(ctx, bad); !errs.Is(err, errs.InvalidArgument) {
		t.Errorf("malformed event: %v, want InvalidArgument", err)
	}
	if err := client.Record(ctx, taken); errs.ReasonOf(err) != "AUDIT_EVENT_REJECTED" {
		t.Errorf("event ID of another workload: %v, want AUDIT_EVENT_REJECTED", err)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("good record failed: %v", err)
	}
	for c := 0; c < callers; c++ {
		r := s.get(fmt.Sprintf("/v1/audit/events?subject=cus_batch_%d&page_size=100", c), s.OperatorToken())
		if n := strings.Count(r.raw, `"event_id"`); n != each {
			t.Fatalf("caller %d: %d events in the log, want %d", c, n, each)
		}
	}
}

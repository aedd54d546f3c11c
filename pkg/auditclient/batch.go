package auditclient

import (
	"context"
	"errors"
	"time"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/groupcommit"
)

// Synchronous records from concurrent callers share AppendEvents calls
// (pkg/groupcommit): while one call is in flight, later Records queue, and
// the next call carries all of them (group commit on the client side,
// matching the audit service's own). A lone caller pays nothing extra: with
// nothing in flight its events go out at once. The client has no lifecycle
// of its own, and needs none: the batcher holds no goroutine while idle and
// is never stopped.
//
// A batch is all-or-nothing at the audit service, so events are validated
// here first (one caller's malformed event must not fail another's), and a
// batch refused as a whole (InvalidArgument, AlreadyExists) is retried one
// caller at a time, so each caller gets the answer for its own events.

// maxBatchEvents matches the audit service's per-request limit.
const maxBatchEvents = 1000

// pendingRecord is one Record call's events.
type pendingRecord struct {
	ctx    context.Context // the caller's: its AppendEvents call runs on its trace
	events []Event
}

type recordBatcher = groupcommit.Batcher[pendingRecord, struct{}]

func newClient(rpc auditv1.AuditServiceClient, timeout time.Duration) *Client {
	c := &Client{rpc: rpc, timeout: timeout}
	c.records = groupcommit.New(c.send, groupcommit.Options[pendingRecord]{
		MaxBatch: maxBatchEvents,
		Weight:   func(p pendingRecord) int { return len(p.events) },
	})
	return c
}

// Record appends events synchronously. A nil error means every event is
// durably in the log; any error means the caller must treat the events as not
// recorded and refuse the operation.
func (c *Client) Record(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := Validate(events...); err != nil {
		return err
	}
	_, err := c.records.Submit(ctx, pendingRecord{ctx: ctx, events: events})
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		// The events may still be recorded; the caller treats them as not.
		return errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log did not confirm in time")
	}
	return err
}

// send makes one AppendEvents call for a batch of Records. The batcher's
// context is not used: the call serves several callers, so it runs on the
// first one's trace but under none of their cancellations, and the client
// timeout bounds it.
func (c *Client) send(_ context.Context, batch []pendingRecord) ([]groupcommit.Result[struct{}], error) {
	var events []Event
	for _, p := range batch {
		events = append(events, p.events...)
	}
	res := make([]groupcommit.Result[struct{}], len(batch))
	_, err := c.append(context.WithoutCancel(batch[0].ctx), events)
	if err != nil && len(batch) > 1 && errs.ReasonOf(err) == "AUDIT_EVENT_REJECTED" {
		for i, p := range batch {
			_, res[i].Err = c.append(context.WithoutCancel(p.ctx), p.events)
		}
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

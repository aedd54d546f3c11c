package auditclient

import (
	"context"

	"github.com/sottohq/sotto/pkg/errs"
)

// Synchronous records from concurrent callers share AppendEvents calls:
// while one call is in flight, later Records queue, and the next call
// carries all of them (group commit on the client side, matching the audit
// service's own). A lone caller pays nothing extra: with nothing in flight
// its events go out at once.
//
// A batch is all-or-nothing at the audit service, so events are validated
// here first (one caller's malformed event must not fail another's), and a
// batch refused as a whole (InvalidArgument, AlreadyExists) is retried one
// caller at a time, so each caller gets the answer for its own events.

// maxBatchEvents matches the audit service's per-request limit.
const maxBatchEvents = 1000

type pendingRecord struct {
	ctx    context.Context
	events []Event
	done   chan error
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
	if len(events) > maxBatchEvents {
		_, err := c.append(ctx, events)
		return err
	}
	p := &pendingRecord{ctx: ctx, events: events, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	leader := !c.inflight
	c.inflight = true
	c.mu.Unlock()
	if leader {
		// The leader drains the queue in the background, so it waits for its
		// own answer only, not for the batches of those who came after it.
		go c.flush()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The events may still be recorded; the caller treats them as not.
		return errs.Wrap(ctx.Err(), errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log did not confirm in time")
	}
}

// flush sends queued records until the queue is empty, then steps down.
func (c *Client) flush() {
	for {
		c.mu.Lock()
		var batch []*pendingRecord
		n := 0
		for len(c.queue) > 0 && n+len(c.queue[0].events) <= maxBatchEvents {
			n += len(c.queue[0].events)
			batch = append(batch, c.queue[0])
			c.queue = c.queue[1:]
		}
		if len(batch) == 0 {
			c.inflight = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.send(batch)
	}
}

func (c *Client) send(batch []*pendingRecord) {
	var live []*pendingRecord
	var events []Event
	for _, p := range batch {
		if p.ctx.Err() != nil {
			p.done <- errs.Wrap(p.ctx.Err(), errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log did not confirm in time")
			continue
		}
		live = append(live, p)
		events = append(events, p.events...)
	}
	if len(live) == 0 {
		return
	}
	// The call serves several callers, so it runs on the first one's trace
	// but under none of their cancellations; the client timeout bounds it.
	_, err := c.append(context.WithoutCancel(live[0].ctx), events)
	if err != nil && len(live) > 1 && errs.ReasonOf(err) == "AUDIT_EVENT_REJECTED" {
		for _, p := range live {
			_, perr := c.append(context.WithoutCancel(p.ctx), p.events)
			p.done <- perr
		}
		return
	}
	for _, p := range live {
		p.done <- err
	}
}

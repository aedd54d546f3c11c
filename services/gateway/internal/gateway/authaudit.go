package gateway

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/logging"
)

// ActionEdgeAuth is the audit action of a refused authentication at the
// edge (no token, a bad one, or too little access for the route).
const ActionEdgeAuth = "gateway.authenticate"

// Recorder sends audit events (pkg/auditclient's Client).
type Recorder interface {
	Record(ctx context.Context, events ...auditclient.Event) error
}

// AuthAuditor records refused authentications in the audit log
// without making the refusal wait for it: events queue in a bounded buffer
// and a background loop records them in batches. A flood of bad tokens
// therefore costs the audit service one batched call per round, not one call
// per request; when the buffer is full the excess is counted and logged as
// a number (an attacker can hide in a flood, not make the gateway slow).
type AuthAuditor struct {
	rec     Recorder
	logger  *slog.Logger
	queue   chan auditclient.Event
	dropped atomic.Int64
}

// NewAuthAuditor records through rec, keeping at most capacity events queued.
func NewAuthAuditor(rec Recorder, logger *slog.Logger, capacity int) *AuthAuditor {
	return &AuthAuditor{rec: rec, logger: logger, queue: make(chan auditclient.Event, capacity)}
}

// Refused queues the event of one refused authentication; reason is a
// stable code (MISSING_TOKEN, INVALID_TOKEN, ROUTES_CLOSED), never the
// token presented.
func (a *AuthAuditor) Refused(ctx context.Context, reason, requestID string) {
	e := auditclient.New(ctx, ActionEdgeAuth, auditclient.Denied)
	e.Reason = reason
	e.ResourceType = "request"
	e.ResourceID = requestID
	select {
	case a.queue <- e:
	default:
		a.dropped.Add(1)
	}
}

// Run records queued events until ctx is done, then records what is left.
func (a *AuthAuditor) Run(ctx context.Context) error {
	for {
		select {
		case e := <-a.queue:
			a.send(context.WithoutCancel(ctx), e)
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			for {
				select {
				case e := <-a.queue:
					a.send(flush, e)
				default:
					return nil
				}
			}
		}
	}
}

// send records e and whatever else is queued, in one call.
func (a *AuthAuditor) send(ctx context.Context, first auditclient.Event) {
	batch := []auditclient.Event{first}
	for len(batch) < 256 {
		select {
		case e := <-a.queue:
			batch = append(batch, e)
			continue
		default:
		}
		break
	}
	if err := a.rec.Record(ctx, batch...); err != nil {
		a.logger.Warn("refused authentications not recorded", "count", len(batch), logging.Err(err))
	}
	if n := a.dropped.Swap(0); n > 0 {
		a.logger.Warn("refused authentications dropped: audit queue full", "count", n)
	}
}

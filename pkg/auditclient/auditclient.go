// Package auditclient is how a Sotto service records audit events. Two modes:
//
//   - Record (synchronous) for operations that must fail closed: if the audit
//     service does not confirm the append, Record returns an Unavailable error
//     and the caller must not perform the operation (no audit, no plaintext).
//   - Outbox for everything else: Enqueue writes the event into the service's
//     own database in the same transaction as the state change, and a relay
//     delivers it at least once; the audit service deduplicates by event ID.
package auditclient

import (
	"context"
	"time"

	"buf.build/go/protovalidate"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

// Outcome of an audited operation.
type Outcome = auditv1.Outcome

// Outcomes.
const (
	Success = auditv1.Outcome_OUTCOME_SUCCESS
	Denied  = auditv1.Outcome_OUTCOME_DENIED
	Failure = auditv1.Outcome_OUTCOME_FAILURE
)

// Event is one audited operation. Subject and ActorSubject are identifiers
// (customer or staff IDs), which the audit service stores only as keyed
// HMACs; every other field is a constrained identifier, never free text.
type Event struct {
	// ID is the idempotency key; New fills it with a UUIDv7.
	ID           string
	Time         time.Time
	Subject      string
	ActorSubject string
	Action       string
	ResourceType string
	ResourceID   string
	Purpose      string
	Outcome      Outcome
	Reason       string
	TraceID      string
	// CallerWorkload is the SPIFFE ID of the workload on whose request the
	// recording service acts, as it authenticated it (e.g. the caller of a
	// detokenize).
	CallerWorkload string
}

// Action names an audited operation, "<service>.<verb>". Each service
// declares its actions as constants in one place; the audit service accepts
// from a workload only actions of its own namespace.
type Action string

// Purposes events are recorded under, shared by the suite's services (the
// consent service's catalogue will be their source).
const (
	PurposeOrderSupport = "order_support"
	PurposeDSRAccess    = "dsr_access"
	PurposeDSRErasure   = "dsr_erasure"
)

type endUserKey struct{}

// WithEndUser marks ctx as acting for an end user (the subject of the
// identity service's verified access token), so events built from it name
// that person as their actor.
func WithEndUser(ctx context.Context, subject string) context.Context {
	return context.WithValue(ctx, endUserKey{}, subject)
}

// New returns an event with a fresh ID and the current time, filled from
// ctx: the trace ID of its span, the workload that called this service (the
// mTLS peer of the RPC being served, if any) and the end user it acts for
// (WithEndUser, if any).
func New(ctx context.Context, action Action, outcome Outcome) Event {
	e := Event{ID: uuid.Must(uuid.NewV7()).String(), Time: time.Now().UTC(), Action: string(action), Outcome: outcome}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		e.TraceID = sc.TraceID().String()
	}
	if id, err := mtls.PeerID(ctx); err == nil {
		e.CallerWorkload = id.String()
	}
	if subject, ok := ctx.Value(endUserKey{}).(string); ok {
		e.ActorSubject = subject
	}
	return e
}

// Validate checks events against the audit service's rules (an ID and a
// time from New, and the proto's field constraints) without sending them:
// Record and Seal refuse what it refuses, and a stand-in for the client in
// tests should too.
func Validate(events ...Event) error {
	for _, e := range events {
		if _, err := validated(e); err != nil {
			return err
		}
	}
	return nil
}

// validated returns the event's wire form once it passes Validate's checks.
func validated(e Event) (*auditv1.EventInput, error) {
	if e.ID == "" || e.Time.IsZero() {
		return nil, errs.E(errs.InvalidArgument, "AUDIT_EVENT_INCOMPLETE", "audit event needs an ID and a time (use auditclient.New)")
	}
	in := e.proto()
	if err := protovalidate.Validate(in); err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, "AUDIT_EVENT_INVALID", "audit event breaks the audit service's rules")
	}
	return in, nil
}

func (e Event) proto() *auditv1.EventInput {
	return &auditv1.EventInput{
		EventId:        e.ID,
		OccurTime:      timestamppb.New(e.Time),
		Subject:        e.Subject,
		ActorSubject:   e.ActorSubject,
		Action:         e.Action,
		ResourceType:   e.ResourceType,
		ResourceId:     e.ResourceID,
		Purpose:        e.Purpose,
		Outcome:        e.Outcome,
		Reason:         e.Reason,
		TraceId:        e.TraceID,
		CallerWorkload: e.CallerWorkload,
	}
}

// Client appends events to the audit service.
type Client struct {
	rpc     auditv1.AuditServiceClient
	timeout time.Duration
	records *recordBatcher // see batch.go
}

// NewClient uses conn, which must be an mTLS connection to the audit service
// (see pkg/dial).
func NewClient(conn grpc.ClientConnInterface) *Client {
	return newClient(auditv1.NewAuditServiceClient(conn), 5*time.Second)
}

func (c *Client) append(ctx context.Context, events []Event) ([]*auditv1.AppendResult, error) {
	req := &auditv1.AppendEventsRequest{Events: make([]*auditv1.EventInput, len(events))}
	for i, e := range events {
		if e.ID == "" || e.Time.IsZero() {
			return nil, errs.E(errs.InvalidArgument, "AUDIT_EVENT_INCOMPLETE", "audit event needs an ID and a time (use auditclient.New)")
		}
		req.Events[i] = e.proto()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.rpc.AppendEvents(ctx, req)
	if err != nil {
		if st, ok := status.FromError(err); ok && (st.Code() == codes.InvalidArgument || st.Code() == codes.AlreadyExists) {
			// The event itself is wrong (a bug in the caller): not recorded, and
			// retrying will not help.
			return nil, errs.Wrap(err, errs.FailedPrecondition, "AUDIT_EVENT_REJECTED", "audit log rejected the event")
		}
		return nil, errs.Wrap(err, errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log did not record the event")
	}
	// Trust only an answer that accounts for exactly the events we sent.
	if len(resp.GetResults()) != len(events) {
		return nil, errs.E(errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log gave an incomplete answer")
	}
	for i, r := range resp.GetResults() {
		if r.GetEventId() != events[i].ID {
			return nil, errs.E(errs.Unavailable, "AUDIT_UNAVAILABLE", "audit log answered for other events")
		}
	}
	return resp.GetResults(), nil
}

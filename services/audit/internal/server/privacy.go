package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/reasons"
)

// Audit's part in data-subject requests (sotto.privacy.v1, ADR 0013). The
// log holds events about people, each person only as a keyed HMAC of their
// account id, which the ledger can compute again to find their events.
const (
	// CategoryEvent is the one kind of data audit holds about people.
	CategoryEvent = "audit.event"

	// The actions audit records for the requests it answers (its own
	// namespace, as AppendEvents requires of every workload).
	ActionPrivacyExport   = "audit.privacy.export"
	ActionPrivacyErase    = "audit.privacy.erase"
	ActionPrivacyRectify  = "audit.privacy.rectify"
	ActionPrivacyRestrict = "audit.privacy.restrict"
	ActionPrivacyLift     = "audit.privacy.lift_restriction"

	// ResourceRequest: the resource of those events is the request (its id).
	ResourceRequest = "data_subject_request"

	// Evidence codes of the privacy protocol (answers, not error reasons).
	retainedReason        = "LEGAL_OBLIGATION"
	retainedBasis         = "GDPR Art. 5(2), Art. 17(3)(b) and (e)"
	retainedProtection    = "subjects are keyed HMACs; events hold no values"
	fieldNotRectifiable   = "FIELD_NOT_RECTIFIABLE"
	countEventsRetained   = "events_retained"
	detailProcessing      = "processing"
	processingStoreVerify = "STORE_AND_VERIFY_ONLY"
	detailNotRectifiable  = "not_rectifiable_because"
	recordOfWhatHappened  = "RECORD_OF_WHAT_HAPPENED"

	defaultExportPage = 500
)

// Privacy implements privacyv1.PrivacyParticipantServiceServer. Only the
// consent workload (the orchestrator) reaches it: see Policy and EndUsers.
//
// Audit does not record reads of its log (an operator's ListEvents is not
// an event about anyone, and recording every read would grow the log with
// each look at it). What it answers here is different: it discloses a
// person's events to the orchestrator, or states on the record what it
// keeps of them and why, and every participant records those acts
// (action audit.privacy.<op>, the person as subject, the request id as
// resource id). Audit appends them to its own log in process, through the
// same sequencer as every other event, under its own workload ID (the
// caller, consent, is caller_workload): they are in the signed tree like
// any other event, with no network hop to itself. The Event schema has no
// place for counts; the counts are in the evidence consent keeps, and the
// number of events about the person is what the log itself holds.
type Privacy struct {
	privacyv1.UnimplementedPrivacyParticipantServiceServer
	log   *ledger.Log
	pages *pagetoken.Codec
	idKey []byte
	self  string
	now   func() time.Time
}

var _ privacyv1.PrivacyParticipantServiceServer = (*Privacy)(nil)

// NewPrivacy answers data-subject requests from log. pages is the codec of
// the audit API's page tokens (its digest covers the request's type, so a
// token of one RPC is refused by another); idKey derives the IDs of the
// events that make Erase, Rectify and Restrict idempotent
// (ledger.SubjectHasher.PrivacyEventKey); self is audit's own SPIFFE ID,
// the recording workload of those events; now is the clock.
func NewPrivacy(log *ledger.Log, pages *pagetoken.Codec, idKey []byte, self string, now func() time.Time) *Privacy {
	return &Privacy{log: log, pages: pages, idKey: append([]byte(nil), idKey...), self: self, now: now}
}

func (p *Privacy) Describe(context.Context, *privacyv1.DescribeRequest) (*privacyv1.DescribeResponse, error) {
	return &privacyv1.DescribeResponse{Participant: "audit", Categories: []*privacyv1.Category{{
		Name: CategoryEvent,
		Description: "Records of what the suite's services did that concern the person: when, the action, its outcome, " +
			"the workload that acted, the kind of resource and a reason code. The person appears only as a keyed HMAC; " +
			"events hold no values.",
		Operations: []privacyv1.Operation{privacyv1.Operation_OPERATION_EXPORT, privacyv1.Operation_OPERATION_ERASE,
			privacyv1.Operation_OPERATION_RESTRICT},
		RetainedBecause: retainedReason + ": the record of processing and its proof, " + retainedBasis,
	}}}, nil
}

// Export returns the events about the subject in log order. The events are
// found by the subject's HMAC under every key version (the subject index)
// and each is checked against its stored bytes (ledger.List), so no other
// person's event is returned even if the index columns were edited.
// Events hold the account id alone (no tenant), as every service records
// it; account ids are unique across tenants.
func (p *Privacy) Export(ctx context.Context, req *privacyv1.ExportRequest) (*privacyv1.ExportResponse, error) {
	caller, err := mtls.PeerID(ctx)
	if err != nil {
		return nil, err
	}
	after, bound, err := p.exportPosition(req)
	if err != nil {
		return nil, err
	}
	size := pageSize(req.GetPageSize(), defaultExportPage)
	events, err := p.log.List(ctx, ledger.Query{Subject: req.GetSubject().GetSubject(), AfterIndex: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	for i, ev := range events {
		if ev.GetLeafIndex() >= bound {
			events = events[:i]
			break
		}
	}
	resp := &privacyv1.ExportResponse{}
	if len(events) > size {
		events = events[:size]
		if resp.NextPageToken, err = p.exportToken(req, events[size-1].GetLeafIndex(), bound); err != nil {
			return nil, err
		}
	}
	for _, ev := range events {
		resp.Items = append(resp.Items, exportItem(ev))
	}
	if req.GetPageToken() != "" {
		return resp, nil
	}
	resp.Outcome = privacyv1.Outcome_OUTCOME_DONE
	if len(events) == 0 {
		resp.Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
	}
	// One record per export, on its first page, before anything is let
	// out (a failed record fails the call). The later pages continue it:
	// their tokens are bound to this subject and request and come only
	// from a first page. Each export is its own disclosure (the
	// orchestrator exports again when the person downloads), so its ID is
	// fresh, not derived from the request.
	id, err := uuid.NewV7()
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.RandomFailed, "cannot generate an event id")
	}
	if _, err := p.record(ctx, caller.String(), ActionPrivacyExport, req.GetSubject(), req.GetRequestId(), id.String(), "", p.now()); err != nil {
		return nil, err
	}
	return resp, nil
}

// An export walks the log as it was at its first page: the cursor holds
// the leaf index after which the next page starts and the tree size when
// the walk began. So the pages add up to one snapshot, which does not grow
// while it is read (with this export's own record, among others).
func (p *Privacy) exportPosition(req *privacyv1.ExportRequest) (after, bound int64, err error) {
	cursor, err := p.pages.Decode(req, req.GetPageToken())
	if err != nil {
		return 0, 0, err
	}
	if cursor == nil {
		return -1, p.log.Size(), nil
	}
	a, n := binary.Uvarint(cursor)
	b, m := binary.Uvarint(cursor[max(n, 0):])
	if n <= 0 || m <= 0 || n+m != len(cursor) || a > math.MaxInt64 || b > math.MaxInt64 {
		// The MAC held, so only a change of cursor format gets here.
		return 0, 0, errs.E(errs.InvalidArgument, pagetoken.ReasonInvalid, "page_token is not a token this service issued for this query")
	}
	return int64(a), int64(b), nil
}

func (p *Privacy) exportToken(req *privacyv1.ExportRequest, after, bound int64) (string, error) {
	return p.pages.Encode(req, binary.AppendUvarint(binary.AppendUvarint(nil, uint64(after)), uint64(bound)))
}

// Erase deletes nothing: the log is append-only and its tree proves it (a
// deleted event would break every later checkpoint), and it is the
// controller's record of processing. What it keeps is a keyed HMAC of the
// account id and no values, so the person is not identifiable from it
// once identity and tokenvault have erased their data. The count is of
// every event about the subject now, including the record of this erasure.
func (p *Privacy) Erase(ctx context.Context, req *privacyv1.EraseRequest) (*privacyv1.EraseResponse, error) {
	done, already, err := p.once(ctx, ActionPrivacyErase, req.GetSubject(), req.GetRequestId(), retainedReason)
	if err != nil {
		return nil, err
	}
	n, err := p.log.CountSubject(ctx, req.GetSubject().GetSubject())
	if err != nil {
		return nil, err
	}
	return &privacyv1.EraseResponse{Evidence: &privacyv1.Evidence{
		Outcome: privacyv1.Outcome_OUTCOME_RETAINED,
		Counts:  map[string]int64{countEventsRetained: n},
		Retained: []*privacyv1.Retained{{Category: CategoryEvent, Count: n, Reason: retainedReason,
			Basis: retainedBasis, Protection: retainedProtection}},
		DoneTime:    timestamppb.New(done),
		AlreadyDone: already,
	}}, nil
}

// Rectify corrects nothing: an event is a record of what happened then,
// and a correction of the person's data is made where the data is
// (identity, tokenvault), which records that too.
func (p *Privacy) Rectify(ctx context.Context, req *privacyv1.RectifyRequest) (*privacyv1.RectifyResponse, error) {
	done, already, err := p.once(ctx, ActionPrivacyRectify, req.GetSubject(), req.GetRequestId(), "")
	if err != nil {
		return nil, err
	}
	resp := &privacyv1.RectifyResponse{Evidence: &privacyv1.Evidence{
		Outcome:     privacyv1.Outcome_OUTCOME_NOT_APPLICABLE,
		DoneTime:    timestamppb.New(done),
		AlreadyDone: already,
		Details:     map[string]string{detailNotRectifiable: recordOfWhatHappened},
	}}
	for i, c := range req.GetCorrections() {
		r := &privacyv1.CorrectionResult{Index: int32(i), Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE}
		if c.GetCategory() == CategoryEvent {
			r.RefusedReason = fieldNotRectifiable
		}
		resp.Results = append(resp.Results, r)
	}
	return resp, nil
}

// Restrict changes nothing: the log is only stored and verified, never
// processed for another purpose, which is what a restriction allows
// (GDPR Art. 18(2)). Lifting a restriction audit never applied is not
// applicable.
func (p *Privacy) Restrict(ctx context.Context, req *privacyv1.RestrictRequest) (*privacyv1.RestrictResponse, error) {
	action, outcome := ActionPrivacyRestrict, privacyv1.Outcome_OUTCOME_RETAINED
	if req.GetLift() {
		action, outcome = ActionPrivacyLift, privacyv1.Outcome_OUTCOME_NOT_APPLICABLE
	}
	done, already, err := p.once(ctx, action, req.GetSubject(), req.GetRequestId(), "")
	if err != nil {
		return nil, err
	}
	n, err := p.log.CountSubject(ctx, req.GetSubject().GetSubject())
	if err != nil {
		return nil, err
	}
	return &privacyv1.RestrictResponse{Evidence: &privacyv1.Evidence{
		Outcome:     outcome,
		Counts:      map[string]int64{countEventsRetained: n},
		DoneTime:    timestamppb.New(done),
		AlreadyDone: already,
		Details:     map[string]string{detailProcessing: processingStoreVerify},
	}}, nil
}

// once records action for the request, unless it is recorded already, and
// returns when it was done and whether an earlier call did it. The event's
// ID is derived from the action, the subject and the request id, so the
// record itself is the idempotency key: nothing else is stored.
func (p *Privacy) once(ctx context.Context, action string, subject *privacyv1.Subject, requestID, reason string) (time.Time, bool, error) {
	caller, err := mtls.PeerID(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	id := p.eventID(action, subject, requestID)
	earlier := func() (time.Time, bool, error) {
		ev, err := p.log.Event(ctx, id)
		if err != nil {
			return time.Time{}, false, err
		}
		return ev.GetOccurTime().AsTime(), true, nil
	}
	if at, ok, err := earlier(); err == nil || !errs.Is(err, errs.NotFound) {
		return at, ok, err
	}
	// Microseconds: the log keeps no more, and the answer must say the
	// same time a repeated call reads back.
	now := p.now().UTC().Truncate(time.Microsecond)
	res, err := p.record(ctx, caller.String(), action, subject, requestID, id, reason, now)
	if errs.ReasonOf(err) == reasons.EventIdConflict {
		// A concurrent call with the same request recorded it first (at
		// another time, so its digest differs).
		return earlier()
	}
	if err != nil {
		return time.Time{}, false, err
	}
	if res.Duplicate {
		return earlier()
	}
	return now, false, nil
}

// record appends audit's own event about what it answered for caller.
func (p *Privacy) record(ctx context.Context, caller, action string, subject *privacyv1.Subject, requestID, id, reason string, at time.Time) (ledger.Result, error) {
	in := &auditv1.EventInput{
		EventId:        id,
		OccurTime:      timestamppb.New(at),
		Subject:        subject.GetSubject(),
		Action:         action,
		ResourceType:   ResourceRequest,
		ResourceId:     requestID,
		Outcome:        auditv1.Outcome_OUTCOME_SUCCESS,
		Reason:         reason,
		CallerWorkload: caller,
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		in.TraceId = sc.TraceID().String()
	}
	res, err := p.log.Append(ctx, []ledger.Submission{{Workload: p.self, Event: in}})
	if err != nil {
		return ledger.Result{}, err
	}
	return res[0], nil
}

// eventID is a UUID (version 8, RFC 9562) keyed by the derived key: one per
// action, subject and request, and unknown to any other workload, which
// could otherwise append an event with that ID first and so keep audit's
// record (and the request) from ever completing. The parts hold no NUL
// (their patterns), so the separators make the input unambiguous.
func (p *Privacy) eventID(action string, subject *privacyv1.Subject, requestID string) string {
	m := hmac.New(sha256.New, p.idKey)
	for _, part := range []string{action, subject.GetTenant(), subject.GetSubject(), requestID} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	var u uuid.UUID
	copy(u[:], m.Sum(nil))
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u.String()
}

// exportItem is one event as the person gets it: what happened, when, by
// which workload, to which kind of resource. Not its resource id (a token
// or another record's id), trace id or hashes: they mean nothing to the
// person, and a resource id may belong to someone else's data.
func exportItem(ev *auditv1.Event) *privacyv1.Item {
	field := func(name, value string) *privacyv1.Field { return &privacyv1.Field{Name: name, Value: value} }
	return &privacyv1.Item{Category: CategoryEvent, Id: ev.GetEventId(), Fields: []*privacyv1.Field{
		field("event_id", ev.GetEventId()),
		field("occur_time", ev.GetOccurTime().AsTime().UTC().Format(time.RFC3339Nano)),
		field("action", ev.GetAction()),
		field("outcome", strings.ToLower(strings.TrimPrefix(ev.GetOutcome().String(), "OUTCOME_"))),
		field("actor_workload", ev.GetActorWorkload()),
		field("resource_type", ev.GetResourceType()),
		field("reason", ev.GetReason()),
	}}
}

package consent

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// The participant's audited actions (the design's <svc>.privacy.<op>).
const (
	ActionPrivacyExport   auditclient.Action = "consent.privacy.export"
	ActionPrivacyErase    auditclient.Action = "consent.privacy.erase"
	ActionPrivacyRestrict auditclient.Action = "consent.privacy.restrict"
	ActionPrivacyOptOut   auditclient.Action = "consent.privacy.opt_out_of_sale"
	resourceDSR                              = "data_subject_request"
	participantName                          = "consent"
	categoryRecord                           = "consent.record"
	categoryReceipt                          = "consent.receipt"
	categoryRequest                          = "consent.request"
	exportDefaultPage                        = 500
	exportMaxPage                            = 1000
	// opOptOutOfSale keys the opt-out's answer in dsr_participant_ops next
	// to privacy.v1's operations (which it is not).
	opOptOutOfSale = 100
)

// Participant is the consent service's own privacy participant, called in
// process by the orchestrator through the same interface as the other
// participants' gRPC clients.
type Participant struct{ s *Service }

var _ privacyv1.PrivacyParticipantServiceClient = (*Participant)(nil)

// Participant returns the service's privacy participant.
func (s *Service) Participant() *Participant { return &Participant{s: s} }

// Describe implements the participant protocol.
func (p *Participant) Describe(context.Context, *privacyv1.DescribeRequest, ...grpc.CallOption) (*privacyv1.DescribeResponse, error) {
	exportOnly := []privacyv1.Operation{privacyv1.Operation_OPERATION_EXPORT, privacyv1.Operation_OPERATION_ERASE}
	return &privacyv1.DescribeResponse{Participant: participantName, Categories: []*privacyv1.Category{
		{Name: categoryRecord, Description: "Every consent decision the subject made, with the notice shown.", Operations: exportOnly,
			RetainedBecause: "PROOF_OF_CONSENT: GDPR Art. 7(1)"},
		{Name: categoryReceipt, Description: "Signed consent receipts.", Operations: exportOnly, RetainedBecause: "PROOF_OF_CONSENT: GDPR Art. 7(1)"},
		{Name: categoryRequest, Description: "The subject's data-subject requests.", Operations: []privacyv1.Operation{privacyv1.Operation_OPERATION_EXPORT},
			RetainedBecause: "LEGAL_OBLIGATION: GDPR Art. 5(2)"},
	}}, nil
}

// exportItems is every item the service holds about the subject, in a
// stable order (records oldest first, receipts, requests).
func (p *Participant) exportItems(ctx context.Context, subject string) ([]*privacyv1.Item, error) {
	st := p.s.store
	var recs []storage.Record
	page := storage.Page{}
	for {
		batch, err := st.Records(ctx, st.DB(), subject, "", page, MaxPageSize)
		if err != nil {
			return nil, err
		}
		recs = append(recs, batch...)
		if len(batch) < MaxPageSize {
			break
		}
		last := batch[len(batch)-1]
		page = storage.Page{Time: last.Time, ID: last.ID}
	}
	var items []*privacyv1.Item
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		f := []*privacyv1.Field{
			{Name: "purpose_id", Value: r.Purpose}, {Name: "decision", Value: r.Decision.String()},
			{Name: "method", Value: r.Method.String()}, {Name: "channel", Value: r.Channel.String()},
			{Name: "record_time", Value: rfc3339(r)}, {Name: "jurisdiction", Value: r.Jurisdiction},
			{Name: "receipt_id", Value: r.ReceiptID},
		}
		if r.NoticeID != "" {
			f = append(f, &privacyv1.Field{Name: "notice_id", Value: r.NoticeID}, &privacyv1.Field{Name: "notice_version", Value: strconv.FormatInt(r.NoticeVersion, 10)},
				&privacyv1.Field{Name: "notice_language", Value: r.NoticeLanguage})
		}
		items = append(items, &privacyv1.Item{Category: categoryRecord, Id: r.ID, Fields: f})
	}
	rcs, err := st.ReceiptsOfSubject(ctx, st.DB(), subject)
	if err != nil {
		return nil, err
	}
	for _, rc := range rcs {
		items = append(items, &privacyv1.Item{Category: categoryReceipt, Id: rc.ID, Fields: []*privacyv1.Field{
			{Name: "issue_time", Value: rc.Issued.UTC().Format(rfc3339Layout)}, {Name: "sha256", Value: rc.SHA256}, {Name: "key_id", Value: rc.KeyID},
		}})
	}
	dsrs, err := st.DSRsOfSubject(ctx, st.DB(), subject)
	if err != nil {
		return nil, err
	}
	for _, d := range dsrs {
		items = append(items, &privacyv1.Item{Category: categoryRequest, Id: d.ID, Fields: []*privacyv1.Field{
			{Name: "type", Value: strconv.Itoa(d.Type)}, {Name: "state", Value: strconv.Itoa(d.State)},
			{Name: "receive_time", Value: d.Received.UTC().Format(rfc3339Layout)}, {Name: "jurisdiction", Value: d.Jurisdiction},
		}})
	}
	return items, nil
}

const rfc3339Layout = "2006-01-02T15:04:05.999999Z07:00"

func rfc3339(r storage.Record) string { return r.Time.UTC().Format(rfc3339Layout) }

// Export implements the participant protocol: records, receipt ids and
// requests. The page token is the offset of the next item: the order is
// stable and consent's data about a subject grows only at the end.
func (p *Participant) Export(ctx context.Context, in *privacyv1.ExportRequest, _ ...grpc.CallOption) (*privacyv1.ExportResponse, error) {
	size := int(in.GetPageSize())
	if size <= 0 {
		size = exportDefaultPage
	}
	size = min(size, exportMaxPage)
	from := 0
	if t := in.GetPageToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return nil, errs.E(errs.InvalidArgument, reasons.PageTokenInvalid, "page token is not one this service issued")
		}
		from = n
	}
	items, err := p.exportItems(ctx, in.GetSubject().GetSubject())
	if err != nil {
		return nil, err
	}
	out := &privacyv1.ExportResponse{Outcome: privacyv1.Outcome_OUTCOME_NO_DATA}
	if len(items) > 0 {
		out.Outcome = privacyv1.Outcome_OUTCOME_DONE
	}
	if from < len(items) {
		end := min(len(items), from+size)
		out.Items = items[from:end]
		if end < len(items) {
			out.NextPageToken = strconv.Itoa(end)
		}
	}
	if from == 0 {
		ev := auditclient.New(ctx, ActionPrivacyExport, auditclient.Success)
		ev.Subject, ev.ResourceType, ev.ResourceID = in.GetSubject().GetSubject(), resourceDSR, in.GetRequestId()
		if err := p.s.store.InTx(ctx, func(tx *sql.Tx) error { return p.s.audit.Enqueue(ctx, tx, ev) }); err != nil {
			return nil, err
		}
		p.s.audit.Notify()
	}
	return out, nil
}

// previous returns the evidence of an earlier call for the same request
// and operation, marked already_done.
func (p *Participant) previous(ctx context.Context, requestID string, op int) (*privacyv1.Evidence, bool, error) {
	b, ok, err := p.s.store.ParticipantOp(ctx, p.s.store.DB(), requestID, op)
	if err != nil || !ok {
		return nil, false, err
	}
	ev := &privacyv1.Evidence{}
	if err := protojson.Unmarshal([]byte(b), ev); err != nil {
		return nil, false, errs.Wrap(err, errs.Internal, reasons.StoreInvariant, "stored evidence does not decode")
	}
	ev.AlreadyDone = true
	return ev, true, nil
}

// withdrawAll withdraws, with method data_subject_request and under one
// receipt, every purpose pick selects that the subject's latest decision
// still allows; it records the evidence (by request and op) and an audit
// event in the same transaction. A second call for the same request
// answers the first evidence, already_done.
func (p *Participant) withdrawAll(ctx context.Context, subject, requestID string, op int, action auditclient.Action,
	pick func(catalogue.Purpose, storage.State, bool) bool, evidence func(withdrawn int) (*privacyv1.Evidence, error)) (*privacyv1.Evidence, error) {
	if ev, ok, err := p.previous(ctx, requestID, op); ok || err != nil {
		return ev, err
	}
	s := p.s
	ps, err := s.store.Purposes(ctx, s.store.DB())
	if err != nil {
		return nil, err
	}
	states, err := s.store.States(ctx, s.store.DB(), []string{subject})
	if err != nil {
		return nil, err
	}
	now := s.clock()
	purposes := map[string]catalogue.Purpose{}
	var recs []storage.Record
	for _, pu := range ps {
		st, has := states[subject][pu.ID]
		if pu.Retired || !pu.Basis.Withdrawable() || !pick(pu, st, has) {
			continue
		}
		purposes[pu.ID] = pu
		recs = append(recs, storage.Record{ID: newID(), Subject: subject, Purpose: pu.ID, Decision: catalogue.DecisionWithdrawn,
			Method: catalogue.MethodDataSubjectRequest, Channel: catalogue.ChannelAPI, PurposeRevision: pu.Revision, Actor: subject, Time: now})
	}
	ev, err := evidence(len(recs))
	if err != nil {
		return nil, err
	}
	ev.DoneTime = timestamppb.New(now)
	b, err := protojson.Marshal(ev)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.StoreInvariant, "evidence does not encode")
	}
	audit := auditclient.New(ctx, action, auditclient.Success)
	audit.Subject, audit.ResourceType, audit.ResourceID = subject, resourceDSR, requestID
	extra := func(tx *sql.Tx) error {
		if err := s.store.InsertParticipantOp(ctx, tx, requestID, op, string(b), now); err != nil {
			return err
		}
		return s.audit.Enqueue(ctx, tx, audit)
	}
	if len(recs) > 0 {
		_, err = s.record(ctx, subject, recs, purposes, "", nil, extra)
	} else {
		err = s.store.InTx(ctx, extra)
		if err == nil {
			s.audit.Notify()
		}
	}
	if errs.Is(err, errs.AlreadyExists) {
		// A concurrent call for the same request won.
		if prev, ok, perr := p.previous(ctx, requestID, op); ok || perr != nil {
			return prev, perr
		}
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// Erase implements the participant protocol: the records and receipts are
// kept as the proof of consent the controller must be able to give (GDPR
// Art. 7(1)), and every purpose the subject allowed (a grant, or a
// legitimate interest not objected to) is withdrawn, so that nothing
// processes their data any more.
func (p *Participant) Erase(ctx context.Context, in *privacyv1.EraseRequest, _ ...grpc.CallOption) (*privacyv1.EraseResponse, error) {
	subject := in.GetSubject().GetSubject()
	recs, receipts, err := p.s.store.CountOfSubject(ctx, p.s.store.DB(), subject)
	if err != nil {
		return nil, err
	}
	ev, err := p.withdrawAll(ctx, subject, in.GetRequestId(), int(privacyv1.Operation_OPERATION_ERASE), ActionPrivacyErase,
		func(pu catalogue.Purpose, st storage.State, has bool) bool {
			if pu.Basis == catalogue.BasisConsent {
				return has && st.Decision == catalogue.DecisionGranted
			}
			return !has || st.Decision != catalogue.DecisionWithdrawn
		},
		func(withdrawn int) (*privacyv1.Evidence, error) {
			ev := &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_RETAINED,
				Counts: map[string]int64{"consents_withdrawn": int64(withdrawn)}}
			if recs+receipts == 0 && withdrawn == 0 {
				ev.Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
			}
			const basis, protection = "GDPR Art. 7(1) (proof of consent); Art. 17(3)(b)", "no personal values: account ids, purposes and decisions"
			if recs > 0 || withdrawn > 0 {
				ev.Retained = append(ev.Retained, &privacyv1.Retained{Category: categoryRecord, Count: recs + int64(withdrawn),
					Reason: reasons.ProofOfConsent, Basis: basis, Protection: protection})
			}
			if receipts > 0 || withdrawn > 0 {
				n := receipts
				if withdrawn > 0 {
					n++
				}
				ev.Retained = append(ev.Retained, &privacyv1.Retained{Category: categoryReceipt, Count: n,
					Reason: reasons.ProofOfConsent, Basis: basis, Protection: protection})
			}
			return ev, nil
		})
	if err != nil {
		return nil, err
	}
	return &privacyv1.EraseResponse{Evidence: ev}, nil
}

// OptOutOfSale withdraws, with method data_subject_request and one
// receipt, every purpose that is a sale or sharing under the CCPA which the
// subject has not opted out of: RecordGPC's effect, for a request.
func (p *Participant) OptOutOfSale(ctx context.Context, subject *privacyv1.Subject, requestID string) (*privacyv1.Evidence, error) {
	return p.withdrawAll(ctx, subject.GetSubject(), requestID, opOptOutOfSale, ActionPrivacyOptOut,
		func(pu catalogue.Purpose, st storage.State, has bool) bool {
			return pu.SaleOrShare && (!has || st.Decision != catalogue.DecisionWithdrawn)
		},
		func(withdrawn int) (*privacyv1.Evidence, error) {
			ev := &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_DONE, Counts: map[string]int64{"consents_withdrawn": int64(withdrawn)}}
			if withdrawn == 0 {
				ev.Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
			}
			return ev, nil
		})
}

// Rectify implements the participant protocol: consent's records are a
// record of what the subject decided, which is not corrected (a new
// decision is recorded instead); no category of consent is rectifiable.
func (p *Participant) Rectify(_ context.Context, in *privacyv1.RectifyRequest, _ ...grpc.CallOption) (*privacyv1.RectifyResponse, error) {
	out := &privacyv1.RectifyResponse{Evidence: &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE,
		Details: map[string]string{"why": "CONSENT_RECORDS_ARE_NOT_CORRECTED"}, DoneTime: timestamppb.New(p.s.clock())}}
	for i, c := range in.GetCorrections() {
		r := &privacyv1.CorrectionResult{Index: int32(i), Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE}
		if c.GetCategory() == categoryRecord || c.GetCategory() == categoryReceipt || c.GetCategory() == categoryRequest {
			r.RefusedReason = "FIELD_NOT_RECTIFIABLE"
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

// Restrict implements the participant protocol: a restriction makes Check
// deny every purpose of the subject except legal obligations (reason
// RESTRICTED); lift removes it. Each purpose's cached decisions are
// dropped through the change feed, in the same transaction.
func (p *Participant) Restrict(ctx context.Context, in *privacyv1.RestrictRequest, _ ...grpc.CallOption) (*privacyv1.RestrictResponse, error) {
	op := int(privacyv1.Operation_OPERATION_RESTRICT)
	if ev, ok, err := p.previous(ctx, in.GetRequestId(), op); ok || err != nil {
		return &privacyv1.RestrictResponse{Evidence: ev}, err
	}
	s := p.s
	subject := in.GetSubject().GetSubject()
	ps, err := s.store.Purposes(ctx, s.store.DB())
	if err != nil {
		return nil, err
	}
	now := s.clock()
	ev := &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_DONE, DoneTime: timestamppb.New(now),
		Details: map[string]string{"lift": strconv.FormatBool(in.GetLift())}}
	audit := auditclient.New(ctx, ActionPrivacyRestrict, auditclient.Success)
	audit.Subject, audit.ResourceType, audit.ResourceID = subject, resourceDSR, in.GetRequestId()
	var evs []events.Event
	for _, pu := range ps {
		b, _ := json.Marshal(DecisionChange{Subject: subject, Purpose: pu.ID, Method: catalogue.MethodDataSubjectRequest, Time: now})
		evs = append(evs, events.Event{Topic: TopicDecision, Key: subject + "/" + pu.ID, Payload: b})
	}
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		var changed bool
		var err error
		if in.GetLift() {
			changed, err = s.store.Unrestrict(ctx, tx, subject)
		} else {
			changed, err = s.store.Restrict(ctx, tx, subject, in.GetRequestId(), now)
		}
		if err != nil {
			return err
		}
		if !changed {
			ev.AlreadyDone = true
		}
		ev.Counts = map[string]int64{"purposes_affected": int64(len(ps))}
		b, err := protojson.Marshal(ev)
		if err != nil {
			return errs.Wrap(err, errs.Internal, reasons.StoreInvariant, "evidence does not encode")
		}
		if err := s.store.InsertParticipantOp(ctx, tx, in.GetRequestId(), op, string(b), now); err != nil {
			return err
		}
		if err := s.audit.Enqueue(ctx, tx, audit); err != nil {
			return err
		}
		return s.events.Publish(ctx, tx, evs...)
	})
	if errs.Is(err, errs.AlreadyExists) {
		if prev, ok, perr := p.previous(ctx, in.GetRequestId(), op); ok || perr != nil {
			return &privacyv1.RestrictResponse{Evidence: prev}, perr
		}
	}
	if err != nil {
		return nil, err
	}
	s.notify()
	return &privacyv1.RestrictResponse{Evidence: ev}, nil
}

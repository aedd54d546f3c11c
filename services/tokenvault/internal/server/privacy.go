package server

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// Privacy is tokenvault's part in data-subject requests
// (privacyv1.PrivacyParticipantServiceServer), for the consent service's
// orchestrator only (Policy, EndUsers). tokenvault holds the suite's raw
// values, so its Export is the one place they leave for a request: the
// other participants export tokens, which the orchestrator fills in from
// this export.
type Privacy struct {
	privacyv1.UnimplementedPrivacyParticipantServiceServer
	engine *engine.Engine
}

var _ privacyv1.PrivacyParticipantServiceServer = (*Privacy)(nil)

// NewPrivacy serves e's data-subject operations.
func NewPrivacy(e *engine.Engine) *Privacy { return &Privacy{engine: e} }

// participant is tokenvault's workload name in Describe.
const participant = "tokenvault"

func (p *Privacy) Describe(context.Context, *privacyv1.DescribeRequest) (*privacyv1.DescribeResponse, error) {
	return &privacyv1.DescribeResponse{Participant: participant, Categories: []*privacyv1.Category{{
		Name: engine.CategoryValue,
		Description: "Personal data that services stored in the token vault (names, e-mail addresses, phone numbers, postal " +
			"addresses, card numbers, dates of birth, national ids, free text), each behind a token, encrypted under the " +
			"person's own data key. Erasure destroys the key (crypto-shredding); a restriction stops every service and staff " +
			"member from reading the values until it is lifted.",
		Operations: []privacyv1.Operation{privacyv1.Operation_OPERATION_EXPORT, privacyv1.Operation_OPERATION_ERASE,
			privacyv1.Operation_OPERATION_RECTIFY, privacyv1.Operation_OPERATION_RESTRICT},
		RectifiableFields: []string{engine.FieldValue},
	}}}, nil
}

// Export pages through the subject's values. A page token is bound to the
// request (subject, request_id) and signed, as ExportSubject's.
func (p *Privacy) Export(ctx context.Context, req *privacyv1.ExportRequest) (*privacyv1.ExportResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	tenant, subject := req.GetSubject().GetTenant(), req.GetSubject().GetSubject()
	// The key comes first, so that a key backend outage refuses the request
	// rather than losing a page already decrypted and audited for want of
	// the token to the next one. A shop the vault does not serve has no
	// data, which the engine answers.
	var after []byte
	pages, err := p.engine.PageTokens(ctx, tenant)
	switch {
	case errs.ReasonOf(err) == reasons.UnknownTenant:
	case err != nil:
		return nil, err
	default:
		if after, err = pages.Decode(req, req.GetPageToken()); err != nil {
			return nil, err
		}
	}
	page, err := p.engine.PrivacyExport(ctx, c, tenant, subject, req.GetRequestId(), string(after), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	resp := &privacyv1.ExportResponse{Outcome: privacyv1.Outcome_OUTCOME_DONE}
	if page.NoData {
		resp.Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
		return resp, nil
	}
	if page.Next != "" {
		if resp.NextPageToken, err = pages.Encode(req, []byte(page.Next)); err != nil {
			return nil, err
		}
	}
	for _, v := range page.Values {
		it := &privacyv1.Item{Category: engine.CategoryValue, Id: v.Token.Token, Fields: []*privacyv1.Field{
			{Name: "token", Value: v.Token.Token},
			{Name: "data_type", Value: tokens.DataType(v.DataType).Code()},
			{Name: "value", Value: v.Value},
			{Name: "scope", Value: v.Scope},
			{Name: "created_time", Value: rfc3339(v.Created)},
		}}
		if !v.Expires.IsZero() {
			it.Fields = append(it.Fields, &privacyv1.Field{Name: "expire_time", Value: rfc3339(v.Expires)})
		}
		resp.Items = append(resp.Items, it)
	}
	return resp, nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Erase crypto-shreds the subject (EraseSubject's erasure): the evidence
// names the destroyed data key versions and when copies of them made before
// stop opening (ADR 0007).
func (p *Privacy) Erase(ctx context.Context, req *privacyv1.EraseRequest) (*privacyv1.EraseResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	ev, none, err := p.engine.PrivacyErase(ctx, c, req.GetSubject().GetTenant(), req.GetSubject().GetSubject(), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	if none {
		return &privacyv1.EraseResponse{Evidence: &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_NO_DATA, DoneTime: timestamppb.New(p.engine.Now())}}, nil
	}
	out := &privacyv1.Evidence{
		Outcome: privacyv1.Outcome_OUTCOME_DONE, DoneTime: timestamppb.New(ev.Erased), AlreadyDone: ev.AlreadyErased,
		Details: map[string]string{
			"kek_version":        strconv.Itoa(ev.KEKVersion),
			"old_copies_retired": strconv.FormatBool(ev.OldCopiesRetired),
		},
	}
	if !ev.AlreadyErased {
		// A repeated erasure destroys nothing: it reports the first one's
		// time and whether its old copies are retired yet, and no counts,
		// which would read as "nothing was affected".
		out.Counts = map[string]int64{
			"tokens_affected":              ev.TokensAffected,
			"lookup_entries_removed":       ev.LookupsRemoved,
			"deterministic_tokens_retired": ev.TokensRetired,
			"deterministic_tokens_kept":    ev.TokensKept,
		}
	}
	if !ev.RetireDue.IsZero() {
		out.Details["retire_due_time"] = rfc3339(ev.RetireDue)
	}
	for _, v := range ev.DestroyedVersions {
		out.DestroyedKeyIds = append(out.DestroyedKeyIds, "dek:v"+strconv.Itoa(v))
	}
	return &privacyv1.EraseResponse{Evidence: out}, nil
}

// Rectify corrects values behind the subject's random tokens.
func (p *Privacy) Rectify(ctx context.Context, req *privacyv1.RectifyRequest) (*privacyv1.RectifyResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in := make([]engine.Correction, len(req.GetCorrections()))
	for i, cr := range req.GetCorrections() {
		in[i] = engine.Correction{Category: cr.GetCategory(), ItemID: cr.GetItemId(), Field: cr.GetField(), Value: cr.GetValue()}
	}
	r, err := p.engine.Rectify(ctx, c, req.GetSubject().GetTenant(), req.GetSubject().GetSubject(), req.GetRequestId(), in)
	if err != nil {
		return nil, err
	}
	resp := &privacyv1.RectifyResponse{Evidence: &privacyv1.Evidence{
		Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, DoneTime: timestamppb.New(r.Done),
		Counts: map[string]int64{"values_corrected": int64(r.Corrected), "values_unchanged": int64(r.Unchanged)},
	}}
	ev := resp.Evidence
	noData := false
	for i, res := range r.Results {
		resp.Results = append(resp.Results, &privacyv1.CorrectionResult{Index: int32(i), Outcome: outcome(res.Outcome), RefusedReason: res.Refused})
		switch res.Outcome {
		case engine.OutcomeDone:
			ev.Outcome = privacyv1.Outcome_OUTCOME_DONE
		case engine.OutcomeNoData:
			noData = true
		}
	}
	if ev.Outcome != privacyv1.Outcome_OUTCOME_DONE && noData {
		ev.Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
	}
	// Every correction applied had been applied before: a repeated request.
	ev.AlreadyDone = r.Corrected == 0 && r.Unchanged > 0
	if r.DEKVersion > 0 {
		ev.Details = map[string]string{"dek_version": strconv.Itoa(r.DEKVersion)}
	}
	return resp, nil
}

func outcome(o engine.Outcome) privacyv1.Outcome {
	switch o {
	case engine.OutcomeDone:
		return privacyv1.Outcome_OUTCOME_DONE
	case engine.OutcomeNoData:
		return privacyv1.Outcome_OUTCOME_NO_DATA
	case engine.OutcomeNotApplicable:
		return privacyv1.Outcome_OUTCOME_NOT_APPLICABLE
	}
	return privacyv1.Outcome_OUTCOME_UNSPECIFIED
}

// Restrict restricts the subject's processing, or lifts the restriction.
func (p *Privacy) Restrict(ctx context.Context, req *privacyv1.RestrictRequest) (*privacyv1.RestrictResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	r, err := p.engine.Restrict(ctx, c, req.GetSubject().GetTenant(), req.GetSubject().GetSubject(), req.GetRequestId(), req.GetLift())
	if err != nil {
		return nil, err
	}
	if r.NoData {
		return &privacyv1.RestrictResponse{Evidence: &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_NO_DATA, DoneTime: timestamppb.New(p.engine.Now())}}, nil
	}
	ev := &privacyv1.Evidence{
		Outcome: privacyv1.Outcome_OUTCOME_DONE, AlreadyDone: !r.Changed, DoneTime: timestamppb.New(p.engine.Now()),
		Counts:  map[string]int64{"tokens_affected": r.Tokens},
		Details: map[string]string{"restricted": strconv.FormatBool(!req.GetLift())},
	}
	if !r.Since.IsZero() {
		ev.DoneTime = timestamppb.New(r.Since)
	}
	return &privacyv1.RestrictResponse{Evidence: ev}, nil
}

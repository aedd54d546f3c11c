package server

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/identity/internal/auth"
)

// Privacy implements privacyv1.PrivacyParticipantServiceServer: identity's
// part of data-subject requests, called by the consent service's
// orchestrator only (Policy and EndUsers say so).
type Privacy struct {
	privacyv1.UnimplementedPrivacyParticipantServiceServer
	domain *auth.Service
	pages  *pagetoken.Codec
}

var _ privacyv1.PrivacyParticipantServiceServer = (*Privacy)(nil)

// NewPrivacy returns the participant over the domain; pages signs Export's
// page tokens.
func NewPrivacy(domain *auth.Service, pages *pagetoken.Codec) *Privacy {
	return &Privacy{domain: domain, pages: pages}
}

// Export's page sizes.
const (
	defaultExportPage = 500
	maxExportPage     = 1000
)

var categoryRank = map[string]byte{auth.CategoryAccount: 1, auth.CategoryFactor: 2, auth.CategorySession: 3}

func subjectOf(s *privacyv1.Subject) auth.Subject {
	return auth.Subject{Tenant: s.GetTenant(), AccountID: s.GetSubject()}
}

func outcomeOf(o auth.Outcome) privacyv1.Outcome {
	switch o {
	case auth.OutcomeDone:
		return privacyv1.Outcome_OUTCOME_DONE
	case auth.OutcomeNoData:
		return privacyv1.Outcome_OUTCOME_NO_DATA
	case auth.OutcomeNotApplicable:
		return privacyv1.Outcome_OUTCOME_NOT_APPLICABLE
	}
	return privacyv1.Outcome_OUTCOME_UNSPECIFIED
}

func evidenceOf(e auth.Evidence) *privacyv1.Evidence {
	return &privacyv1.Evidence{Outcome: outcomeOf(e.Outcome), Counts: e.Counts, Details: e.Details,
		DoneTime: timestamppb.New(e.Done), AlreadyDone: e.AlreadyDone}
}

// Describe implements the RPC.
func (p *Privacy) Describe(context.Context, *privacyv1.DescribeRequest) (*privacyv1.DescribeResponse, error) {
	exportErase := []privacyv1.Operation{privacyv1.Operation_OPERATION_EXPORT, privacyv1.Operation_OPERATION_ERASE}
	return &privacyv1.DescribeResponse{Participant: "identity", Categories: []*privacyv1.Category{
		{Name: auth.CategoryAccount, Description: "The customer or staff account: id, kind, shop, creation time, whether the " +
			"e-mail address is verified, the e-mail address and phone number (held as token-vault tokens), staff roles. " +
			"Password hashes, second-factor secrets and codes are credentials and are not exported.",
			Operations:        append(exportErase, privacyv1.Operation_OPERATION_RECTIFY),
			RectifiableFields: []string{auth.FieldEmail, auth.FieldPhone}},
		{Name: auth.CategoryFactor, Description: "Second factors (authenticator apps, passkeys): type, state, name, " +
			"when added and last used.", Operations: exportErase},
		{Name: auth.CategorySession, Description: "Sessions: when started, last used, when they expire or were ended, " +
			"how the person authenticated, the browser's user agent.", Operations: exportErase},
	}}, nil
}

// Export implements the RPC. Pages follow the domain's stable order; the
// token holds the last item's category and id, bound to the subject and
// request by pkg/pagetoken.
func (p *Privacy) Export(ctx context.Context, req *privacyv1.ExportRequest) (*privacyv1.ExportResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = defaultExportPage
	}
	size = min(size, maxExportPage)
	after, err := p.pages.Decode(req, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	items, err := p.domain.PrivacyExport(ctx, subjectOf(req.GetSubject()), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	out := &privacyv1.ExportResponse{}
	if after == nil {
		out.Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
		if len(items) > 0 {
			out.Outcome = privacyv1.Outcome_OUTCOME_DONE
		}
	}
	var rest []auth.Item
	for _, it := range items {
		if after == nil || string(itemKey(it)) > string(after) {
			rest = append(rest, it)
		}
	}
	if len(rest) > size {
		rest = rest[:size]
		if out.NextPageToken, err = p.pages.Encode(req, itemKey(rest[size-1])); err != nil {
			return nil, err
		}
	}
	for _, it := range rest {
		out.Items = append(out.Items, itemOf(it))
	}
	return out, nil
}

// itemKey orders items as the domain lists them: category, then id.
func itemKey(it auth.Item) []byte { return append([]byte{categoryRank[it.Category]}, it.ID...) }

func itemOf(it auth.Item) *privacyv1.Item {
	out := &privacyv1.Item{Category: it.Category, Id: it.ID}
	for _, f := range it.Fields {
		out.Fields = append(out.Fields, &privacyv1.Field{Name: f.Name, Value: f.Value, Token: f.Token})
	}
	return out
}

// Erase implements the RPC.
func (p *Privacy) Erase(ctx context.Context, req *privacyv1.EraseRequest) (*privacyv1.EraseResponse, error) {
	ev, err := p.domain.PrivacyErase(ctx, subjectOf(req.GetSubject()), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &privacyv1.EraseResponse{Evidence: evidenceOf(ev)}, nil
}

// Rectify implements the RPC.
func (p *Privacy) Rectify(ctx context.Context, req *privacyv1.RectifyRequest) (*privacyv1.RectifyResponse, error) {
	cs := make([]auth.Correction, len(req.GetCorrections()))
	for i, c := range req.GetCorrections() {
		cs[i] = auth.Correction{Category: c.GetCategory(), ItemID: c.GetItemId(), Field: c.GetField(), Value: c.GetValue()}
	}
	ev, results, err := p.domain.PrivacyRectify(ctx, subjectOf(req.GetSubject()), req.GetRequestId(), cs)
	if err != nil {
		return nil, err
	}
	out := &privacyv1.RectifyResponse{Evidence: evidenceOf(ev)}
	for i, r := range results {
		out.Results = append(out.Results, &privacyv1.CorrectionResult{Index: int32(i), Outcome: outcomeOf(r.Outcome), RefusedReason: r.Refused})
	}
	return out, nil
}

// Restrict implements the RPC.
func (p *Privacy) Restrict(ctx context.Context, req *privacyv1.RestrictRequest) (*privacyv1.RestrictResponse, error) {
	ev, err := p.domain.PrivacyRestrict(ctx, subjectOf(req.GetSubject()), req.GetRequestId(), req.GetLift())
	if err != nil {
		return nil, err
	}
	return &privacyv1.RestrictResponse{Evidence: evidenceOf(ev)}, nil
}

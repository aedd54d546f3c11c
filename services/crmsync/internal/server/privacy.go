package server

import (
	"context"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/crmsync/internal/delivery"
)

// Privacy implements privacyv1.PrivacyParticipantServiceServer: crmsync's
// part of data-subject requests, for the consent service's orchestrator
// only (Policy says so).
type Privacy struct {
	privacyv1.UnimplementedPrivacyParticipantServiceServer
	domain *delivery.Service
	pages  *pagetoken.Codec
}

var _ privacyv1.PrivacyParticipantServiceServer = (*Privacy)(nil)

// NewPrivacy returns the participant over the domain; pages signs Export's
// page tokens.
func NewPrivacy(domain *delivery.Service, pages *pagetoken.Codec) *Privacy {
	return &Privacy{domain: domain, pages: pages}
}

// Export's page sizes.
const (
	defaultExportPage = 500
	maxExportPage     = 1000
)

func subjectOf(s *privacyv1.Subject) delivery.Subject {
	return delivery.Subject{Tenant: s.GetTenant(), ID: s.GetSubject()}
}

// Describe implements the RPC.
func (p *Privacy) Describe(context.Context, *privacyv1.DescribeRequest) (*privacyv1.DescribeResponse, error) {
	return &privacyv1.DescribeResponse{Participant: "crmsync", Categories: []*privacyv1.Category{
		{Name: delivery.CategoryDelivery, Description: "Each change about the customer queued for the shop's CRMs (HubSpot, " +
			"Salesforce): the CRM, its state, the consent purposes it was sent under and, once sent, each CRM property in the " +
			"form the CRM got it (a token-vault token, a masked view, or the value where the shop's mapping and the customer's " +
			"consent allow it). Erasure deletes the customer's record in every CRM it reached, confirmed by the CRM answering " +
			"not-found, then this ledger; a restriction stops all syncing.",
			Operations: []privacyv1.Operation{privacyv1.Operation_OPERATION_EXPORT, privacyv1.Operation_OPERATION_ERASE,
				privacyv1.Operation_OPERATION_RESTRICT}},
		{Name: delivery.CategoryRecord, Description: "The customer's record in the shop's CRMs: a corrected value of a field " +
			"the shop's mapping sends is sent again, in its mapped form.",
			Operations: []privacyv1.Operation{privacyv1.Operation_OPERATION_RECTIFY}, RectifiableFields: p.domain.RectifiableFields()},
	}}, nil
}

// Export implements the RPC. Items are deliveries, oldest first; the page
// token holds the last one's index, bound to the subject and request by
// pkg/pagetoken.
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
	var rest []delivery.ExportItem
	for _, it := range items {
		if after == nil || it.ID > string(after) {
			rest = append(rest, it)
		}
	}
	if len(rest) > size {
		rest = rest[:size]
		if out.NextPageToken, err = p.pages.Encode(req, []byte(rest[size-1].ID)); err != nil {
			return nil, err
		}
	}
	for _, it := range rest {
		pi := &privacyv1.Item{Category: delivery.CategoryDelivery, Id: it.ID}
		for _, f := range it.Fields {
			pi.Fields = append(pi.Fields, &privacyv1.Field{Name: f.Name, Value: f.Value, Token: f.Token})
		}
		out.Items = append(out.Items, pi)
	}
	return out, nil
}

// Erase implements the RPC.
func (p *Privacy) Erase(ctx context.Context, req *privacyv1.EraseRequest) (*privacyv1.EraseResponse, error) {
	ev, err := p.domain.PrivacyErase(ctx, subjectOf(req.GetSubject()), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &privacyv1.EraseResponse{Evidence: ev}, nil
}

// Rectify implements the RPC.
func (p *Privacy) Rectify(ctx context.Context, req *privacyv1.RectifyRequest) (*privacyv1.RectifyResponse, error) {
	cs := make([]delivery.Correction, len(req.GetCorrections()))
	for i, c := range req.GetCorrections() {
		cs[i] = delivery.Correction{Category: c.GetCategory(), Field: c.GetField(), Value: c.GetValue()}
	}
	return p.domain.PrivacyRectify(ctx, subjectOf(req.GetSubject()), req.GetRequestId(), cs)
}

// Restrict implements the RPC.
func (p *Privacy) Restrict(ctx context.Context, req *privacyv1.RestrictRequest) (*privacyv1.RestrictResponse, error) {
	ev, err := p.domain.PrivacyRestrict(ctx, subjectOf(req.GetSubject()), req.GetRequestId(), req.GetLift())
	if err != nil {
		return nil, err
	}
	return &privacyv1.RestrictResponse{Evidence: ev}, nil
}

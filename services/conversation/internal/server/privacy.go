package server

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
)

// Privacy implements privacyv1.PrivacyParticipantServiceServer: the
// conversation service's part of data-subject requests, for the consent
// service's orchestrator only (Policy and EndUsers say so).
type Privacy struct {
	privacyv1.UnimplementedPrivacyParticipantServiceServer
	domain *conversation.Service
	pages  *pagetoken.Codec
}

var _ privacyv1.PrivacyParticipantServiceServer = (*Privacy)(nil)

// NewPrivacy returns the participant over the domain; pages signs Export's
// page tokens.
func NewPrivacy(domain *conversation.Service, pages *pagetoken.Codec) *Privacy {
	return &Privacy{domain: domain, pages: pages}
}

// Export's page sizes.
const (
	defaultExportPage = 500
	maxExportPage     = 1000
)

var categoryRank = map[string]byte{conversation.CategoryConversation: 1, conversation.CategoryMessage: 2, conversation.CategoryPlaceholder: 3,
	conversation.CategoryChannelIdentity: 4, conversation.CategoryShopperEvent: 5}

func subjectOf(s *privacyv1.Subject) conversation.Subject {
	return conversation.Subject{Tenant: s.GetTenant(), AccountID: s.GetSubject()}
}

func outcomeOf(o conversation.Outcome) privacyv1.Outcome {
	switch o {
	case conversation.OutcomeDone:
		return privacyv1.Outcome_OUTCOME_DONE
	case conversation.OutcomeNoData:
		return privacyv1.Outcome_OUTCOME_NO_DATA
	case conversation.OutcomeNotApplicable:
		return privacyv1.Outcome_OUTCOME_NOT_APPLICABLE
	}
	return privacyv1.Outcome_OUTCOME_UNSPECIFIED
}

func evidenceOf(e conversation.Evidence) *privacyv1.Evidence {
	return &privacyv1.Evidence{Outcome: outcomeOf(e.Outcome), Counts: e.Counts, Details: e.Details,
		DoneTime: timestamppb.New(e.Done), AlreadyDone: e.AlreadyDone}
}

// Describe implements the RPC.
func (p *Privacy) Describe(context.Context, *privacyv1.DescribeRequest) (*privacyv1.DescribeResponse, error) {
	exportErase := []privacyv1.Operation{privacyv1.Operation_OPERATION_EXPORT, privacyv1.Operation_OPERATION_ERASE,
		privacyv1.Operation_OPERATION_RESTRICT}
	return &privacyv1.DescribeResponse{Participant: "conversation", Categories: []*privacyv1.Category{
		{Name: conversation.CategoryConversation, Description: "The customer's chat conversations with the shop: channel, " +
			"state, when opened and last active. Deleted after the shop's retention period for the channel (retention.yaml), " +
			"and at once on erasure; while the customer's processing is restricted, new messages are refused.",
			Operations: exportErase},
		{Name: conversation.CategoryMessage, Description: "The messages of those conversations, by the customer, the " +
			"assistant and support agents, as stored: placeholder text such as [EMAIL_1], never the values. The values " +
			"behind the placeholders are the token vault's part of this export.", Operations: exportErase},
		{Name: conversation.CategoryPlaceholder, Description: "Each conversation's placeholders and the token-vault token " +
			"each stands for; the export shows the value, filled in from the token vault's own export of the customer.",
			Operations: exportErase},
		{Name: conversation.CategoryChannelIdentity, Description: "WhatsApp numbers and Messenger ids the customer linked to " +
			"their account with a one-time code: the channel and when linked; the id itself is held in the token vault and " +
			"filled in from its export.", Operations: exportErase},
		{Name: conversation.CategoryShopperEvent, Description: "Products the shop told us the customer looked at, put in " +
			"the basket or ordered (kind, SKU, time), kept for recommendations only while the customer consents to " +
			"personalisation, under a pseudonymous id; deleted on a withdrawal and after 365 days.", Operations: exportErase},
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
	var rest []conversation.ExportItem
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
		pi := &privacyv1.Item{Category: it.Category, Id: it.ID}
		for _, f := range it.Fields {
			pi.Fields = append(pi.Fields, &privacyv1.Field{Name: f.Name, Value: f.Value, Token: f.Token})
		}
		out.Items = append(out.Items, pi)
	}
	return out, nil
}

// itemKey orders items as the domain lists them: category, then id.
func itemKey(it conversation.ExportItem) []byte {
	return append([]byte{categoryRank[it.Category]}, it.ID...)
}

// Erase implements the RPC.
func (p *Privacy) Erase(ctx context.Context, req *privacyv1.EraseRequest) (*privacyv1.EraseResponse, error) {
	ev, err := p.domain.PrivacyErase(ctx, subjectOf(req.GetSubject()), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &privacyv1.EraseResponse{Evidence: evidenceOf(ev)}, nil
}

// Rectify implements the RPC: every correction is NOT_APPLICABLE here.
func (p *Privacy) Rectify(ctx context.Context, req *privacyv1.RectifyRequest) (*privacyv1.RectifyResponse, error) {
	cats := make([]string, len(req.GetCorrections()))
	for i, c := range req.GetCorrections() {
		cats[i] = c.GetCategory()
	}
	ev, refused, err := p.domain.PrivacyRectify(ctx, subjectOf(req.GetSubject()), req.GetRequestId(), cats)
	if err != nil {
		return nil, err
	}
	out := &privacyv1.RectifyResponse{Evidence: evidenceOf(ev)}
	for i := range cats {
		out.Results = append(out.Results, &privacyv1.CorrectionResult{Index: int32(i),
			Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, RefusedReason: refused[i]})
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

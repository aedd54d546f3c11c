package server

import (
	"context"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/inbound"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// SetInbound gives the server the domain of CRM changes (IngestCrmChanges).
func (s *Server) SetInbound(in *inbound.Service) { s.inbound = in }

// IngestCrmChanges implements the RPC.
func (s *Server) IngestCrmChanges(ctx context.Context, req *crmsyncv1.IngestCrmChangesRequest) (*crmsyncv1.IngestCrmChangesResponse, error) {
	if s.inbound == nil {
		return nil, errs.E(errs.FailedPrecondition, reasons.InboundNotConfigured, "CRM changes are not taken here")
	}
	cs := make([]inbound.Change, len(req.GetChanges()))
	for i, c := range req.GetChanges() {
		cs[i] = inbound.Change{EventID: c.GetEventId(), RecordID: c.GetRecordId(), Subject: c.GetSubject(),
			Property: c.GetProperty(), Value: c.GetValue(), Occurred: c.GetOccurTime().AsTime()}
	}
	rs, err := s.inbound.Ingest(ctx, req.GetTenant(), req.GetConnector(), cs)
	if err != nil {
		return nil, err
	}
	out := &crmsyncv1.IngestCrmChangesResponse{}
	for i, r := range rs {
		out.Results = append(out.Results, &crmsyncv1.CrmChangeResult{Index: int32(i),
			Outcome: crmsyncv1.ChangeOutcome(r.Outcome), Reason: r.Reason})
	}
	return out, nil
}

package server

import (
	"context"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/inbound"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/stream"
)

// SetStream gives the server the platform connector's change log
// (WatchChanges).
func (s *Server) SetStream(l *stream.Log) { s.stream = l }

// WatchChanges implements the RPC. The gateway's edge has bound the
// request's tenant to the integrator's token (ADR 0011).
func (s *Server) WatchChanges(req *crmsyncv1.WatchChangesRequest, out crmsyncv1.CrmSyncService_WatchChangesServer) error {
	if s.stream == nil {
		return errs.E(errs.FailedPrecondition, reasons.StreamNotConfigured, "no platform change log here")
	}
	return s.stream.Watch(out.Context(), req.GetTenant(), req.GetCursor(), out.Send)
}

// PushCrmChanges implements the RPC: a platform's edits, as a webhook's.
func (s *Server) PushCrmChanges(ctx context.Context, req *crmsyncv1.PushCrmChangesRequest) (*crmsyncv1.PushCrmChangesResponse, error) {
	for _, c := range req.GetChanges() {
		if c.GetSubject() == "" {
			return nil, errs.E(errs.InvalidArgument, inbound.ReasonEventInvalid, "each change names its subject")
		}
	}
	resp, err := s.IngestCrmChanges(ctx, &crmsyncv1.IngestCrmChangesRequest{Tenant: req.GetTenant(), Connector: mapping.Platform,
		Changes: req.GetChanges()})
	if err != nil {
		return nil, err
	}
	return &crmsyncv1.PushCrmChangesResponse{Results: resp.GetResults()}, nil
}

// Package server is the crmsync service's gRPC API: it turns requests into
// calls of the delivery domain (internal/delivery) and results into
// responses. Workload authorisation is Policy (pkg/authz); request shapes
// are checked by the protovalidate rules in the proto (pkg/server).
package server

import (
	"context"
	"encoding/binary"
	"strings"

	"github.com/google/uuid"

	"google.golang.org/protobuf/types/known/timestamppb"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/crmsync/internal/delivery"
	"github.com/sottohq/sotto/services/crmsync/internal/inbound"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
	"github.com/sottohq/sotto/services/crmsync/internal/stream"
)

// Server implements crmsyncv1.CrmSyncServiceServer.
type Server struct {
	crmsyncv1.UnimplementedCrmSyncServiceServer
	domain *delivery.Service
	store  *storage.Store
	pages  *pagetoken.Codec
	// inbound takes CRM changes (inbound.go); nil refuses them.
	inbound *inbound.Service
	// stream is the platform connector's change log (stream.go).
	stream *stream.Log
}

var _ crmsyncv1.CrmSyncServiceServer = (*Server)(nil)

// New returns the server over the domain; pages signs ListDeliveries' page
// tokens.
func New(domain *delivery.Service, st *storage.Store, pages *pagetoken.Codec) *Server {
	return &Server{domain: domain, store: st, pages: pages}
}

// DeliveryProto is a delivery as the API shows it: never its payload.
func DeliveryProto(d storage.Delivery) *crmsyncv1.Delivery {
	return &crmsyncv1.Delivery{DeliveryId: d.ID, Tenant: d.Tenant, Connector: d.Connector, EventId: d.EventID,
		State: crmsyncv1.DeliveryState(d.State), Attempts: int32(d.Attempts), Reason: d.Reason,
		CreateTime: timestamppb.New(d.CreateTime), UpdateTime: timestamppb.New(d.UpdateTime)}
}

// RecordCustomerEvent implements the RPC.
func (s *Server) RecordCustomerEvent(ctx context.Context, req *crmsyncv1.RecordCustomerEventRequest) (*crmsyncv1.RecordCustomerEventResponse, error) {
	ds, skipped, err := s.domain.Record(ctx, delivery.Event{ID: req.GetEventId(), Tenant: req.GetTenant(), Subject: req.GetSubject(),
		Kind: int(req.GetKind()), Fields: req.GetFields(), Summary: req.GetSummary()})
	if err != nil {
		return nil, err
	}
	out := &crmsyncv1.RecordCustomerEventResponse{}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, DeliveryProto(d))
	}
	for _, sk := range skipped {
		out.Skipped = append(out.Skipped, &crmsyncv1.Skipped{Connector: sk.Connector, Reason: sk.Reason})
	}
	return out, nil
}

const defaultPageSize = 50

// ListDeliveries implements the RPC.
func (s *Server) ListDeliveries(ctx context.Context, req *crmsyncv1.ListDeliveriesRequest) (*crmsyncv1.ListDeliveriesResponse, error) {
	var cur *storage.Cursor
	if req.GetPageToken() != "" {
		b, err := s.pages.Decode(req, req.GetPageToken())
		if err != nil {
			return nil, err
		}
		c, ok := decodeCursor(b)
		if !ok {
			return nil, errs.E(errs.InvalidArgument, pagetoken.ReasonInvalid, "page token is not one this service issued")
		}
		cur = &c
	}
	size := int(req.GetPageSize())
	if size <= 0 {
		size = defaultPageSize
	}
	ds, err := s.store.List(ctx, storage.Filter{State: int(req.GetState()), Tenant: req.GetTenant()}, cur, size+1)
	if err != nil {
		return nil, err
	}
	out := &crmsyncv1.ListDeliveriesResponse{}
	if len(ds) > size {
		ds = ds[:size]
		last := ds[len(ds)-1]
		b, err := encodeCursor(storage.Cursor{CreateTime: last.CreateTime.UnixMicro(), ID: last.ID})
		if err != nil {
			return nil, err
		}
		tok, err := s.pages.Encode(req, b)
		if err != nil {
			return nil, err
		}
		out.NextPageToken = tok
	}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, DeliveryProto(d))
	}
	return out, nil
}

// ReplayDelivery implements the RPC.
func (s *Server) ReplayDelivery(ctx context.Context, req *crmsyncv1.ReplayDeliveryRequest) (*crmsyncv1.ReplayDeliveryResponse, error) {
	d, err := s.domain.Replay(ctx, req.GetDeliveryId())
	if err != nil {
		return nil, err
	}
	return &crmsyncv1.ReplayDeliveryResponse{Delivery: DeliveryProto(d)}, nil
}

// DiscardDelivery implements the RPC.
func (s *Server) DiscardDelivery(ctx context.Context, req *crmsyncv1.DiscardDeliveryRequest) (*crmsyncv1.DiscardDeliveryResponse, error) {
	d, err := s.domain.Discard(ctx, req.GetDeliveryId())
	if err != nil {
		return nil, err
	}
	return &crmsyncv1.DiscardDeliveryResponse{Delivery: DeliveryProto(d)}, nil
}

// A cursor is small enough for a page token (pagetoken.MaxCursorLen): the
// create time (8 bytes) and the delivery id's UUID (16 bytes).
func encodeCursor(c storage.Cursor) ([]byte, error) {
	u, err := uuid.Parse(strings.TrimPrefix(c.ID, "dlv_"))
	if err != nil {
		return nil, errs.E(errs.Internal, reasons.DeliveryIDInvalid, "a delivery id is not dlv_<uuid>")
	}
	b := binary.BigEndian.AppendUint64(nil, uint64(c.CreateTime))
	return append(b, u[:]...), nil
}

func decodeCursor(b []byte) (storage.Cursor, bool) {
	if len(b) != 24 {
		return storage.Cursor{}, false
	}
	u, err := uuid.FromBytes(b[8:])
	if err != nil {
		return storage.Cursor{}, false
	}
	return storage.Cursor{CreateTime: int64(binary.BigEndian.Uint64(b[:8])), ID: "dlv_" + u.String()}, true
}

// Package server is the consent service's gRPC API: it turns requests into
// calls of the domain (internal/consent) and results into responses.
// Workload authorisation is Policy (pkg/authz); the end user behind a call
// is authenticated by pkg/enduser's interceptor with the EndUsers table
// (installed by pkg/service's EndUsers, after workload authorisation and
// before validation).
package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// Server implements consentv1.ConsentServiceServer.
type Server struct {
	consentv1.UnimplementedConsentServiceServer
	domain *consent.Service
	pages  *pagetoken.Codec
	// heartbeat is how often an idle change feed sends its cursor.
	heartbeat time.Duration
}

var _ consentv1.ConsentServiceServer = (*Server)(nil)

// New returns the server over the domain; pages signs ListConsentRecords'
// page tokens; heartbeat is the change feed's idle heartbeat.
func New(domain *consent.Service, pages *pagetoken.Codec, heartbeat time.Duration) *Server {
	return &Server{domain: domain, pages: pages, heartbeat: heartbeat}
}

// caller is the verified person behind the call.
func caller(ctx context.Context) (consent.Caller, error) {
	p, ok := enduser.FromContext(ctx)
	if !ok || !p.IsPerson() {
		return consent.Caller{}, errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
	}
	return consent.Caller{Subject: p.Subject, Tenant: p.Tenant, Kind: p.Kind, Roles: p.Roles, AAL: p.AAL, AuthTime: p.AuthTime}, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func purposeProto(p catalogue.Purpose) *consentv1.Purpose {
	return &consentv1.Purpose{
		PurposeId: p.ID, DisplayName: p.DisplayName, Description: p.Description,
		LegalBasis: consentv1.LegalBasis(p.Basis), Jurisdictions: p.Jurisdictions, CcpaSaleOrShare: p.SaleOrShare,
		RetentionDays: int32(p.RetentionDays), Retired: p.Retired, Revision: p.Revision, UpdateTime: ts(p.Updated),
	}
}

func purposeFromProto(p *consentv1.Purpose) catalogue.Purpose {
	return catalogue.Purpose{
		ID: p.GetPurposeId(), DisplayName: p.GetDisplayName(), Description: p.GetDescription(),
		Basis: catalogue.LegalBasis(p.GetLegalBasis()), Jurisdictions: p.GetJurisdictions(), SaleOrShare: p.GetCcpaSaleOrShare(),
		RetentionDays: int(p.GetRetentionDays()), Retired: p.GetRetired(),
	}
}

// ListPurposes implements the RPC.
func (s *Server) ListPurposes(ctx context.Context, req *consentv1.ListPurposesRequest) (*consentv1.ListPurposesResponse, error) {
	ps, err := s.domain.Purposes(ctx, req.GetIncludeRetired())
	if err != nil {
		return nil, err
	}
	out := &consentv1.ListPurposesResponse{Purposes: make([]*consentv1.Purpose, len(ps))}
	for i, p := range ps {
		out.Purposes[i] = purposeProto(p)
	}
	return out, nil
}

// GetPurpose implements the RPC.
func (s *Server) GetPurpose(ctx context.Context, req *consentv1.GetPurposeRequest) (*consentv1.GetPurposeResponse, error) {
	p, err := s.domain.Purpose(ctx, req.GetPurposeId())
	if err != nil {
		return nil, err
	}
	return &consentv1.GetPurposeResponse{Purpose: purposeProto(p)}, nil
}

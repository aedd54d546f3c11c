package server

import (
	"context"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// CreateChannelLinkCode implements the RPC: a signed-in customer's
// one-time code for linking a WhatsApp or Messenger user to their account.
func (s *Server) CreateChannelLinkCode(ctx context.Context, req *conversationv1.CreateChannelLinkCodeRequest) (*conversationv1.CreateChannelLinkCodeResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	code, expire, err := s.domain.CreateLinkCode(ctx, c, int32(req.GetChannel()))
	if err != nil {
		return nil, err
	}
	return &conversationv1.CreateChannelLinkCodeResponse{Code: code, ExpireTime: ts(expire)}, nil
}

// IngestChannelMessage implements the RPC: the gateway's channel ingress
// (the workload policy admits only the gateway; no person is behind it)
// hands over a platform message whose webhook signature it checked.
func (s *Server) IngestChannelMessage(ctx context.Context, req *conversationv1.IngestChannelMessageRequest) (*conversationv1.IngestChannelMessageResponse, error) {
	in := conversation.Inbound{Tenant: req.GetTenant(), Channel: int32(req.GetChannel()),
		UserID: req.GetChannelUserId(), MessageID: req.GetChannelMessageId(), Text: req.GetText(), Language: req.GetLanguage()}
	if p, ok := enduser.FromContext(ctx); ok {
		// An integrator through the gateway's gRPC edge (ADR 0014,
		// "Integrators over gRPC").
		var err error
		if in, err = integratorInbound(p, in); err != nil {
			return nil, err
		}
	}
	out, err := s.domain.Ingest(ctx, in)
	if err != nil {
		return nil, err
	}
	return &conversationv1.IngestChannelMessageResponse{ConversationId: out.ConversationID, MessageId: out.MessageID, Duplicate: out.Duplicate}, nil
}

// integratorInbound applies an integrator's token to its message: a client
// with the conversation.ingest scope, acting in its own tenant (a request
// that names another is refused, never followed), as itself.
func integratorInbound(p enduser.Principal, in conversation.Inbound) (conversation.Inbound, error) {
	if p.Kind != accesstoken.KindClient || !p.HasScope(ScopeIngest) {
		return in, errs.E(errs.PermissionDenied, reasons.IntegratorScopeRequired, "posting platform messages takes an integrator client with the %s scope", ScopeIngest)
	}
	tenant := p.Tenant
	if tenant == "" {
		tenant = conversation.DefaultTenant
	}
	if in.Tenant != "" && in.Tenant != tenant {
		return in, errs.E(errs.PermissionDenied, reasons.TenantMismatch, "the request names a tenant that is not the client's")
	}
	in.Tenant, in.Integrator = tenant, p.Subject
	return in, nil
}

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

// ScopeEvents: an integrator posts the shop's events of its customers'
// shopping (RecordShopperEvent).
const ScopeEvents = "conversation.events"

// shopperRecorders: the shop's integrators (client, conversation.events)
// and administrators at aal2; each records in its own token's tenant (the
// request names none).
var shopperRecorders = enduser.Rule{Require: enduser.User, AnyOf: []enduser.Rule{
	{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindClient}, Scopes: []string{ScopeEvents}},
	{Require: enduser.User, Kinds: []accesstoken.Kind{accesstoken.KindStaff}, Roles: []string{accesstoken.RoleAdmin}, AAL: accesstoken.AAL2}}}

// RecordShopperEvent implements the RPC.
func (s *Server) RecordShopperEvent(ctx context.Context, req *conversationv1.RecordShopperEventRequest) (*conversationv1.RecordShopperEventResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// The end-user table admits only these; checked again here so that
	// the domain is never reached by anyone else whatever the table says.
	p, _ := enduser.FromContext(ctx)
	integrator := p.Kind == accesstoken.KindClient && p.HasScope(ScopeEvents)
	admin := p.Kind == accesstoken.KindStaff && p.AAL >= accesstoken.AAL2 && hasRole(p.Roles, accesstoken.RoleAdmin)
	if !integrator && !admin {
		return nil, errs.E(errs.PermissionDenied, reasons.ShopperEventsScopeRequired,
			"recording shopper events takes an integrator client with the %s scope or an administrator", ScopeEvents)
	}
	recorded, err := s.domain.RecordShopperEvent(ctx, c, conversation.ShopperEvent{EventID: req.GetEventId(),
		CustomerSubject: req.GetCustomerSubject(), Kind: int32(req.GetKind()), SKU: req.GetSku(), Time: req.GetEventTime().AsTime()})
	if err != nil {
		return nil, err
	}
	return &conversationv1.RecordShopperEventResponse{Recorded: recorded}, nil
}

func hasRole(roles []string, role string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

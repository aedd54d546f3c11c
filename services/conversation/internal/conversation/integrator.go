package conversation

import (
	"context"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// ChannelAPI is the proto's CHAT_CHANNEL_API: a messaging or CRM platform
// that integrates over the gateway's gRPC edge with identity's client
// credentials (ADR 0014, "Integrators over gRPC"). It posts its users'
// messages with IngestChannelMessage and receives the replies from
// WatchConversation; nothing is sent through a platform's send API.
const ChannelAPI int32 = 4

// isIntegrator: an integrator client (identity's client credentials). It
// sees the API-channel conversations of its own tenant only, and never as
// a customer.
func (c Caller) isIntegrator() bool { return c.Kind == accesstoken.KindClient }

// integratorVisible loads a conversation an integrator may read: one on
// the API channel in the client's tenant. Anything else (a web, WhatsApp or
// Messenger conversation, another tenant's) is NotFound, as if it did not
// exist.
func (s *Service) integratorVisible(ctx context.Context, c Caller, id string) (storage.Conversation, error) {
	conv, err := s.d.Store.GetConversation(ctx, s.d.Store.DB(), id)
	if err != nil {
		return storage.Conversation{}, err
	}
	if conv.Channel != ChannelAPI || conv.Tenant != tenantOf(c) {
		return storage.Conversation{}, errs.E(errs.NotFound, reasons.ConversationNotFound, "conversation not found")
	}
	return conv, nil
}

// checkIngestChannel: the API channel is an integrator's alone, and an
// integrator posts on it only. The gateway's webhook ingress (no token)
// cannot open API conversations, and a client cannot pose as WhatsApp.
func checkIngestChannel(in Inbound) error {
	switch {
	case in.Channel == ChannelAPI && in.Integrator == "":
		return errs.E(errs.PermissionDenied, reasons.IntegratorScopeRequired, "the API channel takes an integrator client's token")
	case in.Channel != ChannelAPI && in.Integrator != "":
		return errs.E(errs.InvalidArgument, reasons.APIChannelRequired, "an integrator posts on CHAT_CHANNEL_API only")
	}
	return nil
}

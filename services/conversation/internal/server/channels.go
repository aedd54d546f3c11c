package server

import (
	"context"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
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
	out, err := s.domain.Ingest(ctx, conversation.Inbound{Tenant: req.GetTenant(), Channel: int32(req.GetChannel()),
		UserID: req.GetChannelUserId(), MessageID: req.GetChannelMessageId(), Text: req.GetText(), Language: req.GetLanguage()})
	if err != nil {
		return nil, err
	}
	return &conversationv1.IngestChannelMessageResponse{ConversationId: out.ConversationID, MessageId: out.MessageID, Duplicate: out.Duplicate}, nil
}

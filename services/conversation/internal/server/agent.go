package server

import (
	"context"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
)

// HandOffConversation implements the RPC: the customer asks for a person.
func (s *Server) HandOffConversation(ctx context.Context, req *conversationv1.HandOffConversationRequest) (*conversationv1.HandOffConversationResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := s.domain.RequestHandOff(ctx, c, req.GetConversationId())
	if err != nil {
		return nil, err
	}
	return &conversationv1.HandOffConversationResponse{Conversation: conversationProto(c, conv)}, nil
}

// AssignConversation implements the RPC: a support agent takes a
// conversation that waits on an agent.
func (s *Server) AssignConversation(ctx context.Context, req *conversationv1.AssignConversationRequest) (*conversationv1.AssignConversationResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := s.domain.Assign(ctx, c, req.GetConversationId())
	if err != nil {
		return nil, err
	}
	return &conversationv1.AssignConversationResponse{Conversation: conversationProto(c, conv)}, nil
}

// PostAgentReply implements the RPC: the assigned agent's message, stored
// as placeholder text.
func (s *Server) PostAgentReply(ctx context.Context, req *conversationv1.PostAgentReplyRequest) (*conversationv1.PostAgentReplyResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := s.domain.PostAgentReply(ctx, c, req.GetConversationId(), req.GetText(), req.GetLanguage())
	if err != nil {
		return nil, err
	}
	return &conversationv1.PostAgentReplyResponse{Message: messageProto(msg)}, nil
}

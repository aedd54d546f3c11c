package server

import (
	"context"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// RevealValue implements the RPC: one placeholder's value as the token
// vault lets the caller see it.
func (s *Server) RevealValue(ctx context.Context, req *conversationv1.RevealValueRequest) (*conversationv1.RevealValueResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	value, masked, err := s.domain.Reveal(ctx, c, req.GetConversationId(), req.GetPlaceholder(), req.GetPurpose())
	if err != nil {
		return nil, err
	}
	return &conversationv1.RevealValueResponse{Value: value, Masked: masked}, nil
}

// checkView refuses a view the caller may not have (a re-identified one
// for anyone but the conversation's customer) before anything is read.
func (s *Server) checkView(ctx context.Context, c conversation.Caller, conversationID string, view conversationv1.MessageView) error {
	if view != conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED {
		return nil
	}
	return s.domain.CheckReidentified(ctx, c, conversationID)
}

// messages turns one page of a conversation's messages into the view asked
// for: as stored (placeholders), or re-identified for the customer with
// one vault call for the page. When the vault cannot be reached the page
// comes as stored, marked MESSAGE_VIEW_PLACEHOLDERS, rather than not at
// all (a message that was posted stays posted).
func (s *Server) messages(ctx context.Context, c conversation.Caller, conversationID string, view conversationv1.MessageView, ms []storage.Message) ([]*conversationv1.Message, error) {
	out := make([]*conversationv1.Message, 0, len(ms))
	if view != conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED {
		for _, m := range ms {
			out = append(out, messageProto(m))
		}
		return out, nil
	}
	texts, ok, err := s.domain.Reidentify(ctx, c, conversationID, ms)
	if err != nil {
		return nil, err
	}
	got := conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED
	if !ok {
		got = conversationv1.MessageView_MESSAGE_VIEW_PLACEHOLDERS
	}
	for i, m := range ms {
		p := messageProto(m)
		p.Text, p.View = texts[i], got
		out = append(out, p)
	}
	return out, nil
}

// postResponse is PostMessage's answer: the message and the assistant's
// reply in the view asked for (one vault call for both).
func (s *Server) postResponse(ctx context.Context, c conversation.Caller, req *conversationv1.PostMessageRequest, msg, reply storage.Message) (*conversationv1.PostMessageResponse, error) {
	ms := []storage.Message{msg}
	if reply.ID != "" {
		ms = append(ms, reply)
	}
	views, err := s.messages(ctx, c, req.GetConversationId(), req.GetView(), ms)
	if err != nil {
		return nil, err
	}
	out := &conversationv1.PostMessageResponse{Message: views[0]}
	if len(views) > 1 {
		out.Reply = views[1]
	}
	return out, nil
}

// Package server is the conversation service's gRPC API: it turns requests
// into calls of the domain (internal/conversation) and results into
// responses. Workload authorisation is Policy (pkg/authz); the end user
// behind a call is authenticated by pkg/enduser's interceptor with the
// EndUsers table.
package server

import (
	"context"
	"encoding/binary"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/sealing"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Server implements conversationv1.ConversationServiceServer.
type Server struct {
	conversationv1.UnimplementedConversationServiceServer
	domain *conversation.Service
	pages  *pagetoken.Codec
	// sealing opens end-to-end sealed messages (sealing.go).
	sealing *sealing.Keys
}

var _ conversationv1.ConversationServiceServer = (*Server)(nil)

// New returns the server over the domain; pages signs the List page tokens.
func New(domain *conversation.Service, pages *pagetoken.Codec) *Server {
	return &Server{domain: domain, pages: pages}
}

// caller is the verified person behind the call.
func caller(ctx context.Context) (conversation.Caller, error) {
	p, ok := enduser.FromContext(ctx)
	// A visitor (anonymous web chat) is a person without an account; the
	// end-user table admits them only to their own web conversations.
	// An integrator client reaches only what its end-user rule admits
	// (WatchConversation, conversation.watch); the domain keeps it to its
	// tenant's API-channel conversations.
	if !ok || !(p.IsPerson() || p.Kind == accesstoken.KindVisitor || p.Kind == accesstoken.KindClient) {
		return conversation.Caller{}, errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
	}
	return conversation.Caller{Subject: p.Subject, Tenant: p.Tenant, Kind: p.Kind, Roles: p.Roles, AAL: p.AAL,
		AuthTime: p.AuthTime, Address: clientAddress(ctx), Expiry: p.Expiry}, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// conversationProto is a conversation as caller may see it: the support
// agent's account id is staff's to know (which agent took the
// conversation), never the customer's, a visitor's or an integrator's.
func conversationProto(caller conversation.Caller, c storage.Conversation) *conversationv1.Conversation {
	out := &conversationv1.Conversation{ConversationId: c.ID, Tenant: c.Tenant, Channel: conversationv1.ChatChannel(c.Channel),
		State: conversationv1.State(c.State), CustomerSubject: c.CustomerSubject, CreateTime: ts(c.CreateTime), UpdateTime: ts(c.UpdateTime),
		HandOffReason: conversationv1.HandOffReason(c.HandOffReason)}
	if caller.Kind == accesstoken.KindStaff {
		out.AgentSubject = c.AgentSubject
	}
	return out
}

func messageProto(m storage.Message) *conversationv1.Message {
	if m.ID == "" {
		return nil
	}
	return &conversationv1.Message{MessageId: m.ID, ConversationId: m.ConversationID, Author: conversationv1.Author(m.Author),
		Text: m.Text, CreateTime: ts(m.CreateTime), RequiredAction: conversationv1.RequiredAction(m.RequiredAction)}
}

// CreateConversation implements the RPC.
func (s *Server) CreateConversation(ctx context.Context, req *conversationv1.CreateConversationRequest) (*conversationv1.CreateConversationResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := s.domain.Create(ctx, c, int32(req.GetChannel()))
	if err != nil {
		return nil, err
	}
	return &conversationv1.CreateConversationResponse{Conversation: conversationProto(c, conv)}, nil
}

// GetConversation implements the RPC.
func (s *Server) GetConversation(ctx context.Context, req *conversationv1.GetConversationRequest) (*conversationv1.GetConversationResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := s.domain.Get(ctx, c, req.GetConversationId())
	if err != nil {
		return nil, err
	}
	return &conversationv1.GetConversationResponse{Conversation: conversationProto(c, conv)}, nil
}

func pageSize(n, def int32) int {
	if n <= 0 {
		return int(def)
	}
	return int(n)
}

func invalidPage() error {
	return errs.E(errs.InvalidArgument, pagetoken.ReasonInvalid, "page token is not one this service issued")
}

// ListConversations implements the RPC.
func (s *Server) ListConversations(ctx context.Context, req *conversationv1.ListConversationsRequest) (*conversationv1.ListConversationsResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var cur *storage.ConversationCursor
	if req.GetPageToken() != "" {
		b, err := s.pages.Decode(req, req.GetPageToken())
		if err != nil {
			return nil, err
		}
		if len(b) < 9 {
			return nil, invalidPage()
		}
		cur = &storage.ConversationCursor{CreateTime: int64(binary.BigEndian.Uint64(b[:8])), ID: string(b[8:])}
	}
	size := pageSize(req.GetPageSize(), 50)
	convs, err := s.domain.List(ctx, c, storage.ConversationFilter{CustomerSubject: req.GetCustomerSubject(),
		State: int32(req.GetState()), Channel: int32(req.GetChannel())}, cur, size+1)
	if err != nil {
		return nil, err
	}
	out := &conversationv1.ListConversationsResponse{}
	more := len(convs) > size
	convs = convs[:min(len(convs), size)]
	for _, conv := range convs {
		out.Conversations = append(out.Conversations, conversationProto(c, conv))
	}
	if more {
		last := convs[len(convs)-1]
		b := binary.BigEndian.AppendUint64(nil, uint64(last.CreateTime.UnixMicro()))
		if out.NextPageToken, err = s.pages.Encode(req, append(b, last.ID...)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PostMessage implements the RPC.
func (s *Server) PostMessage(ctx context.Context, req *conversationv1.PostMessageRequest) (*conversationv1.PostMessageResponse, error) {
	if req.GetSealed() != nil {
		return s.postSealed(ctx, req)
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// A view the caller may not have is refused before the message is
	// stored: a refused call must leave nothing behind.
	if err := s.checkView(ctx, c, req.GetConversationId(), req.GetView()); err != nil {
		return nil, err
	}
	msg, reply, err := s.domain.Post(ctx, c, req.GetConversationId(), req.GetText(), req.GetChannelMessageId(), req.GetLanguage())
	if err != nil {
		return nil, err
	}
	return s.postResponse(ctx, c, req, msg, reply)
}

// ListMessages implements the RPC.
func (s *Server) ListMessages(ctx context.Context, req *conversationv1.ListMessagesRequest) (*conversationv1.ListMessagesResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var after int64
	if req.GetPageToken() != "" {
		b, err := s.pages.Decode(req, req.GetPageToken())
		if err != nil {
			return nil, err
		}
		if len(b) != 8 {
			return nil, invalidPage()
		}
		after = int64(binary.BigEndian.Uint64(b))
	}
	size := pageSize(req.GetPageSize(), 100)
	ms, err := s.domain.Messages(ctx, c, req.GetConversationId(), after, size+1)
	if err != nil {
		return nil, err
	}
	out := &conversationv1.ListMessagesResponse{}
	more := len(ms) > size
	ms = ms[:min(len(ms), size)]
	if out.Messages, err = s.messages(ctx, c, req.GetConversationId(), req.GetView(), ms); err != nil {
		return nil, err
	}
	if more {
		b := binary.BigEndian.AppendUint64(nil, uint64(ms[len(ms)-1].Seq))
		if out.NextPageToken, err = s.pages.Encode(req, b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CloseConversation implements the RPC.
func (s *Server) CloseConversation(ctx context.Context, req *conversationv1.CloseConversationRequest) (*conversationv1.CloseConversationResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := s.domain.Close(ctx, c, req.GetConversationId())
	if err != nil {
		return nil, err
	}
	return &conversationv1.CloseConversationResponse{Conversation: conversationProto(c, conv)}, nil
}

// WatchConversation implements the RPC.
func (s *Server) WatchConversation(req *conversationv1.WatchConversationRequest, stream conversationv1.ConversationService_WatchConversationServer) error {
	ctx := stream.Context()
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := s.checkView(ctx, c, req.GetConversationId(), req.GetView()); err != nil {
		return err
	}
	return s.domain.Watch(ctx, c, req.GetConversationId(), req.GetAfterMessageId(), func(m storage.Message) error {
		ms, err := s.messages(ctx, c, req.GetConversationId(), req.GetView(), []storage.Message{m})
		if err != nil {
			return err
		}
		return stream.Send(&conversationv1.WatchConversationResponse{Message: ms[0]})
	})
}

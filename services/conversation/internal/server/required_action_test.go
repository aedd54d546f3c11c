package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/metadata"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
)

// TestReplyCarriesRequiredAction: the assistant's request to sign in or to
// step up is a typed field of the reply (RequiredAction), so that clients
// need not recognise its words; it is stored with the reply and comes back
// the same from ListMessages and from a resumed WatchConversation (a
// reload, Last-Event-ID). Other replies and the customer's messages carry
// none. On SQLite and PostgreSQL.
func TestReplyCarriesRequiredAction(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		vid := accesstoken.VisitorPrefix + "abcdefghijklmnopqrstuvwxyz"
		tok, err := h.issuer.Issue(context.Background(), accesstoken.Claims{Subject: vid, Kind: accesstoken.KindVisitor, Tenant: "shop", SessionID: vid})
		if err != nil {
			t.Fatal(err)
		}
		visitor := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
		alice := h.customer("cus_alice") // aal1
		cases := []struct {
			name   string
			caller context.Context
			text   string
			want   conversationv1.RequiredAction
		}{
			{"visitor asks about an order", visitor, "where is my order 100234", conversationv1.RequiredAction_REQUIRED_ACTION_SIGN_IN},
			{"aal1 asks to change an address", alice, "Please change the delivery address of order 100455", conversationv1.RequiredAction_REQUIRED_ACTION_STEP_UP},
			{"a greeting", alice, "Hello", conversationv1.RequiredAction_REQUIRED_ACTION_UNSPECIFIED},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				id := h.open(c.caller)
				resp, err := h.client.PostMessage(c.caller, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.text})
				if err != nil {
					t.Fatal(err)
				}
				if got := resp.GetReply().GetRequiredAction(); got != c.want {
					t.Errorf("reply: %v, want %v (%q)", got, c.want, resp.GetReply().GetText())
				}
				if got := resp.GetMessage().GetRequiredAction(); got != conversationv1.RequiredAction_REQUIRED_ACTION_UNSPECIFIED {
					t.Errorf("the customer's message: %v", got)
				}
				list, err := h.client.ListMessages(c.caller, &conversationv1.ListMessagesRequest{ConversationId: id})
				if err != nil {
					t.Fatal(err)
				}
				if ms := list.GetMessages(); len(ms) != 2 || ms[0].GetRequiredAction() != conversationv1.RequiredAction_REQUIRED_ACTION_UNSPECIFIED || ms[1].GetRequiredAction() != c.want {
					t.Errorf("listed: %v, want the reply's %v", ms, c.want)
				}
				ctx, cancel := context.WithCancel(c.caller)
				defer cancel()
				stream, err := h.client.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: id, AfterMessageId: resp.GetMessage().GetMessageId()})
				if err != nil {
					t.Fatal(err)
				}
				m, err := stream.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if m.GetMessage().GetMessageId() != resp.GetReply().GetMessageId() || m.GetMessage().GetRequiredAction() != c.want {
					t.Errorf("resumed stream: %v, want the reply with %v", m.GetMessage(), c.want)
				}
			})
		}
	})
}

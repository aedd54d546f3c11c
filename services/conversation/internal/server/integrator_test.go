package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/server"
	"github.com/sottohq/sotto/services/conversation/migrations"
)

const apiChannel = conversationv1.ChatChannel_CHAT_CHANNEL_API

// integrator is an integrator client's token (identity's client
// credentials: kind client, no aal, its tenant and scopes).
func (h *harness) integrator(id, tenant string, scopes ...string) context.Context {
	return h.token(accesstoken.Claims{Subject: id, Kind: accesstoken.KindClient, Tenant: tenant, Scope: strings.Join(scopes, " ")})
}

func (h *harness) ingestAs(ctx context.Context, tenant string, ch conversationv1.ChatChannel, user, id, text string) (*conversationv1.IngestChannelMessageResponse, error) {
	return h.client.IngestChannelMessage(ctx, &conversationv1.IngestChannelMessageRequest{
		Tenant: tenant, Channel: ch, ChannelUserId: user, ChannelMessageId: id, Text: text})
}

// watchUntil reads the conversation's stream as ctx's caller until a
// message by author arrives, and returns what it read.
func (h *harness) watchUntil(ctx context.Context, id string, author conversationv1.Author) ([]*conversationv1.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := h.client.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: id})
	if err != nil {
		return nil, err
	}
	var got []*conversationv1.Message
	for {
		m, err := s.Recv()
		if err != nil {
			return got, err
		}
		got = append(got, m.GetMessage())
		if m.GetMessage().GetAuthor() == author {
			return got, nil
		}
	}
}

// TestIntegratorPostsAndWatches: a platform's client (conversation.ingest
// and conversation.watch, tenant "shop") posts its user's message on the
// API channel and reads the assistant's reply from the stream, in
// placeholders. Nothing goes to a platform's send API (a WhatsApp message
// in the same run does: the rig would have seen one), and the canary is in
// no database file.
func TestIntegratorPostsAndWatches(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		platform := h.integrator("cli_platform", "shop", server.ScopeIngest, server.ScopeWatch)
		const canary = "ada.canary.h11@example.org"
		// A Polish mobile in an English message: a number with its country
		// code is a phone there (pii.StorageConfig), not only in a message
		// of its own country's language (outside probe).
		const phone = "+48 512 345 678"
		resp, err := h.ingestAs(platform, "shop", apiChannel, "platform-user-7", "pm-1", "Hello, I am "+canary+", on "+phone+". When are you open?")
		if err != nil {
			t.Fatal(err)
		}
		again, err := h.ingestAs(platform, "shop", apiChannel, "platform-user-7", "pm-1", "Hello, I am "+canary+", on "+phone+". When are you open?")
		if err != nil || !again.GetDuplicate() || again.GetConversationId() != resp.GetConversationId() {
			t.Fatalf("replay: %v, %v", again, err)
		}
		got, err := h.watchUntil(platform, resp.GetConversationId(), conversationv1.Author_AUTHOR_ASSISTANT)
		if err != nil {
			t.Fatalf("watch: %v (read %v)", err, got)
		}
		if len(got) != 2 || got[0].GetMessageId() != resp.GetMessageId() || !strings.Contains(got[0].GetText(), "[EMAIL_1]") ||
			!strings.Contains(got[0].GetText(), "[PHONE_1]") ||
			got[1].GetText() == "" {
			t.Fatalf("stream %v", got)
		}
		for _, m := range got {
			if strings.Contains(m.GetText(), canary) || strings.Contains(m.GetText(), phone) {
				t.Fatalf("the stream carried the canary: %q", m.GetText())
			}
		}
		conv, err := h.client.GetConversation(h.staff("stf_1", accesstoken.RoleSupportAgent), &conversationv1.GetConversationRequest{ConversationId: resp.GetConversationId()})
		if err != nil || conv.GetConversation().GetChannel() != apiChannel || conv.GetConversation().GetTenant() != "shop" {
			t.Fatalf("conversation %v, %v", conv, err)
		}
		// No delivery job for the API reply: the platform has read it from
		// the stream.
		var jobs int
		if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM jobs WHERE kind = 'conversation.channel_delivery'`).Scan(&jobs); err != nil || jobs != 0 {
			t.Fatalf("%d delivery jobs for the API reply (%v)", jobs, err)
		}
		// The rig delivers WhatsApp replies; the API reply was not among them.
		h.ingest("shop", whatsApp, "+447700900123", "wamid.h11", "When are you open?")
		h.channels.waitDeliveries(t, 1)
		h.channels.settle()
		if d := h.channels.api.Deliveries(); len(d) != 1 {
			t.Fatalf("%d deliveries to the platforms' send APIs, want the WhatsApp one only", len(d))
		}
		stored := storetest.StoredBytes(t, h.db)
		if bytes.Contains(stored, []byte(canary)) || bytes.Contains(h.logs.Bytes(), []byte(canary)) || bytes.Contains(stored, []byte(phone)) {
			t.Fatal("the canary is stored or logged")
		}
	})
}

// TestIntegratorSeesOnlyItsTenantsAPIConversations: a client of another
// tenant, and the tenant's own client on a web or WhatsApp conversation,
// find nothing (NOT_FOUND, as if it did not exist). Fails without the
// domain's tenant and channel check (integratorVisible).
func TestIntegratorSeesOnlyItsTenantsAPIConversations(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	shopClient := h.integrator("cli_shop", "shop", server.ScopeIngest, server.ScopeWatch)
	otherClient := h.integrator("cli_other", "othershop", server.ScopeIngest, server.ScopeWatch)
	api, err := h.ingestAs(shopClient, "shop", apiChannel, "platform-user-1", "pm-1", "When are you open?")
	if err != nil {
		t.Fatal(err)
	}
	web, err := h.client.CreateConversation(h.customer("cus_1"), &conversationv1.CreateConversationRequest{Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WEB})
	if err != nil {
		t.Fatal(err)
	}
	wa := h.ingest("shop", whatsApp, "+447700900124", "wamid.h11b", "When are you open?")
	for name, c := range map[string]struct {
		ctx context.Context
		id  string
	}{
		"another tenant's client on the API conversation": {otherClient, api.GetConversationId()},
		"the shop's client on a web conversation":         {shopClient, web.GetConversation().GetConversationId()},
		"the shop's client on a WhatsApp conversation":    {shopClient, wa.GetConversationId()},
	} {
		got, err := h.watchUntil(c.ctx, c.id, conversationv1.Author_AUTHOR_CUSTOMER)
		if status.Code(err) != codes.NotFound || reasonOf(err) != reasons.ConversationNotFound || len(got) != 0 {
			t.Errorf("%s: %v (read %d), want NOT_FOUND %s", name, err, len(got), reasons.ConversationNotFound)
		}
	}
	// The shop's own client reads its API conversation (the control).
	if _, err := h.watchUntil(shopClient, api.GetConversationId(), conversationv1.Author_AUTHOR_CUSTOMER); err != nil {
		t.Fatalf("the shop's client on its API conversation: %v", err)
	}
}

// TestIntegratorIngestRules: the token on IngestChannelMessage must be a
// client's with conversation.ingest, acting in its own tenant on the API
// channel; the API channel takes no call without one; watching needs
// conversation.watch. Nothing is stored by a refused call.
func TestIntegratorIngestRules(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	for name, c := range map[string]struct {
		ctx     context.Context
		tenant  string
		channel conversationv1.ChatChannel
		code    codes.Code
		reason  string
	}{
		"client without the scope":    {h.integrator("cli_1", "shop", server.ScopeWatch), "shop", apiChannel, codes.PermissionDenied, reasons.IntegratorScopeRequired},
		"a customer's token":          {h.customer("cus_1"), "shop", apiChannel, codes.PermissionDenied, reasons.IntegratorScopeRequired},
		"another tenant":              {h.integrator("cli_1", "shop", server.ScopeIngest), "othershop", apiChannel, codes.PermissionDenied, reasons.TenantMismatch},
		"client posing as WhatsApp":   {h.integrator("cli_1", "shop", server.ScopeIngest), "shop", whatsApp, codes.InvalidArgument, reasons.APIChannelRequired},
		"no token on the API channel": {context.Background(), "shop", apiChannel, codes.PermissionDenied, reasons.IntegratorScopeRequired},
	} {
		_, err := h.ingestAs(c.ctx, c.tenant, c.channel, "platform-user-1", "pm-"+strings.ReplaceAll(name, " ", "-"), "When are you open?")
		if status.Code(err) != c.code || reasonOf(err) != c.reason {
			t.Errorf("%s: %v, want %v %s", name, err, c.code, c.reason)
		}
	}
	if n := h.count("conversations"); n != 0 {
		t.Fatalf("%d conversations after refused calls", n)
	}
	resp, err := h.ingestAs(h.integrator("cli_1", "shop", server.ScopeIngest), "shop", apiChannel, "platform-user-1", "pm-ok", "When are you open?")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.watchUntil(h.integrator("cli_1", "shop", server.ScopeIngest), resp.GetConversationId(), conversationv1.Author_AUTHOR_CUSTOMER)
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("watch without conversation.watch: %v", err)
	}
}

// TestIntegratorReadsAgentRepliesFromTheStream: a platform's user asks for
// a person; the support agent who takes the API conversation answers, and
// the platform reads the answer from its stream. No delivery job is made
// for it (fails without the API skip in EnqueueChannelReply).
func TestIntegratorReadsAgentRepliesFromTheStream(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	platform := h.integrator("cli_platform", "shop", server.ScopeIngest, server.ScopeWatch)
	agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
	resp, err := h.ingestAs(platform, "shop", apiChannel, "platform-user-9", "pm-1", "I want to talk to a human please")
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetConversationId()
	if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: id}); err != nil {
		t.Fatalf("assign (the assistant should have handed off): %v", err)
	}
	reply, err := h.client.PostAgentReply(agent, &conversationv1.PostAgentReplyRequest{ConversationId: id, Text: "Hi, this is Sam from the shop."})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.watchUntil(platform, id, conversationv1.Author_AUTHOR_AGENT)
	if err != nil || got[len(got)-1].GetMessageId() != reply.GetMessage().GetMessageId() {
		t.Fatalf("stream %v, %v; want the agent's reply last", got, err)
	}
	var jobs int
	if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM jobs WHERE kind = 'conversation.channel_delivery'`).Scan(&jobs); err != nil || jobs != 0 {
		t.Fatalf("%d delivery jobs for an API conversation (%v)", jobs, err)
	}
}

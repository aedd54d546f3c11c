package grpcedge

import (
	"context"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/telemetry"
)

var (
	ingestMethod = conversationv1.ConversationService_IngestChannelMessage_FullMethodName
	watchMethod  = conversationv1.ConversationService_WatchConversation_FullMethodName
)

// stubConversation stands in for the conversation service behind the
// edge's two conversation lines: it counts the calls that reach it and
// answers each (the real service's own checks are its tests').
type stubConversation struct {
	conversationv1.UnimplementedConversationServiceServer
	ingests, watches atomic.Int64
}

func (s *stubConversation) IngestChannelMessage(_ context.Context, req *conversationv1.IngestChannelMessageRequest) (*conversationv1.IngestChannelMessageResponse, error) {
	s.ingests.Add(1)
	return &conversationv1.IngestChannelMessageResponse{ConversationId: "cnv_" + req.GetTenant()}, nil
}

func (s *stubConversation) WatchConversation(req *conversationv1.WatchConversationRequest, stream conversationv1.ConversationService_WatchConversationServer) error {
	s.watches.Add(1)
	return stream.Send(&conversationv1.WatchConversationResponse{Message: &conversationv1.Message{ConversationId: req.GetConversationId()}})
}

// withConversation adds a stand-in conversation service (its workload
// policy naming the gateway, as the real one's does) and the gateway
// table's own IngestChannelMessage and WatchConversation lines.
func withConversation(t *testing.T, stub *stubConversation) options {
	return func(h *harness, o *Options) {
		srv := h.pki.NewServer(t, "conversation", authz.Policy{
			ingestMethod:                   {"gateway"},
			watchMethod:                    {"gateway"},
			"/grpc.health.v1.Health/Check": {authz.AnyWorkload},
		})
		conversationv1.RegisterConversationServiceServer(srv.GRPC(), stub)
		addr := servertest.Start(t, srv)
		tel, err := telemetry.New(context.Background(), "gateway", telemetry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := dial.Service(addr, h.pki.Source(t, "gateway"), "conversation", tel)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		o.Backends["conversation"] = conn
		o.Methods[ingestMethod] = Integrators[ingestMethod]
		o.Methods[watchMethod] = Integrators[watchMethod]
	}
}

// apiMessage is a platform's message on the API channel.
func apiMessage(tenant string) *conversationv1.IngestChannelMessageRequest {
	return &conversationv1.IngestChannelMessageRequest{Tenant: tenant, Channel: conversationv1.ChatChannel_CHAT_CHANNEL_API,
		ChannelUserId: "platform-user-1", ChannelMessageId: "pm-1", Text: "hello"}
}

func watch(ctx context.Context, c conversationv1.ConversationServiceClient) error {
	s, err := c.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: "cnv_00000000000000000000000000"})
	if err != nil {
		return err
	}
	_, err = s.Recv()
	return err
}

// TestConversationLinesNeedTheirScopes: a platform posts with
// conversation.ingest and streams with conversation.watch; either scope
// alone opens only its own method, and a person's token neither. Nothing
// refused reaches the service.
func TestConversationLinesNeedTheirScopes(t *testing.T) {
	stub := &stubConversation{}
	h := newHarness(t, withConversation(t, stub))
	c := conversationv1.NewConversationServiceClient(h.dial(t))
	ingestOnly := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Scope: ScopeConversationIngest}))
	watchOnly := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Subject: "cli_watch", Scope: ScopeConversationWatch}))
	customer := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Kind: accesstoken.KindCustomer, Subject: "acc_customer", SessionID: "ses_1"}))

	_, err := c.IngestChannelMessage(watchOnly, apiMessage(testTenant))
	wantRefusal(t, err, codes.PermissionDenied, ReasonScopeRequired)
	if got := errorInfo(err).GetMetadata()[MetadataRequiredScope]; got != ScopeConversationIngest {
		t.Fatalf("the refusal names scope %q", got)
	}
	wantRefusal(t, watch(ingestOnly, c), codes.PermissionDenied, ReasonScopeRequired)
	_, err = c.IngestChannelMessage(customer, apiMessage(testTenant))
	wantRefusal(t, err, codes.PermissionDenied, ReasonClientTokenRequired)
	wantRefusal(t, watch(customer, c), codes.PermissionDenied, ReasonClientTokenRequired)
	if stub.ingests.Load()+stub.watches.Load() != 0 {
		t.Fatalf("refused calls reached the service: %d ingests, %d watches", stub.ingests.Load(), stub.watches.Load())
	}

	if resp, err := c.IngestChannelMessage(ingestOnly, apiMessage(testTenant)); err != nil || resp.GetConversationId() != "cnv_"+testTenant {
		t.Fatalf("ingest with its scope: %v, %v", resp, err)
	}
	if err := watch(watchOnly, c); err != nil {
		t.Fatalf("watch with its scope: %v", err)
	}
	if stub.ingests.Load() != 1 || stub.watches.Load() != 1 {
		t.Fatalf("the service saw %d ingests and %d watches, want 1 each", stub.ingests.Load(), stub.watches.Load())
	}
}

// TestIngestStaysInTheClientsTenant: a platform posting for another tenant
// is refused at the edge (TENANT_MISMATCH, audited) before the service
// sees it; leaving the tenant out is the default tenant, not the client's.
// Fails without the line's tenant binding (ingestTenant).
func TestIngestStaysInTheClientsTenant(t *testing.T) {
	stub := &stubConversation{}
	h := newHarness(t, withConversation(t, stub))
	c := conversationv1.NewConversationServiceClient(h.dial(t))
	shop := bearerCtx(context.Background(), h.token(t, accesstoken.Claims{Scope: ScopeConversationIngest}))
	before := len(h.recorded.all())
	_, err := c.IngestChannelMessage(shop, apiMessage("othershop"))
	wantRefusal(t, err, codes.PermissionDenied, ReasonTenantMismatch)
	waitFor(t, func() bool { return len(h.recorded.all()) > before })
	if e := h.recorded.all()[before]; e.Reason != ReasonTenantMismatch || e.ActorSubject != testClient {
		t.Fatalf("audited %+v", e)
	}
	_, err = c.IngestChannelMessage(shop, apiMessage(""))
	wantRefusal(t, err, codes.PermissionDenied, ReasonTenantMismatch)
	if n := stub.ingests.Load(); n != 0 {
		t.Fatalf("the service saw %d calls for another tenant", n)
	}
	if _, err := c.IngestChannelMessage(shop, apiMessage(testTenant)); err != nil {
		t.Fatalf("own tenant: %v", err)
	}
}

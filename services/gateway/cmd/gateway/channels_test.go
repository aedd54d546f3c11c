package main

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/service"
)

// conversation stands in for the conversation service's ingest.
type conversation struct {
	conversationv1.UnimplementedConversationServiceServer
	mu    sync.Mutex
	calls []*conversationv1.IngestChannelMessageRequest
}

func (c *conversation) IngestChannelMessage(_ context.Context, req *conversationv1.IngestChannelMessageRequest) (*conversationv1.IngestChannelMessageResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, req)
	return &conversationv1.IngestChannelMessageResponse{ConversationId: "conv_1", MessageId: "msg_1"}, nil
}

// TestChannelsAreMounted starts the gateway as its main does, with the
// shop's channel secrets in SOTTO_SECRETS_FILE: a signed WhatsApp delivery
// to the listener reaches the conversation service over mTLS as the
// gateway workload (the stand-in admits no other), and other paths are
// still the REST API's.
func TestChannelsAreMounted(t *testing.T) {
	pki := servertest.NewPKI(t)
	conv := &conversation{}
	srv := pki.NewServer(t, "conversation", authz.Policy{
		conversationv1.ConversationService_IngestChannelMessage_FullMethodName: {"gateway"},
	})
	conversationv1.RegisterConversationServiceServer(srv.GRPC(), conv)
	convAddr := servertest.Start(t, srv)

	dir := t.TempDir()
	const appSecret = "0123456789abcdef0123456789abcdef"
	secretsFile := filepath.Join(dir, "secrets.json")
	if err := secrets.WriteFile(secretsFile, map[string]map[string]string{
		secrets.ChannelPath("acme", secrets.WhatsApp): {
			secrets.KeyAppSecret: appSecret, secrets.KeyVerifyToken: "vt-1", secrets.KeyPhoneNumberID: "1065",
		},
	}); err != nil {
		t.Fatal(err)
	}
	f := pki.Identity(t, "gateway")
	env := service.Env{
		"SOTTO_TRUST_DOMAIN": servertest.TrustDomain,
		"SOTTO_TLS_CERT":     f.Cert, "SOTTO_TLS_KEY": f.Key, "SOTTO_TLS_BUNDLE": f.Bundle,
		"SOTTO_ADMIN_ADDR": "127.0.0.1:0", "SOTTO_HTTP_ADDR": "127.0.0.1:0", "SOTTO_GATEWAY_GRPC_ADDR": "off",
		"SOTTO_KEYRING_FILE": filepath.Join(dir, "keyring.json"),
		"SOTTO_SECRETS_FILE": secretsFile,
		// Three requests per address, then a token a minute.
		"SOTTO_GATEWAY_CHANNELS_RATE_PER_MINUTE": "1", "SOTTO_GATEWAY_CHANNELS_BURST": "3",
		// The other services are not needed for the channels.
		"SOTTO_AUDIT_ADDR": "127.0.0.1:1", "SOTTO_TOKENVAULT_ADDR": "127.0.0.1:1",
		"SOTTO_IDENTITY_ADDR": "127.0.0.1:1", "SOTTO_CONSENT_ADDR": "127.0.0.1:1",
		"SOTTO_CONVERSATION_ADDR": convAddr, "SOTTO_CRMSYNC_ADDR": "127.0.0.1:1",
		"SOTTO_LOG_LEVEL": "error",
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *service.Service, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, "gateway", env, func(ctx context.Context, s *service.Service) error {
			got <- s
			return register(ctx, s)
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	var s *service.Service
	select {
	case s = <-got:
	case err := <-done:
		t.Fatalf("Run returned before register: %v", err)
	}
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; {
		if addr := s.Addrs()["http"]; addr != "" {
			base = "http://" + addr
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the gateway stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}

	wh := channeltest.Webhook{URL: base + "/v1/channels/whatsapp/acme/webhook", AppSecret: appSecret}
	resp, err := wh.Subscribe(context.Background(), "vt-1", "1158201444")
	if err != nil || resp.Status != http.StatusOK || resp.Body != "1158201444" {
		t.Fatalf("handshake: %+v, %v", resp, err)
	}
	body := channeltest.WhatsAppDelivery{PhoneNumberID: "1065", Messages: []channeltest.WhatsAppMessage{{From: "16505551234", ID: "wamid.M", Text: "hi"}}}.JSON()
	if resp, err := wh.Deliver(context.Background(), body); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("delivery: %+v, %v", resp, err)
	}
	conv.mu.Lock()
	calls := conv.calls
	conv.mu.Unlock()
	if len(calls) != 1 || calls[0].GetTenant() != "acme" || calls[0].GetChannelMessageId() != "wamid.M" ||
		calls[0].GetChannel() != conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP {
		t.Fatalf("conversation got %v", calls)
	}
	// The REST API is still behind the same listener.
	r, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/openapi.json: %d", r.StatusCode)
	}
	// The per-address limit's settings reach the channel routes (the
	// REST call above is not counted against it).
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		resp, err := wh.Subscribe(context.Background(), "vt-1", "1158201444")
		if err != nil || resp.Status != want {
			t.Fatalf("request %d after the delivery: %+v, %v; want %d", i+3, resp, err, want)
		}
	}
}

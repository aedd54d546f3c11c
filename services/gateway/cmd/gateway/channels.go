package main

import (
	"net/http"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/gateway/internal/channels"
	"github.com/sottohq/sotto/services/gateway/internal/config"
)

// mountChannels serves the WhatsApp and Messenger webhooks under
// /v1/channels/ in front of next (the REST API), handing messages to the
// conversation service on the gateway's mTLS connection to it. The shops'
// channel secrets come from Vault KV (or the local secrets file).
func mountChannels(s *service.Service, cfg config.Config, next http.Handler) (http.Handler, error) {
	conn, err := s.Dial("conversation")
	if err != nil {
		return nil, err
	}
	store, err := secrets.Open(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	h, err := channels.New(channels.Options{
		Secrets: store, Conversation: conversationv1.NewConversationServiceClient(conn), Logger: s.Logger(),
		MaxBodyBytes: cfg.ChannelsMaxBodyBytes, IngestTimeout: cfg.ChannelsIngestTimeout, Meter: s.Telemetry().Meter,
		RatePerMinute: cfg.ChannelsRatePerMinute, Burst: cfg.ChannelsBurst, TrustedProxies: cfg.TrustedProxies,
	})
	if err != nil {
		return nil, err
	}
	return h.Mount(next), nil
}

package channels_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/channels"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

type secrets map[string]map[string]string

func (m secrets) Get(_ context.Context, path string) (map[string]string, error) {
	if v, ok := m[path]; ok {
		return v, nil
	}
	return nil, errs.E(errs.NotFound, "SECRET_NOT_FOUND", "no secret at this path")
}

func newSender(t *testing.T, api *channeltest.SendAPI, sec secrets) *channels.Sender {
	t.Helper()
	c, err := egress.New(egress.Config{AllowedHosts: []string{api.Host()}, AllowPrivateCIDRs: channeltest.Loopback(),
		RootCAs: api.RootCAs(), MaxRetries: -1}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	return channels.NewSender(c, sec, api.URL(), "")
}

// TestSendErrors: what a send's failure means for the delivery job: retry
// (Unavailable) for outages, rate limits and rejected credentials; give up
// (FailedPrecondition CHANNEL_SEND_FAILED) for a refusal of the message;
// CHANNEL_NOT_CONFIGURED without credentials. No error text quotes the
// recipient or the text.
func TestSendErrors(t *testing.T) {
	api := channeltest.NewSendAPI(t)
	api.AddWhatsAppNumber("1065", "wa-token")
	sec := secrets{
		"sotto/channels/shop/whatsapp":  {"access_token": "wa-token", "phone_number_id": "1065"},
		"sotto/channels/stale/whatsapp": {"access_token": "expired", "phone_number_id": "1065"},
		"sotto/channels/half/whatsapp":  {"phone_number_id": "1065"},
	}
	s := newSender(t, api, sec)
	const to, text = "447700900123", "your parcel"
	for _, tc := range []struct {
		name, tenant string
		fail         []channeltest.Failure
		kind         errs.Kind
		reason       string
	}{
		{"outage", "shop", []channeltest.Failure{channeltest.Unavailable}, errs.Unavailable, reasons.ChannelUnavailable},
		{"rate limit", "shop", []channeltest.Failure{channeltest.RateLimited}, errs.Unavailable, reasons.ChannelUnavailable},
		{"outside the window", "shop", []channeltest.Failure{channeltest.OutsideWindow}, errs.FailedPrecondition, reasons.ChannelSendFailed},
		{"rejected token", "stale", nil, errs.Unavailable, reasons.ChannelUnavailable},
		{"no credentials", "other", nil, errs.FailedPrecondition, reasons.ChannelNotConfigured},
		{"incomplete credentials", "half", nil, errs.FailedPrecondition, reasons.ChannelNotConfigured},
	} {
		api.Fail(tc.fail...)
		err := s.Send(context.Background(), tc.tenant, channels.WhatsApp, to, text)
		if !errs.Is(err, tc.kind) || errs.ReasonOf(err) != tc.reason {
			t.Errorf("%s: %v, want %v %s", tc.name, err, tc.kind, tc.reason)
		}
		if err != nil && (strings.Contains(err.Error(), to) || strings.Contains(err.Error(), text)) {
			t.Errorf("%s: the error quotes the message: %v", tc.name, err)
		}
	}
	if n := len(api.Deliveries()); n != 0 {
		t.Errorf("%d deliveries, want 0", n)
	}
	if err := s.Send(context.Background(), "shop", channels.WhatsApp, to, text); err != nil {
		t.Fatal(err)
	}
}

// TestMessengerTextIsCut: Messenger takes at most 2,000 characters.
func TestMessengerTextIsCut(t *testing.T) {
	api := channeltest.NewSendAPI(t)
	api.AddPage("page-token")
	s := newSender(t, api, secrets{"sotto/channels/shop/messenger": {"page_access_token": "page-token"}})
	if err := s.Send(context.Background(), "shop", channels.Messenger, "2468", strings.Repeat("é", 2500)); err != nil {
		t.Fatal(err)
	}
	d := api.Deliveries()
	if len(d) != 1 || utf8.RuneCountInString(d[0].Text) != 2000 || !strings.HasSuffix(d[0].Text, "…") {
		t.Errorf("delivered %d characters", utf8.RuneCountInString(d[0].Text))
	}
}

package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// Secrets reads a shop's channel credentials (pkg/secrets.Store: Vault KV
// v2, or the local secrets file of the embedded default).
type Secrets interface {
	Get(ctx context.Context, path string) (map[string]string, error)
}

// The credentials' paths and keys, as pkg/secrets documents them:
// sotto/channels/<tenant>/whatsapp holds access_token and phone_number_id,
// sotto/channels/<tenant>/messenger page_access_token.
const (
	keyAccessToken     = "access_token"
	keyPhoneNumberID   = "phone_number_id"
	keyPageAccessToken = "page_access_token"
)

func secretsPath(tenant string, channel int32) string {
	p := "whatsapp"
	if channel == Messenger {
		p = "messenger"
	}
	return "sotto/channels/" + tenant + "/" + p
}

// Platform limits on one text message: WhatsApp's body is at most 4096
// characters, Messenger's text 2000.
const (
	whatsAppMaxText  = 4096
	messengerMaxText = 2000
)

// DefaultGraphURL and DefaultGraphVersion are Meta's Graph API, which both
// platforms' send APIs are part of.
const (
	DefaultGraphURL     = "https://graph.facebook.com"
	DefaultGraphVersion = "v23.0"
)

// Sender sends one text to a platform user through the platform's send API
// (WhatsApp Cloud API, Messenger Send API) over pkg/egress, with the
// shop's credentials from Secrets.
type Sender struct {
	http    *egress.Client
	secrets Secrets
	base    string
	version string
}

// NewSender builds a sender. graphURL and version default to Meta's.
func NewSender(client *egress.Client, secrets Secrets, graphURL, version string) *Sender {
	if graphURL == "" {
		graphURL = DefaultGraphURL
	}
	if version == "" {
		version = DefaultGraphVersion
	}
	return &Sender{http: client, secrets: secrets, base: strings.TrimRight(graphURL, "/"), version: version}
}

var pathSegment = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Send delivers text to the platform user to (a WhatsApp number, a
// Messenger page-scoped id) of the shop's channel. Errors carry neither:
// Unavailable CHANNEL_UNAVAILABLE when it may work later (network, 5xx,
// rate limits, rejected credentials an operator can fix),
// FailedPrecondition CHANNEL_SEND_FAILED when it will not (the platform
// refused this message), FailedPrecondition CHANNEL_NOT_CONFIGURED
// without credentials.
func (s *Sender) Send(ctx context.Context, tenant string, channel int32, to, text string) error {
	if s == nil || s.http == nil || s.secrets == nil {
		return errs.E(errs.FailedPrecondition, reasons.ChannelNotConfigured, "no sender for messaging channels is configured")
	}
	creds, err := s.secrets.Get(ctx, secretsPath(tenant, channel))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.E(errs.FailedPrecondition, reasons.ChannelNotConfigured, "the shop's channel has no credentials")
		}
		return errs.Wrap(err, errs.Unavailable, reasons.ChannelUnavailable, "the channel credentials could not be read")
	}
	var (
		url, template, token string
		body                 any
	)
	switch channel {
	case WhatsApp:
		id, tok := creds[keyPhoneNumberID], creds[keyAccessToken]
		if !pathSegment.MatchString(id) || tok == "" {
			return errs.E(errs.FailedPrecondition, reasons.ChannelNotConfigured, "the shop's WhatsApp credentials are incomplete")
		}
		url, template, token = s.base+"/"+s.version+"/"+id+"/messages", "/{version}/{phone_number_id}/messages", tok
		body = whatsAppText{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Type: "text",
			Text: whatsAppBody{Body: cut(text, whatsAppMaxText)}}
	case Messenger:
		tok := creds[keyPageAccessToken]
		if tok == "" {
			return errs.E(errs.FailedPrecondition, reasons.ChannelNotConfigured, "the shop's Messenger credentials are incomplete")
		}
		url, template, token = s.base+"/"+s.version+"/me/messages", "/{version}/me/messages", tok
		body = messengerText{Recipient: messengerRecipient{ID: to}, MessagingType: "RESPONSE",
			Message: messengerMessage{Text: cut(text, messengerMaxText)}}
	default:
		return errs.E(errs.FailedPrecondition, reasons.ChannelNotConfigured, "not a messaging channel")
	}
	b, err := json.Marshal(body)
	if err != nil {
		return errs.Wrap(err, errs.Internal, reasons.ChannelSendFailed, "the message could not be encoded")
	}
	req, err := http.NewRequestWithContext(egress.WithPathTemplate(ctx, template), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return errs.Wrap(err, errs.Internal, reasons.ChannelSendFailed, "the request could not be built")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.http.Do(req)
	if err != nil {
		// egress errors name no URL; a context error is the caller's.
		return errs.Wrap(err, errs.Unavailable, reasons.ChannelUnavailable, "the platform could not be reached")
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return graphError(resp.StatusCode, raw)
}

// graphError classifies a Graph API error ({"error":{"message","type",
// "code","error_subcode"}}). The platform's message text is not kept: it
// can quote the recipient.
func graphError(status int, raw []byte) error {
	var e struct {
		Error struct {
			Type string `json:"type"`
			Code int    `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	code := e.Error.Code
	switch {
	case status >= 500, status == http.StatusTooManyRequests,
		// Throttling: application (4), user (17), page (32), WhatsApp
		// account (80007), cloud API (130429, 131056), temporary (2).
		code == 2 || code == 4 || code == 17 || code == 32 || code == 80007 || code == 130429 || code == 131056,
		// Credentials an operator can renew (190: expired or invalid
		// token, 10/200: permissions): retried with backoff.
		status == http.StatusUnauthorized, status == http.StatusForbidden, code == 190, code == 10, code == 200:
		return errs.E(errs.Unavailable, reasons.ChannelUnavailable, "the platform refused the message for now (HTTP %d, code %d)", status, code)
	}
	return errs.E(errs.FailedPrecondition, reasons.ChannelSendFailed, "the platform refused the message (HTTP %d, code %d)", status, code)
}

// cut shortens text to at most n characters, ending it with "…" when cut.
func cut(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return string(r[:n-1]) + "…"
}

type whatsAppText struct {
	MessagingProduct string       `json:"messaging_product"`
	RecipientType    string       `json:"recipient_type"`
	To               string       `json:"to"`
	Type             string       `json:"type"`
	Text             whatsAppBody `json:"text"`
}

type whatsAppBody struct {
	Body string `json:"body"`
}

type messengerText struct {
	Recipient     messengerRecipient `json:"recipient"`
	MessagingType string             `json:"messaging_type"`
	Message       messengerMessage   `json:"message"`
}

type messengerRecipient struct {
	ID string `json:"id"`
}

type messengerMessage struct {
	Text string `json:"text"`
}

// Package channeltest emulates the messaging platforms Sotto's channels
// talk to (the WhatsApp Cloud API and Messenger) in tests, in their real
// wire formats: the webhook deliveries a platform POSTs to the gateway,
// signed as Meta signs them, and the subscription handshake (webhook*.go);
// the send APIs replies go out through.
package channeltest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WhatsAppMessage is one inbound message of a WhatsApp Cloud API delivery.
type WhatsAppMessage struct {
	// From is the sender's WhatsApp id: their phone number, digits only.
	From string
	// ID is the message's wamid; empty: NewWamID(From).
	ID string
	// Type is "text" when empty; other types (image, reaction, ...) carry
	// no text body.
	Type string
	// Text is a text message's body.
	Text string
	// Name is the sender's profile name, in the delivery's contacts.
	Name string
	// Timestamp is when it was sent; zero: now.
	Timestamp time.Time
}

// WhatsAppStatus is a status update (sent, delivered, read) of a message
// the business sent.
type WhatsAppStatus struct {
	ID, RecipientID, Status string
	Timestamp               time.Time
}

// WhatsAppDelivery is one POST of the WhatsApp Cloud API's "messages"
// webhook field, for one business phone number.
type WhatsAppDelivery struct {
	BusinessAccountID  string // the WABA id; empty: a fixed one
	PhoneNumberID      string // the business number's id (metadata.phone_number_id)
	DisplayPhoneNumber string // empty: a fixed one
	Messages           []WhatsAppMessage
	Statuses           []WhatsAppStatus
}

// JSON is the delivery as the Cloud API sends it.
func (d WhatsAppDelivery) JSON() []byte {
	type text struct {
		Body string `json:"body"`
	}
	type message struct {
		From      string `json:"from"`
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Type      string `json:"type"`
		Text      *text  `json:"text,omitempty"`
	}
	type contact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	}
	type status struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Timestamp   string `json:"timestamp"`
		RecipientID string `json:"recipient_id"`
	}
	type value struct {
		MessagingProduct string `json:"messaging_product"`
		Metadata         struct {
			DisplayPhoneNumber string `json:"display_phone_number"`
			PhoneNumberID      string `json:"phone_number_id"`
		} `json:"metadata"`
		Contacts []contact `json:"contacts,omitempty"`
		Messages []message `json:"messages,omitempty"`
		Statuses []status  `json:"statuses,omitempty"`
	}
	v := value{MessagingProduct: "whatsapp"}
	v.Metadata.DisplayPhoneNumber = or(d.DisplayPhoneNumber, "15550783881")
	v.Metadata.PhoneNumberID = d.PhoneNumberID
	seen := map[string]bool{}
	for _, m := range d.Messages {
		typ := or(m.Type, "text")
		out := message{From: m.From, ID: or(m.ID, NewWamID(m.From)), Timestamp: unix(m.Timestamp), Type: typ}
		if typ == "text" {
			out.Text = &text{Body: m.Text}
		}
		v.Messages = append(v.Messages, out)
		if !seen[m.From] {
			seen[m.From] = true
			c := contact{WaID: m.From}
			c.Profile.Name = m.Name
			v.Contacts = append(v.Contacts, c)
		}
	}
	for _, s := range d.Statuses {
		v.Statuses = append(v.Statuses, status{ID: s.ID, Status: s.Status, Timestamp: unix(s.Timestamp), RecipientID: s.RecipientID})
	}
	body := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      or(d.BusinessAccountID, "102290129340398"),
			"changes": []any{map[string]any{"value": v, "field": "messages"}},
		}},
	}
	return mustJSON(body)
}

// MessengerEvent is one messaging event of a Messenger delivery.
type MessengerEvent struct {
	// SenderID is the customer's page-scoped id (PSID).
	SenderID string
	// MID is the message id; empty: NewMID().
	MID string
	// Text is the message's text; empty with Attachment for a photo.
	Text string
	// Attachment, if set, is an attachment's type ("image", ...).
	Attachment string
	// Echo marks a message the page itself sent (is_echo): the sender is
	// the page and the recipient the customer.
	Echo bool
	// Timestamp is when it was sent; zero: now.
	Timestamp time.Time
}

// MessengerDelivery is one POST of a Page's "messages" webhook.
type MessengerDelivery struct {
	PageID string
	Events []MessengerEvent
}

// JSON is the delivery as Messenger sends it.
func (d MessengerDelivery) JSON() []byte {
	type id struct {
		ID string `json:"id"`
	}
	type attachment struct {
		Type    string         `json:"type"`
		Payload map[string]any `json:"payload"`
	}
	type message struct {
		MID         string       `json:"mid"`
		Text        string       `json:"text,omitempty"`
		IsEcho      bool         `json:"is_echo,omitempty"`
		AppID       int64        `json:"app_id,omitempty"`
		Attachments []attachment `json:"attachments,omitempty"`
	}
	type event struct {
		Sender    id      `json:"sender"`
		Recipient id      `json:"recipient"`
		Timestamp int64   `json:"timestamp"`
		Message   message `json:"message"`
	}
	var events []event
	for _, e := range d.Events {
		ev := event{Sender: id{e.SenderID}, Recipient: id{d.PageID}, Timestamp: millis(e.Timestamp),
			Message: message{MID: or(e.MID, NewMID()), Text: e.Text}}
		if e.Echo {
			ev.Sender, ev.Recipient = id{d.PageID}, id{e.SenderID}
			ev.Message.IsEcho, ev.Message.AppID = true, 1517776481860111
		}
		if e.Attachment != "" {
			ev.Message.Attachments = []attachment{{Type: e.Attachment, Payload: map[string]any{"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/0.jpg"}}}
		}
		events = append(events, ev)
	}
	body := map[string]any{
		"object": "page",
		"entry":  []any{map[string]any{"id": d.PageID, "time": millis(time.Time{}), "messaging": events}},
	}
	return mustJSON(body)
}

// NewWamID returns a WhatsApp message id for a message from the number
// from, built as the Cloud API builds them: "wamid." and the base64 of a
// Thrift-encoded record holding the sender's number and a random id. The
// number can be read back out of it, which is why Sotto treats message ids
// as personal data.
func NewWamID(from string) string {
	var random [10]byte
	rand.Read(random[:])
	b := []byte{0x1c, 0x18, byte(len(from))}
	b = append(b, from...)
	b = append(b, 0x15, 0x02, 0x00, 0x12, 0x18, 0x14)
	b = append(b, strings.ToUpper(hex.EncodeToString(random[:]))...)
	b = append(b, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// NewMID returns a Messenger message id ("m_" and random url-safe base64).
func NewMID() string {
	var random [48]byte
	rand.Read(random[:])
	return "m_" + base64.RawURLEncoding.EncodeToString(random[:])
}

// Sign is Meta's X-Hub-Signature-256 value for body: "sha256=" and the hex
// HMAC-SHA256 of the raw bytes under the app secret.
func Sign(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Webhook plays a platform calling the callback URL configured for an app.
type Webhook struct {
	// URL is the callback URL, e.g. https://gw/v1/channels/whatsapp/acme/webhook.
	URL string
	// AppSecret signs deliveries.
	AppSecret string
	// Client sends the requests; nil: http.DefaultClient.
	Client *http.Client
}

// Response is what the endpoint answered.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Deliver POSTs body signed with the app secret, as the platform does.
func (w Webhook) Deliver(ctx context.Context, body []byte) (Response, error) {
	return w.DeliverSigned(ctx, body, Sign(w.AppSecret, body))
}

// DeliverSigned POSTs body with signature as its X-Hub-Signature-256 (no
// header when signature is empty), for tests of forged deliveries.
func (w Webhook) DeliverSigned(ctx context.Context, body []byte, signature string) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, strings.NewReader(string(body)))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	return w.do(req)
}

// Subscribe performs the subscription handshake the platform runs when an
// operator saves the callback URL: a GET with hub.mode=subscribe, the
// verify token and a challenge the endpoint must echo.
func (w Webhook) Subscribe(ctx context.Context, verifyToken, challenge string) (Response, error) {
	return w.Handshake(ctx, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {challenge}})
}

// Handshake sends the GET with arbitrary query parameters.
func (w Webhook) Handshake(ctx context.Context, query url.Values) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.URL+"?"+query.Encode(), nil)
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	return w.do(req)
}

// NewChallenge returns a challenge like the platform's (a random number).
func NewChallenge() string {
	var b [4]byte
	rand.Read(b[:])
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return strconv.FormatUint(uint64(n)+1_000_000_000, 10)
}

func (w Webhook) do(req *http.Request) (Response, error) {
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func unix(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return strconv.FormatInt(t.Unix(), 10)
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UnixMilli()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed types of strings and numbers
	}
	return b
}

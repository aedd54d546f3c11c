package channeltest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// SendAPI emulates the send endpoints of Meta's Graph API that the
// conversation service delivers replies through, speaking their protocol
// over HTTPS:
//
//   - WhatsApp Cloud API: POST /{version}/{phone_number_id}/messages with
//     "Authorization: Bearer <access token>" and
//     {"messaging_product":"whatsapp","to":...,"type":"text","text":{"body":...}};
//     answers {"messaging_product":"whatsapp","contacts":[{"input","wa_id"}],"messages":[{"id":"wamid..."}]}.
//   - Messenger Send API: POST /{version}/me/messages with the page access
//     token (Bearer header or access_token query parameter) and
//     {"recipient":{"id":...},"messaging_type":"RESPONSE","message":{"text":...}};
//     answers {"recipient_id","message_id"}.
//
// Errors have the Graph API's shape, {"error":{"message","type","code",
// "error_subcode","fbtrace_id"}}: 401 code 190 OAuthException for a wrong
// token, 400 code 100 for a malformed body. It records every accepted
// delivery and fails on demand (Fail).
type SendAPI struct {
	srv *httptest.Server

	mu         sync.Mutex
	numbers    map[string]string // phone_number_id → access token
	pages      map[string]bool   // page access tokens
	deliveries []SentMessage
	failures   []Failure
	attempts   int
}

// SentMessage is one delivery the emulator accepted.
type SentMessage struct {
	// Platform is "whatsapp" or "messenger".
	Platform string
	// From is the WhatsApp phone_number_id, or the page token's page ("me").
	From string
	// To is the recipient (a WhatsApp number, a Messenger page-scoped id).
	To   string
	Text string
	// ID is the message id the emulator answered.
	ID string
}

// Failure is one answer Fail queues instead of accepting a send.
type Failure struct {
	Status  int
	Code    int
	Type    string
	Message string
}

// Rate-limit and outage failures as the platforms send them.
var (
	// Unavailable is a platform outage (HTTP 503, code 2).
	Unavailable = Failure{Status: http.StatusServiceUnavailable, Code: 2, Type: "OAuthException", Message: "Service temporarily unavailable"}
	// RateLimited is WhatsApp's throughput limit (HTTP 429, code 130429).
	RateLimited = Failure{Status: http.StatusTooManyRequests, Code: 130429, Type: "OAuthException", Message: "Rate limit hit"}
	// OutsideWindow is WhatsApp's refusal of a free-form message more than
	// 24 hours after the user last wrote (HTTP 400, code 131047): final.
	OutsideWindow = Failure{Status: http.StatusBadRequest, Code: 131047, Type: "OAuthException", Message: "Re-engagement message"}
)

// NewSendAPI starts the emulator on a loopback HTTPS address; t's cleanup
// stops it.
func NewSendAPI(t testing.TB) *SendAPI {
	t.Helper()
	s := &SendAPI{numbers: map[string]string{}, pages: map[string]bool{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the Graph API base URL ("https://127.0.0.1:port").
func (s *SendAPI) URL() string { return s.srv.URL }

// Host is the emulator's host:port, for an egress allow-list.
func (s *SendAPI) Host() string {
	u, _ := url.Parse(s.srv.URL)
	return u.Host
}

// RootCAs trusts the emulator's certificate.
func (s *SendAPI) RootCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// Loopback is the address range to exempt from egress' private-address
// guard for the emulator.
func Loopback() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }

// AddWhatsAppNumber registers a business phone number id and its access
// token.
func (s *SendAPI) AddWhatsAppNumber(phoneNumberID, accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbers[phoneNumberID] = accessToken
}

// AddPage registers a Messenger page access token.
func (s *SendAPI) AddPage(pageAccessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[pageAccessToken] = true
}

// Fail makes the next len(fs) authorised sends fail with fs, in order.
func (s *SendAPI) Fail(fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fs...)
}

// Deliveries returns the accepted deliveries, oldest first.
func (s *SendAPI) Deliveries() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.deliveries...)
}

// Attempts is the number of authorised send requests, failed ones included.
func (s *SendAPI) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

var (
	whatsAppPath  = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/([0-9A-Za-z_-]+)/messages$`)
	messengerPath = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/me/messages$`)
)

func (s *SendAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		graphErr(w, Failure{Status: http.StatusBadRequest, Code: 100, Type: "GraphMethodException", Message: "Unsupported get request."})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		graphErr(w, Failure{Status: http.StatusBadRequest, Code: 100, Type: "OAuthException", Message: "Unreadable body"})
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = r.URL.Query().Get("access_token")
	}
	switch {
	case messengerPath.MatchString(r.URL.Path):
		s.messenger(w, token, body)
	case whatsAppPath.MatchString(r.URL.Path):
		s.whatsApp(w, whatsAppPath.FindStringSubmatch(r.URL.Path)[1], token, body)
	default:
		graphErr(w, Failure{Status: http.StatusNotFound, Code: 803, Type: "OAuthException", Message: "Unknown path components"})
	}
}

// authorised counts the attempt and returns the queued failure, if any.
func (s *SendAPI) authorised() *Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if len(s.failures) == 0 {
		return nil
	}
	f := s.failures[0]
	s.failures = s.failures[1:]
	return &f
}

func (s *SendAPI) record(m SentMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = append(s.deliveries, m)
}

var invalidToken = Failure{Status: http.StatusUnauthorized, Code: 190, Type: "OAuthException", Message: "Invalid OAuth access token - Cannot parse access token"}

func badParam(msg string) Failure {
	return Failure{Status: http.StatusBadRequest, Code: 100, Type: "OAuthException", Message: "(#100) " + msg}
}

func (s *SendAPI) whatsApp(w http.ResponseWriter, phoneNumberID, token string, body []byte) {
	s.mu.Lock()
	want, ok := s.numbers[phoneNumberID]
	s.mu.Unlock()
	if !ok || token == "" || token != want {
		graphErr(w, invalidToken)
		return
	}
	if f := s.authorised(); f != nil {
		graphErr(w, *f)
		return
	}
	var m struct {
		MessagingProduct string `json:"messaging_product"`
		To               string `json:"to"`
		Type             string `json:"type"`
		Text             *struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		graphErr(w, badParam("Invalid JSON"))
		return
	}
	switch {
	case m.MessagingProduct != "whatsapp":
		graphErr(w, badParam("The parameter messaging_product is required."))
	case m.To == "" || strings.Trim(m.To, "+0123456789") != "":
		graphErr(w, badParam("Invalid parameter to"))
	case m.Type != "text" || m.Text == nil || m.Text.Body == "":
		graphErr(w, badParam("The parameter text['body'] is required."))
	case utf8.RuneCountInString(m.Text.Body) > 4096:
		graphErr(w, badParam("Param text['body'] must be at most 4096 characters long."))
	default:
		id := "wamid." + randomID()
		s.record(SentMessage{Platform: "whatsapp", From: phoneNumberID, To: m.To, Text: m.Text.Body, ID: id})
		writeJSON(w, http.StatusOK, map[string]any{
			"messaging_product": "whatsapp",
			"contacts":          []map[string]string{{"input": m.To, "wa_id": strings.TrimPrefix(m.To, "+")}},
			"messages":          []map[string]string{{"id": id}},
		})
	}
}

func (s *SendAPI) messenger(w http.ResponseWriter, token string, body []byte) {
	s.mu.Lock()
	ok := s.pages[token]
	s.mu.Unlock()
	if !ok {
		graphErr(w, invalidToken)
		return
	}
	if f := s.authorised(); f != nil {
		graphErr(w, *f)
		return
	}
	var m struct {
		Recipient struct {
			ID string `json:"id"`
		} `json:"recipient"`
		MessagingType string `json:"messaging_type"`
		Message       *struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		graphErr(w, badParam("Invalid JSON"))
		return
	}
	switch {
	case m.Recipient.ID == "":
		graphErr(w, badParam("The parameter recipient is required"))
	case m.MessagingType != "RESPONSE" && m.MessagingType != "UPDATE" && m.MessagingType != "MESSAGE_TAG":
		graphErr(w, badParam("Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"))
	case m.Message == nil || m.Message.Text == "":
		graphErr(w, badParam("The parameter message is required"))
	case utf8.RuneCountInString(m.Message.Text) > 2000:
		graphErr(w, badParam("Length of param message[text] must be less than or equal to 2000"))
	default:
		id := "m_" + randomID()
		s.record(SentMessage{Platform: "messenger", From: "me", To: m.Recipient.ID, Text: m.Message.Text, ID: id})
		writeJSON(w, http.StatusOK, map[string]string{"recipient_id": m.Recipient.ID, "message_id": id})
	}
}

func graphErr(w http.ResponseWriter, f Failure) {
	writeJSON(w, f.Status, map[string]any{"error": map[string]any{
		"message": f.Message, "type": f.Type, "code": f.Code, "fbtrace_id": randomID()[:11],
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

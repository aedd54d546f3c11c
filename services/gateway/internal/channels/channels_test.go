package channels_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/services/gateway/internal/channels"
)

const (
	tenant        = "acme"
	waSecret      = "wa-app-secret-0123456789abcdef01"
	msSecret      = "ms-app-secret-0123456789abcdef01"
	verifyToken   = "verify-token-3f9a"
	phoneNumberID = "106540352242922"
	pageID        = "104953292345678"
)

var ctx = context.Background()

// conversation is a stand-in of the conversation service's ingest: it
// records each call and stores each message id once, as the real one does;
// fail makes the calls for a message id fail with a code, once or always.
type conversation struct {
	conversationv1.UnimplementedConversationServiceServer
	mu    sync.Mutex
	calls []*conversationv1.IngestChannelMessageRequest
	seen  map[string]bool
	fail  map[string]failure
}

type failure struct {
	code   codes.Code
	reason string // the ErrorInfo reason, if any
	times  int    // 0: always
	// delay, if set, holds the call until its deadline instead.
	delay bool
}

func (c *conversation) IngestChannelMessage(ctx context.Context, req *conversationv1.IngestChannelMessageRequest) (*conversationv1.IngestChannelMessageResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, req)
	if f, ok := c.fail[req.GetChannelMessageId()]; ok && f.delay {
		c.mu.Unlock()
		<-ctx.Done()
		c.mu.Lock()
		delete(c.fail, req.GetChannelMessageId())
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if f, ok := c.fail[req.GetChannelMessageId()]; ok {
		if f.times == 1 {
			delete(c.fail, req.GetChannelMessageId())
		} else if f.times > 1 {
			f.times--
			c.fail[req.GetChannelMessageId()] = f
		}
		// A message as a validation error might hold: the handler must not
		// log it.
		msg := "refused " + req.GetText() + " from " + req.GetChannelUserId()
		st := status.New(f.code, msg)
		if f.reason != "" {
			st, _ = st.WithDetails(&errdetails.ErrorInfo{Reason: f.reason, Domain: "conversation.sotto"})
		}
		return nil, st.Err()
	}
	dup := c.seen[req.GetChannelMessageId()]
	c.seen[req.GetChannelMessageId()] = true
	return &conversationv1.IngestChannelMessageResponse{ConversationId: "conv_1", MessageId: "msg_1", Duplicate: dup}, nil
}

func (c *conversation) failOn(id string, code codes.Code, times int) {
	c.failWith(id, code, "", times)
}

// failWith is failOn with the reason conversation gives.
func (c *conversation) failWith(id string, code codes.Code, reason string, times int) {
	c.mu.Lock()
	c.fail[id] = failure{code: code, reason: reason, times: times}
	c.mu.Unlock()
}

// ids returns the message ids of the calls so far.
func (c *conversation) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.calls {
		out = append(out, r.GetChannelMessageId())
	}
	return out
}

func (c *conversation) stored() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type stand struct {
	conv        *conversation
	url         string // the server's base URL
	secretsFile string
	log         *syncBuffer
	wa, ms      channeltest.Webhook
	metrics     *sdkmetric.ManualReader
}

type standOpts struct {
	maxBody         int64
	ingestTimeout   time.Duration
	deliveryTimeout time.Duration
	// caller is the workload the conversation service admits to
	// IngestChannelMessage ("gateway" if empty).
	caller string
	// The per-address limit, its trusted proxies and its clock.
	rate, burst int
	trusted     []netip.Prefix
	now         func() time.Time
}

// newStand runs the channel handler on a real HTTP server, with secrets
// in a local file, in front of a stand-in conversation service reached
// over mTLS as the gateway workload. Logs go to a plain JSON handler that
// keeps every attribute, so a test sees what the code hands the logger,
// before the production logger's redaction.
func newStand(t *testing.T, o standOpts) *stand {
	t.Helper()
	s := &stand{conv: &conversation{seen: map[string]bool{}, fail: map[string]failure{}}, log: &syncBuffer{}, metrics: sdkmetric.NewManualReader()}
	pki := servertest.NewPKI(t)
	srv := pki.NewServer(t, "conversation", authz.Policy{
		conversationv1.ConversationService_IngestChannelMessage_FullMethodName: {cmp.Or(o.caller, "gateway")},
	})
	conversationv1.RegisterConversationServiceServer(srv.GRPC(), s.conv)
	addr := servertest.Start(t, srv)
	conn := pki.Dial(t, "gateway", "conversation", addr)

	s.secretsFile = filepath.Join(t.TempDir(), "secrets.json")
	writeSecrets(t, s.secretsFile, map[string]map[string]string{
		secrets.ChannelPath(tenant, secrets.WhatsApp): {
			secrets.KeyAppSecret: waSecret, secrets.KeyVerifyToken: verifyToken,
			secrets.KeyPhoneNumberID: phoneNumberID, secrets.KeyAccessToken: "EAAG-access",
		},
		secrets.ChannelPath(tenant, secrets.Messenger): {
			secrets.KeyAppSecret: msSecret, secrets.KeyVerifyToken: verifyToken,
			secrets.KeyPageID: pageID, secrets.KeyPageAccessToken: "EAAG-page",
		},
		// No page id: incomplete.
		secrets.ChannelPath("halfdone", secrets.Messenger): {secrets.KeyAppSecret: msSecret, secrets.KeyVerifyToken: verifyToken},
	})
	h, err := channels.New(channels.Options{
		// No cache: tests change the file between requests.
		Secrets:      secrets.NewFile(s.secretsFile),
		Conversation: conversationv1.NewConversationServiceClient(conn),
		Logger:       slog.New(slog.NewJSONHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MaxBodyBytes: o.maxBody, IngestTimeout: o.ingestTimeout, DeliveryTimeout: o.deliveryTimeout,
		Meter:         sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.metrics)),
		RatePerMinute: o.rate, Burst: o.burst, TrustedProxies: o.trusted, Now: o.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h.Mount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the rest of the gateway", http.StatusTeapot)
	})))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	s.wa = channeltest.Webhook{URL: s.endpoint(secrets.WhatsApp, tenant), AppSecret: waSecret}
	s.ms = channeltest.Webhook{URL: s.endpoint(secrets.Messenger, tenant), AppSecret: msSecret}
	return s
}

func (s *stand) endpoint(platform, tenant string) string {
	return s.url + "/v1/channels/" + platform + "/" + tenant + "/webhook"
}

func writeSecrets(t *testing.T, path string, all map[string]map[string]string) {
	t.Helper()
	if err := secrets.WriteFile(path, all); err != nil {
		t.Fatal(err)
	}
}

func mustDeliver(t *testing.T, w channeltest.Webhook, body []byte, want int) channeltest.Response {
	t.Helper()
	resp, err := w.Deliver(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != want {
		t.Fatalf("delivery answered %d %q, want %d", resp.Status, resp.Body, want)
	}
	return resp
}

func waText(from, id, text string) channeltest.WhatsAppMessage {
	return channeltest.WhatsAppMessage{From: from, ID: id, Text: text}
}

func TestWhatsAppDeliveryForwardsTextMessages(t *testing.T) {
	s := newStand(t, standOpts{})
	body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID,
		Messages: []channeltest.WhatsAppMessage{
			waText("16505551234", "wamid.A", "Where is my order?"),
			{From: "16505551234", ID: "wamid.IMG", Type: "image"},
			waText("4915112345678", "wamid.B", "Hallo"),
		},
		Statuses: []channeltest.WhatsAppStatus{{ID: "wamid.OUT", RecipientID: "16505551234", Status: "read"}},
	}.JSON()
	mustDeliver(t, s.wa, body, http.StatusOK)

	want := []*conversationv1.IngestChannelMessageRequest{
		{Tenant: tenant, Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP, ChannelUserId: "16505551234", ChannelMessageId: "wamid.A", Text: "Where is my order?"},
		{Tenant: tenant, Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP, ChannelUserId: "4915112345678", ChannelMessageId: "wamid.B", Text: "Hallo"},
	}
	assertCalls(t, s.conv, want)
}

func TestMessengerDeliveryForwardsTextMessages(t *testing.T) {
	s := newStand(t, standOpts{})
	body := channeltest.MessengerDelivery{PageID: pageID, Events: []channeltest.MessengerEvent{
		{SenderID: "6750512345678901", MID: "m_1", Text: "Do you ship to Lisbon?"},
		{SenderID: "6750512345678901", MID: "m_echo", Text: "We do!", Echo: true},
		{SenderID: "6750512345678901", MID: "m_photo", Attachment: "image"},
	}}.JSON()
	// A read receipt: no message at all.
	read := []byte(`{"object":"page","entry":[{"id":"` + pageID + `","time":1,"messaging":[{"sender":{"id":"6750512345678901"},"recipient":{"id":"` + pageID + `"},"timestamp":1,"read":{"watermark":1}}]}]}`)
	mustDeliver(t, s.ms, body, http.StatusOK)
	mustDeliver(t, s.ms, read, http.StatusOK)
	assertCalls(t, s.conv, []*conversationv1.IngestChannelMessageRequest{
		{Tenant: tenant, Channel: conversationv1.ChatChannel_CHAT_CHANNEL_MESSENGER, ChannelUserId: "6750512345678901", ChannelMessageId: "m_1", Text: "Do you ship to Lisbon?"},
	})
}

func assertCalls(t *testing.T, c *conversation, want []*conversationv1.IngestChannelMessageRequest) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) != len(want) {
		t.Fatalf("%d calls, want %d: %v", len(c.calls), len(want), c.calls)
	}
	for i, got := range c.calls {
		w := want[i]
		if got.GetTenant() != w.GetTenant() || got.GetChannel() != w.GetChannel() || got.GetChannelUserId() != w.GetChannelUserId() ||
			got.GetChannelMessageId() != w.GetChannelMessageId() || got.GetText() != w.GetText() {
			t.Errorf("call %d = %v, want %v", i, got, w)
		}
	}
}

// TestForgedDeliveriesAreRefused: without a valid X-Hub-Signature-256 by
// the shop's app secret over these exact bytes, nothing is forwarded.
// Each case fails without the signature check in deliver.
func TestForgedDeliveriesAreRefused(t *testing.T) {
	s := newStand(t, standOpts{})
	body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.F", "refund to my card")}}.JSON()
	other := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.G", "hi")}}.JSON()
	sig := channeltest.Sign(waSecret, body)
	cases := map[string]string{
		"unsigned":                      "",
		"signature over another body":   channeltest.Sign(waSecret, other),
		"signature with a wrong secret": channeltest.Sign("not-the-app-secret-0123456789abc", body),
		"the Messenger app's secret":    channeltest.Sign(msSecret, body),
		"sha1 prefix":                   "sha1=" + strings.TrimPrefix(sig, "sha256="),
		"no prefix":                     strings.TrimPrefix(sig, "sha256="),
		"truncated":                     sig[:len(sig)-2],
		"upper-case garbage":            "sha256=" + strings.Repeat("Z", 64),
	}
	for name, signature := range cases {
		resp, err := s.wa.DeliverSigned(ctx, body, signature)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("%s: %d %q, want 401", name, resp.Status, resp.Body)
		}
		if strings.Contains(resp.Body, "16505551234") || strings.Contains(resp.Body, "refund") {
			t.Errorf("%s: the answer echoes the delivery: %q", name, resp.Body)
		}
	}
	// A body whose JSON is unchanged in meaning but whose bytes differ.
	resp, err := s.wa.DeliverSigned(ctx, append(slices.Clone(body), ' '), sig)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("a trailing space after signing: %d, want 401", resp.Status)
	}
	if ids := s.conv.ids(); len(ids) != 0 {
		t.Fatalf("forged deliveries forwarded: %v", ids)
	}
	// The same body, properly signed, goes through.
	mustDeliver(t, s.wa, body, http.StatusOK)
	if ids := s.conv.ids(); !slices.Equal(ids, []string{"wamid.F"}) {
		t.Fatalf("forwarded %v", ids)
	}
}

// TestPreviousAppSecretVerifies: while an app secret is rotated, a
// delivery signed with the previous one still verifies.
func TestPreviousAppSecretVerifies(t *testing.T) {
	s := newStand(t, standOpts{})
	const newSecret = "wa-app-secret-rotated-0123456789"
	all := map[string]map[string]string{secrets.ChannelPath(tenant, secrets.WhatsApp): {
		secrets.KeyAppSecret: newSecret, secrets.KeyAppSecretPrevious: waSecret,
		secrets.KeyVerifyToken: verifyToken, secrets.KeyPhoneNumberID: phoneNumberID,
	}}
	writeSecrets(t, s.secretsFile, all)
	body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.R1", "hi")}}.JSON()
	mustDeliver(t, s.wa, body, http.StatusOK)
	rotated := s.wa
	rotated.AppSecret = newSecret
	mustDeliver(t, rotated, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.R2", "hi")}}.JSON(), http.StatusOK)
	// Once the previous secret is removed, it no longer verifies.
	delete(all[secrets.ChannelPath(tenant, secrets.WhatsApp)], secrets.KeyAppSecretPrevious)
	writeSecrets(t, s.secretsFile, all)
	mustDeliver(t, s.wa, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.R3", "hi")}}.JSON(), http.StatusUnauthorized)
	if ids := s.conv.ids(); !slices.Equal(ids, []string{"wamid.R1", "wamid.R2"}) {
		t.Fatalf("forwarded %v", ids)
	}
}

// TestReplayIsForwardedWithTheSameID: a delivery received again (the
// platform's retry, or a captured one replayed) is forwarded again with
// the same message ids, which the conversation service stores once.
func TestReplayIsForwardedWithTheSameID(t *testing.T) {
	s := newStand(t, standOpts{})
	id := channeltest.NewWamID("16505551234")
	body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", id, "hi")}}.JSON()
	mustDeliver(t, s.wa, body, http.StatusOK)
	mustDeliver(t, s.wa, body, http.StatusOK)
	if ids := s.conv.ids(); !slices.Equal(ids, []string{id, id}) {
		t.Fatalf("forwarded ids %v, want the same id twice", ids)
	}
	if n := s.conv.stored(); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
}

// TestOversizedDeliveryIsRefusedUnread: a body over the limit is 413
// whatever it holds, even signed, and nothing of it is forwarded. Fails
// without the MaxBytesReader in deliver.
func TestOversizedDeliveryIsRefusedUnread(t *testing.T) {
	s := newStand(t, standOpts{maxBody: 2048})
	small := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.S", "hi")}}.JSON()
	mustDeliver(t, s.wa, small, http.StatusOK)
	big := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.BIG", strings.Repeat("x", 2048))}}.JSON()
	mustDeliver(t, s.wa, big, http.StatusRequestEntityTooLarge)
	if ids := s.conv.ids(); !slices.Equal(ids, []string{"wamid.S"}) {
		t.Fatalf("forwarded %v", ids)
	}
}

// TestMalformedDeliveries: a signed body that is not the platform's JSON
// is 400 and forwards nothing.
func TestMalformedDeliveries(t *testing.T) {
	s := newStand(t, standOpts{})
	for _, body := range []string{
		`{"object":"whatsapp_business_account","entry":[`,
		`not json`,
		`null`,
		`[]`,
		`{"object":"page","entry":[]}`, // Messenger's, to the WhatsApp endpoint
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":"x"}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[]} {"object":"x"}`,
	} {
		resp, err := s.wa.Deliver(ctx, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %q, want 400", body, resp.Status, resp.Body)
		}
	}
	resp, err := s.ms.Deliver(ctx, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("1", "wamid.X", "x")}}.JSON())
	if err != nil || resp.Status != http.StatusBadRequest {
		t.Errorf("a WhatsApp delivery to Messenger: %d, %v", resp.Status, err)
	}
	if ids := s.conv.ids(); len(ids) != 0 {
		t.Fatalf("forwarded %v", ids)
	}
}

// TestDeliveriesForAnotherAccountAreSkipped: one Meta app can serve
// several shops with one app secret; a delivery for another shop's number
// or Page, posted to this shop's URL, is not this shop's customer's
// message. Fails without the account checks in parse.
func TestDeliveriesForAnotherAccountAreSkipped(t *testing.T) {
	s := newStand(t, standOpts{})
	mustDeliver(t, s.wa, channeltest.WhatsAppDelivery{PhoneNumberID: "999999999999999", Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.OTHER", "hi")}}.JSON(), http.StatusOK)
	mustDeliver(t, s.ms, channeltest.MessengerDelivery{PageID: "999999999", Events: []channeltest.MessengerEvent{{SenderID: "675", MID: "m_other", Text: "hi"}}}.JSON(), http.StatusOK)
	// The right Page in the entry but another recipient.
	mixed := []byte(`{"object":"page","entry":[{"id":"` + pageID + `","time":1,"messaging":[{"sender":{"id":"675"},"recipient":{"id":"999"},"timestamp":1,"message":{"mid":"m_mixed","text":"hi"}}]}]}`)
	mustDeliver(t, s.ms, mixed, http.StatusOK)
	if ids := s.conv.ids(); len(ids) != 0 {
		t.Fatalf("forwarded %v", ids)
	}
}

// TestOneFailureDoesNotLoseTheOthers: a message the conversation service
// could not store makes the answer 500 (the platform retries), the others
// are stored all the same, and the retry stores the rest once. A message
// it refuses as invalid is not retried.
func TestOneFailureDoesNotLoseTheOthers(t *testing.T) {
	s := newStand(t, standOpts{})
	s.conv.failOn("wamid.2", codes.Unavailable, 1)
	body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
		waText("16505551234", "wamid.1", "one"), waText("16505551234", "wamid.2", "two"), waText("16505551234", "wamid.3", "three"),
	}}.JSON()
	mustDeliver(t, s.wa, body, http.StatusInternalServerError)
	if ids := s.conv.ids(); !slices.Equal(ids, []string{"wamid.1", "wamid.2", "wamid.3"}) {
		t.Fatalf("forwarded %v", ids)
	}
	if n := s.conv.stored(); n != 2 {
		t.Fatalf("%d stored after the failure, want 2", n)
	}
	mustDeliver(t, s.wa, body, http.StatusOK)
	if n := s.conv.stored(); n != 3 {
		t.Fatalf("%d stored after the retry, want 3", n)
	}

	// Too long for the conversation service (over 4096 characters):
	// refused for good, the delivery is answered 200 so it is not retried
	// forever.
	long := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
		waText("16505551234", "wamid.long", strings.Repeat("é", 4097)), waText("16505551234", "wamid.4", "four"),
	}}.JSON()
	mustDeliver(t, s.wa, long, http.StatusOK)
	if n := s.conv.stored(); n != 4 {
		t.Fatalf("%d stored, want 4", n)
	}
}

// TestRefusalsARetryCannotCureAreNotRetried: a message conversation
// refuses for good (a blocked sender, a restricted subject, a step-up a
// platform user cannot do, an unknown conversation) answers the delivery
// 200 and counts as refused, and the other messages are stored; retrying
// would resend every customer's message batched with it, for days. What a
// retry can cure is 500, including refusals that are about the deployment
// (the real pkg/authz refusing the gateway's workload; channel delivery
// not set up). Fails with the refusals counted as failures.
func TestRefusalsARetryCannotCureAreNotRetried(t *testing.T) {
	refused := []struct {
		code   codes.Code
		reason string
	}{
		{codes.PermissionDenied, "SESSION_BLOCKED"},
		{codes.FailedPrecondition, "SUBJECT_RESTRICTED"},
		{codes.FailedPrecondition, "STEP_UP_REQUIRED"},
		{codes.NotFound, "CONVERSATION_NOT_FOUND"},
		{codes.InvalidArgument, "TEXT_INVALID"},
		{codes.OutOfRange, ""},
	}
	for _, c := range refused {
		s := newStand(t, standOpts{})
		s.conv.failWith("wamid.blocked", c.code, c.reason, 0)
		body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
			waText("16505550000", "wamid.blocked", "spam"), waText("16505551234", "wamid.ok", "where is my order"),
		}}.JSON()
		mustDeliver(t, s.wa, body, http.StatusOK)
		if n := s.conv.stored(); n != 1 {
			t.Errorf("%v %s: %d stored, want the other message", c.code, c.reason, n)
		}
		want := map[string]int64{"outcome=stored,platform=whatsapp": 1, "outcome=refused,platform=whatsapp": 1}
		if got := s.counts(t, "sotto.gateway.channels.messages"); !maps.Equal(got, want) {
			t.Errorf("%v %s: messages = %v, want %v", c.code, c.reason, got, want)
		}
		if log := s.log.String(); !strings.Contains(log, `"code":"`+c.code.String()+`"`) {
			t.Errorf("%v %s: the refusal's code is not logged: %s", c.code, c.reason, log)
		}
	}

	retried := []struct {
		code   codes.Code
		reason string
	}{
		{codes.Unavailable, ""}, {codes.DeadlineExceeded, ""}, {codes.Aborted, ""},
		{codes.ResourceExhausted, "MESSAGES_THROTTLED"}, {codes.Internal, ""}, {codes.Unknown, ""},
		{codes.Unauthenticated, ""}, {codes.FailedPrecondition, "CHANNEL_NOT_CONFIGURED"},
	}
	for _, c := range retried {
		s := newStand(t, standOpts{})
		s.conv.failWith("wamid.later", c.code, c.reason, 1)
		body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
			waText("16505550000", "wamid.later", "hello"), waText("16505551234", "wamid.ok", "where is my order"),
		}}.JSON()
		mustDeliver(t, s.wa, body, http.StatusInternalServerError)
		mustDeliver(t, s.wa, body, http.StatusOK)
		if n := s.conv.stored(); n != 2 {
			t.Errorf("%v %s: %d stored after the retry, want 2", c.code, c.reason, n)
		}
	}

	// The conversation service's real workload policy without the gateway:
	// PermissionDenied CALLER_NOT_ALLOWED, about every message alike.
	s := newStand(t, standOpts{caller: "identity"})
	mustDeliver(t, s.wa, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
		waText("16505551234", "wamid.ok", "where is my order"),
	}}.JSON(), http.StatusInternalServerError)
	if log := s.log.String(); !strings.Contains(log, `"reason":"CALLER_NOT_ALLOWED"`) {
		t.Errorf("the policy refusal is not what was tested: %s", log)
	}
}

func TestHandshake(t *testing.T) {
	s := newStand(t, standOpts{})
	for _, w := range []channeltest.Webhook{s.wa, s.ms} {
		challenge := channeltest.NewChallenge()
		resp, err := w.Subscribe(ctx, verifyToken, challenge)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusOK || resp.Body != challenge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %q %v", w.URL, resp.Status, resp.Body, resp.Header)
		}
	}
}

// TestHandshakeRefusals: the challenge is echoed only for the shop's
// verify token (fails without the comparison in handshake), and only when
// it is a short token.
func TestHandshakeRefusals(t *testing.T) {
	s := newStand(t, standOpts{})
	q := func(mode, token, challenge string) url.Values {
		v := url.Values{"hub.challenge": {challenge}, "hub.mode": {mode}}
		if token != "\x00" {
			v.Set("hub.verify_token", token)
		}
		return v
	}
	cases := map[string]url.Values{
		"wrong token":      q("subscribe", "verify-token-3f9b", "1158201444"),
		"token prefix":     q("subscribe", verifyToken[:5], "1158201444"),
		"empty token":      q("subscribe", "", "1158201444"),
		"no token":         q("subscribe", "\x00", "1158201444"),
		"other mode":       q("unsubscribe", verifyToken, "1158201444"),
		"markup challenge": q("subscribe", verifyToken, "<script>alert(1)</script>"),
		"long challenge":   q("subscribe", verifyToken, strings.Repeat("1", 129)),
		"empty challenge":  q("subscribe", verifyToken, ""),
		"line feed in it":  q("subscribe", verifyToken, "1\r\nSet-Cookie: a=b"),
	}
	for name, query := range cases {
		resp, err := s.wa.Handshake(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusForbidden {
			t.Errorf("%s: %d %q, want 403", name, resp.Status, resp.Body)
		}
		if ch := query.Get("hub.challenge"); ch != "" && strings.Contains(resp.Body, ch) {
			t.Errorf("%s: the challenge was echoed", name)
		}
	}
}

// TestUnknownShopsLookAlike: an unknown platform, a malformed or unknown
// shop, and a shop whose secrets are incomplete are the same 404, on both
// methods, with nothing forwarded.
func TestUnknownShopsLookAlike(t *testing.T) {
	s := newStand(t, standOpts{})
	body := channeltest.MessengerDelivery{PageID: pageID, Events: []channeltest.MessengerEvent{{SenderID: "675", MID: "m_u", Text: "hi"}}}.JSON()
	var bodies []string
	for _, u := range []string{
		s.endpoint("telegram", tenant),
		s.endpoint(secrets.Messenger, "nobody"),
		s.endpoint(secrets.Messenger, "halfdone"),
		s.endpoint(secrets.Messenger, "ACME"),
		s.endpoint(secrets.Messenger, "a..b"),
		s.endpoint(secrets.Messenger, strings.Repeat("a", 64)),
	} {
		w := channeltest.Webhook{URL: u, AppSecret: msSecret}
		post, err := w.Deliver(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		get, err := w.Subscribe(ctx, verifyToken, "1158201444")
		if err != nil {
			t.Fatal(err)
		}
		if post.Status != http.StatusNotFound || get.Status != http.StatusNotFound {
			t.Errorf("%s: POST %d, GET %d, want 404", u, post.Status, get.Status)
		}
		bodies = append(bodies, post.Body, get.Body)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("answers differ: %q and %q", b, bodies[0])
		}
	}
	if ids := s.conv.ids(); len(ids) != 0 {
		t.Fatalf("forwarded %v", ids)
	}
	// Other paths are the rest of the gateway's.
	resp, err := http.Get(s.url + "/v1/conversations")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("a path outside the channels: %d", resp.StatusCode)
	}
}

// TestUnreadableSecretsAreUnavailable: a secrets file others could read
// is not used; the platform is told to retry (503), not that the shop is
// unknown.
func TestUnreadableSecretsAreUnavailable(t *testing.T) {
	s := newStand(t, standOpts{})
	if err := os.Chmod(s.secretsFile, 0o644); err != nil {
		t.Fatal(err)
	}
	mustDeliver(t, s.wa, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.U", "hi")}}.JSON(), http.StatusServiceUnavailable)
	if ids := s.conv.ids(); len(ids) != 0 {
		t.Fatalf("forwarded %v", ids)
	}
}

// TestNoPersonalDataInLogs sends canary sender ids, wamids (which embed
// the number) and texts through every path, refusals and failures
// included, and finds none of them in what the handler gave its logger or
// in its answers.
func TestNoPersonalDataInLogs(t *testing.T) {
	s := newStand(t, standOpts{maxBody: 4096})
	const (
		number = "447700900123"
		psid   = "6750599911122233"
		text   = "canary-text-my card is 4111 1111 1111 1111"
	)
	wamid := channeltest.NewWamID(number)
	canaries := []string{number, psid, wamid, "canary-text", "4111 1111", verifyToken, waSecret, msSecret}

	wa := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
		{From: number, ID: wamid, Text: text, Name: "Canary Person"},
		waText(number, "wamid.fail", text), waText(number, "wamid.invalid", text),
	}}.JSON()
	ms := channeltest.MessengerDelivery{PageID: pageID, Events: []channeltest.MessengerEvent{{SenderID: psid, MID: "m_canary", Text: text}}}.JSON()
	s.conv.failOn("wamid.fail", codes.Unavailable, 0)
	s.conv.failOn("wamid.invalid", codes.InvalidArgument, 0)

	var answers []string
	record := func(r channeltest.Response, err error) {
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, r.Body, strings.Join(r.Header.Values("Content-Type"), ","))
	}
	record(s.wa.Deliver(ctx, wa))
	record(s.ms.Deliver(ctx, ms))
	record(s.wa.DeliverSigned(ctx, wa, ""))
	record(s.wa.DeliverSigned(ctx, wa, channeltest.Sign("wrong-secret-0123456789abcdefgh", wa)))
	record(s.wa.Deliver(ctx, append([]byte(`{"object":"whatsapp_business_account","x":"`+text+`"`), wa...)))
	record(s.wa.Deliver(ctx, channeltest.WhatsAppDelivery{PhoneNumberID: "999", Messages: []channeltest.WhatsAppMessage{{From: number, Text: text}}}.JSON()))
	record(s.wa.Deliver(ctx, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{{From: number, Text: text + strings.Repeat("x", 4096)}}}.JSON()))
	record(s.wa.Subscribe(ctx, verifyToken+"x", number))
	record(s.wa.Subscribe(ctx, number, "1158201444"))
	record(channeltest.Webhook{URL: s.endpoint(secrets.WhatsApp, "nobody"), AppSecret: waSecret}.Deliver(ctx, wa))

	if got := s.conv.stored(); got != 2 {
		t.Fatalf("%d stored, want 2 (the canary WhatsApp and Messenger messages)", got)
	}
	logs := s.log.String()
	if !strings.Contains(logs, "channel webhook delivered") || !strings.Contains(logs, "channel message not stored") {
		t.Fatalf("the handler logged nothing useful:\n%s", logs)
	}
	for _, c := range canaries {
		if strings.Contains(logs, c) {
			t.Errorf("canary %q in the logs", c)
		}
		for _, a := range answers {
			if strings.Contains(a, c) {
				t.Errorf("canary %q in an answer: %q", c, a)
			}
		}
	}
}

// counts reads a counter's data points as "label=value,..." → count.
func (s *stand) counts(t *testing.T, name string) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.metrics.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				var labels []string
				for _, kv := range dp.Attributes.ToSlice() {
					labels = append(labels, string(kv.Key)+"="+kv.Value.String())
				}
				out[strings.Join(labels, ",")] = dp.Value
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	s := newStand(t, standOpts{})
	s.conv.failOn("wamid.2", codes.Unavailable, 0)
	s.conv.failOn("wamid.3", codes.InvalidArgument, 0)
	mustDeliver(t, s.wa, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
		waText("1", "wamid.1", "a"), waText("1", "wamid.2", "b"), waText("1", "wamid.3", "c"),
	}}.JSON(), http.StatusInternalServerError)
	mustDeliver(t, s.ms, channeltest.MessengerDelivery{PageID: "other", Events: []channeltest.MessengerEvent{{SenderID: "1", Text: "x"}}}.JSON(), http.StatusOK)
	if _, err := s.wa.DeliverSigned(ctx, []byte("{}"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := (channeltest.Webhook{URL: s.endpoint("made-up-platform", tenant)}).Subscribe(ctx, "x", "1"); err != nil {
		t.Fatal(err)
	}
	wantDeliveries := map[string]int64{
		"method=POST,platform=whatsapp,status=500":  1,
		"method=POST,platform=messenger,status=200": 1,
		"method=POST,platform=whatsapp,status=401":  1,
		"method=GET,platform=other,status=404":      1,
	}
	if got := s.counts(t, "sotto.gateway.channels.deliveries"); !maps.Equal(got, wantDeliveries) {
		t.Errorf("deliveries = %v, want %v", got, wantDeliveries)
	}
	wantMessages := map[string]int64{
		"outcome=stored,platform=whatsapp":   1,
		"outcome=failed,platform=whatsapp":   1,
		"outcome=refused,platform=whatsapp":  1,
		"outcome=foreign,platform=messenger": 1,
	}
	if got := s.counts(t, "sotto.gateway.channels.messages"); !maps.Equal(got, wantMessages) {
		t.Errorf("messages = %v, want %v", got, wantMessages)
	}
}

// TestSlowConversationBoundsTheDelivery: once the delivery's time is up,
// the messages not yet handed over fail at once (500, the platform
// retries) instead of each waiting its own timeout; the retry stores them.
func TestSlowConversationBoundsTheDelivery(t *testing.T) {
	s := newStand(t, standOpts{ingestTimeout: time.Minute, deliveryTimeout: time.Second})
	s.conv.mu.Lock()
	s.conv.fail["wamid.slow"] = failure{delay: true}
	s.conv.mu.Unlock()
	body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID, Messages: []channeltest.WhatsAppMessage{
		waText("1", "wamid.slow", "a"), waText("1", "wamid.next", "b"), waText("1", "wamid.last", "c"),
	}}.JSON()
	mustDeliver(t, s.wa, body, http.StatusInternalServerError)
	if n := s.conv.stored(); n != 0 {
		t.Fatalf("%d stored after the deadline", n)
	}
	mustDeliver(t, s.wa, body, http.StatusOK)
	if n := s.conv.stored(); n != 3 {
		t.Fatalf("%d stored after the retry, want 3", n)
	}
}

// TestWebhookRoutesAreLimitedPerAddress: past its burst, one client
// address gets 429 RATE_LIMITED with Retry-After on the channel routes,
// for made-up and real shops alike, before anything is looked up or
// forwarded, until its bucket refills; X-Forwarded-For names the client
// only when the peer is a trusted proxy, and only its right-most
// untrusted entry counts. Fails without the limiter (every request is
// answered by the route).
func TestWebhookRoutesAreLimitedPerAddress(t *testing.T) {
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	get := func(t *testing.T, u, xff string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	s := newStand(t, standOpts{rate: 60, burst: 3, now: clock})
	for i := range 3 {
		// Made-up shops, each a different name; a client-written
		// X-Forwarded-For from an untrusted peer changes nothing.
		if resp := get(t, s.endpoint(secrets.WhatsApp, fmt.Sprintf("madeup-%d", i)), fmt.Sprintf("192.0.2.%d", i)); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("request %d: %d, want 404", i, resp.StatusCode)
		}
	}
	resp := get(t, s.endpoint(secrets.WhatsApp, "madeup-3"), "192.0.2.99")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("past the burst: %d, Retry-After %q; want 429, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The real shop from the same address: limited too, nothing forwarded.
	r, err := s.wa.Deliver(ctx, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID,
		Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.1", "hi")}}.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusTooManyRequests || r.Body != "RATE_LIMITED\n" || len(s.conv.ids()) != 0 {
		t.Fatalf("a delivery past the burst: %d %q, forwarded %v", r.Status, r.Body, s.conv.ids())
	}
	now = now.Add(time.Second) // one token back
	mustDeliver(t, s.wa, channeltest.WhatsAppDelivery{PhoneNumberID: phoneNumberID,
		Messages: []channeltest.WhatsAppMessage{waText("16505551234", "wamid.1", "hi")}}.JSON(), http.StatusOK)
	if got := s.counts(t, "sotto.gateway.channels.deliveries")["method=GET,platform=whatsapp,status=429"]; got != 1 {
		t.Errorf("429s counted: %d, want 1", got)
	}

	// Behind a trusted proxy (the test client's loopback address), the
	// client is the right-most X-Forwarded-For entry that is not a proxy.
	s = newStand(t, standOpts{rate: 60, burst: 2, now: clock, trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	u := s.endpoint(secrets.WhatsApp, "madeup")
	for _, xff := range []string{"198.51.100.7", "203.0.113.1, 198.51.100.7"} {
		if resp := get(t, u, xff); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%q: %d, want 404", xff, resp.StatusCode)
		}
	}
	for _, xff := range []string{"203.0.113.2, 198.51.100.7", "198.51.100.7, 127.0.0.9"} {
		if resp := get(t, u, xff); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%q: %d, want 429 (the same client)", xff, resp.StatusCode)
		}
	}
	if resp := get(t, u, "198.51.100.8"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another client: %d, want 404", resp.StatusCode)
	}
	// IPv6 clients are limited by /64.
	for i, xff := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"} {
		want := http.StatusNotFound
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if resp := get(t, u, xff); resp.StatusCode != want {
			t.Errorf("%q: %d, want %d", xff, resp.StatusCode, want)
		}
	}
}

package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/webhook"
)

// Known answers from the providers' documentation.
const (
	// GitHub's "Validating webhook deliveries" example, which uses the
	// X-Hub-Signature-256 scheme Meta uses.
	githubSecret = "It's a Secret to Everybody"
	githubBody   = "Hello, World!"
	githubSig    = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

	// Slack's "Verifying requests from Slack" example.
	slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTS     = "1531420618"
	slackBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

	// Stripe publishes no vector; computed independently with
	//   printf %s '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test_secret
	stripeSecret = "whsec_test_secret"
	stripeTS     = "1700000000"
	stripeBody   = `{"id":"evt_1"}`
	stripeSig    = "248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func unix(ts string) time.Time {
	sec, _ := strconv.ParseInt(ts, 10, 64)
	return time.Unix(sec, 0)
}

func newVerifier(t *testing.T, cfg webhook.Config) *webhook.Verifier {
	t.Helper()
	v, err := webhook.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("webhook.New: %v", err)
	}
	return v
}

func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scheme webhook.Scheme
		secret string
		header http.Header
		body   string
		now    time.Time
	}{
		{"meta/github", webhook.MetaSHA256, githubSecret, http.Header{"X-Hub-Signature-256": {githubSig}}, githubBody, time.Now()},
		{"slack", webhook.SlackV0, slackSecret, http.Header{"X-Slack-Signature": {slackSig}, "X-Slack-Request-Timestamp": {slackTS}}, slackBody, unix(slackTS).Add(time.Minute)},
		{"stripe", webhook.StripeV1, stripeSecret, http.Header{"Stripe-Signature": {"t=" + stripeTS + ",v1=" + stripeSig + ",v0=00"}}, stripeBody, unix(stripeTS).Add(-time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, webhook.Config{Scheme: tt.scheme, Secrets: [][]byte{[]byte(tt.secret)}, Now: func() time.Time { return tt.now }})
			if _, err := v.Check(tt.header, []byte(tt.body)); err != nil {
				t.Fatalf("Check: %v", err)
			}
			// One byte more in the body and it no longer verifies.
			if _, err := v.Check(tt.header, []byte(tt.body+" ")); errs.ReasonOf(err) != "WEBHOOK_SIGNATURE_INVALID" {
				t.Fatalf("Check of a changed body = %v, want WEBHOOK_SIGNATURE_INVALID", err)
			}
		})
	}
}

// endpoint is a webhook receiver behind Verify on a real socket.
type endpoint struct {
	*httptest.Server
	calls atomic.Int32
	// status is what the handler answers; 200 by default.
	status atomic.Int32

	mu     sync.Mutex
	bodies []string
}

func newEndpoint(t *testing.T, v *webhook.Verifier) *endpoint {
	t.Helper()
	e := &endpoint{}
	e.Server = httptest.NewServer(v.Verify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("handler: reading the body: %v", err)
		}
		e.mu.Lock()
		e.bodies = append(e.bodies, string(b))
		e.mu.Unlock()
		if s := e.status.Load(); s != 0 {
			w.WriteHeader(int(s))
		}
	})))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.bodies...)
}

func (e *endpoint) post(t *testing.T, h http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhook", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

const secret = "test-signing-secret-0123456789"

func sign(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func metaHeader(body string) http.Header {
	return http.Header{"X-Hub-Signature-256": {"sha256=" + sign(secret, body)}}
}

func stripeHeader(ts time.Time, body string) http.Header {
	t := strconv.FormatInt(ts.Unix(), 10)
	return http.Header{"Stripe-Signature": {"t=" + t + ",v1=" + sign(secret, t+"."+body)}}
}

func TestVerifyPassesTheRawBody(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	for _, tt := range []struct {
		name   string
		scheme webhook.Scheme
		header func(string) http.Header
	}{
		{"meta", webhook.MetaSHA256, metaHeader},
		{"stripe", webhook.StripeV1, func(b string) http.Header { return stripeHeader(clk.Now(), b) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEndpoint(t, newVerifier(t, webhook.Config{Scheme: tt.scheme, Secrets: [][]byte{[]byte(secret)}, Now: clk.Now}))
			// Bytes a JSON decoder would normalize: whitespace, escapes.
			body := "{\"entry\": [ {\"id\":\"1\", \"text\":\"caf\\u00e9\"} ]}\n"
			code, _ := e.post(t, tt.header(body), body)
			if code != http.StatusOK {
				t.Fatalf("status = %d, want 200", code)
			}
			if got := e.received(); len(got) != 1 || got[0] != body {
				t.Fatalf("handler read %q, want the raw body %q", got, body)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	const body = `{"canary":"jane@example.com"}`
	valid := sign(secret, body)
	stripeAt := func(ts time.Time) http.Header { return stripeHeader(ts, body) }
	tests := []struct {
		name   string
		scheme webhook.Scheme
		header http.Header
		reason string
	}{
		{"meta: no signature", webhook.MetaSHA256, http.Header{}, "WEBHOOK_SIGNATURE_MISSING"},
		{"meta: empty signature", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {""}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"meta: no prefix", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {valid}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"meta: not hex", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("zz", 32)}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"meta: odd length", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {"sha256=" + valid[:63]}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"meta: truncated", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {"sha256=" + valid[:32]}}, "WEBHOOK_SIGNATURE_INVALID"},
		{"meta: one bit off", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {"sha256=" + flip(valid)}}, "WEBHOOK_SIGNATURE_INVALID"},
		{"meta: empty mac", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {"sha256="}}, "WEBHOOK_SIGNATURE_INVALID"},
		{"meta: other secret", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {"sha256=" + sign("another-secret-0123456789", body)}}, "WEBHOOK_SIGNATURE_INVALID"},
		{"meta: other body", webhook.MetaSHA256, metaHeader(body + "x"), "WEBHOOK_SIGNATURE_INVALID"},
		{"meta: two signatures", webhook.MetaSHA256, http.Header{"X-Hub-Signature-256": {"sha256=" + valid, "sha256=" + valid}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"stripe: no signature", webhook.StripeV1, http.Header{}, "WEBHOOK_SIGNATURE_MISSING"},
		{"stripe: no v1", webhook.StripeV1, http.Header{"Stripe-Signature": {"t=1800000000"}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"stripe: no t", webhook.StripeV1, http.Header{"Stripe-Signature": {"v1=" + valid}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"stripe: two t", webhook.StripeV1, http.Header{"Stripe-Signature": {"t=1800000000,t=1800000000,v1=" + valid}}, "WEBHOOK_SIGNATURE_MISSING"},
		{"stripe: unsigned timestamp", webhook.StripeV1, http.Header{"Stripe-Signature": {"t=1800000000,v1=" + valid}}, "WEBHOOK_SIGNATURE_INVALID"},
		{"stripe: stale", webhook.StripeV1, stripeAt(now.Add(-webhook.DefaultWindow - time.Second)), "WEBHOOK_TIMESTAMP_OUT_OF_WINDOW"},
		{"stripe: future", webhook.StripeV1, stripeAt(now.Add(webhook.DefaultWindow + time.Second)), "WEBHOOK_TIMESTAMP_OUT_OF_WINDOW"},
		{"stripe: timestamp not a number", webhook.StripeV1, http.Header{"Stripe-Signature": {"t=soon,v1=" + sign(secret, "soon."+body)}}, "WEBHOOK_TIMESTAMP_OUT_OF_WINDOW"},
		{"stripe: timestamp overflows", webhook.StripeV1, http.Header{"Stripe-Signature": {"t=9223372036854775807,v1=" + sign(secret, "9223372036854775807."+body)}}, "WEBHOOK_TIMESTAMP_OUT_OF_WINDOW"},
		{"slack: no timestamp", webhook.SlackV0, http.Header{"X-Slack-Signature": {"v0=" + valid}}, "WEBHOOK_SIGNATURE_MISSING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEndpoint(t, newVerifier(t, webhook.Config{Scheme: tt.scheme, Secrets: [][]byte{[]byte(secret)}, Now: func() time.Time { return now }}))
			code, text := e.post(t, tt.header, body)
			if code != http.StatusUnauthorized || text != tt.reason {
				t.Fatalf("got %d %q, want 401 %q", code, text, tt.reason)
			}
			if n := e.calls.Load(); n != 0 {
				t.Fatalf("handler ran %d times", n)
			}
		})
	}
	// The edges of the window are inside it.
	for _, ts := range []time.Time{now.Add(-webhook.DefaultWindow), now.Add(webhook.DefaultWindow)} {
		v := newVerifier(t, webhook.Config{Scheme: webhook.StripeV1, Secrets: [][]byte{[]byte(secret)}, Now: func() time.Time { return now }})
		if _, err := v.Check(stripeAt(ts), []byte(body)); err != nil {
			t.Errorf("timestamp %v from now: %v", ts.Sub(now), err)
		}
	}
}

// flip changes the last hex digit of s.
func flip(s string) string {
	last := s[len(s)-1]
	if last == '0' {
		return s[:len(s)-1] + "1"
	}
	return s[:len(s)-1] + "0"
}

func TestVerifyRefusesOversizedBodies(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, webhook.Config{Scheme: webhook.MetaSHA256, Secrets: [][]byte{[]byte(secret)}, MaxBodyBytes: 64})
	e := newEndpoint(t, v)
	body := strings.Repeat("a", 65)
	code, text := e.post(t, metaHeader(body), body)
	if code != http.StatusRequestEntityTooLarge || text != "WEBHOOK_BODY_TOO_LARGE" {
		t.Fatalf("got %d %q, want 413 WEBHOOK_BODY_TOO_LARGE", code, text)
	}
	body = body[:64]
	if code, _ := e.post(t, metaHeader(body), body); code != http.StatusOK {
		t.Fatalf("a body of exactly the limit: status %d, want 200", code)
	}
	if n := e.calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want once", n)
	}
}

func TestVerifyRefusesReplays(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	const body = `{"id":"evt_1"}`

	t.Run("meta", func(t *testing.T) {
		t.Parallel()
		clk := &clock{now: clk.Now()}
		e := newEndpoint(t, newVerifier(t, webhook.Config{Scheme: webhook.MetaSHA256, Secrets: [][]byte{[]byte(secret)}, Now: clk.Now}))
		if code, _ := e.post(t, metaHeader(body), body); code != http.StatusOK {
			t.Fatalf("first delivery: %d", code)
		}
		clk.Add(webhook.DefaultWindow - time.Second)
		if code, text := e.post(t, metaHeader(body), body); code != http.StatusUnauthorized || text != "WEBHOOK_REPLAYED" {
			t.Fatalf("replay: got %d %q, want 401 WEBHOOK_REPLAYED", code, text)
		}
		if n := e.calls.Load(); n != 1 {
			t.Fatalf("handler ran %d times, want once", n)
		}
		// Without a signed timestamp, the cache is all there is: after
		// Window the request is new again (see Config.Window).
		clk.Add(time.Second)
		if code, _ := e.post(t, metaHeader(body), body); code != http.StatusOK {
			t.Fatalf("after the window: %d", code)
		}
	})

	t.Run("stripe, with the secret rolling", func(t *testing.T) {
		t.Parallel()
		const old = "old-signing-secret-0123456789"
		e := newEndpoint(t, newVerifier(t, webhook.Config{Scheme: webhook.StripeV1, Secrets: [][]byte{[]byte(secret), []byte(old)}, Now: clk.Now}))
		ts := strconv.FormatInt(clk.Now().Unix(), 10)
		newSig, oldSig := sign(secret, ts+"."+body), sign(old, ts+"."+body)
		if code, _ := e.post(t, http.Header{"Stripe-Signature": {"t=" + ts + ",v1=" + newSig + ",v1=" + oldSig}}, body); code != http.StatusOK {
			t.Fatalf("first delivery: %d", code)
		}
		// The same event under either signature alone is the same event.
		for _, sig := range []string{newSig, oldSig} {
			if code, text := e.post(t, http.Header{"Stripe-Signature": {"t=" + ts + ",v1=" + sig}}, body); code != http.StatusUnauthorized || text != "WEBHOOK_REPLAYED" {
				t.Fatalf("replay: got %d %q, want 401 WEBHOOK_REPLAYED", code, text)
			}
		}
		if n := e.calls.Load(); n != 1 {
			t.Fatalf("handler ran %d times, want once", n)
		}
	})
}

// A timestamp may be up to Window ahead of the clock, so it stays acceptable
// until 2 × Window after arrival; the cache remembers it that long.
func TestReplayOfFutureTimestampRefused(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	e := newEndpoint(t, newVerifier(t, webhook.Config{Scheme: webhook.StripeV1, Secrets: [][]byte{[]byte(secret)}, Now: clk.Now}))
	const body = `{"id":"evt_2"}`
	h := stripeHeader(clk.Now().Add(webhook.DefaultWindow), body)
	if code, _ := e.post(t, h, body); code != http.StatusOK {
		t.Fatalf("first delivery: %d", code)
	}
	clk.Add(webhook.DefaultWindow + time.Minute)
	if code, text := e.post(t, h, body); code != http.StatusUnauthorized || text != "WEBHOOK_REPLAYED" {
		t.Fatalf("replay: got %d %q, want 401 WEBHOOK_REPLAYED", code, text)
	}
	clk.Add(webhook.DefaultWindow)
	if code, text := e.post(t, h, body); code != http.StatusUnauthorized || text != "WEBHOOK_TIMESTAMP_OUT_OF_WINDOW" {
		t.Fatalf("once expired: got %d %q, want the timestamp refused", code, text)
	}
}

// A delivery the handler failed (5xx) is retried by the provider with the
// same signature; that retry is not a replay.
func TestVerifyAcceptsRetryOfFailedDelivery(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t, newVerifier(t, webhook.Config{Scheme: webhook.MetaSHA256, Secrets: [][]byte{[]byte(secret)}}))
	const body = `{"id":"evt_1"}`
	e.status.Store(http.StatusServiceUnavailable)
	if code, _ := e.post(t, metaHeader(body), body); code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery: %d, want the handler's 503", code)
	}
	e.status.Store(0)
	if code, _ := e.post(t, metaHeader(body), body); code != http.StatusOK {
		t.Fatalf("retry: %d, want 200", code)
	}
	if code, _ := e.post(t, metaHeader(body), body); code != http.StatusUnauthorized {
		t.Fatalf("replay of the delivered one: %d, want 401", code)
	}
}

func TestReplayCacheFullRefusesInsteadOfForgetting(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	e := newEndpoint(t, newVerifier(t, webhook.Config{Scheme: webhook.MetaSHA256, Secrets: [][]byte{[]byte(secret)}, ReplayCacheSize: 2, Now: clk.Now}))
	for _, body := range []string{"a", "b"} {
		if code, _ := e.post(t, metaHeader(body), body); code != http.StatusOK {
			t.Fatalf("%s: %d", body, code)
		}
	}
	if code, text := e.post(t, metaHeader("c"), "c"); code != http.StatusServiceUnavailable || text != "WEBHOOK_REPLAY_CACHE_FULL" {
		t.Fatalf("third: got %d %q, want 503 WEBHOOK_REPLAY_CACHE_FULL", code, text)
	}
	// "a" is still remembered.
	if code, _ := e.post(t, metaHeader("a"), "a"); code != http.StatusUnauthorized {
		t.Fatalf("replay of a: %d, want 401", code)
	}
	clk.Add(webhook.DefaultWindow)
	if code, _ := e.post(t, metaHeader("c"), "c"); code != http.StatusOK {
		t.Fatalf("after expiry: %d, want 200", code)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []webhook.Config{
		{Secrets: [][]byte{[]byte(secret)}},
		{Scheme: webhook.MetaSHA256},
		{Scheme: webhook.MetaSHA256, Secrets: [][]byte{[]byte("short")}},
		{Scheme: webhook.MetaSHA256, Secrets: [][]byte{[]byte(secret), nil}},
	} {
		if _, err := webhook.New(cfg, slog.New(slog.DiscardHandler)); errs.KindOf(err) != errs.InvalidArgument {
			t.Errorf("New(%+v) = %v, want InvalidArgument", cfg, err)
		}
	}
}

// Signature headers are attacker input: no header value may panic Check or
// be accepted unsigned.
func FuzzCheck(f *testing.F) {
	f.Add("t="+stripeTS+",v1="+stripeSig, stripeBody)
	f.Add("t=,v1=,v1", "")
	f.Add("t=1,t=2,v1=zz", "x")
	v, err := webhook.New(webhook.Config{Scheme: webhook.StripeV1, Secrets: [][]byte{[]byte(stripeSecret)}, Now: func() time.Time { return unix(stripeTS) }}, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header, body string) {
		_, err := v.Check(http.Header{"Stripe-Signature": {header}}, []byte(body))
		if err == nil {
			// Only a correct MAC verifies.
			var ts string
			for part := range strings.SplitSeq(header, ",") {
				if k, val, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
					ts = val
				}
			}
			if !strings.Contains(strings.ToLower(header), sign(stripeSecret, ts+"."+body)) {
				t.Fatalf("Check accepted %q over %q", header, body)
			}
			return
		}
		if errs.KindOf(err) != errs.Unauthenticated {
			t.Fatalf("Check error %v, want Unauthenticated", err)
		}
	})
}

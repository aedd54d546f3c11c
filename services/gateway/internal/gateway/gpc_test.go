package gateway

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
)

// gpcConsent stands in for consent's two RPCs these tests reach: the
// public catalogue (the route the requests take) and RecordGpcOptOut,
// which reports each call's bearer token and answers when the test lets
// it.
type gpcConsent struct {
	consentv1.UnimplementedConsentServiceServer
	calls  chan string // the bearer token of each RecordGpcOptOut
	answer chan error  // what the next RecordGpcOptOut returns
}

func (c *gpcConsent) ListPurposes(context.Context, *consentv1.ListPurposesRequest) (*consentv1.ListPurposesResponse, error) {
	return &consentv1.ListPurposesResponse{}, nil
}

func (c *gpcConsent) RecordGpcOptOut(ctx context.Context, req *consentv1.RecordGpcOptOutRequest) (*consentv1.RecordGpcOptOutResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	auth := md.Get("authorization")
	if len(auth) != 1 || req.GetChannel() != consentv1.Channel_CHANNEL_WEB {
		c.calls <- "malformed"
	} else {
		c.calls <- auth[0]
	}
	select {
	case err := <-c.answer:
		if err != nil {
			return nil, err
		}
		return &consentv1.RecordGpcOptOutResponse{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func startGPCConsent(t *testing.T) (*gpcConsent, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &gpcConsent{calls: make(chan string, 100), answer: make(chan error, 100)}
	srv := grpc.NewServer()
	consentv1.RegisterConsentServiceServer(srv, c)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return c, l.Addr().String()
}

// optouts reads the gpc counter by outcome.
func optouts(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "sotto.gateway.gpc.optouts" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				o, _ := dp.Attributes.Value("outcome")
				out[o.AsString()] += dp.Value
			}
		}
	}
	return out
}

// TestGPCSignal: a signed-in customer's Sec-GPC: 1 reaches consent's
// RecordGpcOptOut with the customer's own token, once per session, in the
// background: the request is answered while consent has not, and does not
// fail when consent does. Other people's signals, and requests without
// the signal, send nothing.
func TestGPCSignal(t *testing.T) {
	consent, addr := startGPCConsent(t)
	reader := sdkmetric.NewManualReader()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := New(ctx, []Backend{testBackend(t, "consent", addr)},
		Options{MaxBodyBytes: 1024, Auth: tokens(t), AuthRatePerMinute: 6000, AuthBurst: 1000, Meter: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		t.Fatal(err)
	}
	get := func(token, gpc string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/v1/consent/purposes", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if gpc != "" {
			req.Header.Set("Sec-GPC", gpc)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET purposes: %d %s", rec.Code, rec.Body)
		}
	}
	customer := func(session string) string {
		return tokens(t).token(t, accesstoken.Claims{Subject: "cus_1", Kind: accesstoken.KindCustomer, Tenant: "default",
			SessionID: session, AAL: accesstoken.AAL1, AMR: []string{"pwd"}})
	}
	next := func() string {
		t.Helper()
		select {
		case tok := <-consent.calls:
			return tok
		case <-time.After(30 * time.Second):
			t.Fatal("no RecordGpcOptOut")
			return ""
		}
	}

	// Answered while consent has not: the call is in flight, unanswered.
	a := customer("ses_a")
	get(a, "1")
	if got := next(); got != "Bearer "+a {
		t.Fatalf("RecordGpcOptOut carried %q; want the customer's token", got)
	}
	// More requests of the session, with the call in flight, send nothing.
	get(a, "1")
	get(a, "1")
	consent.answer <- nil

	// Not signals: staff, no header, Sec-GPC other than 1, no token.
	staff := tokens(t).token(t, accesstoken.Claims{Subject: "stf_1", Kind: accesstoken.KindStaff, SessionID: "ses_s",
		Roles: []string{accesstoken.RoleSupportAgent}, AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}})
	get(staff, "1")
	get(customer("ses_b"), "")
	get(customer("ses_b"), "0")
	get("", "1")

	// Consent fails: the request is served all the same, the failure
	// counted, and the session's next signal is sent again.
	c := customer("ses_c")
	get(c, "1")
	// FIFO: had anything above been sent, it would come before ses_c's.
	if got := next(); got != "Bearer "+c {
		t.Fatalf("after the non-signals, RecordGpcOptOut carried %q; want ses_c's token", got)
	}
	consent.answer <- status.Error(codes.Unavailable, "consent is down")
	deadline := time.Now().Add(30 * time.Second)
	for optouts(t, reader)["failed"] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("failure not counted: %v", optouts(t, reader))
		}
		time.Sleep(time.Millisecond)
	}
	get(c, "1")
	if got := next(); got != "Bearer "+c {
		t.Fatalf("retry carried %q", got)
	}
	consent.answer <- nil

	// ses_a was recorded: its signal is not sent again. A new session's
	// call, queued after it, proves nothing came in between.
	get(a, "1")
	d := customer("ses_d")
	get(d, "1")
	if got := next(); got != "Bearer "+d {
		t.Fatalf("a recorded session's signal was sent again (%q)", got)
	}
	consent.answer <- nil
	for optouts(t, reader)["recorded"] != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("recorded: %v", optouts(t, reader))
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGPCWithConsentDown: with nothing listening at consent's address, a
// customer's request with the signal gets the answer it gets without it,
// and the failed signal is counted.
func TestGPCWithConsentDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	reader := sdkmetric.NewManualReader()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := New(ctx, []Backend{testBackend(t, "consent", dead)},
		Options{MaxBodyBytes: 1024, Auth: tokens(t), Meter: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokens(t).token(t, accesstoken.Claims{Subject: "cus_2", Kind: accesstoken.KindCustomer, Tenant: "default",
		SessionID: "ses_down", AAL: accesstoken.AAL1, AMR: []string{"pwd"}})
	do := func(gpc string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/v1/consent/consents", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if gpc != "" {
			req.Header.Set("Sec-GPC", gpc)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	wantCode, wantBody := do("")
	if code, body := do("1"); code != wantCode || body != wantBody {
		t.Errorf("with the signal: %d %s; without: %d %s", code, body, wantCode, wantBody)
	}
	deadline := time.Now().Add(30 * time.Second)
	for optouts(t, reader)["failed"] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("failure not counted: %v", optouts(t, reader))
		}
		time.Sleep(time.Millisecond)
	}
}

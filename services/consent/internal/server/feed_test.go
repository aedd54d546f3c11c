package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/events"
)

// feed is one WatchConsentChanges call.
type feed struct {
	t      *testing.T
	stream consentv1.ConsentService_WatchConsentChangesClient
}

func (h *harness) watch(t *testing.T, as, cursor string) *feed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s, err := h.client(as).WatchConsentChanges(ctx, &consentv1.WatchConsentChangesRequest{Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	return &feed{t: t, stream: s}
}

// next returns the next change, skipping heartbeats.
func (f *feed) next() *consentv1.WatchConsentChangesResponse {
	f.t.Helper()
	for {
		msg, err := f.stream.Recv()
		if err != nil {
			f.t.Fatal(err)
		}
		if msg.GetChange() != nil {
			return msg
		}
	}
}

// TestChangeFeed: the feed starts with a heartbeat at its cursor, streams
// decisions and catalogue changes as they commit, keeps sending
// heartbeats while idle, and resumes after a cursor without loss; a cursor
// it did not issue is refused.
func TestChangeFeed(t *testing.T) {
	h := sqlite(t)
	f := h.watch(t, "crmsync", "")
	first, err := f.stream.Recv()
	if err != nil || first.GetCursor() == "" || first.GetChange() != nil {
		t.Fatalf("first message %v (%v), want a heartbeat with the starting cursor", first, err)
	}
	// Idle: heartbeats keep coming (every 100 ms in the harness).
	for range 2 {
		if hb, err := f.stream.Recv(); err != nil || hb.GetChange() != nil {
			t.Fatalf("idle feed sent %v (%v), want heartbeats", hb, err)
		}
	}
	g := h.grant(t, h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: "f1"})
	msg := f.next()
	c := msg.GetConsent()
	if c.GetSubject() != "cus_1" || c.GetPurposeId() != "marketing" || c.GetDecision() != consentv1.Decision_DECISION_GRANTED ||
		c.GetRecordId() != g.GetRecord().GetRecordId() || c.GetMethod() != consentv1.Method_METHOD_EXPLICIT_OPT_IN {
		t.Fatalf("decision change: %v", msg)
	}
	resume := msg.GetCursor()
	if _, err := h.gw().UpdatePurpose(h.officer(), &consentv1.UpdatePurposeRequest{Purpose: &consentv1.Purpose{PurposeId: "analytics", RetentionDays: 200},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retention_days"}}, ExpectedRevision: 1}); err != nil {
		t.Fatal(err)
	}
	if p := f.next().GetPurpose(); p.GetPurposeId() != "analytics" || p.GetRetentionDays() != 200 || p.GetRevision() != 2 {
		t.Fatalf("purpose change: %v", p)
	}
	// Resuming after the grant replays the purpose change.
	r := h.watch(t, "crmsync", resume)
	if hb, err := r.stream.Recv(); err != nil || hb.GetCursor() != resume {
		t.Fatalf("resumed feed starts with %v (%v), want a heartbeat at the resume cursor", hb, err)
	}
	if p := r.next().GetPurpose(); p.GetPurposeId() != "analytics" {
		t.Fatalf("resumed feed: %v", p)
	}
	_, err = h.watch(t, "crmsync", "not-a-cursor").stream.Recv()
	wantErr(t, "garbled cursor", err, codes.InvalidArgument, events.ReasonCursorInvalid)
}

// checkUntil polls the client until the decision's Allowed is want and
// returns how long that took.
func checkUntil(t *testing.T, c *consentclient.Client, subject, purpose string, want bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(20 * time.Second)
	for {
		d, err := c.Check(context.Background(), subject, purpose)
		if err == nil && d.Allowed == want {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s still %v (%v) after 20 s", subject, purpose, d, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// runClient starts a pkg/consentclient Client of the workload as and
// waits until its feed is current.
func (h *harness) runClient(t *testing.T, as string, opts consentclient.Options) *consentclient.Client {
	t.Helper()
	c := consentclient.New(h.client(as), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	return c
}

// TestWithdrawalReachesCachedClients: two services hold the grant in their
// caches (pkg/consentclient); a withdrawal through the gateway reaches both
// through the change feed, without waiting for any cache to expire.
func TestWithdrawalReachesCachedClients(t *testing.T) {
	h := sqlite(t)
	ctx := h.customer("cus_1")
	h.grant(t, ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: "c1"})
	// A cache TTL far beyond the test: only the feed can drop the entry.
	clients := []*consentclient.Client{
		h.runClient(t, "tokenvault", consentclient.Options{CacheTTL: time.Hour}),
		h.runClient(t, "crmsync", consentclient.Options{CacheTTL: time.Hour}),
	}
	for _, c := range clients {
		if d, err := c.Check(context.Background(), "cus_1", "marketing"); err != nil || !d.Allowed {
			t.Fatalf("before withdrawal: %v %v", d, err)
		}
		if d, err := c.Check(context.Background(), "cus_1", "marketing"); err != nil || !d.Allowed || !d.Cached {
			t.Fatalf("second check %v (%v), want it cached", d, err)
		}
	}
	start := time.Now()
	if _, err := h.gw().WithdrawConsent(ctx, &consentv1.WithdrawConsentRequest{PurposeId: "marketing", Channel: consentv1.Channel_CHANNEL_WEB, RequestId: "c2"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		checkUntil(t, c, "cus_1", "marketing", false)
		t.Logf("client %d denies %v after the withdrawal was acknowledged", i, time.Since(start))
		d, err := c.Check(context.Background(), "cus_1", "marketing")
		if err != nil || d.Allowed || d.Reason != consentv1.DecisionReason_DECISION_REASON_CONSENT_WITHDRAWN {
			t.Fatalf("after withdrawal: %v %v", d, err)
		}
	}
}

// TestClientFailsClosed: once the consent service cannot be reached, a
// consent-based purpose is refused (Unavailable CONSENT_UNAVAILABLE) even
// though the cache held a grant; a contract purpose is still allowed,
// marked degraded.
func TestClientFailsClosed(t *testing.T) {
	h := sqlite(t)
	h.grant(t, h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: "x1"})
	conn := h.pki.Dial(t, "tokenvault", "consent", h.addr)
	// A clock that stands still: the cache never goes stale by silence, so
	// what stops it being used is the broken feed itself.
	c := consentclient.New(consentv1.NewConsentServiceClient(conn), consentclient.Options{CacheTTL: time.Hour, Clock: clockwork.NewFakeClock()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	for _, p := range []string{"marketing", "order_support"} {
		if d, err := c.Check(ctx, "cus_1", p); err != nil || !d.Allowed {
			t.Fatalf("%s while reachable: %v %v", p, d, err)
		}
	}
	conn.Close() // the service is gone for this client
	deadline := time.Now().Add(20 * time.Second)
	for c.Ready(ctx) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the client still trusts its cache after its feed broke")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := c.Check(ctx, "cus_1", "marketing")
	wantErr(t, "consent purpose without the service", err, codes.Unavailable, consentclient.ReasonUnavailable)
	d, err := c.Check(ctx, "cus_1", "order_support")
	if err != nil || !d.Allowed || !d.Degraded || d.Reason != consentv1.DecisionReason_DECISION_REASON_CONTRACT {
		t.Fatalf("contract purpose without the service: %v %v", d, err)
	}
	_, err = c.Check(ctx, "cus_1", "fraud_prevention")
	wantErr(t, "legitimate interest without the service", err, codes.Unavailable, consentclient.ReasonUnavailable)
}

// TestOnlyProcessingServicesReadDecisions: decisions and the change feed
// name subjects, so a workload of the trust domain that is not one of the
// data processors is refused both (a dev-CA certificate for an unlisted
// name read them before).
func TestOnlyProcessingServicesReadDecisions(t *testing.T) {
	h := sqlite(t)
	intruder := h.client("intruder")
	ctx := context.Background()
	if _, err := intruder.Check(ctx, &consentv1.CheckRequest{Subject: "cus_1", PurposeId: "marketing"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Check by an unlisted workload: %v, want PermissionDenied", err)
	}
	stream, err := intruder.WatchConsentChanges(ctx, &consentv1.WatchConsentChangesRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("the change feed for an unlisted workload: %v, want PermissionDenied", err)
	}
	if _, err := h.client("tokenvault").Check(ctx, &consentv1.CheckRequest{Subject: "cus_1", PurposeId: "marketing"}); err != nil {
		t.Fatalf("Check by tokenvault: %v", err)
	}
}

package consentclient_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/servertest"
)

// fakeConsent stands in for the consent service (which lives in its own
// module, above pkg): decisions from a map, a feed the test drives. The
// real service with this client is tested in services/consent.
type fakeConsent struct {
	consentv1.UnimplementedConsentServiceServer

	mu      sync.Mutex
	allowed map[string]bool // subject/purpose → allowed
	calls   atomic.Int64
	// hold, when set, is waited for inside BatchCheck after the answer is
	// decided (a slow answer racing an invalidation).
	hold chan struct{}
	feed chan *consentv1.WatchConsentChangesResponse
}

func (f *fakeConsent) set(subject, purpose string, allowed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allowed[subject+"/"+purpose] = allowed
}

func (f *fakeConsent) BatchCheck(ctx context.Context, req *consentv1.BatchCheckRequest) (*consentv1.BatchCheckResponse, error) {
	f.calls.Add(1)
	out := &consentv1.BatchCheckResponse{}
	f.mu.Lock()
	for _, c := range req.GetChecks() {
		if c.GetPurposeId() == "telepathy" {
			f.mu.Unlock()
			return nil, status.Error(codes.InvalidArgument, "unknown purpose")
		}
		ok := f.allowed[c.GetSubject()+"/"+c.GetPurposeId()]
		r := &consentv1.CheckResult{Subject: c.GetSubject(), PurposeId: c.GetPurposeId(), Allowed: ok,
			LegalBasis: consentv1.LegalBasis_LEGAL_BASIS_CONSENT, Reason: consentv1.DecisionReason_DECISION_REASON_CONSENT_MISSING}
		if ok {
			r.Reason = consentv1.DecisionReason_DECISION_REASON_CONSENT_GRANTED
		}
		out.Results = append(out.Results, r)
	}
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return out, nil
}

func (f *fakeConsent) ListPurposes(context.Context, *consentv1.ListPurposesRequest) (*consentv1.ListPurposesResponse, error) {
	return &consentv1.ListPurposesResponse{Purposes: []*consentv1.Purpose{
		{PurposeId: "marketing", LegalBasis: consentv1.LegalBasis_LEGAL_BASIS_CONSENT},
		{PurposeId: "delivery", LegalBasis: consentv1.LegalBasis_LEGAL_BASIS_CONTRACT},
	}}, nil
}

func (f *fakeConsent) WatchConsentChanges(_ *consentv1.WatchConsentChangesRequest, s grpc.ServerStreamingServer[consentv1.WatchConsentChangesResponse]) error {
	if err := s.Send(&consentv1.WatchConsentChangesResponse{Cursor: "c0"}); err != nil {
		return err
	}
	for {
		select {
		case <-s.Context().Done():
			return nil
		case msg := <-f.feed:
			if err := s.Send(msg); err != nil {
				return err
			}
		}
	}
}

func start(t *testing.T, clock clockwork.Clock) (*fakeConsent, *consentclient.Client) {
	t.Helper()
	return startWith(t, consentclient.Options{Clock: clock, StaleAfter: 5 * time.Second, CacheTTL: time.Hour})
}

func startWith(t *testing.T, opts consentclient.Options) (*fakeConsent, *consentclient.Client) {
	t.Helper()
	f := &fakeConsent{allowed: map[string]bool{}, feed: make(chan *consentv1.WatchConsentChangesResponse)}
	pki := servertest.NewPKI(t)
	srv := pki.NewServer(t, "consent", authz.Policy{
		consentv1.ConsentService_BatchCheck_FullMethodName:          {"tokenvault"},
		consentv1.ConsentService_ListPurposes_FullMethodName:        {"tokenvault"},
		consentv1.ConsentService_WatchConsentChanges_FullMethodName: {"tokenvault"},
	})
	consentv1.RegisterConsentServiceServer(srv.GRPC(), f)
	addr := servertest.Start(t, srv)
	c := consentclient.New(consentv1.NewConsentServiceClient(pki.Dial(t, "tokenvault", "consent", addr)), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	return f, c
}

func change(subject, purpose string) *consentv1.WatchConsentChangesResponse {
	return &consentv1.WatchConsentChangesResponse{Cursor: "c", Change: &consentv1.WatchConsentChangesResponse_Consent{
		Consent: &consentv1.ConsentChange{Subject: subject, PurposeId: purpose}}}
}

// waitInvalidations waits until the client has applied n invalidations.
func waitInvalidations(t *testing.T, c *consentclient.Client, n uint64) {
	t.Helper()
	for c.Invalidations() < n {
		time.Sleep(time.Millisecond)
	}
}

// TestCacheInvalidatedByFeed: a decision is cached until the feed names
// its (subject, purpose); other subjects' changes leave it cached.
func TestCacheInvalidatedByFeed(t *testing.T) {
	f, c := start(t, clockwork.NewRealClock())
	ctx := context.Background()
	f.set("cus_1", "marketing", true)
	for range 3 {
		if d, err := c.Check(ctx, "cus_1", "marketing"); err != nil || !d.Allowed {
			t.Fatalf("%v %v", d, err)
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d calls for three checks, want 1 (the rest cached)", n)
	}
	base := c.Invalidations()
	f.feed <- change("cus_2", "marketing")
	waitInvalidations(t, c, base+1)
	if d, _ := c.Check(ctx, "cus_1", "marketing"); !d.Cached {
		t.Fatal("another subject's change dropped the entry")
	}
	f.set("cus_1", "marketing", false)
	f.feed <- change("cus_1", "marketing")
	waitInvalidations(t, c, base+2)
	if d, err := c.Check(ctx, "cus_1", "marketing"); err != nil || d.Allowed || d.Cached {
		t.Fatalf("after the withdrawal's change: %v %v, want a fresh denial", d, err)
	}
}

// TestSilentFeedBypassesCache: a feed silent for longer than StaleAfter
// may be dead without the client knowing, so decisions come from the
// service again (and are not cached) until the feed speaks.
func TestSilentFeedBypassesCache(t *testing.T) {
	clock := clockwork.NewFakeClock()
	f, c := start(t, clock)
	ctx := context.Background()
	f.set("cus_1", "marketing", true)
	c.Check(ctx, "cus_1", "marketing")
	if d, _ := c.Check(ctx, "cus_1", "marketing"); !d.Cached {
		t.Fatal("not cached while the feed is current")
	}
	clock.Advance(6 * time.Second)
	if c.Ready(ctx) == nil {
		t.Fatal("Ready after a silence longer than StaleAfter")
	}
	f.set("cus_1", "marketing", false) // withdrawn, and the feed lost it
	d, err := c.Check(ctx, "cus_1", "marketing")
	if err != nil || d.Cached || d.Allowed {
		t.Fatalf("stale feed: %v %v, want the service's denial", d, err)
	}
	// A heartbeat makes the feed current again.
	base := c.Invalidations()
	f.feed <- &consentv1.WatchConsentChangesResponse{Cursor: "c1"}
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	if c.Invalidations() != base {
		t.Fatal("a heartbeat invalidated")
	}
}

// TestAnswerRacingAnInvalidationIsNotCached: an answer the service gave
// before a change, arriving after the change was applied, is returned to
// its caller but not cached: the next check asks again.
func TestAnswerRacingAnInvalidationIsNotCached(t *testing.T) {
	f, c := start(t, clockwork.NewRealClock())
	ctx := context.Background()
	f.set("cus_1", "marketing", true)
	f.mu.Lock()
	f.hold = make(chan struct{})
	f.mu.Unlock()
	got := make(chan consentclient.Decision)
	go func() {
		d, _ := c.Check(ctx, "cus_1", "marketing")
		got <- d
	}()
	for f.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The withdrawal commits and its change arrives while the old answer
	// is on its way.
	base := c.Invalidations()
	f.set("cus_1", "marketing", false)
	f.feed <- change("cus_1", "marketing")
	waitInvalidations(t, c, base+1)
	f.mu.Lock()
	close(f.hold)
	f.hold = nil
	f.mu.Unlock()
	if d := <-got; !d.Allowed {
		t.Fatalf("the racing call: %v", d)
	}
	if d, err := c.Check(ctx, "cus_1", "marketing"); err != nil || d.Allowed || d.Cached {
		t.Fatalf("after the race: %v %v, want the service asked again", d, err)
	}
}

// TestInvalidArgumentPassesThrough: an unknown purpose is the caller's
// bug, reported as such, not a degraded answer.
func TestInvalidArgumentPassesThrough(t *testing.T) {
	_, c := start(t, clockwork.NewRealClock())
	_, err := c.Check(context.Background(), "cus_1", "telepathy")
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("unknown purpose: %v", err)
	}
}

// TestHangingServiceFailsClosed: a consent service that does not answer a
// cache miss holds the check only for CallTimeout, then the check is
// refused as unavailable (closed), not left waiting for the caller's
// deadline (here: none at all).
func TestHangingServiceFailsClosed(t *testing.T) {
	f, c := startWith(t, consentclient.Options{StaleAfter: 5 * time.Second, CacheTTL: time.Hour, CallTimeout: 100 * time.Millisecond})
	f.mu.Lock()
	f.hold = make(chan struct{}) // never released
	f.mu.Unlock()
	d, err := c.Check(context.Background(), "cus_1", "marketing")
	if !errs.Is(err, errs.Unavailable) || d.Allowed {
		t.Fatalf("hanging service: %+v, %v (want Unavailable)", d, err)
	}
}

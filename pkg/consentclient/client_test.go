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
	// drop ends the current feed stream (a server recycling its
	// connection); cursors are the cursors the feed was asked to resume
	// from; expire refuses any cursor as too old.
	drop    chan struct{}
	cursors chan string
	expire  atomic.Bool
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

func (f *fakeConsent) WatchConsentChanges(req *consentv1.WatchConsentChangesRequest, s grpc.ServerStreamingServer[consentv1.WatchConsentChangesResponse]) error {
	select {
	case f.cursors <- req.GetCursor():
	default:
	}
	if req.GetCursor() != "" && f.expire.Load() {
		return status.Error(codes.FailedPrecondition, "CURSOR_EXPIRED")
	}
	if err := s.Send(&consentv1.WatchConsentChangesResponse{Cursor: "c0"}); err != nil {
		return err
	}
	for {
		select {
		case <-s.Context().Done():
			return nil
		case <-f.drop:
			return status.Error(codes.Unavailable, "the server is recycling the connection")
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
	f := &fakeConsent{allowed: map[string]bool{}, feed: make(chan *consentv1.WatchConsentChangesResponse),
		drop: make(chan struct{}), cursors: make(chan string, 16)}
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

// startReconnecting is start with a real clock and reconnections within
// milliseconds, for tests that end the feed.
func startReconnecting(t *testing.T) (*fakeConsent, *consentclient.Client) {
	t.Helper()
	return startWith(t, consentclient.Options{Clock: clockwork.NewRealClock(), StaleAfter: 5 * time.Second, CacheTTL: time.Hour,
		ReconnectInitial: time.Millisecond, ReconnectMax: 10 * time.Millisecond})
}

// TestReconnectionResumesTheFeed: when the service ends the feed (as it
// recycles connections every few minutes), the client resumes after the
// last message it applied: the cache survives, and a change made while it
// was away, replayed on the new connection, still drops its entry; until the
// service says the replay is done, the cache is not used (the service
// answers). Seen failing with reconnections starting afresh (the entry was
// gone) and with the cache used from the first resumed message (review: a
// withdrawal still in the backlog was served as allowed).
func TestReconnectionResumesTheFeed(t *testing.T) {
	f, c := startReconnecting(t)
	ctx := context.Background()
	if got := <-f.cursors; got != "" {
		t.Fatalf("the first connection asked for cursor %q, want none", got)
	}
	f.set("cus_1", "marketing", true)
	f.set("cus_2", "marketing", true)
	c.Check(ctx, "cus_1", "marketing")
	c.Check(ctx, "cus_2", "marketing")
	base := c.Invalidations()
	f.feed <- &consentv1.WatchConsentChangesResponse{Cursor: "c7"}

	f.drop <- struct{}{}
	if got := <-f.cursors; got != "c7" {
		t.Fatalf("the reconnection asked for cursor %q, want c7 (the last message's)", got)
	}
	f.set("cus_2", "marketing", false) // withdrawn while the client was away
	// Until the service says its backlog is done, a cached answer may be
	// one a replayed withdrawal is about to drop: the service answers.
	if d, err := c.Check(ctx, "cus_2", "marketing"); err != nil || d.Allowed || d.Cached {
		t.Fatalf("before the backlog was replayed: %v %v, want the service's denial", d, err)
	}
	f.feed <- &consentv1.WatchConsentChangesResponse{Cursor: "c8", Change: &consentv1.WatchConsentChangesResponse_Consent{
		Consent: &consentv1.ConsentChange{Subject: "cus_2", PurposeId: "marketing"}}}
	waitInvalidations(t, c, base+2) // the resumption's and the replayed change's
	if d, _ := c.Check(ctx, "cus_1", "marketing"); d.Cached {
		t.Fatal("the cache was used before the service said the backlog was done")
	}
	f.feed <- &consentv1.WatchConsentChangesResponse{Cursor: "c9"} // the backlog is done
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	if d, _ := c.Check(ctx, "cus_1", "marketing"); !d.Cached {
		t.Error("the reconnection emptied the cache")
	}
	if d, err := c.Check(ctx, "cus_2", "marketing"); err != nil || d.Allowed || d.Cached {
		t.Errorf("after the replayed withdrawal: %v %v, want a fresh denial", d, err)
	}
}

// TestExpiredCursorStartsAfresh: a cursor the service no longer has
// (CURSOR_EXPIRED) cannot replay what was missed, so the client starts at
// the end of the feed without one and empties the cache. Seen failing with
// the cursor kept after the refusal (the client asked for it forever).
func TestExpiredCursorStartsAfresh(t *testing.T) {
	f, c := startReconnecting(t)
	ctx := context.Background()
	<-f.cursors
	f.set("cus_1", "marketing", true)
	c.Check(ctx, "cus_1", "marketing")
	if d, _ := c.Check(ctx, "cus_1", "marketing"); !d.Cached {
		t.Fatal("not cached while the feed is current")
	}
	f.expire.Store(true)
	f.drop <- struct{}{}
	if got := <-f.cursors; got != "c0" {
		t.Fatalf("the reconnection asked for cursor %q, want c0", got)
	}
	if got := <-f.cursors; got != "" {
		t.Fatalf("after CURSOR_EXPIRED the client asked for cursor %q, want none", got)
	}
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	if d, _ := c.Check(ctx, "cus_1", "marketing"); d.Cached {
		t.Error("the cache survived a feed that could not replay what was missed")
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

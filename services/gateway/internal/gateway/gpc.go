package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/grpc/metadata"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/logging"
)

// Global Privacy Control (issue 11, ADR 0012). A signed-in customer whose
// browser sends "Sec-GPC: 1" has opted out of every sale/share purpose:
// the gateway tells consent (RecordGpcOptOut, channel web, with the
// customer's own access token, so consent checks who it is and records
// method gpc). Decided here:
//   - Off the request path. The signal is sent by a background worker
//     from a bounded queue, so the request is neither slowed nor failed
//     by consent; when consent is down, or the queue is full, the request
//     goes on, the failure is logged and counted
//     (sotto.gateway.gpc.optouts{outcome}), and the customer's next
//     request with the header tries again. Meanwhile nothing is shared:
//     the purposes a GPC signal concerns rest on consent or a legitimate
//     interest, which consent's checks refuse while it cannot be asked.
//   - Once per session. RecordGpcOptOut is idempotent (once opted out it
//     writes nothing), so a session whose signal consent recorded is not
//     sent again (a bounded LRU of session ids; an evicted one is sent
//     once more, harmlessly).
//   - Customers only: staff and integrators have no consents of their own
//     to opt out of, and consent refuses their tokens for it.
const (
	gpcHeader = "Sec-GPC"
	// gpcQueue bounds the signals waiting for consent; beyond it they are
	// dropped (counted) and sent on a later request.
	gpcQueue = 1024
	// gpcSessions is how many sessions' recorded signals are remembered.
	gpcSessions = 100_000
	// gpcTimeout bounds one call to consent.
	gpcTimeout = 5 * time.Second
)

// GPC outcomes, the outcome attribute of the optouts counter.
const (
	gpcRecorded = "recorded" // consent recorded the signal (or had it already)
	gpcFailed   = "failed"   // consent could not be reached or refused
	gpcDropped  = "dropped"  // the queue was full
)

type gpcSignal struct {
	session string
	token   string
}

// gpcRecorder sends customers' GPC signals to consent.
type gpcRecorder struct {
	consent consentv1.ConsentServiceClient
	logger  *slog.Logger
	count   metric.Int64Counter
	queue   chan gpcSignal

	mu       sync.Mutex
	pending  map[string]bool              // queued or in flight
	recorded *lru.Cache[string, struct{}] // sessions consent has recorded
}

func newGPCRecorder(consent consentv1.ConsentServiceClient, logger *slog.Logger, mp metric.MeterProvider) *gpcRecorder {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	count, _ := mp.Meter("github.com/sottohq/sotto/services/gateway").Int64Counter("sotto.gateway.gpc.optouts",
		metric.WithDescription("Global Privacy Control signals of signed-in customers sent to consent, by outcome"))
	recorded, _ := lru.New[string, struct{}](gpcSessions) // errors only on a size < 1
	return &gpcRecorder{consent: consent, logger: logger, count: count, queue: make(chan gpcSignal, gpcQueue),
		pending: map[string]bool{}, recorded: recorded}
}

// observe queues the signal of an authenticated request, if it carries
// one from a customer whose session has not had it recorded. It never
// blocks.
func (g *gpcRecorder) observe(r *http.Request, token string, c *accesstoken.Claims) {
	if r.Header.Get(gpcHeader) != "1" || c.Kind != accesstoken.KindCustomer {
		return
	}
	session := c.SessionID
	if session == "" {
		session = "sub:" + c.Subject
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending[session] || g.recorded.Contains(session) {
		return
	}
	select {
	case g.queue <- gpcSignal{session: session, token: token}:
		g.pending[session] = true
	default:
		g.count.Add(r.Context(), 1, metric.WithAttributes(outcomeAttr(gpcDropped)))
		g.logger.WarnContext(r.Context(), "GPC signal not sent: the queue is full; a later request sends it")
	}
}

// run sends queued signals until ctx ends.
func (g *gpcRecorder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-g.queue:
			g.send(ctx, s)
		}
	}
}

func (g *gpcRecorder) send(ctx context.Context, s gpcSignal) {
	callCtx, cancel := context.WithTimeout(ctx, gpcTimeout)
	defer cancel()
	callCtx = metadata.AppendToOutgoingContext(callCtx, "authorization", "Bearer "+s.token)
	_, err := g.consent.RecordGpcOptOut(callCtx, &consentv1.RecordGpcOptOutRequest{Channel: consentv1.Channel_CHANNEL_WEB})
	g.mu.Lock()
	delete(g.pending, s.session)
	if err == nil {
		g.recorded.Add(s.session, struct{}{})
	}
	g.mu.Unlock()
	outcome := gpcRecorded
	if err != nil {
		outcome = gpcFailed
		g.logger.WarnContext(ctx, "GPC signal not recorded by consent; the customer's next request sends it again", logging.Err(err))
	}
	g.count.Add(ctx, 1, metric.WithAttributes(outcomeAttr(outcome)))
}

func outcomeAttr(o string) attribute.KeyValue { return attribute.String("outcome", o) }

package consentclient

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
)

// ReasonUnavailable: the consent service could not be asked and the
// purpose's legal basis depends on the subject's decision (or is unknown),
// so the answer is no. Unavailable.
const ReasonUnavailable = "CONSENT_UNAVAILABLE"

// Defaults of Options.
const (
	// DefaultStaleAfter is how long the change feed may be silent before
	// cached decisions stop being used: three of the consent service's
	// default 2 s heartbeats.
	DefaultStaleAfter = 6 * time.Second
	// DefaultCacheSize is how many decisions are cached.
	DefaultCacheSize = 100_000
	// DefaultCacheTTL bounds how long a decision is cached even while the
	// feed is current (a backstop; the feed is what invalidates).
	DefaultCacheTTL = 10 * time.Minute
	// maxBatch is BatchCheck's limit per call.
	maxBatch = 1000
)

// Decision is the consent service's answer for one subject and purpose.
type Decision struct {
	Subject    string
	Purpose    string
	Allowed    bool
	Reason     consentv1.DecisionReason
	LegalBasis consentv1.LegalBasis
	// RecordID is the consent record the decision rests on, if any.
	RecordID string
	// Cached: answered from the cache.
	Cached bool
	// Degraded: the service could not be asked; the purpose rests on a
	// contract or a legal obligation (as last seen), which the subject's
	// decisions do not change, so it is allowed anyway.
	Degraded bool
}

// Options configure a Client; zero values take the defaults.
type Options struct {
	StaleAfter time.Duration
	CacheSize  int
	CacheTTL   time.Duration
	// Clock measures staleness and cache age (tests).
	Clock  clockwork.Clock
	Logger *slog.Logger
	// ReconnectInitial and ReconnectMax are the feed's reconnect backoff
	// (default 250 ms to 5 s, jittered).
	ReconnectInitial, ReconnectMax time.Duration
	// CallTimeout bounds each call to the service on a cache miss (default
	// DefaultCallTimeout): a consent service that hangs counts as
	// unreachable past it, and the check fails closed. It is applied here,
	// around the call only, so that a cached answer costs no timer.
	CallTimeout time.Duration
}

// DefaultCallTimeout is Options.CallTimeout's default.
const DefaultCallTimeout = 2 * time.Second

type key struct{ subject, purpose string }

type entry struct {
	d       Decision
	expires time.Time
}

type basis struct {
	basis   consentv1.LegalBasis
	retired bool
}

// Client checks consent with a cache kept current by the change feed. Run
// must be running for the cache to be used; without it every Check asks
// the service. Safe for concurrent use.
type Client struct {
	rpc    consentv1.ConsentServiceClient
	opts   Options
	cache  *lru.Cache[key, entry]
	logger *slog.Logger

	mu      sync.Mutex
	gen     uint64    // bumped by every invalidation: a fetch begun before it is not cached
	synced  bool      // the feed's current connection has delivered its first message
	contact time.Time // last message of the feed
	bases   map[string]basis
	// cursor is the feed's position after the last message applied; a
	// reconnection resumes from it, so the changes made meanwhile reach
	// the cache and it need not be emptied ("" before the first message,
	// and after the service said it is too old).
	cursor string
}

// New returns a client of the consent service.
func New(rpc consentv1.ConsentServiceClient, opts Options) *Client {
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ReconnectInitial <= 0 {
		opts.ReconnectInitial = 250 * time.Millisecond
	}
	if opts.ReconnectMax <= 0 {
		opts.ReconnectMax = 5 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	cache, _ := lru.New[key, entry](opts.CacheSize) // errors only on a size < 1
	return &Client{rpc: rpc, opts: opts, cache: cache, logger: opts.Logger, bases: map[string]basis{}}
}

// fresh reports whether cached decisions may be used: the feed is
// connected, has delivered its first message, and spoke within StaleAfter.
// Called with c.mu held.
func (c *Client) fresh(now time.Time) bool {
	return c.synced && now.Sub(c.contact) <= c.opts.StaleAfter
}

// Ready is the staleness rule as a readiness check: nil while cached
// decisions are used.
func (c *Client) Ready(context.Context) error {
	now := c.opts.Clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fresh(now) {
		return errs.E(errs.Unavailable, ReasonUnavailable, "consent change feed is not current")
	}
	return nil
}

// Check says whether purpose may be used for subject now. From the cache
// while the feed is current; otherwise from the service. When the service
// cannot answer, only a purpose resting on a contract or a legal
// obligation is allowed (Degraded); anything else is Unavailable
// CONSENT_UNAVAILABLE. An InvalidArgument from the service (an unknown
// purpose) is returned as it is.
func (c *Client) Check(ctx context.Context, subject, purpose string) (Decision, error) {
	ds, err := c.BatchCheck(ctx, []Pair{{Subject: subject, Purpose: purpose}})
	if err != nil {
		return Decision{}, err
	}
	return ds[0], nil
}

// Pair is one (subject, purpose) to check.
type Pair struct{ Subject, Purpose string }

// BatchCheck is Check for many pairs, in order: cached ones from the
// cache, the rest in BatchCheck calls of up to 1000.
func (c *Client) BatchCheck(ctx context.Context, pairs []Pair) ([]Decision, error) {
	out := make([]Decision, len(pairs))
	var missing []int
	now := c.opts.Clock.Now()
	c.mu.Lock()
	useCache := c.fresh(now)
	gen := c.gen
	c.mu.Unlock()
	for i, p := range pairs {
		if useCache {
			if e, ok := c.cache.Get(key{p.Subject, p.Purpose}); ok && now.Before(e.expires) {
				out[i] = e.d
				out[i].Cached = true
				continue
			}
		}
		missing = append(missing, i)
	}
	for len(missing) > 0 {
		n := min(len(missing), maxBatch)
		chunk := missing[:n]
		missing = missing[n:]
		req := &consentv1.BatchCheckRequest{Checks: make([]*consentv1.CheckRequest, n)}
		for j, i := range chunk {
			req.Checks[j] = &consentv1.CheckRequest{Subject: pairs[i].Subject, PurposeId: pairs[i].Purpose}
		}
		resp, err := c.call(ctx, req)
		if err == nil && len(resp.GetResults()) != n {
			err = status.Error(codes.Internal, "consent answered for other checks than asked")
		}
		if err != nil {
			if status.Code(err) == codes.InvalidArgument {
				return nil, err
			}
			c.logger.WarnContext(ctx, "consent check failed; failing closed", logging.Err(err))
			for _, i := range chunk {
				d, ok := c.degraded(pairs[i])
				if !ok {
					return nil, errs.Wrap(err, errs.Unavailable, ReasonUnavailable, "consent cannot be checked right now")
				}
				out[i] = d
			}
			continue
		}
		c.mu.Lock()
		cacheable := c.gen == gen && c.fresh(c.opts.Clock.Now())
		for j, i := range chunk {
			r := resp.GetResults()[j]
			d := Decision{Subject: pairs[i].Subject, Purpose: pairs[i].Purpose, Allowed: r.GetAllowed(), Reason: r.GetReason(),
				LegalBasis: r.GetLegalBasis(), RecordID: r.GetRecordId()}
			out[i] = d
			c.bases[d.Purpose] = basis{basis: d.LegalBasis, retired: d.Reason == consentv1.DecisionReason_DECISION_REASON_PURPOSE_RETIRED}
			if cacheable {
				c.cache.Add(key{d.Subject, d.Purpose}, entry{d: d, expires: now.Add(c.opts.CacheTTL)})
			}
		}
		c.mu.Unlock()
	}
	return out, nil
}

// call asks the service, bounded by CallTimeout.
func (c *Client) call(ctx context.Context, req *consentv1.BatchCheckRequest) (*consentv1.BatchCheckResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	return c.rpc.BatchCheck(ctx, req)
}

// degraded is the answer without the service: allowed only for a purpose
// last seen resting on a contract or a legal obligation, and not retired.
func (c *Client) degraded(p Pair) (Decision, bool) {
	c.mu.Lock()
	b, ok := c.bases[p.Purpose]
	c.mu.Unlock()
	if !ok || b.retired {
		return Decision{}, false
	}
	d := Decision{Subject: p.Subject, Purpose: p.Purpose, Allowed: true, LegalBasis: b.basis, Degraded: true}
	switch b.basis {
	case consentv1.LegalBasis_LEGAL_BASIS_CONTRACT:
		d.Reason = consentv1.DecisionReason_DECISION_REASON_CONTRACT
	case consentv1.LegalBasis_LEGAL_BASIS_LEGAL_OBLIGATION:
		d.Reason = consentv1.DecisionReason_DECISION_REASON_LEGAL_OBLIGATION
	default:
		return Decision{}, false
	}
	return d, true
}

// Run follows the change feed until ctx ends, reconnecting with backoff,
// and returns ctx's error. A reconnection resumes after the last message
// applied: the service replays the changes made meanwhile, which
// invalidate what they name, and then says its backlog is done; from then
// on the cache is used again, so it survives the servers' routine
// connection recycling (pkg/server's MaxConnectionAge). The first
// connection, and one after the service refused the cursor as too old
// (CURSOR_EXPIRED), start at the end of the feed instead and empty the
// cache at their first message: what was cached before cannot be vouched
// for. Run also loads the catalogue's legal bases for the degraded answers.
func (c *Client) Run(ctx context.Context) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = c.opts.ReconnectInitial, c.opts.ReconnectMax
	for {
		delivered := false
		err := c.follow(ctx, func() { delivered = true })
		c.mu.Lock()
		c.synced = false
		c.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if delivered {
			b.Reset()
		}
		c.logger.WarnContext(ctx, "consent change feed interrupted; reconnecting", logging.Err(err))
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			wait = c.opts.ReconnectMax
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait): // real time: the delay is not what tests control
		}
	}
}

func (c *Client) follow(ctx context.Context, onMessage func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if resp, err := c.rpc.ListPurposes(ctx, &consentv1.ListPurposesRequest{IncludeRetired: true}); err == nil {
		c.mu.Lock()
		for _, p := range resp.GetPurposes() {
			c.bases[p.GetPurposeId()] = basis{basis: p.GetLegalBasis(), retired: p.GetRetired()}
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	cursor := c.cursor
	c.mu.Unlock()
	stream, err := c.rpc.WatchConsentChanges(ctx, &consentv1.WatchConsentChangesRequest{Cursor: cursor})
	if err != nil {
		return c.feedError(err)
	}
	first := true
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("consent change feed ended")
			}
			return c.feedError(err)
		}
		onMessage()
		now := c.opts.Clock.Now()
		c.mu.Lock()
		c.contact = now
		if msg.GetCursor() != "" {
			c.cursor = msg.GetCursor()
		}
		change := msg.GetConsent() != nil || msg.GetPurpose() != nil
		switch {
		case first && cursor == "":
			// The connection's starting point: from here on every change
			// reaches this client, so a fresh cache is sound from now.
			c.cache.Purge()
			c.gen++
			c.synced = true
		case first:
			// Resumed: the service replays what was missed, then says the
			// backlog is done (a heartbeat). Until then a cached answer may
			// be one a replayed withdrawal is about to drop, so the cache
			// waits (Check asks the service), and an answer fetched before
			// the break is not cached.
			c.gen++
		case !change && !c.synced:
			// The backlog is done: the cache is current again.
			c.synced = true
		}
		first = false
		switch {
		case msg.GetConsent() != nil:
			ch := msg.GetConsent()
			c.cache.Remove(key{ch.GetSubject(), ch.GetPurposeId()})
			c.gen++
		case msg.GetPurpose() != nil:
			p := msg.GetPurpose()
			c.bases[p.GetPurposeId()] = basis{basis: p.GetLegalBasis(), retired: p.GetRetired()}
			// Rare: drop everything rather than walk the cache for the purpose.
			c.cache.Purge()
			c.gen++
		}
		c.mu.Unlock()
	}
}

// feedError forgets a cursor the service refused (CURSOR_EXPIRED, or
// INVALID_CURSOR from a service that no longer reads it), so that the next
// connection starts afresh (and empties the cache).
func (c *Client) feedError(err error) error {
	if code := status.Code(err); code == codes.FailedPrecondition || code == codes.InvalidArgument {
		c.mu.Lock()
		c.cursor = ""
		c.mu.Unlock()
	}
	return err
}

// Invalidations is how many invalidations the client has applied (tests
// and metrics).
func (c *Client) Invalidations() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

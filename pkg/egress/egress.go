// Package egress is the HTTP client for Sotto's calls to third parties (CRMs,
// messaging platforms, a hosted model server). It reaches only the hosts it is
// configured for and never an internal address, retries only what is safe to
// send twice, stops calling a host that keeps failing, and keeps URLs' paths
// and queries, headers and bodies out of its logs and spans.
//
// One request passes, outermost first:
//
//  1. the scheme and allow-list check, before anything is dialed
//     (PermissionDenied, EGRESS_SCHEME_NOT_ALLOWED or EGRESS_HOST_NOT_ALLOWED);
//  2. for each attempt: the host's circuit breaker (Unavailable,
//     EGRESS_CIRCUIT_OPEN), a per-attempt timeout, an otelhttp span and one
//     log line;
//  3. at dial time, a check of the IP address actually being connected to
//     (PermissionDenied, EGRESS_ADDRESS_NOT_ALLOWED). Checking the address
//     and not the name means no DNS answer, rebinding included, can point an
//     allowed host at loopback, a private network or cloud metadata.
//
// Redirects are not followed: a 3xx is returned to the caller as it is. The
// APIs this client calls answer in place; following a redirect would resend
// the body (307, 308) to wherever a compromised or misconfigured host points.
// Even a caller that installs its own CheckRedirect on HTTPClient's client
// only reaches allow-listed hosts, since every hop passes step 1.
//
// Proxies from the environment (HTTPS_PROXY) are ignored: with a proxy, the
// address dialed would be the proxy's and step 3 would check the wrong thing.
package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// IdempotencyKeyHeader carries the key set with WithIdempotencyKey.
const IdempotencyKeyHeader = "Idempotency-Key"

// Defaults of Config's zero fields.
const (
	DefaultTimeout               = 30 * time.Second
	DefaultConnectTimeout        = 5 * time.Second
	DefaultTLSHandshakeTimeout   = 5 * time.Second
	DefaultResponseHeaderTimeout = 15 * time.Second
	DefaultMaxRetries            = 2
	DefaultBackoffInitial        = 250 * time.Millisecond
	DefaultBackoffMax            = 5 * time.Second
	DefaultMaxRetryAfter         = 30 * time.Second
	DefaultBreakerFailures       = 5
	DefaultBreakerOpenFor        = 30 * time.Second
)

// Config configures a Client. Zero durations and counts take the defaults
// above.
type Config struct {
	// AllowedHosts are the hosts requests may go to, matched exactly after
	// lowercasing: "api.hubapi.com" allows that host on the scheme's default
	// port (443; 80 for plain HTTP), "models.internal:8443" allows that port
	// only. IP literals are written as in URLs ("[2001:db8::1]:443"). No
	// wildcards. At least one is required.
	AllowedHosts []string
	// AllowPrivateCIDRs exempts these ranges from the dial-time address
	// check, for a server on a network the operator controls (a self-hosted
	// model server; 127.0.0.1/32 in tests). Empty by default.
	AllowPrivateCIDRs []netip.Prefix
	// AllowPlainHTTP permits http:// URLs. Off by default: third parties'
	// credentials would cross the network in the clear.
	AllowPlainHTTP bool
	// RootCAs verifies servers' certificates; nil means the system pool.
	// TLS below 1.2 is never negotiated.
	RootCAs *x509.CertPool

	// Timeout bounds one attempt, from dialing to the end of reading the
	// response body. The caller's context bounds the whole call.
	Timeout               time.Duration
	ConnectTimeout        time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration

	// MaxRetries is the number of attempts after the first, for requests
	// that may be retried (see WithIdempotencyKey). Zero means
	// DefaultMaxRetries; a negative value disables retries.
	MaxRetries int
	// BackoffInitial and BackoffMax bound the jittered exponential wait
	// between attempts.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// MaxRetryAfter is the longest Retry-After this client waits for; a
	// response asking for longer is returned to the caller instead.
	MaxRetryAfter time.Duration

	// BreakerFailures consecutive failed attempts (connection errors and 5xx
	// responses) open a host's circuit breaker; it then refuses calls for
	// BreakerOpenFor before letting one trial request through.
	BreakerFailures uint32
	BreakerOpenFor  time.Duration

	// PropagateTraceContext sends W3C trace context headers. Off by default:
	// a third party has no use for Sotto's trace IDs, and they would let it
	// correlate calls. Turn it on for servers inside the trace's boundary
	// (a self-hosted model server).
	PropagateTraceContext bool
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.ConnectTimeout, DefaultConnectTimeout)
	def(&c.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	def(&c.ResponseHeaderTimeout, DefaultResponseHeaderTimeout)
	def(&c.BackoffInitial, DefaultBackoffInitial)
	def(&c.BackoffMax, DefaultBackoffMax)
	def(&c.MaxRetryAfter, DefaultMaxRetryAfter)
	def(&c.BreakerOpenFor, DefaultBreakerOpenFor)
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = DefaultBreakerFailures
	}
}

// Client sends requests to allow-listed third parties. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	allowed map[string]bool // "host:port"
	logger  *slog.Logger

	dialer *net.Dialer
	base   *http.Transport
	// traced is otelhttp over base; what otelhttp records is described at
	// scrubURL.
	traced http.RoundTripper
	http   *http.Client

	mu       sync.Mutex
	breakers map[string]*gobreaker.TwoStepCircuitBreaker[struct{}]

	// Replaced in tests, so that no test waits on the wall clock.
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
}

// New builds a Client that logs each attempt to logger. tel may be nil (no
// spans, no metrics).
func New(cfg Config, logger *slog.Logger, tel *telemetry.Telemetry) (*Client, error) {
	if logger == nil {
		return nil, errs.E(errs.InvalidArgument, "EGRESS_NO_LOGGER", "an egress client needs a logger")
	}
	cfg.setDefaults()
	allowed, err := parseAllowedHosts(cfg.AllowedHosts, cfg.AllowPlainHTTP)
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.AllowPrivateCIDRs {
		if !p.IsValid() {
			return nil, errs.E(errs.InvalidArgument, "EGRESS_INVALID_CIDR", "an allowed private CIDR is invalid")
		}
	}
	c := &Client{
		cfg:      cfg,
		allowed:  allowed,
		logger:   logger,
		breakers: make(map[string]*gobreaker.TwoStepCircuitBreaker[struct{}]),
		sleep:    sleep,
		now:      time.Now,
	}
	c.dialer = &net.Dialer{
		Timeout:   cfg.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		Control:   addressGuard(cfg.AllowPrivateCIDRs),
	}
	c.base = &http.Transport{
		Proxy:                 nil, // see the package documentation
		DialContext:           c.dialer.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		TLSHandshakeTimeout:   cfg.TLSHandshakeTimeout,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
	}
	c.traced = otelhttp.NewTransport(restoreURL{c.base}, otelOptions(tel, cfg.PropagateTraceContext)...)
	c.http = &http.Client{
		Transport:     roundTripper{c},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func otelOptions(tel *telemetry.Telemetry, propagate bool) []otelhttp.Option {
	// otelhttp falls back to the global providers when given none; Sotto
	// installs none globally, so nil means explicitly no-op.
	opts := []otelhttp.Option{
		// Span names as OpenTelemetry's HTTP conventions have them for
		// clients: "{method} {url.template}", or the method alone.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if t := pathTemplate(r.Context()); t != "" {
				return r.Method + " " + t
			}
			return r.Method
		}),
	}
	if tel != nil && tel.Tracer != nil {
		opts = append(opts, otelhttp.WithTracerProvider(tel.Tracer))
	} else {
		opts = append(opts, otelhttp.WithTracerProvider(tracenoop.NewTracerProvider()))
	}
	if tel != nil && tel.Meter != nil {
		opts = append(opts, otelhttp.WithMeterProvider(tel.Meter))
	} else {
		opts = append(opts, otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()))
	}
	if propagate && tel != nil && tel.Propagator != nil {
		opts = append(opts, otelhttp.WithPropagators(tel.Propagator))
	} else {
		opts = append(opts, otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()))
	}
	return opts
}

// Do sends req. Errors are *errs.Error values (or the context's error when
// req's context ended) whose text holds no URL: PermissionDenied for a
// refused destination, Unavailable EGRESS_CIRCUIT_OPEN for a host whose
// breaker is open, Unavailable EGRESS_REQUEST_FAILED when no attempt got a
// response. A response of any status is returned as a response.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err == nil {
		return resp, nil
	}
	if ctxErr := req.Context().Err(); ctxErr != nil {
		return nil, ctxErr
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return nil, e
	}
	// *url.Error's text quotes the whole URL, query included; keep only
	// its cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return nil, errs.Wrap(err, errs.Unavailable, "EGRESS_REQUEST_FAILED", "the call to a third party failed")
}

// HTTPClient returns an *http.Client that sends through c, for libraries
// that take one. Its errors are *url.Error values, whose text quotes the
// request URL: log them with logging.Err, never as text.
func (c *Client) HTTPClient() *http.Client { return c.http }

type ctxKey int

const (
	idempotencyKeyCtx ctxKey = iota
	pathTemplateCtx
	realURLCtx
)

// WithIdempotencyKey marks the requests sent with ctx as safe to retry: the
// client sends key in the Idempotency-Key header of every attempt, so the
// server can recognize a repeat. Only set it for APIs that honour the header.
// GET, HEAD, PUT and DELETE are retried without one; POST and PATCH only
// with one (or with an Idempotency-Key header set by the caller).
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyCtx, key)
}

// WithPathTemplate names the route of the requests sent with ctx, such as
// "/crm/v3/objects/contacts/{contactId}", for logs and spans. Without one,
// they record the host alone: real paths carry record IDs and, at some
// APIs, e-mail addresses. template must be a constant.
func WithPathTemplate(ctx context.Context, template string) context.Context {
	return context.WithValue(ctx, pathTemplateCtx, template)
}

func pathTemplate(ctx context.Context) string {
	s, _ := ctx.Value(pathTemplateCtx).(string)
	return s
}

// scrubURL is the URL otelhttp sees, and so records as url.full: scheme,
// host and path template only. restoreURL puts the real one back below
// otelhttp.
func scrubURL(u *url.URL, template string) *url.URL {
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: template}
}

type restoreURL struct{ next http.RoundTripper }

func (t restoreURL) RoundTrip(req *http.Request) (*http.Response, error) {
	u, ok := req.Context().Value(realURLCtx).(*url.URL)
	if !ok {
		// Only Client.attempt sends through here, and it always sets one.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errs.E(errs.Internal, "EGRESS_URL_MISSING", "egress request without its URL")
	}
	out := req.Clone(req.Context())
	out.URL = u
	return t.next.RoundTrip(out)
}

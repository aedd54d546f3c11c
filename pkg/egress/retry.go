package egress

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
)

// roundTripper is the Transport of Client.http.
//
// The retry loop is written here rather than taken from go-retryablehttp or
// backoff.Retry: both sleep on a timer of their own, which a test cannot
// replace, and retryablehttp's CheckRetry does not see the request (so not
// its method or idempotency key) on a connection error. backoff/v5 still
// computes the jittered waits.
type roundTripper struct{ c *Client }

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.c.roundTrip(req)
}

func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	host, err := c.destination(req.URL)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	key, _ := req.Context().Value(idempotencyKeyCtx).(string)
	if key == "" {
		key = req.Header.Get(IdempotencyKeyHeader)
	}
	retries := 0
	if retryable(req, key != "") {
		retries = c.cfg.MaxRetries
	}
	b := &backoff.ExponentialBackOff{
		InitialInterval:     c.cfg.BackoffInitial,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         c.cfg.BackoffMax,
	}
	b.Reset()
	for n := 1; ; n++ {
		resp, err := c.attempt(req, host, n, key)
		if n > retries {
			return resp, err
		}
		wait, again := c.retryWait(req.Context(), resp, err, b)
		if !again {
			return resp, err
		}
		if resp != nil {
			// Read a little so that the connection can be reused.
			_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
			resp.Body.Close()
		}
		if err := c.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// retryable reports whether req may be sent more than once. A body that
// cannot be produced again (no GetBody) makes it a single attempt.
func retryable(req *http.Request, keyed bool) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost, http.MethodPatch:
		return keyed
	}
	return false
}

// attempt sends req once. The first attempt sends req's body; later ones a
// fresh copy from GetBody.
func (c *Client) attempt(req *http.Request, host string, n int, key string) (*http.Response, error) {
	cb := c.breaker(host)
	done, err := cb.Allow()
	if err != nil {
		if n == 1 {
			closeBody(req)
		}
		err = errs.Wrap(err, errs.Unavailable, "EGRESS_CIRCUIT_OPEN",
			"calls to this third party are suspended after repeated failures")
		c.log(req, host, n, nil, err, 0)
		return nil, err
	}

	ctx, cancel := context.WithTimeout(req.Context(), c.cfg.Timeout)
	out := req.Clone(context.WithValue(ctx, realURLCtx, req.URL))
	if n > 1 && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			cancel()
			done(errExcluded)
			return nil, errs.Wrap(err, errs.Internal, "EGRESS_BODY_NOT_REPLAYABLE", "the request body could not be read again")
		}
		out.Body = body
	}
	if key != "" {
		out.Header.Set(IdempotencyKeyHeader, key)
	}
	out.URL = scrubURL(req.URL, pathTemplate(req.Context()))

	start := time.Now()
	resp, err := c.traced.RoundTrip(out)
	elapsed := time.Since(start)
	done(c.outcome(req.Context(), resp, err))
	c.log(req, host, n, resp, err, elapsed)
	if err != nil {
		cancel()
		return nil, err
	}
	// The attempt's deadline covers reading the body, so it ends when the
	// caller closes it.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

var (
	errAttemptFailed = errors.New("attempt failed")
	errExcluded      = errors.New("attempt not counted")
)

// outcome is what an attempt tells the host's breaker: connection errors and
// 5xx responses are failures; a refusal by the address guard and the
// caller's own cancellation say nothing about the host.
func (c *Client) outcome(ctx context.Context, resp *http.Response, err error) error {
	var e *errs.Error
	switch {
	case ctx.Err() != nil, errors.As(err, &e):
		return errExcluded
	case err != nil, resp.StatusCode >= 500:
		return errAttemptFailed
	}
	return nil
}

func (c *Client) breaker(host string) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	c.mu.Lock()
	defer c.mu.Unlock()
	cb, ok := c.breakers[host]
	if !ok {
		failures := c.cfg.BreakerFailures
		cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        host,
			MaxRequests: 1,
			Timeout:     c.cfg.BreakerOpenFor,
			ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
			IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
		})
		c.breakers[host] = cb
	}
	return cb
}

// retryWait decides whether a failed attempt is tried again, and after how
// long: connection errors and timeouts, 429 and 502/503/504 are; a typed
// refusal (address guard, open breaker) is not.
func (c *Client) retryWait(ctx context.Context, resp *http.Response, err error, b *backoff.ExponentialBackOff) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	var e *errs.Error
	switch {
	case errors.As(err, &e):
		return 0, false
	case err != nil:
		return b.NextBackOff(), true
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
		// Retrying sooner than asked only earns another refusal.
		return d, d <= c.cfg.MaxRetryAfter
	}
	return b.NextBackOff(), true
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP-date
// (RFC 9110, section 10.2.3).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// log writes one line per attempt. It names the host and the caller's path
// template, never the URL's path or query, headers or body.
func (c *Client) log(req *http.Request, host string, n int, resp *http.Response, err error, elapsed time.Duration) {
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("host", host),
		slog.Int("attempt", n),
		slog.Int64("duration_ms", elapsed.Milliseconds()),
	}
	if t := pathTemplate(req.Context()); t != "" {
		attrs = append(attrs, slog.String("path", t))
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, logging.Err(err))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			level = slog.LevelWarn
		}
	}
	c.logger.LogAttrs(req.Context(), level, "egress attempt", attrs...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

package egress_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
)

// failing answers status to the first n requests and 200 after.
func failing(n int32, status int, header http.Header) http.HandlerFunc {
	var count atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) <= n {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			return
		}
		ok(w, r)
	}
}

func send(t *testing.T, c *testClient, ctx context.Context, method, url, body string) (*http.Response, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body) // http.NewRequest sets GetBody for it
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

func TestRetriesIdempotentMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete} {
		for _, status := range []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
			t.Run(method+" "+http.StatusText(status), func(t *testing.T) {
				t.Parallel()
				s := newServer(t, failing(2, status, nil))
				c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback, MaxRetries: 2})
				body := ""
				if method == http.MethodPut {
					body = `{"n":1}`
				}
				resp, err := send(t, c, t.Context(), method, s.URL, body)
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, want 200 on the third attempt", resp.StatusCode)
				}
				seen := s.requestsSeen()
				if len(seen) != 3 {
					t.Fatalf("server saw %d requests, want 3", len(seen))
				}
				for i, r := range seen {
					if r.body != body {
						t.Errorf("attempt %d sent body %q, want %q", i+1, r.body, body)
					}
				}
				if len(c.waits) != 2 {
					t.Errorf("waited %d times, want 2", len(c.waits))
				}
			})
		}
	}
}

func TestDoesNotRetryOtherStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest, http.StatusConflict} {
		s := newServer(t, failing(1, status, nil))
		c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback})
		resp, err := c.get(t, s.URL)
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != status || s.requests.Load() != 1 {
			t.Errorf("%d: got %d after %d requests, want it after 1", status, resp.StatusCode, s.requests.Load())
		}
	}
}

func TestRetriesStopAtMaxRetries(t *testing.T) {
	t.Parallel()
	s := newServer(t, failing(100, http.StatusServiceUnavailable, nil))
	c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback, MaxRetries: 3, BreakerFailures: 100})
	resp, err := c.get(t, s.URL)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || s.requests.Load() != 4 {
		t.Fatalf("got %d after %d requests, want 503 after 4", resp.StatusCode, s.requests.Load())
	}
	for _, w := range c.waits {
		if w <= 0 || w > egress.DefaultBackoffMax*3/2 {
			t.Errorf("wait %v outside (0, 1.5 × BackoffMax]", w)
		}
	}
}

func TestPostRetriedOnlyWithIdempotencyKey(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, failing(1, http.StatusServiceUnavailable, nil))
			c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback})
			resp, err := send(t, c, t.Context(), method, s.URL, `{"n":1}`)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || s.requests.Load() != 1 {
				t.Fatalf("without a key: got %d after %d requests, want the 503 after 1", resp.StatusCode, s.requests.Load())
			}

			s = newServer(t, failing(2, http.StatusServiceUnavailable, nil))
			c = newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback})
			resp, err = send(t, c, egress.WithIdempotencyKey(t.Context(), "key-1"), method, s.URL, `{"n":1}`)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			var keys, bodies []string
			for _, r := range s.requestsSeen() {
				keys = append(keys, r.key)
				bodies = append(bodies, r.body)
			}
			if diff := cmp.Diff([]string{"key-1", "key-1", "key-1"}, keys); diff != "" {
				t.Errorf("Idempotency-Key per attempt (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{`{"n":1}`, `{"n":1}`, `{"n":1}`}, bodies); diff != "" {
				t.Errorf("body per attempt (-want +got):\n%s", diff)
			}
		})
	}
}

// A body that cannot be read twice is sent once.
func TestNonReplayableBodyIsNotRetried(t *testing.T) {
	t.Parallel()
	s := newServer(t, failing(1, http.StatusServiceUnavailable, nil))
	c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, s.URL, io.MultiReader(strings.NewReader("x")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || s.requests.Load() != 1 {
		t.Fatalf("got %d after %d requests, want the 503 after 1", resp.StatusCode, s.requests.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		wantWaits  []time.Duration
		wantStatus int
	}{
		{"seconds", "7", []time.Duration{7 * time.Second}, http.StatusOK},
		{"date", now.Add(9 * time.Second).Format(http.TimeFormat), []time.Duration{9 * time.Second}, http.StatusOK},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), []time.Duration{0}, http.StatusOK},
		// Longer than MaxRetryAfter: the caller gets the 429 at once.
		{"too long", "3600", nil, http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, failing(1, http.StatusTooManyRequests, http.Header{"Retry-After": {tt.retryAfter}}))
			c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback, MaxRetryAfter: time.Minute})
			egress.SetNow(c.Client, func() time.Time { return now })
			resp, err := c.get(t, s.URL)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantWaits, c.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

// hangUp closes every connection without an answer.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestRetriesConnectionErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, hangUp)
	c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback, MaxRetries: 2, BreakerFailures: 100})
	_, err := c.get(t, s.URL)
	wantErr(t, err, errs.Unavailable, "EGRESS_REQUEST_FAILED")
	if n := s.requests.Load(); n != 3 {
		t.Fatalf("server saw %d requests, want 3", n)
	}

	// A POST that may have been processed is not sent again.
	s = newServer(t, hangUp)
	c = newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback, MaxRetries: 2})
	_, err = send(t, c, t.Context(), http.MethodPost, s.URL, "x")
	wantErr(t, err, errs.Unavailable, "EGRESS_REQUEST_FAILED")
	if n := s.requests.Load(); n != 1 {
		t.Fatalf("server saw %d POSTs, want 1", n)
	}
}

func TestCircuitBreakerOpensPerHost(t *testing.T) {
	t.Parallel()
	dead := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	alive := newServer(t, ok)
	c := newClient(t, dead, egress.Config{
		AllowedHosts:      []string{dead.hostPort(), alive.hostPort()},
		AllowPrivateCIDRs: loopback,
		BreakerFailures:   3,
		BreakerOpenFor:    time.Hour,
	})
	// alive's certificate is httptest's too, which the pool already has.
	for range 3 {
		resp, err := c.get(t, dead.URL)
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		resp.Body.Close()
	}
	for range 2 {
		_, err := c.get(t, dead.URL)
		wantErr(t, err, errs.Unavailable, "EGRESS_CIRCUIT_OPEN")
	}
	if n := dead.requests.Load(); n != 3 {
		t.Fatalf("dead server saw %d requests, want 3: the open breaker must not call it", n)
	}
	resp, err := c.get(t, alive.URL)
	if err != nil {
		t.Fatalf("another host: %v", err)
	}
	resp.Body.Close()
}

func noSleep(context.Context, time.Duration) error { return nil }

// An attempt that gets no answer within Timeout is abandoned and, for an
// idempotent request, retried.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newServer(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			// Abort without an answer: returning would send an implicit 200,
			// which can race the client's own deadline and arrive as a
			// success (seen once in CI).
			panic(http.ErrAbortHandler)
		case <-release:
		}
	})
	defer close(release)
	c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback, Timeout: 100 * time.Millisecond, MaxRetries: 2})
	// Without per-attempt timeouts, this outer deadline would end the call
	// after one attempt.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := send(t, c, ctx, http.MethodGet, s.URL, "")
	wantErr(t, err, errs.Unavailable, "EGRESS_REQUEST_FAILED")
	if n := s.requests.Load(); n != 3 {
		t.Fatalf("server saw %d requests, want 3", n)
	}
}

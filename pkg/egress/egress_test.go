package egress_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// server is an HTTPS server on 127.0.0.1 that counts the connections it
// accepts and the requests it serves, so tests can show a refusal happened
// before anything reached it.
type server struct {
	*httptest.Server
	conns    atomic.Int32
	requests atomic.Int32

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, uri, key, body string
	header                 http.Header
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{r.Method, r.RequestURI, r.Header.Get(egress.IdempotencyKeyHeader), string(body), r.Header.Clone()})
		s.mu.Unlock()
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// hostPort is "127.0.0.1:port".
func (s *server) hostPort() string { return strings.TrimPrefix(s.URL, "https://") }

func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.hostPort())
	return p
}

func (s *server) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}

func (s *server) requestsSeen() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// testClient builds a client for s: cfg's AllowedHosts default to s alone,
// its certificate is trusted, logs go to the returned buffer through Sotto's
// redacting logger, and waits between attempts are recorded, not slept.
type testClient struct {
	*egress.Client
	logs  *syncBuffer
	mu    sync.Mutex
	waits []time.Duration
}

func newClient(t *testing.T, s *server, cfg egress.Config) *testClient {
	t.Helper()
	if cfg.AllowedHosts == nil {
		cfg.AllowedHosts = []string{s.hostPort()}
	}
	cfg.RootCAs = s.roots()
	tc := &testClient{logs: &syncBuffer{}}
	c, err := egress.New(cfg, logging.New(tc.logs, "test", slog.LevelDebug), nil)
	if err != nil {
		t.Fatalf("egress.New: %v", err)
	}
	egress.SetSleep(c, func(_ context.Context, d time.Duration) error {
		tc.mu.Lock()
		tc.waits = append(tc.waits, d)
		tc.mu.Unlock()
		return nil
	})
	tc.Client = c
	return tc
}

func (tc *testClient) get(t *testing.T, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tc.Do(req)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func wantErr(t *testing.T, err error, kind errs.Kind, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v %s", kind, reason)
	}
	if errs.KindOf(err) != kind || errs.ReasonOf(err) != reason {
		t.Fatalf("err = %v, want %v %s", err, kind, reason)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAllowedHostIsReached(t *testing.T) {
	t.Parallel()
	s := newServer(t, ok)
	c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback})
	resp, err := c.get(t, s.URL+"/v1/x")
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if got := readAll(t, resp); resp.StatusCode != http.StatusOK || got != "ok" {
		t.Fatalf("response = %d %q, want 200 ok", resp.StatusCode, got)
	}
	// The same through HTTPClient, for libraries that take an *http.Client.
	resp, err = c.HTTPClient().Get(s.URL)
	if err != nil {
		t.Fatalf("HTTPClient().Get: %v", err)
	}
	resp.Body.Close()
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
}

func TestRefusesDestinationsNotAllowed(t *testing.T) {
	t.Parallel()
	s := newServer(t, ok)
	tests := []struct {
		name    string
		allowed []string
		url     string
		reason  string
	}{
		{"other host", []string{"api.hubapi.com"}, s.URL, "EGRESS_HOST_NOT_ALLOWED"},
		// "127.0.0.1" alone means port 443.
		{"other port", []string{"127.0.0.1"}, s.URL, "EGRESS_HOST_NOT_ALLOWED"},
		{"plain http", []string{s.hostPort()}, "http://" + s.hostPort(), "EGRESS_SCHEME_NOT_ALLOWED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, s, egress.Config{AllowedHosts: tt.allowed, AllowPrivateCIDRs: loopback})
			_, err := c.get(t, tt.url)
			wantErr(t, err, errs.PermissionDenied, tt.reason)
			_, err = c.HTTPClient().Get(tt.url)
			wantErr(t, err, errs.PermissionDenied, tt.reason)
		})
	}
	if n := s.conns.Load(); n != 0 {
		t.Fatalf("server accepted %d connections, want none", n)
	}
}

func TestRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	s := newServer(t, ok)
	// Each is what a name on the allow-list might resolve to, through a
	// hostile or rebinding DNS server: crm.example is allowed, its
	// address is not.
	for _, ip := range []string{
		"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1",
		"169.254.169.254", "::ffff:169.254.169.254", "fe80::1",
		"10.0.0.1", "172.16.0.1", "192.168.1.1", "fd00::1",
		"100.64.0.1", "0.0.0.0", "::", "224.0.0.1", "64:ff9b::7f00:1",
	} {
		t.Run(ip, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, s, egress.Config{
				AllowedHosts:   []string{"crm.example:" + s.port()},
				MaxRetries:     -1,
				ConnectTimeout: 2 * time.Second,
			})
			egress.SetHosts(c.Client, map[string]string{"crm.example": ip})
			_, err := c.get(t, "https://crm.example:"+s.port()+"/")
			wantErr(t, err, errs.PermissionDenied, "EGRESS_ADDRESS_NOT_ALLOWED")
		})
	}
	// IP literals in the URL are checked the same way.
	for _, host := range []string{"127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"} {
		t.Run("literal "+host, func(t *testing.T) {
			t.Parallel()
			hp := host + ":" + s.port()
			c := newClient(t, s, egress.Config{AllowedHosts: []string{hp}, MaxRetries: -1})
			_, err := c.get(t, "https://"+hp+"/")
			wantErr(t, err, errs.PermissionDenied, "EGRESS_ADDRESS_NOT_ALLOWED")
		})
	}
	t.Cleanup(func() {
		if n := s.conns.Load(); n != 0 {
			t.Errorf("server accepted %d connections, want none", n)
		}
	})
}

// An allowed name that resolves to loopback is refused unless loopback is
// allowed: the check is on the address dialed, not on the name.
func TestRebindingToLoopback(t *testing.T) {
	t.Parallel()
	s := newServer(t, ok)
	// httptest's certificate is valid for example.com, so the allowed case
	// below gets through TLS as a real third party would.
	url := "https://example.com:" + s.port() + "/"
	hosts := map[string]string{"example.com": "127.0.0.1"}

	c := newClient(t, s, egress.Config{AllowedHosts: []string{"example.com:" + s.port()}, MaxRetries: -1})
	egress.SetHosts(c.Client, hosts)
	_, err := c.get(t, url)
	wantErr(t, err, errs.PermissionDenied, "EGRESS_ADDRESS_NOT_ALLOWED")
	if n := s.conns.Load(); n != 0 {
		t.Fatalf("server accepted %d connections, want none", n)
	}

	// localhost, through the system resolver.
	c = newClient(t, s, egress.Config{AllowedHosts: []string{"localhost:" + s.port()}, MaxRetries: -1})
	_, err = c.get(t, "https://localhost:"+s.port()+"/")
	wantErr(t, err, errs.PermissionDenied, "EGRESS_ADDRESS_NOT_ALLOWED")
	if n := s.conns.Load(); n != 0 {
		t.Fatalf("server accepted %d connections, want none", n)
	}

	// The same request goes through once loopback is allowed, so the
	// refusals above are the guard's doing.
	c = newClient(t, s, egress.Config{AllowedHosts: []string{"example.com:" + s.port()}, AllowPrivateCIDRs: loopback})
	egress.SetHosts(c.Client, hosts)
	resp, err := c.get(t, url)
	if err != nil {
		t.Fatalf("with loopback allowed: %v", err)
	}
	resp.Body.Close()

	// Allowing one private range allows no other.
	c = newClient(t, s, egress.Config{AllowedHosts: []string{"example.com:" + s.port()}, AllowPrivateCIDRs: loopback, MaxRetries: -1})
	egress.SetHosts(c.Client, map[string]string{"example.com": "169.254.169.254"})
	_, err = c.get(t, url)
	wantErr(t, err, errs.PermissionDenied, "EGRESS_ADDRESS_NOT_ALLOWED")
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/from" {
			http.Redirect(w, r, "/to", http.StatusTemporaryRedirect)
			return
		}
		ok(w, r)
	})
	c := newClient(t, s, egress.Config{AllowPrivateCIDRs: loopback})
	resp, err := c.get(t, s.URL+"/from")
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("status = %d, want the 307 itself", resp.StatusCode)
	}
	if n := s.requests.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, hosts := range [][]string{
		nil, {}, {"https://api.hubapi.com"}, {"*.hubapi.com"}, {"api.hubapi.com/crm"},
		{"api.hubapi.com:0"}, {"api.hubapi.com:99999"}, {"user@api.hubapi.com"}, {""},
	} {
		_, err := egress.New(egress.Config{AllowedHosts: hosts}, slog.New(slog.DiscardHandler), nil)
		if errs.KindOf(err) != errs.InvalidArgument {
			t.Errorf("New(AllowedHosts: %q) = %v, want InvalidArgument", hosts, err)
		}
	}
	_, err := egress.New(egress.Config{AllowedHosts: []string{"api.hubapi.com"}, AllowPrivateCIDRs: []netip.Prefix{{}}}, slog.New(slog.DiscardHandler), nil)
	if errs.KindOf(err) != errs.InvalidArgument {
		t.Errorf("New with an invalid CIDR = %v, want InvalidArgument", err)
	}
}

// The dialer hands IPv4-mapped addresses to the guard as IPv4, so the
// end-to-end tests above cannot tell whether the guard unmaps them itself;
// this checks the guard on the addresses a different dialer could hand it.
func TestAddressCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr    string
		allowed []netip.Prefix
		ok      bool
	}{
		{"[::ffff:127.0.0.1]:443", nil, false},
		{"[::ffff:169.254.169.254]:80", nil, false},
		{"[::ffff:10.1.2.3]:443", nil, false},
		{"[fe80::1%eth0]:443", nil, false},
		{"[::ffff:127.0.0.1]:443", loopback, true},
		{"[::ffff:93.184.215.14]:443", nil, true},
		{"93.184.215.14:443", nil, true},
		{"[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", nil, true},
		{"not-an-address", nil, false},
	} {
		err := egress.CheckAddress(tt.allowed, tt.addr)
		if tt.ok && err != nil {
			t.Errorf("%s with %v refused: %v", tt.addr, tt.allowed, err)
		}
		if !tt.ok && errs.ReasonOf(err) != "EGRESS_ADDRESS_NOT_ALLOWED" {
			t.Errorf("%s with %v = %v, want EGRESS_ADDRESS_NOT_ALLOWED", tt.addr, tt.allowed, err)
		}
	}
}

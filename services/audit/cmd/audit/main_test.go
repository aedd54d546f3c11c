package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/wait"
)

// cuttable forwards TCP connections to target until cut, which closes the
// listener and every forwarded connection: the database becomes
// unreachable for whoever dials through it.
type cuttable struct {
	lis    net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

func newCuttable(t *testing.T, target string) *cuttable {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cuttable{lis: lis, target: target}
	go c.serve()
	t.Cleanup(c.Cut)
	return c
}

func (c *cuttable) serve() {
	for {
		in, err := c.lis.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		if c.cut {
			c.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		c.conns = append(c.conns, in, out)
		c.mu.Unlock()
		go func() { io.Copy(out, in); out.Close() }()
		go func() { io.Copy(in, out); in.Close() }()
	}
}

// Cut makes the target unreachable through c.
func (c *cuttable) Cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	c.lis.Close()
	for _, conn := range c.conns {
		conn.Close()
	}
}

// runReplica runs one audit replica as main does and returns its admin
// address.
func runReplica(t *testing.T, pki *servertest.PKI, dsn, keyring string) string {
	t.Helper()
	f := pki.Identity(t, "audit")
	env := service.Env{
		"SOTTO_TRUST_DOMAIN": servertest.TrustDomain,
		"SOTTO_TLS_CERT":     f.Cert, "SOTTO_TLS_KEY": f.Key, "SOTTO_TLS_BUNDLE": f.Bundle,
		"SOTTO_GRPC_ADDR": "127.0.0.1:0", "SOTTO_ADMIN_ADDR": "127.0.0.1:0",
		"SOTTO_DB_DSN":        dsn,
		"SOTTO_KEYRING_FILE":  keyring,
		"SOTTO_IDENTITY_ADDR": "127.0.0.1:1", // end users' keys: degraded, not needed here
		"SOTTO_LOG_LEVEL":     "error",
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *service.Service, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, "audit", env, func(ctx context.Context, s *service.Service) error {
			got <- s
			return register(ctx, s)
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done // a replica whose database was cut may end with its error
	})
	var s *service.Service
	select {
	case s = <-got:
	case err := <-done:
		t.Fatalf("Run returned before register: %v", err)
	}
	var addr string
	wait.For(t, "the admin port opens", func() bool {
		addr = s.Addrs()["admin"]
		return addr != ""
	})
	return addr
}

func get(addr, path string) string {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// TestReplicaReadiness: two audit replicas on one PostgreSQL database. The
// leader is ready on /readyz (what callers balance on) and on
// /readyz/replica (Kubernetes' probe); the standby only on /readyz/replica,
// so that a rollout or a drain counts it. A standby whose database becomes
// unreachable is not ready on /readyz/replica, naming the database, while
// /healthz, the probe it had before, still says ok. Seen failing with
// /readyz/replica answering without running the checks.
func TestReplicaReadiness(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	pki := servertest.NewPKI(t)
	keyring := filepath.Join(t.TempDir(), "keyring.json")

	leader := runReplica(t, pki, dsn, keyring)
	wait.For(t, "the first replica leads", func() bool { return strings.HasPrefix(get(leader, "/readyz"), "200 ") })
	if got := get(leader, "/readyz/replica"); !strings.HasPrefix(got, "200 ") {
		t.Fatalf("leader's /readyz/replica: %q", got)
	}

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCuttable(t, u.Host)
	u.Host = proxy.lis.Addr().String()
	standby := runReplica(t, pki, u.String(), keyring)
	wait.For(t, "the standby is ready as a replica", func() bool { return strings.HasPrefix(get(standby, "/readyz/replica"), "200 ") })
	if got := get(standby, "/readyz"); got != "503 not ready: sequencer" {
		// Says which went wrong when this fails (seen twice under a loaded
		// full run, never alone): two leaders, or the lead moved.
		t.Errorf("standby's /readyz: %q, want 503 naming the sequencer (the first replica's /readyz now: %q)", got, get(leader, "/readyz"))
	}

	proxy.Cut()
	wait.For(t, "the standby without its database is not ready", func() bool {
		got := get(standby, "/readyz/replica")
		return strings.HasPrefix(got, "503 ") && strings.Contains(got, "database")
	})
	if got := get(standby, "/healthz"); !strings.HasPrefix(got, "200 ") {
		t.Errorf("standby's /healthz: %q (liveness must not restart a replica for its database)", got)
	}
	if got := get(leader, "/readyz"); !strings.HasPrefix(got, "200 ") {
		t.Errorf("leader's /readyz after the standby lost its database: %q", got)
	}
}

// Package servertest runs real Sotto gRPC servers in tests: a throwaway dev
// CA, workload certificates per SPIFFE name, servers on loopback sockets with
// the production interceptor chain, and mTLS clients.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/server"
)

// TrustDomain of test certificates.
const TrustDomain = "sotto.test"

// PKI is a test CA that issues workload identities.
type PKI struct {
	CA  *mtls.CA
	dir string
}

// NewPKI creates a CA in a temporary directory.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	ca, err := mtls.LoadOrCreateDevCA(filepath.Join(dir, "ca"), TrustDomain)
	if err != nil {
		t.Fatal(err)
	}
	return &PKI{CA: ca, dir: dir}
}

// ID is spiffe://sotto.test/<name>.
func ID(t testing.TB, name string) spiffeid.ID {
	t.Helper()
	id, err := spiffeid.FromSegments(spiffeid.RequireTrustDomainFromString(TrustDomain), name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Identity writes a certificate for name and returns its files.
func (p *PKI) Identity(t testing.TB, name string) mtls.Files {
	t.Helper()
	f, err := mtls.WriteWorkload(filepath.Join(p.dir, "certs", name), p.CA, ID(t, name), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Source loads name's identity.
func (p *PKI) Source(t testing.TB, name string) *mtls.Source {
	t.Helper()
	src, err := mtls.NewFileSource(p.Identity(t, name), Logger())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Config is a server config for name on free loopback ports.
func (p *PKI) Config(t testing.TB, name string) server.Config {
	f := p.Identity(t, name)
	return server.Config{
		GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Identity:        mtls.Config{TrustDomain: TrustDomain, TLSCert: f.Cert, TLSKey: f.Key, TLSBundle: f.Bundle},
		MaxRecvMsgBytes: 1 << 20, ShutdownTimeout: 5 * time.Second,
	}
}

// NewServer builds a server for name with policy; register services on
// srv.GRPC() and then call Start. A test whose callers are not the suite
// manifest's workloads names them with server.WithKnownWorkloads, or "*" in
// policy refuses them.
func (p *PKI) NewServer(t testing.TB, name string, policy authz.Policy, opts ...server.Option) *server.Server {
	t.Helper()
	srv, err := server.New(context.Background(), name, p.Config(t, name), policy, Logger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// Start serves srv until the test ends and returns its gRPC address.
func Start(t testing.TB, srv *server.Server) string {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return srv.GRPCAddr()
}

// Dial connects to service at addr as the workload named as.
func (p *PKI) Dial(t testing.TB, as, service, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := dial.Service(addr, p.Source(t, as), service, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Logger discards logs (tests assert on behaviour, not log lines).
func Logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

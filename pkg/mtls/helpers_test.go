package mtls_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/sottohq/sotto/pkg/mtls"
)

const peerHeader = "x-test-peer-id"

var testTD = spiffeid.RequireTrustDomainFromString("sotto.test")

func id(name string) spiffeid.ID { return spiffeid.RequireFromSegments(testTD, name) }

func newCA(t *testing.T, td string) *mtls.CA {
	t.Helper()
	ca, err := mtls.NewCA(td)
	if err != nil {
		t.Fatalf("NewCA(%q): %v", td, err)
	}
	return ca
}

// workloadFiles issues a dev certificate for name into its own directory, so
// each workload has its own bundle.pem the test can rewrite independently.
func workloadFiles(t *testing.T, ca *mtls.CA, name string) mtls.Files {
	t.Helper()
	f, err := mtls.WriteWorkload(filepath.Join(t.TempDir(), name), ca, spiffeid.RequireFromSegments(ca.TrustDomain, name), time.Hour)
	if err != nil {
		t.Fatalf("WriteWorkload(%s): %v", name, err)
	}
	return f
}

func newSource(t *testing.T, f mtls.Files, opts ...mtls.SourceOption) *mtls.Source {
	t.Helper()
	src, err := mtls.NewFileSource(f, testLogger(t), opts...)
	if err != nil {
		t.Fatalf("NewFileSource: %v", err)
	}
	return src
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// peerHealth is the standard health server whose Check also reports, in a
// response header, the caller's SPIFFE ID as PeerID sees it inside the handler.
type peerHealth struct{ *health.Server }

func (p peerHealth) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	id, err := mtls.PeerID(ctx)
	if err != nil {
		return nil, err
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs(peerHeader, id.String())); err != nil {
		return nil, err
	}
	return p.Server.Check(ctx, req)
}

// serve starts a real gRPC server on a loopback TCP port with the source's
// server TLS config and the health service, and returns its address.
func serve(t *testing.T, src *mtls.Source, opts ...grpc.ServerOption) string {
	t.Helper()
	return serveWith(t, credentials.NewTLS(src.ServerTLSConfig()), opts...)
}

func serveWith(t *testing.T, creds credentials.TransportCredentials, opts ...grpc.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(append([]grpc.ServerOption{grpc.Creds(creds)}, opts...)...)
	healthpb.RegisterHealthServer(gs, peerHealth{health.NewServer()})
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	return ln.Addr().String()
}

// check makes one health Check over a fresh connection (so a fresh TLS
// handshake) and returns the SPIFFE ID the server saw.
func check(t *testing.T, addr string, cfg *tls.Config) (string, error) {
	t.Helper()
	return checkWith(t, addr, credentials.NewTLS(cfg))
}

func checkWith(t *testing.T, addr string, creds credentials.TransportCredentials) (string, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var md metadata.MD
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&md))
	if err != nil {
		return "", err
	}
	if v := md.Get(peerHeader); len(v) == 1 {
		return v[0], nil
	}
	return "", nil
}

// handshake runs one TLS handshake over loopback TCP and returns each side's
// error. In TLS 1.3 the client finishes its handshake before the server has
// checked the client certificate, so the client then reads one byte: the
// server sends it only after a successful handshake, otherwise the read
// returns the server's alert.
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Server(c, server)
		err = tc.Handshake()
		if err == nil {
			_, err = tc.Write([]byte{1})
		}
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(c, client)
	clientErr = tc.Handshake()
	if clientErr == nil {
		_, clientErr = io.ReadFull(tc, make([]byte, 1))
	}
	return <-done, clientErr
}

// rawLeaf signs a leaf with ca's key from a template the test shapes freely,
// including shapes Issue refuses to make (no URI, two URIs, ...), and
// returns it as a tls.Certificate with its chain.
func rawLeaf(t *testing.T, ca *mtls.CA, uris ...string) tls.Certificate {
	t.Helper()
	return rawLeafWith(t, ca, nil, uris...)
}

// rawLeafWith is rawLeaf with edit applied to the template before signing.
func rawLeafWith(t *testing.T, ca *mtls.CA, edit func(*x509.Certificate), uris ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	for _, u := range uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// bareClient is a TLS client that presents cert and trusts anything: it
// stands for an attacker or a misconfigured peer, so only the server's
// checks decide the outcome.
func bareClient(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true,
		Certificates:       []tls.Certificate{cert},
	}
}

func writeFile(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
}

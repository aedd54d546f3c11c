package mtls_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

func TestMutualTLSOverGRPC(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	server := newSource(t, workloadFiles(t, ca, "audit"))
	client := newSource(t, workloadFiles(t, ca, "gateway"))
	addr := serve(t, server)

	t.Run("valid client certificate", func(t *testing.T) {
		t.Parallel()
		got, err := check(t, addr, client.ClientTLSConfig(mtls.AuthorizeID(id("audit"))))
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		// PeerID inside the handler sees the client's certificate identity.
		if want := "spiffe://sotto.test/gateway"; got != want {
			t.Errorf("server saw peer %q, want %q", got, want)
		}
	})

	t.Run("member-of authorizer", func(t *testing.T) {
		t.Parallel()
		if _, err := check(t, addr, client.ClientTLSConfig(mtls.AuthorizeMemberOf(testTD))); err != nil {
			t.Fatalf("Check: %v", err)
		}
	})

	t.Run("no client certificate", func(t *testing.T) {
		t.Parallel()
		cfg := client.ClientTLSConfig(mtls.AuthorizeID(id("audit")))
		cfg.GetClientCertificate = nil // present nothing, but still verify the server
		_, err := check(t, addr, cfg)
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("Check without client certificate: %v, want Unavailable (handshake refused)", err)
		}
	})

	t.Run("client certificate from another CA", func(t *testing.T) {
		t.Parallel()
		rogue := newCA(t, "sotto.test") // same trust domain name, different key
		f := workloadFiles(t, rogue, "gateway")
		// The rogue client trusts the real CA too, so only the server's
		// check of the client chain can refuse it.
		writeFile(t, f.Bundle, append(rogue.CertPEM(), ca.CertPEM()...), 0o644)
		rogueSrc := newSource(t, f)
		_, err := check(t, addr, rogueSrc.ClientTLSConfig(mtls.AuthorizeID(id("audit"))))
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("Check with a foreign CA's certificate: %v, want Unavailable (handshake refused)", err)
		}
	})

	t.Run("server with unexpected SPIFFE ID", func(t *testing.T) {
		t.Parallel()
		_, err := check(t, addr, client.ClientTLSConfig(mtls.AuthorizeID(id("tokenvault"))))
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "UNEXPECTED_SERVER_ID") {
			t.Fatalf("Check against the wrong server: %v, want Unavailable with UNEXPECTED_SERVER_ID", err)
		}
	})
}

// The gRPC tests above show that bad peers are refused; these show why, at
// the TLS layer, so each test pins one control.
func TestHandshakeControls(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	other := newCA(t, "other.test")
	serverFiles := workloadFiles(t, ca, "audit")
	// The server's bundle also trusts other.test's CA, as a federated bundle
	// might: the trust-domain check must still keep its workloads out.
	writeFile(t, serverFiles.Bundle, append(ca.CertPEM(), other.CertPEM()...), 0o644)
	server := newSource(t, serverFiles)
	client := newSource(t, workloadFiles(t, ca, "gateway"))
	rogue := newCA(t, "sotto.test")

	tests := []struct {
		name       string
		client     *tls.Config
		serverWant func(error) bool // nil: the server accepts
		clientWant func(error) bool // nil: the client accepts
	}{
		{
			name:   "valid",
			client: client.ClientTLSConfig(mtls.AuthorizeID(id("audit"))),
		},
		{
			name: "no client certificate",
			client: &tls.Config{
				MinVersion:         tls.VersionTLS13,
				InsecureSkipVerify: true,
			},
			serverWant: func(err error) bool { return strings.Contains(err.Error(), "didn't provide a certificate") },
		},
		{
			name:       "client certificate from an unknown CA",
			client:     bareClient(rawLeaf(t, rogue, "spiffe://sotto.test/gateway")),
			serverWant: func(err error) bool { return errors.As(err, new(x509.UnknownAuthorityError)) },
		},
		{
			name:       "client certificate without a URI SAN",
			client:     bareClient(rawLeaf(t, ca)),
			serverWant: reason("INVALID_PEER_IDENTITY"),
		},
		{
			name:       "client certificate with two URI SANs",
			client:     bareClient(rawLeaf(t, ca, "spiffe://sotto.test/gateway", "spiffe://sotto.test/audit")),
			serverWant: reason("INVALID_PEER_IDENTITY"),
		},
		{
			// A CA certificate can mint identities; it must never be one.
			name: "client certificate that is a CA",
			client: bareClient(rawLeafWith(t, ca, func(c *x509.Certificate) {
				c.IsCA, c.BasicConstraintsValid = true, true
				c.KeyUsage |= x509.KeyUsageCertSign
			}, "spiffe://sotto.test/gateway")),
			serverWant: reason("INVALID_PEER_IDENTITY"),
		},
		{
			name:       "client certificate with a non-SPIFFE URI",
			client:     bareClient(rawLeaf(t, ca, "https://sotto.test/gateway")),
			serverWant: reason("INVALID_PEER_IDENTITY"),
		},
		{
			name:       "client from another trust domain",
			client:     bareClient(rawLeaf(t, other, "spiffe://other.test/gateway")),
			serverWant: reason("FOREIGN_TRUST_DOMAIN"),
		},
		{
			name:       "server not in the client's bundle",
			client:     newSource(t, workloadFiles(t, rogue, "gateway")).ClientTLSConfig(mtls.AuthorizeMemberOf(testTD)),
			clientWant: reason("PEER_NOT_TRUSTED"),
		},
		{
			name:       "server with an unexpected SPIFFE ID",
			client:     client.ClientTLSConfig(mtls.AuthorizeID(id("consent"))),
			clientWant: reason("UNEXPECTED_SERVER_ID"),
		},
		{
			name:       "server of another trust domain",
			client:     client.ClientTLSConfig(mtls.AuthorizeMemberOf(spiffeid.RequireTrustDomainFromString("other.test"))),
			clientWant: reason("UNEXPECTED_SERVER_ID"),
		},
		{
			name:       "no server authorizer",
			client:     client.ClientTLSConfig(nil),
			clientWant: reason("SERVER_NOT_AUTHORIZED"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			serverErr, clientErr := handshake(t, server.ServerTLSConfig(), tt.client)
			switch {
			case tt.clientWant != nil:
				// The client aborts first; the server only sees the alert.
				if clientErr == nil || !tt.clientWant(clientErr) {
					t.Errorf("client error = %v, want the client to refuse for the expected reason", clientErr)
				}
				if serverErr == nil {
					t.Errorf("server completed a connection the client refused")
				}
			case tt.serverWant != nil:
				if serverErr == nil || !tt.serverWant(serverErr) {
					t.Errorf("server error = %v, want the server to refuse for the expected reason", serverErr)
				}
				if clientErr == nil {
					t.Errorf("client could use a connection the server refused")
				}
			default:
				if serverErr != nil || clientErr != nil {
					t.Errorf("handshake failed: server %v, client %v", serverErr, clientErr)
				}
			}
		})
	}
}

func reason(want string) func(error) bool {
	return func(err error) bool { return errs.ReasonOf(err) == want }
}

func TestServerTLSConfigIsTLS13Only(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	server := newSource(t, workloadFiles(t, ca, "audit"))
	client := newSource(t, workloadFiles(t, ca, "gateway")).ClientTLSConfig(mtls.AuthorizeID(id("audit")))
	client.MinVersion, client.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	if serverErr, _ := handshake(t, server.ServerTLSConfig(), client); serverErr == nil {
		t.Fatal("server accepted TLS 1.2")
	}
}

func TestReloadChangesClientIdentity(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	addr := serve(t, newSource(t, workloadFiles(t, ca, "audit")))
	f := workloadFiles(t, ca, "gateway")
	// A long interval shows it is Reload, not the periodic check, that acts.
	client := newSource(t, f, mtls.WithCheckInterval(time.Hour))
	cfg := client.ClientTLSConfig(mtls.AuthorizeID(id("audit")))

	if got, err := check(t, addr, cfg); err != nil || got != "spiffe://sotto.test/gateway" {
		t.Fatalf("before reload: peer %q, err %v", got, err)
	}

	// Overwrite the client's own files with a certificate for another ID.
	certPEM, keyPEM, err := ca.Issue(id("conversation"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, f.Key, keyPEM, 0o600)
	writeFile(t, f.Cert, certPEM, 0o644)
	if got, err := check(t, addr, cfg); err != nil || got != "spiffe://sotto.test/gateway" {
		t.Fatalf("before Reload(), with the check interval not elapsed: peer %q, err %v", got, err)
	}
	if err := client.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := client.ID().String(); got != "spiffe://sotto.test/conversation" {
		t.Errorf("ID() after reload = %s", got)
	}
	// The config built before the reload serves the new certificate.
	if got, err := check(t, addr, cfg); err != nil || got != "spiffe://sotto.test/conversation" {
		t.Fatalf("after reload: peer %q, err %v, want spiffe://sotto.test/conversation", got, err)
	}
}

func TestSourceNoticesChangedFiles(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	addr := serve(t, newSource(t, workloadFiles(t, ca, "audit")))
	f := workloadFiles(t, ca, "gateway")
	client := newSource(t, f, mtls.WithCheckInterval(0)) // check on every handshake
	cfg := client.ClientTLSConfig(mtls.AuthorizeID(id("audit")))

	certPEM, keyPEM, err := ca.Issue(id("crmsync"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, f.Key, keyPEM, 0o600)
	writeFile(t, f.Cert, certPEM, 0o644)
	// Make the change visible even on file systems with coarse timestamps.
	future := time.Now().Add(time.Minute)
	for _, p := range []string{f.Key, f.Cert} {
		if err := os.Chtimes(p, future, future); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := check(t, addr, cfg); err != nil || got != "spiffe://sotto.test/crmsync" {
		t.Fatalf("after rewriting the files: peer %q, err %v, want spiffe://sotto.test/crmsync", got, err)
	}
}

func TestFailedReloadKeepsPreviousMaterial(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	addr := serve(t, newSource(t, workloadFiles(t, ca, "audit")))
	f := workloadFiles(t, ca, "gateway")
	var logs bytes.Buffer
	client, err := mtls.NewFileSource(f, slog.New(slog.NewTextHandler(&logs, nil)), mtls.WithCheckInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	cfg := client.ClientTLSConfig(mtls.AuthorizeID(id("audit")))

	writeFile(t, f.Cert, []byte("not a certificate"), 0o644)
	if err := client.Reload(); err == nil {
		t.Fatal("Reload of a garbage certificate succeeded")
	}
	if !strings.Contains(logs.String(), "reload failed") {
		t.Errorf("failed reload was not logged; logs: %s", logs.String())
	}
	if got := client.ID().String(); got != "spiffe://sotto.test/gateway" {
		t.Errorf("ID() after failed reload = %s", got)
	}
	// The periodic check (interval 0) also fails and must keep the old
	// certificate for handshakes.
	if got, err := check(t, addr, cfg); err != nil || got != "spiffe://sotto.test/gateway" {
		t.Fatalf("after failed reload: peer %q, err %v", got, err)
	}
}

func TestServerPicksUpRotatedBundle(t *testing.T) {
	t.Parallel()
	oldCA, newCA_ := newCA(t, "sotto.test"), newCA(t, "sotto.test")
	serverFiles := workloadFiles(t, oldCA, "audit")
	server := newSource(t, serverFiles)
	addr := serve(t, server)

	clientFiles := workloadFiles(t, newCA_, "gateway")
	both := append(oldCA.CertPEM(), newCA_.CertPEM()...)
	writeFile(t, clientFiles.Bundle, both, 0o644)
	cfg := newSource(t, clientFiles).ClientTLSConfig(mtls.AuthorizeID(id("audit")))

	if _, err := check(t, addr, cfg); status.Code(err) != codes.Unavailable {
		t.Fatalf("server trusted the new CA before its bundle did: %v", err)
	}
	writeFile(t, serverFiles.Bundle, both, 0o644)
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, err := check(t, addr, cfg); err != nil || got != "spiffe://sotto.test/gateway" {
		t.Fatalf("after bundle rotation: peer %q, err %v", got, err)
	}
}

func TestNewFileSourceRejectsBadMaterial(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	other := newCA(t, "sotto.test")
	tests := []struct {
		name   string
		mutate func(t *testing.T, f mtls.Files)
		reason string
	}{
		{"missing key", func(t *testing.T, f mtls.Files) { os.Remove(f.Key) }, "MTLS_FILE_UNREADABLE"},
		{"key of another certificate", func(t *testing.T, f mtls.Files) {
			_, key, err := ca.Issue(id("gateway"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, f.Key, key, 0o600)
		}, "INVALID_KEY_PAIR"},
		{"bundle of another CA", func(t *testing.T, f mtls.Files) { writeFile(t, f.Bundle, other.CertPEM(), 0o644) }, "CERTIFICATE_NOT_TRUSTED"},
		{"leaf in the bundle", func(t *testing.T, f mtls.Files) {
			cert, err := os.ReadFile(f.Cert)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, f.Bundle, cert, 0o644)
		}, "INVALID_BUNDLE"},
		{"expired certificate", func(t *testing.T, f mtls.Files) {
			// Issue backdates NotBefore by a minute, so a nanosecond TTL is
			// already expired when read.
			cert, key, err := ca.Issue(id("gateway"), time.Nanosecond)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, f.Key, key, 0o600)
			writeFile(t, f.Cert, cert, 0o644)
		}, "CERTIFICATE_NOT_TRUSTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := workloadFiles(t, ca, "gateway")
			tt.mutate(t, f)
			_, err := mtls.NewFileSource(f, testLogger(t))
			if got := errs.ReasonOf(err); got != tt.reason {
				t.Errorf("NewFileSource error = %v, want reason %s", err, tt.reason)
			}
		})
	}
}

// Removing a CA from the bundle must lock its workloads out at their next
// connection, even a client holding a TLS session ticket: crypto/tls re-checks
// a resumed session's chain against the ClientCAs in force, which
// GetConfigForClient keeps current. The test first shows that resumption
// really happens, so it would catch a config that froze the old bundle.
func TestRemovedCAIsRefusedDespiteSessionResumption(t *testing.T) {
	t.Parallel()
	caA, caB := newCA(t, "sotto.test"), newCA(t, "sotto.test")
	both := append(caA.CertPEM(), caB.CertPEM()...)
	serverFiles := workloadFiles(t, caA, "audit")
	writeFile(t, serverFiles.Bundle, both, 0o644)
	server := newSource(t, serverFiles)
	clientFiles := workloadFiles(t, caB, "gateway")
	writeFile(t, clientFiles.Bundle, both, 0o644)
	client := newSource(t, clientFiles).ClientTLSConfig(mtls.AuthorizeID(id("audit")))
	client.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	client.ServerName = "localhost" // the session cache key; the default (remote address) changes per listener
	var resumed atomic.Bool
	verify := client.VerifyConnection
	client.VerifyConnection = func(cs tls.ConnectionState) error {
		resumed.Store(cs.DidResume)
		return verify(cs)
	}
	serverCfg := server.ServerTLSConfig() // one listener's config, as in a real server

	for range 2 {
		if serverErr, clientErr := handshake(t, serverCfg, client); serverErr != nil || clientErr != nil {
			t.Fatalf("handshake before rotation: server %v, client %v", serverErr, clientErr)
		}
	}
	if !resumed.Load() {
		t.Fatal("second handshake did not resume; the test would prove nothing about resumption")
	}
	writeFile(t, serverFiles.Bundle, caA.CertPEM(), 0o644)
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if serverErr, _ := handshake(t, serverCfg, client); serverErr == nil {
		t.Fatal("server accepted a client whose CA was removed from its bundle")
	}
}

package grpcedge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/servertest"
)

// TestServerTLSSelfSignedOnlyOnLoopback: without certificate files a
// loopback edge gets a self-signed certificate for local names; any other
// address, or half a pair of files, does not start.
func TestServerTLSSelfSignedOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:8443", "localhost:8443"} {
		cfg, err := ServerTLS(addr, "", "", servertest.Logger())
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if cfg.Config.MinVersion != tls.VersionTLS13 || cfg.Config.ClientAuth != tls.NoClientCert || !strings.HasPrefix(cfg.Description, "self-signed sha256:") {
			t.Fatalf("%s: %+v", addr, cfg)
		}
		cert, err := cfg.Config.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cert.Leaf.VerifyHostname("127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if err := cert.Leaf.VerifyHostname("localhost"); err != nil {
			t.Fatal(err)
		}
	}
	for _, addr := range []string{"0.0.0.0:8443", ":8443", "[::]:8443", "10.0.0.1:8443", "gateway.example:8443", "garbage"} {
		if _, err := ServerTLS(addr, "", "", servertest.Logger()); err == nil {
			t.Errorf("%s: a self-signed certificate was made for a public address", addr)
		}
	}
	if _, err := ServerTLS("127.0.0.1:0", "cert.pem", "", servertest.Logger()); err == nil {
		t.Error("a certificate without its key was accepted")
	}
}

// TestServerTLSFromFilesReloads: the certificate in the files is served,
// a renewed one replaces it without a restart, and a broken renewal keeps
// the previous one.
func TestServerTLSFromFilesReloads(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "edge.pem"), filepath.Join(dir, "edge-key.pem")
	first := writePair(t, certFile, keyFile, time.Now().Add(time.Hour))
	cfg, err := ServerTLS("0.0.0.0:8443", certFile, keyFile, servertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Description != "files" || cfg.Config.MinVersion != tls.VersionTLS13 {
		t.Fatalf("%+v", cfg)
	}
	served := func() *big.Int {
		t.Helper()
		c, err := cfg.Config.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.SerialNumber
	}
	if served().Cmp(first) != 0 {
		t.Fatal("not the files' certificate")
	}

	fc, err := newFileCert(certFile, keyFile, servertest.Logger(), 0)
	if err != nil {
		t.Fatal(err)
	}
	second := writePair(t, certFile, keyFile, time.Now().Add(2*time.Hour))
	if c, _ := fc.get(nil); c.Leaf.SerialNumber.Cmp(second) != 0 {
		t.Fatal("the renewed certificate was not picked up")
	}
	// Half-written renewal: the key no longer matches.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, _ := fc.get(nil); c.Leaf.SerialNumber.Cmp(second) != 0 {
		t.Fatal("a broken renewal replaced the working certificate")
	}
}

func TestServerTLSRefusesExpiredFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "edge.pem"), filepath.Join(dir, "edge-key.pem")
	writePair(t, certFile, keyFile, time.Now().Add(-time.Hour))
	if _, err := ServerTLS("0.0.0.0:8443", certFile, keyFile, servertest.Logger()); err == nil {
		t.Fatal("an expired certificate was accepted")
	}
	if _, err := ServerTLS("0.0.0.0:8443", filepath.Join(dir, "missing.pem"), keyFile, servertest.Logger()); err == nil {
		t.Fatal("a missing certificate file was accepted")
	}
}

// writePair writes a self-signed certificate valid until notAfter and its
// key, and returns its serial number.
func writePair(t *testing.T, certFile, keyFile string, notAfter time.Time) *big.Int {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, NotBefore: notAfter.Add(-24 * time.Hour), NotAfter: notAfter,
		DNSNames: []string{"gateway.example"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return serial
}

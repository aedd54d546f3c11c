package mtls_test

import (
	"context"
	"crypto/tls"
	"math/big"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// vaultFiles names the files of workload name in a fresh directory that does
// not exist yet (IssueFiles creates it).
func vaultFiles(t *testing.T, name string) mtls.Files {
	dir := filepath.Join(t.TempDir(), name)
	return mtls.Files{
		Cert:   filepath.Join(dir, name+".pem"),
		Key:    filepath.Join(dir, name+"-key.pem"),
		Bundle: filepath.Join(dir, "bundle.pem"),
	}
}

// TestVaultPKI issues workload certificates from a real Vault, configured by
// deploy/vault/setup.sh, with each service's own least-privilege token, and
// runs mutual TLS between them.
func TestVaultPKI(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t)
	auditIss := &mtls.VaultIssuer{Client: v.ClientWithPolicies(t, "audit"), Mount: "pki", Role: "workload"}
	gatewayIss := &mtls.VaultIssuer{Client: v.ClientWithPolicies(t, "gateway"), Mount: "pki", Role: "workload"}

	auditFiles := vaultFiles(t, "audit")
	leaf, err := auditIss.IssueFiles(t.Context(), id("audit"), time.Hour, auditFiles)
	if err != nil {
		t.Fatalf("IssueFiles(audit): %v", err)
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != "spiffe://sotto.test/audit" {
		t.Errorf("Vault certificate URI SANs = %v", leaf.URIs)
	}
	assertMode(t, auditFiles.Key, 0o600)
	server := newSource(t, auditFiles)
	if got := server.ID().String(); got != "spiffe://sotto.test/audit" {
		t.Errorf("server ID = %s", got)
	}
	addr := serve(t, server)

	gatewayFiles := vaultFiles(t, "gateway")
	if _, err := gatewayIss.IssueFiles(t.Context(), id("gateway"), time.Hour, gatewayFiles); err != nil {
		t.Fatalf("IssueFiles(gateway): %v", err)
	}
	client := newSource(t, gatewayFiles)
	if got, err := check(t, addr, client.ClientTLSConfig(mtls.AuthorizeID(id("audit")))); err != nil || got != "spiffe://sotto.test/gateway" {
		t.Fatalf("Check with Vault-issued certificates: peer %q, err %v", got, err)
	}

	// A dev-CA certificate with the right name is still a stranger here.
	dev := newCA(t, "sotto.test")
	devFiles := workloadFiles(t, dev, "gateway")
	bundle, err := os.ReadFile(auditFiles.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, devFiles.Bundle, append(dev.CertPEM(), bundle...), 0o644) // trusts the server
	if _, err := check(t, addr, newSource(t, devFiles).ClientTLSConfig(mtls.AuthorizeID(id("audit")))); err == nil {
		t.Error("Vault-backed server accepted a dev-CA client")
	}

	// The audit token may only ask for audit's identity.
	if _, _, _, err := auditIss.Issue(t.Context(), id("gateway"), time.Hour); err == nil {
		t.Error("audit's token obtained a certificate for gateway")
	}

	// RenewLoop keeps a certificate that is not yet due instead of
	// re-issuing on every start.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if err := mtls.RenewLoop(ctx, auditIss, id("audit"), time.Hour, auditFiles, testLogger(t)); err != nil {
		t.Fatalf("RenewLoop: %v", err)
	}
	if now := serialOf(t, auditFiles); now.Cmp(leaf.SerialNumber) != 0 {
		t.Error("RenewLoop replaced a certificate that was not due")
	}
}

// TestVaultRenewLoop shows rotation end to end: RenewLoop re-issues a short
// lived certificate, and a server whose Source watches the files presents the
// new certificate on new connections, without a restart.
func TestVaultRenewLoop(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t)
	iss := &mtls.VaultIssuer{Client: v.ClientWithPolicies(t, "audit"), Mount: "pki", Role: "workload"}
	f := vaultFiles(t, "audit")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	// 3s certificates are renewed about every 2s.
	go func() { done <- mtls.RenewLoop(ctx, iss, id("audit"), 3*time.Second, f, testLogger(t)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RenewLoop returned %v after cancellation, want nil", err)
		}
	}()

	waitFor(t, "first certificate", func() bool { _, err := os.Stat(f.Cert); return err == nil })
	server := newSource(t, f, mtls.WithCheckInterval(0))
	addr := serve(t, server)
	first := serialOf(t, f)

	gatewayIss := &mtls.VaultIssuer{Client: v.ClientWithPolicies(t, "gateway"), Mount: "pki", Role: "workload"}
	gatewayFiles := vaultFiles(t, "gateway")
	if _, err := gatewayIss.IssueFiles(t.Context(), id("gateway"), time.Hour, gatewayFiles); err != nil {
		t.Fatal(err)
	}
	cfg := newSource(t, gatewayFiles).ClientTLSConfig(mtls.AuthorizeID(id("audit")))
	var presented atomic.Pointer[big.Int]
	verify := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		presented.Store(cs.PeerCertificates[0].SerialNumber)
		return verify(cs)
	}

	if _, err := check(t, addr, cfg); err != nil {
		t.Fatalf("Check: %v", err)
	}
	// Each new connection must eventually see a renewed certificate; a
	// handshake racing a rewrite may still get the previous one.
	waitFor(t, "server to present a renewed certificate", func() bool {
		if _, err := check(t, addr, cfg); err != nil {
			t.Logf("Check during rotation: %v", err)
			return false
		}
		return presented.Load().Cmp(first) != 0
	})
}

func serialOf(t *testing.T, f mtls.Files) *big.Int {
	t.Helper()
	data, err := os.ReadFile(f.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return parseLeaf(t, data).SerialNumber
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package mtls_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

func TestIssueShapesTheWorkloadCertificate(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	certPEM, keyPEM, err := ca.Issue(id("audit"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(keyPEM) == 0 {
		t.Fatal("no key")
	}
	leaf := parseLeaf(t, certPEM)

	got := struct {
		URIs []string
		DNS  []string
		IPs  []string
		EKU  []x509.ExtKeyUsage
		IsCA bool
	}{DNS: leaf.DNSNames, EKU: leaf.ExtKeyUsage, IsCA: leaf.IsCA}
	for _, u := range leaf.URIs {
		got.URIs = append(got.URIs, u.String())
	}
	for _, ip := range leaf.IPAddresses {
		got.IPs = append(got.IPs, ip.String())
	}
	want := got
	want.URIs = []string{"spiffe://sotto.test/audit"}
	want.DNS = []string{"localhost"}
	want.IPs = []string{"127.0.0.1", "::1"}
	want.EKU = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	want.IsCA = false
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("leaf (-want +got):\n%s", diff)
	}
	if d := time.Until(leaf.NotAfter); d > time.Hour || d < 59*time.Minute {
		t.Errorf("leaf expires in %v, want about an hour", d)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool(ca.Cert), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("leaf does not verify against its CA: %v", err)
	}
}

func TestIssueRefuses(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	tests := []struct {
		name   string
		id     spiffeid.ID
		ttl    time.Duration
		reason string
	}{
		{"other trust domain", spiffeid.RequireFromString("spiffe://other.test/audit"), time.Hour, "WRONG_TRUST_DOMAIN"},
		{"trust domain ID", testTD.ID(), time.Hour, "INVALID_SPIFFE_ID"},
		{"zero ID", spiffeid.ID{}, time.Hour, "INVALID_SPIFFE_ID"},
		{"no lifetime", id("audit"), 0, "INVALID_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := ca.Issue(tt.id, tt.ttl); errs.ReasonOf(err) != tt.reason {
				t.Errorf("Issue: %v, want reason %s", err, tt.reason)
			}
		})
	}
}

// The dev CA's name constraint means that even its own key cannot mint a
// certificate for another trust domain that a verifier would accept.
func TestDevCANameConstraint(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	if ca.Cert.MaxPathLen != 0 || !ca.Cert.MaxPathLenZero || !ca.Cert.IsCA {
		t.Errorf("CA basic constraints: IsCA %v, MaxPathLen %d", ca.Cert.IsCA, ca.Cert.MaxPathLen)
	}
	if got := ca.Cert.NotAfter.Sub(ca.Cert.NotBefore); got < 9*365*24*time.Hour {
		t.Errorf("CA lifetime %v, want ten years", got)
	}
	inside := rawLeaf(t, ca, "spiffe://sotto.test/audit")
	outside := rawLeaf(t, ca, "spiffe://other.test/audit")
	opts := x509.VerifyOptions{Roots: pool(ca.Cert), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := inside.Leaf.Verify(opts); err != nil {
		t.Errorf("leaf inside the trust domain: %v", err)
	}
	var invalid x509.CertificateInvalidError
	if _, err := outside.Leaf.Verify(opts); !errors.As(err, &invalid) || invalid.Reason != x509.CANotAuthorizedForThisName {
		t.Errorf("leaf outside the trust domain: %v, want CANotAuthorizedForThisName", err)
	}
}

func TestLoadOrCreateDevCA(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ca")
	created, err := mtls.LoadOrCreateDevCA(dir, "sotto.test")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	assertMode(t, filepath.Join(dir, "ca-key.pem"), 0o600)

	loaded, err := mtls.LoadOrCreateDevCA(dir, "sotto.test")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !loaded.Cert.Equal(created.Cert) || loaded.TrustDomain != created.TrustDomain {
		t.Error("second call did not load the CA the first one created")
	}
	// The loaded key must be usable to issue.
	if _, _, err := loaded.Issue(id("audit"), time.Hour); err != nil {
		t.Errorf("Issue with loaded CA: %v", err)
	}

	if _, err := mtls.LoadOrCreateDevCA(dir, "other.test"); errs.ReasonOf(err) != "DEV_CA_WRONG_TRUST_DOMAIN" {
		t.Errorf("load for another trust domain: %v, want DEV_CA_WRONG_TRUST_DOMAIN", err)
	}

	half := t.TempDir()
	writeFile(t, filepath.Join(half, "ca.pem"), created.CertPEM(), 0o644)
	if _, err := mtls.LoadOrCreateDevCA(half, "sotto.test"); errs.ReasonOf(err) != "DEV_CA_INCOMPLETE" {
		t.Errorf("directory with only ca.pem: %v, want DEV_CA_INCOMPLETE", err)
	}

	mismatched := t.TempDir()
	other := newCA(t, "sotto.test")
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mismatched, "ca.pem"), other.CertPEM(), 0o644)
	writeFile(t, filepath.Join(mismatched, "ca-key.pem"), keyPEM, 0o600)
	if _, err := mtls.LoadOrCreateDevCA(mismatched, "sotto.test"); errs.ReasonOf(err) != "DEV_CA_KEY_MISMATCH" {
		t.Errorf("key of another CA: %v, want DEV_CA_KEY_MISMATCH", err)
	}
}

func TestWriteWorkload(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	dir := t.TempDir()
	f, err := mtls.WriteWorkload(dir, ca, id("sotto-cli"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := mtls.Files{
		Cert:   filepath.Join(dir, "sotto-cli.pem"),
		Key:    filepath.Join(dir, "sotto-cli-key.pem"),
		Bundle: filepath.Join(dir, "bundle.pem"),
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	assertMode(t, f.Key, 0o600)
	bundle, err := os.ReadFile(f.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(ca.CertPEM()), string(bundle)); diff != "" {
		t.Errorf("bundle is not the CA (-want +got):\n%s", diff)
	}
	if got := newSource(t, f).ID().String(); got != "spiffe://sotto.test/sotto-cli" {
		t.Errorf("Source ID = %s", got)
	}
	// No temporary files are left behind by the atomic writes.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("directory holds %d entries, want 3", len(entries))
	}
}

func parseLeaf(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("no PEM block")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", filepath.Base(path), got, want)
	}
}

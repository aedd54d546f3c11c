package server_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/vaultclient"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// TestVaultPKIIdentity: with SOTTO_VAULT_PKI_ROLE set, a service obtains its
// workload certificate from a real Vault PKI engine using only its own
// least-privilege token, serves mTLS with it, and accepts clients whose
// certificates Vault issued but not clients of another CA.
func TestVaultPKIIdentity(t *testing.T) {
	v := vaulttest.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	svcToken := v.ClientWithPolicies(t, "audit").Token()
	cfg := server.Config{
		GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", MaxRecvMsgBytes: 1 << 20, ShutdownTimeout: 5 * time.Second,
		Identity: mtls.Config{
			TrustDomain: "sotto.test",
			TLSCert:     filepath.Join(dir, "svc.pem"), TLSKey: filepath.Join(dir, "svc-key.pem"), TLSBundle: filepath.Join(dir, "bundle.pem"),
			VaultPKIRole: "workload", VaultPKIMount: "pki", CertTTL: time.Hour,
			Vault: vaultclient.Config{Addr: v.Addr, Token: svcToken},
		},
	}
	srv, err := server.New(ctx, "audit", cfg, policy, servertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	testpb.RegisterTestServiceServer(srv.GRPC(), &testService{})
	addr := servertest.Start(t, srv)
	if got := srv.Source().ID().String(); got != "spiffe://sotto.test/audit" {
		t.Fatalf("service identity %s", got)
	}

	// A client with a Vault-issued certificate gets through.
	iss := &mtls.VaultIssuer{Client: v.Client, Mount: "pki", Role: "workload"}
	cdir := t.TempDir()
	files := mtls.Files{Cert: filepath.Join(cdir, "c.pem"), Key: filepath.Join(cdir, "c-key.pem"), Bundle: filepath.Join(cdir, "b.pem")}
	if _, err := iss.IssueFiles(ctx, spiffeid.RequireFromString("spiffe://sotto.test/client"), time.Hour, files); err != nil {
		t.Fatal(err)
	}
	src, err := mtls.NewFileSource(files, servertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial.Service(addr, src, "audit", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := call(t, testpb.NewTestServiceClient(conn), "ok"); err != nil {
		t.Fatalf("Vault-issued client: %v", err)
	}

	// A client from another CA (the dev CA) is refused at the handshake.
	other := servertest.NewPKI(t)
	err = call(t, testpb.NewTestServiceClient(other.Dial(t, "client", "audit", addr)), "ok")
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("dev-CA client against a Vault-PKI server: %v, want a refused handshake", err)
	}
}

func TestVaultPKIRefusedFailsStartup(t *testing.T) {
	v := vaulttest.Start(t)
	dir := t.TempDir()
	// A token without a PKI grant cannot obtain a certificate: no identity, no start.
	noPKI := v.ClientWithPolicies(t, "default").Token()
	cfg := server.Config{
		GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Identity: mtls.Config{
			TrustDomain: "sotto.test",
			TLSCert:     filepath.Join(dir, "svc.pem"), TLSKey: filepath.Join(dir, "svc-key.pem"), TLSBundle: filepath.Join(dir, "bundle.pem"),
			VaultPKIRole: "workload", VaultPKIMount: "pki", CertTTL: time.Hour,
			Vault: vaultclient.Config{Addr: v.Addr, Token: noPKI},
		},
	}
	if _, err := server.New(context.Background(), "audit", cfg, policy, servertest.Logger()); err == nil {
		t.Fatal("server started although Vault refused to issue its certificate")
	}
}

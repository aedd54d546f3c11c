package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/service"
	"github.com/sottohq/sotto/services/identity/internal/contacts/contactstest"
	"github.com/sottohq/sotto/services/identity/internal/notify"
)

// TestServiceRuns starts identity as its main does (service.Run with
// register) and walks the operator's first steps: the CLI bootstraps the
// admin, the admin logs in through the gateway's workload and is told to
// enrol MFA, any workload reads the JWK Set; the dev mailbox lands next to
// the SQLite database.
func TestServiceRuns(t *testing.T) {
	pki := servertest.NewPKI(t)
	_, vaultAddr := contactstest.Serve(t, pki)
	f := pki.Identity(t, "identity")
	dir := t.TempDir()
	env := service.Env{
		"SOTTO_TRUST_DOMAIN": servertest.TrustDomain,
		"SOTTO_TLS_CERT":     f.Cert, "SOTTO_TLS_KEY": f.Key, "SOTTO_TLS_BUNDLE": f.Bundle,
		"SOTTO_GRPC_ADDR": "127.0.0.1:0", "SOTTO_ADMIN_ADDR": "127.0.0.1:0",
		"SOTTO_DB_DSN":          "sqlite://" + filepath.Join(dir, "data", "identity.db"),
		"SOTTO_KEYRING_FILE":    filepath.Join(dir, "keyring.json"),
		"SOTTO_AUDIT_ADDR":      "127.0.0.1:1", // the outbox keeps what it cannot send
		"SOTTO_TOKENVAULT_ADDR": vaultAddr,
		"SOTTO_LOG_LEVEL":       "error",
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *service.Service, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, "identity", env, func(ctx context.Context, s *service.Service) error {
			got <- s
			return register(ctx, s)
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	var s *service.Service
	select {
	case s = <-got:
	case err := <-done:
		t.Fatalf("Run returned before register: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if addr := s.Addrs()["admin"]; addr != "" {
			if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("identity did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := s.Addrs()["grpc"]
	cli := identityv1.NewIdentityServiceClient(pki.Dial(t, "sotto-cli", "identity", addr))
	boot, err := cli.BootstrapAdmin(context.Background(), &identityv1.BootstrapAdminRequest{Email: "admin@sotto.test"})
	if err != nil {
		t.Fatal(err)
	}
	gw := identityv1.NewIdentityServiceClient(pki.Dial(t, "gateway", "identity", addr))
	lctx := metadata.AppendToOutgoingContext(context.Background(), "x-sotto-client-ip", "127.0.0.1")
	login, err := gw.Login(lctx, &identityv1.LoginRequest{Email: "admin@sotto.test", Password: boot.GetInitialPassword()})
	if err != nil {
		t.Fatal(err)
	}
	if !login.GetSecondFactorEnrollmentRequired() {
		t.Fatal("the first admin was not told to enrol MFA")
	}
	jwks, err := identityv1.NewIdentityServiceClient(pki.Dial(t, "audit", "identity", addr)).GetJwks(context.Background(), &identityv1.GetJwksRequest{})
	if err != nil || len(jwks.GetJwksJson()) == 0 {
		t.Fatalf("GetJwks: %v", err)
	}
	if _, err := gw.SignUp(lctx, &identityv1.SignUpRequest{Tenant: "shop", Email: "jane@example.com", Password: "vivid otter lamp quartz ninety"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "identity-mailbox.jsonl")); err != nil {
		t.Fatalf("mailbox: %v", err)
	}
	// A test outside identity finds its message as test/e2e does: the
	// mailbox key from the keyring file, then the address's HMAC.
	km, err := keys.NewLocal(filepath.Join(dir, "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	mailKey, err := km.HMAC(context.Background(), "identity-secrets", 1, []byte("sotto/identity/mailbox-recipient"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := notify.Latest(filepath.Join(dir, "data", "identity-mailbox.jsonl"), mailKey, "jane@example.com", notify.KindVerifyEmail); !ok || err != nil {
		t.Fatalf("the verification message by the keyring's mailbox key: %v %v", ok, err)
	}
}

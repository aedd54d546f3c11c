package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/authz"
	creceipt "github.com/sottohq/sotto/pkg/consentclient/receipt"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/service"
)

// identity stands in for the identity service's two verifier RPCs (its
// JWK Set from a real Issuer, and an empty revocation feed): what
// pkg/service's EndUsers dials.
type identity struct {
	identityv1.UnimplementedIdentityServiceServer
	issuer *accesstoken.Issuer
}

func (i identity) GetJwks(ctx context.Context, _ *identityv1.GetJwksRequest) (*identityv1.GetJwksResponse, error) {
	b, err := i.issuer.JWKS(ctx)
	return &identityv1.GetJwksResponse{JwksJson: b, MaxAge: durationpb.New(time.Minute)}, err
}

func (identity) WatchRevocations(_ *identityv1.WatchRevocationsRequest, s grpc.ServerStreamingServer[identityv1.WatchRevocationsResponse]) error {
	for {
		if err := s.Send(&identityv1.WatchRevocationsResponse{Cursor: "1"}); err != nil {
			return err
		}
		select {
		case <-s.Context().Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// TestServiceRuns starts the consent service as its main does
// (service.Run with register, end users checked with identity's keys): a
// banner reads the catalogue and a notice anonymously through the
// gateway's workload, a customer grants consent and gets a receipt that
// verifies against the published keys, and another workload's Check sees
// it.
func TestServiceRuns(t *testing.T) {
	pki := servertest.NewPKI(t)
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "identity.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), accesstoken.KeyName, keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	iss, err := accesstoken.NewIssuer(km, accesstoken.KeyName, service.IdentityIssuer(servertest.TrustDomain))
	if err != nil {
		t.Fatal(err)
	}
	idSrv := pki.NewServer(t, "identity", authz.Policy{
		identityv1.IdentityService_GetJwks_FullMethodName:          {"consent"},
		identityv1.IdentityService_WatchRevocations_FullMethodName: {"consent"},
	})
	identityv1.RegisterIdentityServiceServer(idSrv.GRPC(), identity{issuer: iss})
	idAddr := servertest.Start(t, idSrv)

	f := pki.Identity(t, "consent")
	dir := t.TempDir()
	env := service.Env{
		"SOTTO_TRUST_DOMAIN": servertest.TrustDomain,
		"SOTTO_TLS_CERT":     f.Cert, "SOTTO_TLS_KEY": f.Key, "SOTTO_TLS_BUNDLE": f.Bundle,
		"SOTTO_GRPC_ADDR": "127.0.0.1:0", "SOTTO_ADMIN_ADDR": "127.0.0.1:0",
		"SOTTO_DB_DSN":        "sqlite://" + filepath.Join(dir, "data", "consent.db"),
		"SOTTO_KEYRING_FILE":  filepath.Join(dir, "keyring.json"),
		"SOTTO_AUDIT_ADDR":    "127.0.0.1:1", // the outbox keeps what it cannot send
		"SOTTO_IDENTITY_ADDR": idAddr,
		// A privacy participant; unreachable here, so data-subject
		// requests' steps would wait and retry (the service still serves).
		"SOTTO_TOKENVAULT_ADDR":   "127.0.0.1:1",
		"SOTTO_CONVERSATION_ADDR": "127.0.0.1:1",
		"SOTTO_CRMSYNC_ADDR":      "127.0.0.1:1",
		"SOTTO_LOG_LEVEL":         "error",
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *service.Service, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, "consent", env, func(ctx context.Context, s *service.Service) error {
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
			t.Fatal("consent did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := s.Addrs()["grpc"]
	gw := consentv1.NewConsentServiceClient(pki.Dial(t, "gateway", "consent", addr))
	bg := context.Background()
	nv, err := gw.GetNoticeVersion(bg, &consentv1.GetNoticeVersionRequest{NoticeId: "marketing"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue(bg, accesstoken.Claims{Subject: "cus_1", Kind: accesstoken.KindCustomer, Tenant: "shop", SessionID: "s1",
		AAL: accesstoken.AAL1, AMR: []string{"pwd"}, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	cctx := metadata.AppendToOutgoingContext(bg, "authorization", "Bearer "+tok)
	var resp *consentv1.GrantConsentResponse
	for {
		// The end-user keys and revocation feed are fetched in the
		// background; until then the call fails closed (Unavailable).
		resp, err = gw.GrantConsent(cctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Channel: consentv1.Channel_CHANNEL_WEB,
			RequestId: "r1", Notice: &consentv1.NoticeRef{NoticeId: "marketing", Version: nv.GetNotice().GetVersion(), Language: "en"}})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ks, err := consentv1.NewConsentServiceClient(pki.Dial(t, "sotto-cli", "consent", addr)).GetReceiptKeys(bg, &consentv1.GetReceiptKeysRequest{})
	if err != nil || len(ks.GetKeys()) != 1 {
		t.Fatalf("receipt keys: %v %v", ks, err)
	}
	pinned := creceipt.ReceiptKeys{}
	kid, pub, err := creceipt.ParseReceiptKey(ks.GetKeys()[0].GetKeyId() + "=" + ks.GetKeys()[0].GetPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pinned[kid] = pub
	if _, err := creceipt.VerifyReceipt(resp.GetReceipt().GetJws(), pinned); err != nil {
		t.Fatal(err)
	}
	check, err := consentv1.NewConsentServiceClient(pki.Dial(t, "tokenvault", "consent", addr)).Check(bg,
		&consentv1.CheckRequest{Subject: "cus_1", PurposeId: "marketing"})
	if err != nil || !check.GetResult().GetAllowed() {
		t.Fatalf("check: %v %v", check, err)
	}
}

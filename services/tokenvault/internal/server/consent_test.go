package server_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/loopback"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	tvserver "github.com/sottohq/sotto/services/tokenvault/internal/server"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// consentTestRules are added to the built-in policy: a rule that requires
// consent for a contract purpose (delivery), which the consent service
// allows without any agreement, and so does pkg/consentclient from the
// catalogue it last saw while the service is down; and a lookup that may
// find only customers who agreed to crm_sync.
const consentTestRules = `
  - name: crmsync-delivery-contract
    callers: [crmsync]
    purposes: [delivery]
    data_types: [name]
    requires_consent: true
  - name: crmsync-find-consenting
    callers: [crmsync]
    purposes: [crm_sync]
    data_types: [email]
    actions: [lookup]
    requires_consent: true
`

// consentProc is the real consent service, its binary run as a process.
type consentProc struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// buildConsent builds the consent binary once per test binary.
var buildConsent = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tokenvault-consent-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "consent")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sottohq/sotto/services/consent/cmd/consent")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New("go build consent: " + err.Error() + ": " + string(out))
	}
	return bin, nil
})

func freeAddr(t testing.TB) string {
	t.Helper()
	addr, err := loopback.Next()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// identityKeys serves identity's two verifier RPCs (the JWK Set of the
// people's issuer, an empty revocation feed), which consent dials to
// verify the customer's token.
type identityKeys struct {
	identityv1.UnimplementedIdentityServiceServer
	issuer *accesstoken.Issuer
}

func (i identityKeys) GetJwks(ctx context.Context, _ *identityv1.GetJwksRequest) (*identityv1.GetJwksResponse, error) {
	b, err := i.issuer.JWKS(ctx)
	return &identityv1.GetJwksResponse{JwksJson: b, MaxAge: durationpb.New(time.Minute)}, err
}

func (identityKeys) WatchRevocations(_ *identityv1.WatchRevocationsRequest, s grpc.ServerStreamingServer[identityv1.WatchRevocationsResponse]) error {
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

// startConsent runs the consent binary with identity's keys from iss; its
// audit address is not served (its outbox keeps what it cannot send).
func startConsent(t testing.TB, pki *servertest.PKI, iss *accesstoken.Issuer) *consentProc {
	t.Helper()
	bin, err := buildConsent()
	if err != nil {
		t.Fatal(err)
	}
	idSrv := pki.NewServer(t, "identity", authz.Policy{
		identityv1.IdentityService_GetJwks_FullMethodName:          {"consent"},
		identityv1.IdentityService_WatchRevocations_FullMethodName: {"consent"},
	})
	identityv1.RegisterIdentityServiceServer(idSrv.GRPC(), identityKeys{issuer: iss})
	idAddr := servertest.Start(t, idSrv)

	f := pki.Identity(t, "consent")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	addr, admin := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"SOTTO_TRUST_DOMAIN="+servertest.TrustDomain,
		"SOTTO_TLS_CERT="+f.Cert, "SOTTO_TLS_KEY="+f.Key, "SOTTO_TLS_BUNDLE="+f.Bundle,
		"SOTTO_GRPC_ADDR="+addr, "SOTTO_ADMIN_ADDR="+admin,
		"SOTTO_DB_DSN=sqlite://"+filepath.Join(dir, "data", "consent.db"),
		"SOTTO_KEYRING_FILE="+filepath.Join(dir, "keyring.json"),
		"SOTTO_AUDIT_ADDR=127.0.0.1:1", "SOTTO_IDENTITY_ADDR="+idAddr,
		// consent carries out data-subject requests through the
		// participants (tokenvault, conversation, crmsync); these tests make none.
		"SOTTO_TOKENVAULT_ADDR=127.0.0.1:1", "SOTTO_CONVERSATION_ADDR=127.0.0.1:1", "SOTTO_CRMSYNC_ADDR=127.0.0.1:1",
		"SOTTO_LOG_LEVEL=error",
		// A quiet feed is told from a dead one within a second.
		"SOTTO_CONSENT_FEED_HEARTBEAT=250ms")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &consentProc{addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get("http://" + admin + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatal("consent exited before it was ready")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("consent did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the process at once (SIGKILL: an outage, not a shutdown).
func (p *consentProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// consentVault is a vault whose engine asks the consent service at addr
// through pkg/consentclient over mTLS, as main wires it.
func consentVault(t *testing.T, pki *servertest.PKI, ppl *people, consentAddr string) (*vault, *consentclient.Client) {
	t.Helper()
	db := storetest.SQLite(t, migrations.FS)
	ctx, cancel := context.WithCancel(context.Background())
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(ctx, "tokenvault-kek", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse(append(append([]byte{}, tokenvault.DefaultPolicy...), consentTestRules...))
	if err != nil {
		t.Fatal(err)
	}
	cc := consentclient.New(consentv1.NewConsentServiceClient(pki.Dial(t, "tokenvault", "consent", consentAddr)),
		consentclient.Options{StaleAfter: time.Second, ReconnectInitial: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	rec := &recorder{}
	eng := engine.New(storage.New(db), km, rec, auditclient.NewOutbox(db, nil, nil), pol, nil, engine.Options{Consent: cc})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); eng.RunWriter(ctx) }()
	go func() { defer wg.Done(); _ = cc.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	srv := ppl.server(t, pki, "tokenvault", tvserver.Policy)
	tokenvaultv1.RegisterTokenVaultServiceServer(srv.GRPC(), tvserver.New(eng))
	return &vault{pki: pki, addr: servertest.Start(t, srv), rec: rec, db: db, people: ppl}, cc
}

// decision detokenizes tok for purpose as caller and returns the decision's
// reason ("" when the value was revealed).
func decision(t *testing.T, c tokenvaultv1.TokenVaultServiceClient, purpose, tok string) string {
	t.Helper()
	resp, err := c.Detokenize(context.Background(), &tokenvaultv1.DetokenizeRequest{Tokens: []string{tok}, Purpose: purpose})
	if err != nil {
		t.Fatalf("detokenize %s: %v", purpose, err)
	}
	r := resp.GetResults()[0]
	if r.GetError() != nil {
		t.Fatalf("detokenize %s: item error %v", purpose, r.GetError())
	}
	if r.GetDecision().GetAllowed() {
		if r.GetValue() == "" {
			t.Fatal("allowed without a value")
		}
		return ""
	}
	if r.GetValue() != "" {
		t.Fatal("a refused value was revealed")
	}
	return r.GetDecision().GetReason()
}

// TestConsentCondition runs tokenvault against the real consent service
// (its binary, over mTLS): a crm_sync detokenisation needs the customer's
// consent; granting it allows, withdrawing it stops the next one within
// the change feed's latency (measured); with consent down, consent-based
// purposes are refused (fail closed) while contract purposes go on.
func TestConsentCondition(t *testing.T) {
	pki := servertest.NewPKI(t)
	ppl := newPeople(t, tvserver.EndUsers)
	cs := startConsent(t, pki, ppl.issuer)
	v, cc := consentVault(t, pki, ppl, cs.addr)
	ctx := context.Background()
	for cc.Ready(ctx) != nil { // the feed's first message: an event, not a time
		time.Sleep(5 * time.Millisecond)
	}

	crm, conv := v.client(t, "crmsync"), v.client(t, "conversation")
	resp, err := conv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Subject: "cus_1", Items: []*tokenvaultv1.TokenizeItem{
		{Value: "Carla Customer", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME},
		{Value: "carla@example.com", DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL},
	}})
	if err != nil {
		t.Fatal(err)
	}
	name, email := resp.GetResults()[0].GetToken(), resp.GetResults()[1].GetToken()
	// The same address of two customers (a family's): a lookup for crm_sync
	// may find only the one who agreed.
	for _, sub := range []string{"cus_1", "cus_2"} {
		if _, err := conv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Subject: sub, Items: []*tokenvaultv1.TokenizeItem{
			{Value: "family@example.com", DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL, Format: tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	found := func() []string {
		t.Helper()
		resp, err := crm.LookupToken(ctx, &tokenvaultv1.LookupTokenRequest{DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL,
			Value: "family@example.com", Purpose: "crm_sync"})
		if err != nil {
			t.Fatalf("lookup: %v", err)
		}
		var subs []string
		for _, m := range resp.GetMatches() {
			subs = append(subs, m.GetSubject())
		}
		return subs
	}
	if got := found(); len(got) != 0 {
		t.Fatalf("crm_sync lookup before any consent found %v", got)
	}

	// No consent yet: default deny, recorded as such.
	before := v.rec.count()
	if got := decision(t, crm, "crm_sync", email); got != reasons.ConsentRequired {
		t.Fatalf("crm_sync before any consent: %q; want %s", got, reasons.ConsentRequired)
	}
	if evs := v.rec.since(before); len(evs) != 1 || evs[0].Outcome != auditclient.Denied || evs[0].Reason != reasons.ConsentRequired {
		t.Fatalf("audit of the refusal: %+v", evs)
	}
	// A contract purpose under a rule with the condition: consent allows it.
	if got := decision(t, crm, "delivery", name); got != "" {
		t.Fatalf("delivery: %q; want allowed", got)
	}

	gw := consentv1.NewConsentServiceClient(pki.Dial(t, "gateway", "consent", cs.addr))
	cust := as(ppl.token(t, person(accesstoken.KindCustomer, "cus_1", accesstoken.AAL1, 0)))
	nv, err := gw.GetNoticeVersion(ctx, &consentv1.GetNoticeVersionRequest{NoticeId: "crm-sharing"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		// consent fetches identity's keys in the background; until then a
		// customer's call fails closed.
		_, err = gw.GrantConsent(cust, &consentv1.GrantConsentRequest{PurposeId: "crm_sync", Channel: consentv1.Channel_CHANNEL_WEB,
			RequestId: "grant-1", Notice: &consentv1.NoticeRef{NoticeId: "crm-sharing", Version: nv.GetNotice().GetVersion(), Language: "en"}})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The grant reaches the cache through the feed too.
	for decision(t, crm, "crm_sync", email) != "" {
		if time.Now().After(deadline) {
			t.Fatal("crm_sync still refused after the grant")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Cached now: the next answers come without a round trip.
	if got := decision(t, crm, "crm_sync", email); got != "" {
		t.Fatalf("crm_sync after the grant: %q", got)
	}
	if got := found(); len(got) != 1 || got[0] != "cus_1" {
		t.Fatalf("crm_sync lookup after cus_1's grant found %v; want [cus_1]", got)
	}

	// Withdrawal: measured from the moment the withdrawal returns to the
	// first refused detokenisation.
	if _, err := gw.WithdrawConsent(cust, &consentv1.WithdrawConsentRequest{PurposeId: "crm_sync", Channel: consentv1.Channel_CHANNEL_WEB,
		RequestId: "withdraw-1"}); err != nil {
		t.Fatal(err)
	}
	withdrawn := time.Now()
	polls := 0
	for {
		polls++
		got := decision(t, crm, "crm_sync", email)
		if got == reasons.ConsentRequired {
			break
		}
		if got != "" || time.Since(withdrawn) > 10*time.Second {
			t.Fatalf("crm_sync %v after the withdrawal: %q", time.Since(withdrawn), got)
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("withdrawal stopped crm_sync detokenisation after %v (%d detokenisations)", time.Since(withdrawn), polls)

	// Consent goes down: consent-based purposes are refused at once (the
	// feed is gone, so the cache is not used); the contract purpose goes
	// on from the catalogue the client saw; a rule without the condition
	// never asks.
	cs.kill()
	down := time.Now()
	for {
		got := decision(t, crm, "crm_sync", email)
		if got == reasons.ConsentUnavailable {
			break
		}
		if got != reasons.ConsentRequired || time.Since(down) > 10*time.Second {
			t.Fatalf("crm_sync with consent down: %q", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("consent down: crm_sync refused with %s after %v", reasons.ConsentUnavailable, time.Since(down))
	if got := decision(t, crm, "delivery", name); got != "" {
		t.Errorf("delivery (contract) with consent down: %q; want allowed", got)
	}
	_, err = crm.LookupToken(ctx, &tokenvaultv1.LookupTokenRequest{DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL,
		Value: "family@example.com", Purpose: "crm_sync"})
	wantCode(t, err, codes.Unavailable, reasons.ConsentUnavailable)
	if got := decision(t, conv, "order_support", name); got != "" {
		t.Errorf("order_support (no consent condition) with consent down: %q; want allowed", got)
	}
	if !strings.Contains(cc.Ready(ctx).Error(), "not current") {
		t.Errorf("the client still calls its feed current with consent down")
	}
}

package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/accesstoken/accesstokentest"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	pkgserver "github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/app"
	"github.com/sottohq/sotto/services/conversation/internal/config"
	"github.com/sottohq/sotto/services/conversation/internal/server"
	"github.com/sottohq/sotto/services/conversation/migrations"
)

var issuerName = "spiffe://" + servertest.TrustDomain + "/identity"

// revocationFeed stands in for identity's WatchRevocations: an empty
// backlog, then connected (pkg/enduser's own tests cover revocation); a
// session id sent on revoke is revoked (reviewfix_watch_test.go).
type revocationFeed struct{ revoke chan string }

func (f revocationFeed) Watch(ctx context.Context, _ string, fn func(enduser.Revocation) error) error {
	if err := fn(enduser.Revocation{Cursor: "1"}); err != nil {
		return err
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case sid := <-f.revoke:
			if err := fn(enduser.Revocation{Cursor: "1", SessionID: sid}); err != nil {
				return err
			}
		case <-t.C:
			if err := fn(enduser.Revocation{Cursor: "1"}); err != nil {
				return err
			}
		}
	}
}

// vault is a stand-in token vault served over real gRPC with mTLS (only the
// conversation workload may call it). The real one lives in another
// module's internal packages and needs the audit service; the cross-service
// tests in test/ run both binaries. It keeps values in this process's
// memory, never in the database under test, and records each call.
type vault struct {
	tokenvaultv1.UnimplementedTokenVaultServiceServer
	mu     sync.Mutex
	calls  []*tokenvaultv1.TokenizeRequest
	values map[string]string
	down   bool
	n      int
	// erased: EraseSubject calls; eraseDown fails them.
	erased    []*tokenvaultv1.EraseSubjectRequest
	eraseDown bool
}

func (v *vault) Tokenize(_ context.Context, req *tokenvaultv1.TokenizeRequest) (*tokenvaultv1.TokenizeResponse, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down {
		return nil, errs.E(errs.Unavailable, "STANDIN_DOWN", "the stand-in is down")
	}
	v.calls = append(v.calls, req)
	out := &tokenvaultv1.TokenizeResponse{}
	for _, it := range req.GetItems() {
		v.n++
		tok := "tok_standin_" + string(rune('a'+v.n%26)) + time.Now().Format("150405.000000000")
		v.values[tok] = it.GetValue()
		out.Results = append(out.Results, &tokenvaultv1.TokenizeResult{Result: &tokenvaultv1.TokenizeResult_Token{Token: tok}})
	}
	return out, nil
}

// EraseSubject records the subjects the service erases (its channel
// pseudonyms, pseudonym_erase_test.go); eraseDown fails them Unavailable.
func (v *vault) EraseSubject(_ context.Context, req *tokenvaultv1.EraseSubjectRequest) (*tokenvaultv1.EraseSubjectResponse, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down || v.eraseDown {
		return nil, errs.E(errs.Unavailable, "STANDIN_DOWN", "the stand-in is down")
	}
	v.erased = append(v.erased, req)
	return &tokenvaultv1.EraseSubjectResponse{Evidence: &tokenvaultv1.ErasureEvidence{Subject: req.GetSubject(), RequestId: req.GetRequestId()}}, nil
}

func (v *vault) setDown(down bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.down = down
}

func (v *vault) requests() []*tokenvaultv1.TokenizeRequest {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]*tokenvaultv1.TokenizeRequest(nil), v.calls...)
}

// syncBuffer collects the service's log lines for the canary search.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// harness is the conversation service as cmd/conversation builds it
// (app.New, the production interceptor chain over mTLS with the pkg/enduser
// table), on one database, with real access tokens and the stand-in vault.
type harness struct {
	t      testing.TB
	db     *store.DB
	app    *app.App
	vault  *vault
	issuer *accesstoken.Issuer
	logs   *syncBuffer
	client conversationv1.ConversationServiceClient
	pki    *servertest.PKI
	addr   string
	// channels: the jobs runner, Graph API emulator and clock of the
	// messaging channels (channels_test.go).
	channels *channelRig
	// revoke revokes a session through the revocation feed.
	revoke chan string
}

// newHarness builds the harness; opts change the configuration (the
// assistant's model server, assistant_test.go).
func newHarness(t testing.TB, db *store.DB, opts ...func(*config.Config)) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, db: db, pki: servertest.NewPKI(t), vault: &vault{values: map[string]string{}}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var cfg config.Config
	if err := env.ParseWithOptions(&cfg, env.Options{Prefix: "SOTTO_", Environment: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	cfg.WatchPollInterval = 20 * time.Millisecond
	// The built-in assistant's shop "shop", whose customers the harness signs in.
	cfg.FixturesDir = filepath.Join("testdata", "fixtures")
	for _, o := range opts {
		o(&cfg)
	}
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	vsrv := h.pki.NewServer(t, "tokenvault", authz.Policy{tokenvaultv1.TokenVaultService_Tokenize_FullMethodName: {"conversation"},
		// Values read back as the person a call serves (reveal_test.go).
		tokenvaultv1.TokenVaultService_Detokenize_FullMethodName:   {"conversation"},
		tokenvaultv1.TokenVaultService_RevealMasked_FullMethodName: {"conversation"},
		// Channel pseudonyms erased with their account (pseudonym_erase_test.go).
		tokenvaultv1.TokenVaultService_EraseSubject_FullMethodName: {"conversation"}})
	tokenvaultv1.RegisterTokenVaultServiceServer(vsrv.GRPC(), h.vault)
	vconn := h.pki.Dial(t, "conversation", "tokenvault", servertest.Start(t, vsrv))
	h.channels = newChannelRig(t, h, db, logger)
	cfg.GraphURL = h.channels.api.URL()
	a, err := app.New(ctx, app.Deps{Config: cfg, DB: db, Keys: km, Audit: auditclient.NewOutbox(db, nil, nil),
		Vault: tokenvaultv1.NewTokenVaultServiceClient(vconn), Logger: logger, Now: h.channels.now,
		Jobs: h.channels.jobs, Consent: harnessConsent(t), ChannelEgress: h.channels.egress, ChannelSecrets: h.channels.secrets, ChannelVault: h.channels.vault})
	if err != nil {
		t.Fatal(err)
	}
	h.channels.start(t)
	h.app = a
	id := accesstokentest.New(t, issuerName)
	h.issuer = id.Issuer
	verifier, err := accesstoken.NewVerifier(id.Keys, issuerName)
	if err != nil {
		t.Fatal(err)
	}
	h.revoke = make(chan string, 4)
	revocations := enduser.NewRevocations(revocationFeed{revoke: h.revoke})
	authn, err := enduser.NewAuthenticator(verifier, revocations, server.EndUsers)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = revocations.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	for revocations.Ready(ctx) != nil {
		time.Sleep(5 * time.Millisecond)
	}
	srv, err := pkgserver.New(context.Background(), "conversation", h.pki.Config(t, "conversation"), server.Policy, logger,
		pkgserver.WithInterceptors(authn.UnaryInterceptor(), authn.StreamInterceptor()))
	if err != nil {
		t.Fatal(err)
	}
	conversationv1.RegisterConversationServiceServer(srv.GRPC(), a.Server)
	privacyv1.RegisterPrivacyParticipantServiceServer(srv.GRPC(), a.Privacy)
	var served []string
	for name, info := range srv.GRPC().GetServiceInfo() {
		for _, m := range info.Methods {
			served = append(served, "/"+name+"/"+m.Name)
		}
	}
	if err := authn.CheckMethods(served); err != nil {
		t.Fatal(err)
	}
	h.addr = servertest.Start(t, srv)
	h.client = conversationv1.NewConversationServiceClient(h.pki.Dial(t, "gateway", "conversation", h.addr))
	return h
}

// dialects runs fn on SQLite and, where the test server is reachable, on
// PostgreSQL (storetest skips it otherwise, and fails under CI=true).
func dialects(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Helper()
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) { fn(t, newHarness(t, db)) })
}

func (h *harness) token(c accesstoken.Claims) context.Context {
	h.t.Helper()
	if c.SessionID == "" {
		c.SessionID = "ses_" + c.Subject
	}
	c.AuthTime = time.Now()
	tok, err := h.issuer.Issue(context.Background(), c)
	if err != nil {
		h.t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

// customer is a signed-in customer of the shop "shop" (aal1).
func (h *harness) customer(subject string) context.Context {
	return h.token(accesstoken.Claims{Subject: subject, Kind: accesstoken.KindCustomer, Tenant: "shop", AAL: accesstoken.AAL1, AMR: []string{"pwd"}})
}

// staff is a staff member at aal2 with roles.
func (h *harness) staff(subject string, roles ...string) context.Context {
	return h.token(accesstoken.Claims{Subject: subject, Kind: accesstoken.KindStaff, AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}, Roles: roles})
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func sqliteDB(t testing.TB) *store.DB { return storetest.SQLite(t, migrations.FS) }

package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/pquerna/otp/totp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/keys"
	pkgserver "github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/identity/internal/app"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/config"
	"github.com/sottohq/sotto/services/identity/internal/contacts/contactstest"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/server"
	"github.com/sottohq/sotto/services/identity/internal/throttle"
	"github.com/sottohq/sotto/services/identity/migrations"
)

// clock is the domain's clock: real time, or frozen (a lock set at an
// instant then never expires during the test). Token issuing and
// verification use the real clock, so it is never set ahead of it.
type clock struct {
	mu     sync.Mutex
	frozen time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen.IsZero() {
		return c.frozen
	}
	return time.Now()
}

func (c *clock) freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = time.Now()
}

// harness is identity's real server (app.New, the production interceptor
// chain over mTLS with the pkg/enduser table) on one database, with the
// stand-in vault, the dev mailbox and counters of evaluated secrets.
type harness struct {
	t        testing.TB
	db       *store.DB
	app      *app.App
	vault    *contactstest.Vault
	mailbox  string
	mailKey  []byte
	clock    *clock
	pwChecks atomic.Int64
	dummies  atomic.Int64
	mfChecks atomic.Int64
	pki      *servertest.PKI
	// logs are what identity and its server logged, as JSON lines.
	logs  *syncBuffer
	addr  string
	conns map[string]*grpc.ClientConn
	mu    sync.Mutex
}

type options struct {
	throttle *throttle.Config
	domain   *auth.Config
}

func newHarness(t testing.TB, db *store.DB, opt options) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, db: db, clock: &clock{}, pki: servertest.NewPKI(t), conns: map[string]*grpc.ClientConn{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var cfg config.Config
	if err := env.ParseWithOptions(&cfg, env.Options{Prefix: "SOTTO_", Environment: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	cfg.HashMaxWait = time.Minute // the machine is shared: waiting is not what these tests measure
	cfg.PruneInterval = time.Hour
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := events.New(ctx, db, events.Options{Heartbeat: 200 * time.Millisecond, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	vault, vc := contactstest.Start(t, h.pki)
	h.vault = vault
	h.mailbox = filepath.Join(t.TempDir(), "mailbox.jsonl")
	h.mailKey, err = notify.MailboxKey(ctx, km, cfg.SecretsKey)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := notify.NewMailbox(h.mailbox, h.mailKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, app.Deps{
		Config: cfg, DB: db, Keys: km, Audit: auditclient.NewOutbox(db, nil, nil), Events: evs, Vault: vc,
		Notifier: mb, TrustDomain: servertest.TrustDomain, Now: h.clock.now, Logger: logger,
		OnPasswordCheck: func(real bool) {
			if real {
				h.pwChecks.Add(1)
			} else {
				h.dummies.Add(1)
			}
		}, OnSecondFactorCheck: func() { h.mfChecks.Add(1) },
		Throttle: opt.throttle, Domain: opt.domain,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.app = a
	// End users are authenticated as pkg/service's EndUsersFrom does it:
	// identity's own keys and feed, the interceptors after workload
	// authorisation and before validation, the table checked against the
	// served methods.
	verifier, err := accesstoken.NewVerifier(a.Keys, app.Issuer(servertest.TrustDomain))
	if err != nil {
		t.Fatal(err)
	}
	revocations := enduser.NewRevocations(a.Feed)
	authn, err := enduser.NewAuthenticator(verifier, revocations, server.EndUsers)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for name, task := range map[string]func(context.Context) error{"keys": a.Keys.Run, "revocations": revocations.Run, "prune": a.Prune} {
		wg.Go(func() {
			if err := task(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("task %s: %v", name, err)
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	srv, err := pkgserver.New(context.Background(), "identity", h.pki.Config(t, "identity"), server.Policy(suite.MustLoad()), logger,
		pkgserver.WithInterceptors(authn.UnaryInterceptor(), authn.StreamInterceptor()))
	if err != nil {
		t.Fatal(err)
	}
	identityv1.RegisterIdentityServiceServer(srv.GRPC(), a.Server)
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
	return h
}

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sqlite runs fn with a harness on SQLite (most server tests: the store's
// behaviour on both databases is the storage suite's).
func sqlite(t *testing.T, opt options) *harness {
	return newHarness(t, storetest.SQLite(t, migrations.FS), opt)
}

// client calls identity as the workload named as.
func (h *harness) client(as string) identityv1.IdentityServiceClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.conns[as]
	if !ok {
		c = h.pki.Dial(h.t, as, "identity", h.addr)
		h.conns[as] = c
	}
	return identityv1.NewIdentityServiceClient(c)
}

// privacy calls identity's data-subject participant as the workload named
// as (the orchestrator is consent).
func (h *harness) privacy(as string) privacyv1.PrivacyParticipantServiceClient {
	h.client(as) // opens the connection
	h.mu.Lock()
	defer h.mu.Unlock()
	return privacyv1.NewPrivacyParticipantServiceClient(h.conns[as])
}

// gw is the gateway's client.
func (h *harness) gw() identityv1.IdentityServiceClient { return h.client("gateway") }

// from is ctx as the gateway sends a request of a client at ip.
func from(ip string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "x-sotto-client-ip", ip)
}

// bearer is ctx carrying an access token, from ip 10.0.0.1.
func bearer(token string) context.Context {
	return metadata.AppendToOutgoingContext(from("10.0.0.1"), "authorization", "Bearer "+token)
}

const strongPassword = "vivid otter lamp quartz ninety"

// signUp creates and verifies a customer and logs them in.
func (h *harness) signUp(tenant, email string) *identityv1.Tokens {
	h.t.Helper()
	ctx := from("10.0.0.1")
	if _, err := h.gw().SignUp(ctx, &identityv1.SignUpRequest{Tenant: tenant, Email: email, Password: strongPassword}); err != nil {
		h.t.Fatalf("sign up: %v", err)
	}
	e := h.mail(email, notify.KindVerifyEmail)
	if _, err := h.gw().VerifyEmail(ctx, &identityv1.VerifyEmailRequest{Code: e.Code}); err != nil {
		h.t.Fatalf("verify: %v", err)
	}
	return h.login(tenant, email, strongPassword)
}

func (h *harness) login(tenant, email, pw string) *identityv1.Tokens {
	h.t.Helper()
	resp, err := h.gw().Login(from("10.0.0.1"), &identityv1.LoginRequest{Tenant: tenant, Email: email, Password: pw})
	if err != nil {
		h.t.Fatalf("login: %v", err)
	}
	return resp.GetTokens()
}

func (h *harness) mail(email, kind string) notify.Entry {
	h.t.Helper()
	h.app.Domain.Wait() // messages sent after a commit, in the background
	e, ok, err := notify.Latest(h.mailbox, h.mailKey, email, kind)
	if err != nil || !ok {
		h.t.Fatalf("no %s message for the address in the mailbox (%v)", kind, err)
	}
	return e
}

// enrolTOTP enrols an authenticator app for the session and returns its
// secret, the recovery codes and aal2 tokens. Confirming an enrolment does
// not raise the session (the password alone must not reach aal2), so the
// app then steps up as a client would, with a code of the app: the
// enrolment is confirmed with the previous step's code (accepted within
// ±1), the step-up uses the current one, and nextCode stays unused.
func (h *harness) enrolTOTP(access string) (string, []string, *identityv1.Tokens) {
	h.t.Helper()
	begin, err := h.gw().BeginTotpEnrollment(bearer(access), &identityv1.BeginTotpEnrollmentRequest{})
	if err != nil {
		h.t.Fatalf("begin totp: %v", err)
	}
	u, err := url.Parse(begin.GetOtpauthUri())
	if err != nil {
		h.t.Fatal(err)
	}
	secret := u.Query().Get("secret")
	code, err := totp.GenerateCode(secret, h.clock.now().Add(-30*time.Second))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.gw().ConfirmTotpEnrollment(bearer(access), &identityv1.ConfirmTotpEnrollmentRequest{FactorId: begin.GetFactorId(), Code: code})
	if err != nil {
		h.t.Fatalf("confirm totp: %v", err)
	}
	if resp.GetTokens().GetAccessToken() != "" {
		h.t.Fatalf("confirming an enrolment returned tokens (aal %d)", resp.GetTokens().GetAal())
	}
	now, err := totp.GenerateCode(secret, h.clock.now())
	if err != nil {
		h.t.Fatal(err)
	}
	up, err := h.gw().StepUp(bearer(access), &identityv1.StepUpRequest{Proof: &identityv1.StepUpRequest_TotpCode{TotpCode: now}})
	if err != nil {
		h.t.Fatalf("step up after enrolment: %v", err)
	}
	return secret, resp.GetRecoveryCodes(), up.GetTokens()
}

// totpCode is the code of the step after the current one's (so it was not
// used by the enrolment); accepted within the ±1 window.
func (h *harness) nextCode(secret string) string {
	code, err := totp.GenerateCode(secret, h.clock.now().Add(30*time.Second))
	if err != nil {
		h.t.Fatal(err)
	}
	return code
}

// audited returns the audit events identity committed to its outbox.
func (h *harness) audited() []*auditv1.EventInput {
	h.t.Helper()
	rows, err := h.db.QueryContext(context.Background(), `SELECT payload FROM audit_outbox ORDER BY seq`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []*auditv1.EventInput
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			h.t.Fatal(err)
		}
		e := &auditv1.EventInput{}
		if err := proto.Unmarshal(b, e); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func (h *harness) countAudited(action auditclient.Action, outcome auditclient.Outcome) int {
	n := 0
	for _, e := range h.audited() {
		if e.GetAction() == string(action) && e.GetOutcome() == outcome {
			n++
		}
	}
	return n
}

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// wantErr checks a call's code and reason (the ErrorInfo of identity's
// domain, or of the MFA package).
func wantErr(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	st := grpcstatus.Convert(err)
	if err == nil || st.Code() != code {
		t.Fatalf("error = %v, want %v %s", err, code, reason)
	}
	if got := reasonOf(err); got != reason {
		t.Fatalf("reason = %q (%v), want %q", got, err, reason)
	}
}

func reasonOf(err error) string {
	for _, d := range grpcstatus.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func infoOf(err error) *errdetails.ErrorInfo {
	for _, d := range grpcstatus.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

func status(err error) codes.Code { return grpcstatus.Code(err) }

func newKeyring(t testing.TB) *keys.Local {
	t.Helper()
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "other.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), "identity-token", keys.TypeEd25519); err != nil {
		t.Fatal(err)
	}
	return km
}

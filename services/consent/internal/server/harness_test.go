package server_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/jonboulle/clockwork"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/accesstoken/accesstokentest"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	pkgserver "github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/consent/internal/app"
	"github.com/sottohq/sotto/services/consent/internal/config"
	"github.com/sottohq/sotto/services/consent/internal/dsr"
	"github.com/sottohq/sotto/services/consent/internal/server"
	"github.com/sottohq/sotto/services/consent/migrations"
)

// tokens are real access tokens: signed by an identity-token key in a
// local keyring, verified by pkg/accesstoken's Verifier over the issuer's
// JWK Set, as every service verifies identity's.
type tokens struct {
	issuer *accesstoken.Issuer
	keys   *accesstoken.KeySet
}

var issuerName = "spiffe://" + servertest.TrustDomain + "/identity"

func newTokens(t testing.TB) *tokens {
	t.Helper()
	id := accesstokentest.New(t, issuerName)
	iss, set := id.Issuer, id.Keys
	return &tokens{issuer: iss, keys: set}
}

func (tk *tokens) issue(t testing.TB, c accesstoken.Claims) string {
	t.Helper()
	if c.SessionID == "" {
		c.SessionID = "ses_" + c.Subject
	}
	if c.AuthTime.IsZero() {
		c.AuthTime = time.Now()
	}
	tok, err := tk.issuer.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// revocationFeed stands in for identity's WatchRevocations: its backlog is
// empty, then it stays connected (the feed's contract as pkg/enduser reads
// it; pkg/enduser's own tests cover revocation).
type revocationFeed struct{}

func (revocationFeed) Watch(ctx context.Context, _ string, fn func(enduser.Revocation) error) error {
	if err := fn(enduser.Revocation{Cursor: "1"}); err != nil {
		return err
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := fn(enduser.Revocation{Cursor: "1"}); err != nil {
				return err
			}
		}
	}
}

// harness is the consent service as cmd/consent builds it (app.New, the
// production interceptor chain over mTLS with the pkg/enduser table), on
// one database, with real tokens.
type harness struct {
	t   testing.TB
	db  *store.DB
	app *app.App
	// clk is the job runner's clock: tests advance it past backoffs.
	clk    *clockwork.FakeClock
	runner *jobs.Runner
	// parts are the stand-in participants (audit, identity, tokenvault)
	// over real gRPC with mTLS.
	parts  map[string]*standIn
	tokens *tokens
	pki    *servertest.PKI
	addr   string
	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
}

func newHarness(t testing.TB, db *store.DB) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, db: db, tokens: newTokens(t), pki: servertest.NewPKI(t), conns: map[string]*grpc.ClientConn{}}
	var cfg config.Config
	if err := env.ParseWithOptions(&cfg, env.Options{Prefix: "SOTTO_", Environment: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	cfg.FeedHeartbeat = 100 * time.Millisecond
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := events.New(ctx, db, events.Options{Heartbeat: time.Second, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.clk = clockwork.NewFakeClock()
	h.runner, err = jobs.New(db, jobs.Config{Clock: h.clk, BackoffBase: time.Second, BackoffMax: 2 * time.Second, Logger: servertest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	names := suite.MustLoad().PrivacyParticipants()
	clients := map[string]dsr.Participant{}
	h.parts = map[string]*standIn{}
	for _, name := range names {
		if name == dsr.ConsentParticipant {
			continue
		}
		p := &standIn{name: name}
		h.parts[name] = p
		clients[name] = privacyv1.NewPrivacyParticipantServiceClient(h.pki.Dial(t, "consent", name, p.start(t, h.pki)))
	}
	a, err := app.New(ctx, app.Deps{Config: cfg, DB: db, Keys: km, Audit: auditclient.NewOutbox(db, nil, nil), Events: evs,
		Jobs: h.runner, Participants: clients, ParticipantNames: names, DSRMaxAttempts: dsrMaxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	h.app = a
	verifier, err := accesstoken.NewVerifier(h.tokens.keys, issuerName)
	if err != nil {
		t.Fatal(err)
	}
	revocations := enduser.NewRevocations(revocationFeed{})
	authn, err := enduser.NewAuthenticator(verifier, revocations, server.EndUsers)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = revocations.Run(ctx) })
	wg.Go(func() { _ = h.runner.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	for revocations.Ready(ctx) != nil {
		time.Sleep(5 * time.Millisecond)
	}
	srv, err := pkgserver.New(context.Background(), "consent", h.pki.Config(t, "consent"), server.Policy, servertest.Logger(),
		pkgserver.WithInterceptors(authn.UnaryInterceptor(), authn.StreamInterceptor()))
	if err != nil {
		t.Fatal(err)
	}
	consentv1.RegisterConsentServiceServer(srv.GRPC(), a.Server)
	consentv1.RegisterDataSubjectRequestServiceServer(srv.GRPC(), a.DSRServer)
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

func sqlite(t testing.TB) *harness { return newHarness(t, storetest.SQLite(t, migrations.FS)) }

// client calls the service as the workload named as.
func (h *harness) client(as string) consentv1.ConsentServiceClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.conns[as]
	if !ok {
		c = h.pki.Dial(h.t, as, "consent", h.addr)
		h.conns[as] = c
	}
	return consentv1.NewConsentServiceClient(c)
}

// dsr is the gateway's client of the data-subject request API.
func (h *harness) dsr() consentv1.DataSubjectRequestServiceClient {
	h.client("gateway")
	h.mu.Lock()
	defer h.mu.Unlock()
	return consentv1.NewDataSubjectRequestServiceClient(h.conns["gateway"])
}

// gw is the gateway's client.
func (h *harness) gw() consentv1.ConsentServiceClient { return h.client("gateway") }

func bearer(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// customer is a signed-in customer's context (aal1).
func (h *harness) customer(subject string) context.Context {
	return bearer(h.tokens.issue(h.t, accesstoken.Claims{Subject: subject, Kind: accesstoken.KindCustomer, Tenant: "shop",
		AAL: accesstoken.AAL1, AMR: []string{"pwd"}}))
}

// staff is a staff member's context with roles at aal.
func (h *harness) staff(subject string, aal int, roles ...string) context.Context {
	amr := []string{"pwd"}
	if aal == accesstoken.AAL2 {
		amr = append(amr, "otp")
	}
	return bearer(h.tokens.issue(h.t, accesstoken.Claims{Subject: subject, Kind: accesstoken.KindStaff, AAL: aal, AMR: amr, Roles: roles}))
}

// officer is a privacy officer at aal2.
func (h *harness) officer() context.Context {
	return h.staff("stf_officer", accesstoken.AAL2, accesstoken.RolePrivacyOfficer)
}

// reasonOf is the ErrorInfo reason of a call's error.
func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// auditEvents are the events in the audit outbox, oldest first.
func (h *harness) auditEvents() []*auditv1.EventInput {
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
		ev := &auditv1.EventInput{}
		if err := proto.Unmarshal(b, ev); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// counts are the rows of every table a decision writes.
type counts struct{ records, state, receipts, requests, audit, events int }

func (h *harness) counts() counts {
	h.t.Helper()
	var c counts
	for _, q := range []struct {
		table string
		n     *int
	}{{"consent_records", &c.records}, {"consent_state", &c.state}, {"consent_receipts", &c.receipts},
		{"consent_requests", &c.requests}, {"audit_outbox", &c.audit}, {"event_outbox", &c.events}} {
		if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+q.table).Scan(q.n); err != nil {
			h.t.Fatal(err)
		}
	}
	return c
}

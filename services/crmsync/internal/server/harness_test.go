package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.yaml.in/yaml/v3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	pkgserver "github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/crmsync/internal/app"
	"github.com/sottohq/sotto/services/crmsync/internal/config"
	"github.com/sottohq/sotto/services/crmsync/internal/consentfeed"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/server"
	"github.com/sottohq/sotto/services/crmsync/migrations"
)

// The shop "shop"'s CRM credentials.
const (
	hubspotToken = "pat-na1-11111111-2222-3333-4444-555555555555"
	sfClientID   = "3MVG9shop-connected-app"
	sfSecret     = "connected-app-secret"
)

// The shop's mappings: HubSpot gets the e-mail address in plaintext, the
// first name masked, the last name as a token and conversation summaries;
// Salesforce gets the e-mail address as a token, one request a second.
// Phone numbers and postal addresses are mapped nowhere.
const (
	hubspotMapping = `
hubspot: {id_property: sotto_subject}
fields:
  - {field: email, property: email, purpose: crm_sync, form: plaintext}
  - {field: first_name, property: firstname, purpose: crm_sync, form: masked}
  - {field: last_name, property: lastname, purpose: crm_sync}
  - {field: conversation_summary, property: sotto_last_conversation, purpose: crm_sync}
consents:
  - {purpose: marketing, property: sotto_marketing_opt_out, granted: "false", withdrawn: "true"}
`
	salesforceMapping = `
salesforce: {url: '%s', api_version: v62.0, object: Contact, external_id_field: Sotto_Subject__c}
rate: {per_second: 1, burst: 1}
fields:
  - {field: email, property: Email, purpose: crm_sync}
`
)

// policyRule is a rule of the token vault's shipped policy.yaml.
type policyRule struct {
	Name            string   `yaml:"name"`
	Callers         []string `yaml:"callers"`
	Purposes        []string `yaml:"purposes"`
	DataTypes       []string `yaml:"data_types"`
	Actions         []string `yaml:"actions"`
	EndUser         any      `yaml:"end_user"`
	RequiresConsent bool     `yaml:"requires_consent"`
}

func shippedRules(t testing.TB) []policyRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "tokenvault", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Rules []policyRule `yaml:"rules"`
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.Rules
}

// consentStandIn is the consent service's Check and BatchCheck over real
// gRPC with mTLS (the real service lives in another module's internal
// packages). Decisions are a map the test changes; default deny.
type consentStandIn struct {
	consentv1.UnimplementedConsentServiceServer
	mu      sync.Mutex
	allowed map[string]bool
	down    bool
	// changes is the change feed: every decision set, in order; a cursor
	// is a position in it.
	changes []*consentv1.ConsentChange
}

func (c *consentStandIn) set(subject, purpose string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allowed[subject+"/"+purpose] = ok
	d := consentv1.Decision_DECISION_WITHDRAWN
	if ok {
		d = consentv1.Decision_DECISION_GRANTED
	}
	c.changes = append(c.changes, &consentv1.ConsentChange{Subject: subject, PurposeId: purpose, Decision: d,
		RecordId: "rec_" + strconv.Itoa(len(c.changes))})
}

// WatchConsentChanges serves the feed as the consent service does: a first
// message with the starting cursor, then each change with the cursor after
// it, resuming after a given cursor.
func (c *consentStandIn) WatchConsentChanges(req *consentv1.WatchConsentChangesRequest,
	stream grpc.ServerStreamingServer[consentv1.WatchConsentChangesResponse]) error {
	c.mu.Lock()
	pos := len(c.changes)
	c.mu.Unlock()
	if req.GetCursor() != "" {
		n, err := strconv.Atoi(req.GetCursor())
		if err != nil || n > pos {
			return errs.E(errs.InvalidArgument, "CURSOR_INVALID", "not a cursor of this feed")
		}
		pos = n
	}
	if err := stream.Send(&consentv1.WatchConsentChangesResponse{Cursor: strconv.Itoa(pos)}); err != nil {
		return err
	}
	for {
		c.mu.Lock()
		next := c.changes[pos:]
		c.mu.Unlock()
		for _, ch := range next {
			pos++
			if err := stream.Send(&consentv1.WatchConsentChangesResponse{Cursor: strconv.Itoa(pos),
				Change: &consentv1.WatchConsentChangesResponse_Consent{Consent: ch}}); err != nil {
				return err
			}
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (c *consentStandIn) decide(subject, purpose string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.allowed[subject+"/"+purpose]
}

func (c *consentStandIn) BatchCheck(_ context.Context, req *consentv1.BatchCheckRequest) (*consentv1.BatchCheckResponse, error) {
	c.mu.Lock()
	down := c.down
	c.mu.Unlock()
	if down {
		return nil, errs.E(errs.Unavailable, "STANDIN_DOWN", "the stand-in is down")
	}
	out := &consentv1.BatchCheckResponse{}
	for _, q := range req.GetChecks() {
		ok := c.decide(q.GetSubject(), q.GetPurposeId())
		r := &consentv1.CheckResult{Subject: q.GetSubject(), PurposeId: q.GetPurposeId(), Allowed: ok,
			LegalBasis: consentv1.LegalBasis_LEGAL_BASIS_CONSENT, Reason: consentv1.DecisionReason_DECISION_REASON_CONSENT_MISSING}
		if ok {
			r.Reason = consentv1.DecisionReason_DECISION_REASON_CONSENT_GRANTED
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

// vaultStandIn holds values by token in this process's memory (never in
// the database under test) and answers Detokenize by the shipped
// policy.yaml's workload rules for the caller crmsync, asking the consent
// stand-in where a rule requires consent, as tokenvault does; RevealMasked
// gives a masked view. It records the purposes it was asked for.
type vaultStandIn struct {
	tokenvaultv1.UnimplementedTokenVaultServiceServer
	rules   []policyRule
	consent *consentStandIn

	mu       sync.Mutex
	values   map[string]storedValue
	purposes []string
	// refuseAll, when set, is the decision reason every value is refused
	// with, as tokenvault refuses values whose consent it cannot check
	// (CONSENT_UNAVAILABLE).
	refuseAll string
}

type storedValue struct {
	subject, value string
	dataType       string
}

// tokenize stores value and returns a token of the vault's random format.
func (v *vaultStandIn) tokenize(subject, dataType, value string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 30)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	tok := "tok_" + dataType[:2] + "_" + string(b)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.values[tok] = storedValue{subject: subject, value: value, dataType: dataType}
	return tok
}

func (v *vaultStandIn) allows(purpose, dataType, subject string) bool {
	for _, r := range v.rules {
		if r.EndUser != nil || !slices.Contains(r.Callers, "crmsync") || !slices.Contains(r.Purposes, purpose) ||
			!slices.Contains(r.DataTypes, dataType) || (len(r.Actions) > 0 && !slices.Contains(r.Actions, "detokenize")) {
			continue
		}
		if r.RequiresConsent && !v.consent.decide(subject, purpose) {
			continue
		}
		return true
	}
	return false
}

func (v *vaultStandIn) Detokenize(_ context.Context, req *tokenvaultv1.DetokenizeRequest) (*tokenvaultv1.DetokenizeResponse, error) {
	v.mu.Lock()
	v.purposes = append(v.purposes, req.GetPurpose())
	v.mu.Unlock()
	out := &tokenvaultv1.DetokenizeResponse{}
	for _, tok := range req.GetTokens() {
		v.mu.Lock()
		sv, ok := v.values[tok]
		v.mu.Unlock()
		r := &tokenvaultv1.DetokenizeResult{Token: tok}
		v.mu.Lock()
		refuse := v.refuseAll
		v.mu.Unlock()
		switch {
		case refuse != "":
			r.Decision = &tokenvaultv1.Decision{Rule: "crmsync-minimised-sync", Reason: refuse}
		case !ok:
			r.Error = &tokenvaultv1.ItemError{Reason: "TOKEN_NOT_FOUND", Message: "unknown token"}
		case v.allows(req.GetPurpose(), sv.dataType, sv.subject):
			r.Value, r.Decision = sv.value, &tokenvaultv1.Decision{Allowed: true, Rule: "crmsync-minimised-sync"}
		default:
			r.Decision = &tokenvaultv1.Decision{Rule: "default-deny", Reason: "PURPOSE_NOT_ALLOWED"}
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

// Tokenize stores a rectification's values.
func (v *vaultStandIn) Tokenize(_ context.Context, req *tokenvaultv1.TokenizeRequest) (*tokenvaultv1.TokenizeResponse, error) {
	out := &tokenvaultv1.TokenizeResponse{}
	for _, it := range req.GetItems() {
		dt := strings.ToLower(strings.TrimPrefix(it.GetDataType().String(), "DATA_TYPE_"))
		out.Results = append(out.Results, &tokenvaultv1.TokenizeResult{Result: &tokenvaultv1.TokenizeResult_Token{
			Token: v.tokenize(req.GetSubject(), dt, it.GetValue())}})
	}
	return out, nil
}

// GetTokenMetadata names a token's subject, as tokenvault does; an unknown
// token is NotFound.
func (v *vaultStandIn) GetTokenMetadata(_ context.Context, req *tokenvaultv1.GetTokenMetadataRequest) (*tokenvaultv1.GetTokenMetadataResponse, error) {
	v.mu.Lock()
	sv, ok := v.values[req.GetToken()]
	v.mu.Unlock()
	if !ok {
		return nil, errs.E(errs.NotFound, "UNKNOWN_TOKEN", "unknown token")
	}
	return &tokenvaultv1.GetTokenMetadataResponse{Subject: sv.subject, Tenant: req.GetTenant()}, nil
}

func (v *vaultStandIn) RevealMasked(_ context.Context, req *tokenvaultv1.RevealMaskedRequest) (*tokenvaultv1.RevealMaskedResponse, error) {
	out := &tokenvaultv1.RevealMaskedResponse{}
	for _, tok := range req.GetTokens() {
		v.mu.Lock()
		sv, ok := v.values[tok]
		v.mu.Unlock()
		r := &tokenvaultv1.MaskedResult{Token: tok}
		if !ok {
			r.Error = &tokenvaultv1.ItemError{Reason: "TOKEN_NOT_FOUND", Message: "unknown token"}
		} else {
			r.Masked = sv.value[:1] + "•••"
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
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

type secretMap map[string]map[string]string

func (m secretMap) Get(_ context.Context, path string) (map[string]string, error) {
	if v, ok := m[path]; ok {
		return v, nil
	}
	return nil, errs.E(errs.NotFound, "SECRET_NOT_FOUND", "no secret at this path")
}

// harness is crmsync as cmd/crmsync builds it (app.New, the production
// interceptor chain over mTLS), on one database, with a jobs runner on a
// fake clock, the HubSpot and Salesforce emulators behind a real pkg/egress
// client, and stand-ins for consent and the token vault over mTLS.
type harness struct {
	t        testing.TB
	db       *store.DB
	app      *app.App
	clock    *clockwork.FakeClock
	jobs     *jobs.Runner
	hubspot  *crmtest.HubSpot
	sf       *crmtest.Salesforce
	consent  *consentStandIn
	vault    *vaultStandIn
	logs     *syncBuffer
	services crmsyncv1.CrmSyncServiceClient // as conversation
	// privacy is the participant protocol as the consent service calls it;
	// notConsent as conversation, which may not.
	privacy    privacyv1.PrivacyParticipantServiceClient
	notConsent privacyv1.PrivacyParticipantServiceClient
	operator   crmsyncv1.CrmSyncServiceClient // as sotto-cli
	gateway    crmsyncv1.CrmSyncServiceClient // as a workload with no grant
	// follow starts crmsync's follower of the consent change feed, as
	// cmd/crmsync runs it (off unless a test asks: the tests of the
	// delivery-time consent check must not be helped by it).
	follow func()
}

func newHarness(t testing.TB, db *store.DB, opts ...func(*config.Config)) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, db: db, clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)),
		logs: &syncBuffer{}, consent: &consentStandIn{allowed: map[string]bool{}}}
	h.vault = &vaultStandIn{rules: shippedRules(t), consent: h.consent, values: map[string]storedValue{}}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pki := servertest.NewPKI(t)

	csrv := pki.NewServer(t, "consent", authz.Policy{
		consentv1.ConsentService_Check_FullMethodName:               {"crmsync"},
		consentv1.ConsentService_BatchCheck_FullMethodName:          {"crmsync"},
		consentv1.ConsentService_WatchConsentChanges_FullMethodName: {"crmsync"},
	})
	consentv1.RegisterConsentServiceServer(csrv.GRPC(), h.consent)
	cconn := pki.Dial(t, "crmsync", "consent", servertest.Start(t, csrv))
	consent := consentclient.New(consentv1.NewConsentServiceClient(cconn), consentclient.Options{Logger: logger})
	h.follow = func() {
		f := consentfeed.New(consentv1.NewConsentServiceClient(cconn), h.app.Store, h.app.Delivery.Withdrawn, logger).OnChange(h.app.Delivery.ConsentChanged)
		done := make(chan struct{})
		go func() { defer close(done); _ = f.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	vsrv := pki.NewServer(t, "tokenvault", authz.Policy{
		tokenvaultv1.TokenVaultService_Detokenize_FullMethodName:       {"crmsync"},
		tokenvaultv1.TokenVaultService_RevealMasked_FullMethodName:     {"crmsync"},
		tokenvaultv1.TokenVaultService_Tokenize_FullMethodName:         {"crmsync"},
		tokenvaultv1.TokenVaultService_GetTokenMetadata_FullMethodName: {"crmsync"},
	})
	tokenvaultv1.RegisterTokenVaultServiceServer(vsrv.GRPC(), h.vault)
	vconn := pki.Dial(t, "crmsync", "tokenvault", servertest.Start(t, vsrv))

	h.hubspot = crmtest.NewHubSpot(t, hubspotToken, "sotto_subject")
	h.sf = crmtest.NewSalesforce(t, sfClientID, sfSecret, "v62.0", "Contact", "Sotto_Subject__c")
	roots := x509.NewCertPool()
	roots.AddCert(h.hubspot.Certificate())
	roots.AddCert(h.sf.Certificate())

	var cfg config.Config
	cfg.QueueKey, cfg.HubSpotURL, cfg.MaxAttempts, cfg.PlaintextPurposes = "crmsync-queue", h.hubspot.URL(), 4, []string{"crm_sync"}
	cfg.ErasureReadBacks, cfg.ErasureReadBackWait = 3, time.Millisecond
	for _, o := range opts {
		o(&cfg)
	}
	set, err := mapping.Load(nil, mapping.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	rules := mapping.Rules{PlaintextPurposes: cfg.PlaintextPurposes}
	for conn, y := range map[string]string{"hubspot": hubspotMapping, "salesforce": fmt.Sprintf(salesforceMapping, h.sf.URL())} {
		m, err := mapping.Parse("shop", conn, []byte(y), rules)
		if err != nil {
			t.Fatal(err)
		}
		set.Add(m)
	}
	// Another shop, whose CRM platform pulls its changes (stream_test.go).
	pm, err := mapping.Parse(platformShop, mapping.Platform, []byte(platformMapping), rules)
	if err != nil {
		t.Fatal(err)
	}
	set.Add(pm)
	hosts, err := app.EgressHosts(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	client, err := egress.New(egress.Config{AllowedHosts: hosts, AllowPrivateCIDRs: crmtest.Loopback(), RootCAs: roots, MaxRetries: -1}, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	h.jobs, err = jobs.New(db, jobs.Config{Clock: h.clock, Logger: logger, PollInterval: time.Second,
		BackoffBase: time.Second, BackoffMax: 4 * time.Second, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	evlog, err := sealedEvents(ctx, db, km)
	if err != nil {
		t.Fatal(err)
	}
	h.app, err = app.New(ctx, app.Deps{Config: cfg, DB: db, Keys: km, Audit: auditclient.NewOutbox(db, nil, nil), Jobs: h.jobs, Events: evlog,
		Vault: tokenvaultv1.NewTokenVaultServiceClient(vconn), HTTP: client, Mappings: set, Logger: logger, Now: h.clock.Now,
		Secrets: secretMap{
			"sotto/crm/shop/hubspot":    {"private_app_token": hubspotToken},
			"sotto/crm/shop/salesforce": {"client_id": sfClientID, "client_secret": sfSecret},
		},
		Consent: func(ctx context.Context, subject, purpose string) (bool, error) {
			d, err := consent.Check(ctx, subject, purpose)
			if err != nil {
				return false, err
			}
			return d.Allowed, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = h.jobs.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		h.clock.Advance(time.Minute) // past the shutdown grace
		<-done
	})

	srv, err := pkgserver.New(context.Background(), "crmsync", pki.Config(t, "crmsync"), server.Policy, logger)
	if err != nil {
		t.Fatal(err)
	}
	crmsyncv1.RegisterCrmSyncServiceServer(srv.GRPC(), h.app.Server)
	privacyv1.RegisterPrivacyParticipantServiceServer(srv.GRPC(), h.app.Privacy)
	addr := servertest.Start(t, srv)
	h.privacy = privacyv1.NewPrivacyParticipantServiceClient(pki.Dial(t, "consent", "crmsync", addr))
	h.notConsent = privacyv1.NewPrivacyParticipantServiceClient(pki.Dial(t, "conversation", "crmsync", addr))
	h.services = crmsyncv1.NewCrmSyncServiceClient(pki.Dial(t, "conversation", "crmsync", addr))
	h.operator = crmsyncv1.NewCrmSyncServiceClient(pki.Dial(t, "sotto-cli", "crmsync", addr))
	h.gateway = crmsyncv1.NewCrmSyncServiceClient(pki.Dial(t, "gateway", "crmsync", addr))
	return h
}

// dialects runs fn on SQLite and, where the test server is reachable, on
// PostgreSQL (storetest skips it otherwise, and fails under CI=true).
func dialects(t *testing.T, fn func(t *testing.T, h *harness), opts ...func(*config.Config)) {
	t.Helper()
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) { fn(t, newHarness(t, db, opts...)) })
}

// until moves the runner's clock by step until cond holds; it gives up
// after 30 s of real time (a slow database, a loaded machine), which no
// result depends on. The clock moves, never the test's expectations about
// time.
func (h *harness) until(step time.Duration, what string, cond func() bool) {
	h.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return
		}
		h.clock.Advance(step)
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("never: %s", what)
}

// delivery reads a delivery through the operator API.
func (h *harness) delivery(id string) *crmsyncv1.Delivery {
	h.t.Helper()
	resp, err := h.operator.ListDeliveries(context.Background(), &crmsyncv1.ListDeliveriesRequest{PageSize: 500})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range resp.GetDeliveries() {
		if d.GetDeliveryId() == id {
			return d
		}
	}
	h.t.Fatalf("delivery %s not listed", id)
	return nil
}

func (h *harness) state(id string) crmsyncv1.DeliveryState { return h.delivery(id).GetState() }

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

var eventSeq int

func newEventID() string {
	eventSeq++
	return fmt.Sprintf("evt_%08d", eventSeq)
}

func sqliteDB(t testing.TB) *store.DB { return storetest.SQLite(t, migrations.FS) }

// audited counts the audit events of action waiting in the outbox (the
// harness relays none), read from their encoded form.
func (h *harness) audited(action string) int {
	h.t.Helper()
	rows, err := h.db.Query(`SELECT payload FROM audit_outbox`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var p []byte
		if err := rows.Scan(&p); err != nil {
			h.t.Fatal(err)
		}
		if bytes.Contains(p, []byte(action)) {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return n
}

package service_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/service"
)

// fakeAudit is the audit service as a test sees it: it records what it is
// asked to append.
type fakeAudit struct {
	auditv1.UnimplementedAuditServiceServer
	mu      sync.Mutex
	actions []string
}

func (f *fakeAudit) AppendEvents(_ context.Context, req *auditv1.AppendEventsRequest) (*auditv1.AppendEventsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &auditv1.AppendEventsResponse{}
	for _, e := range req.GetEvents() {
		f.actions = append(f.actions, e.GetAction())
		resp.Results = append(resp.Results, &auditv1.AppendResult{EventId: e.GetEventId(), LeafIndex: int64(len(f.actions))})
	}
	return resp, nil
}

func (f *fakeAudit) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.actions)
}

// harness runs one service in process with an injected environment.
type harness struct {
	pki   *servertest.PKI
	audit *fakeAudit
	env   service.Env
}

func newHarness(t *testing.T, name string) *harness {
	t.Helper()
	pki := servertest.NewPKI(t)
	audit := &fakeAudit{}
	policy := authz.Policy{auditv1.AuditService_AppendEvents_FullMethodName: {authz.AnyWorkload}}
	maps.Copy(policy, service.HealthPolicy) // as every service run by pkg/service has it
	// name is not one of the manifest's workloads: "*" admits it by name.
	srv := pki.NewServer(t, "audit", policy, server.WithKnownWorkloads(name))
	auditv1.RegisterAuditServiceServer(srv.GRPC(), audit)
	auditAddr := servertest.Start(t, srv)
	f := pki.Identity(t, name)
	dir := t.TempDir()
	return &harness{pki: pki, audit: audit, env: service.Env{
		"SOTTO_TRUST_DOMAIN": servertest.TrustDomain,
		"SOTTO_TLS_CERT":     f.Cert, "SOTTO_TLS_KEY": f.Key, "SOTTO_TLS_BUNDLE": f.Bundle,
		"SOTTO_GRPC_ADDR": "127.0.0.1:0", "SOTTO_ADMIN_ADDR": "127.0.0.1:0",
		"SOTTO_DB_DSN":       "sqlite://" + filepath.Join(dir, name+".db"),
		"SOTTO_KEYRING_FILE": filepath.Join(dir, "keyring.json"),
		"SOTTO_AUDIT_ADDR":   auditAddr,
		"SOTTO_LOG_LEVEL":    "error",
	}}
}

// run starts the service; it returns the service (for its addresses), a
// stop function and a channel with Run's result.
func (h *harness) run(t *testing.T, name string, register service.Register) (*service.Service, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *service.Service, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, name, h.env, func(ctx context.Context, s *service.Service) error {
			got <- s
			return register(ctx, s)
		})
	}()
	var s *service.Service
	select {
	case s = <-got:
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before register: %v", err)
	}
	// Wait until the admin port answers /readyz.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if addr := s.Addrs()["admin"]; addr != "" {
			if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Run returned before it was ready: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("service did not become ready")
		}
	}
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() { cancel(); result = <-done })
		return result
	}
	t.Cleanup(func() { stop() })
	return s, stop
}

// TestExampleServiceServes: the example's short register is a whole
// service: its API is authorised by its policy, health is open to every
// workload, the admin port serves, the platform schema and its own
// migrations are applied, and its outbox reaches the audit service.
func TestExampleServiceServes(t *testing.T) {
	h := newHarness(t, "notes")
	h.env["SOTTO_NOTES_GREETING"] = "bonjour"
	s, stop := h.run(t, "notes", registerNotes)
	addr := s.Addrs()["grpc"]

	var resp auditv1.GetEventResponse
	req := &auditv1.GetEventRequest{EventId: "0193a5b0-0000-7000-8000-000000000001"}
	if err := h.pki.Dial(t, "gateway", "notes", addr).Invoke(context.Background(), notesGetMethod, req, &resp); err != nil {
		t.Fatalf("allowed caller: %v", err)
	}
	if got := resp.GetEvent().GetActorSubjectHash(); got != "bonjour" {
		t.Errorf("greeting = %q, want the injected setting bonjour", got)
	}
	err := h.pki.Dial(t, "crmsync", "notes", addr).Invoke(context.Background(), notesGetMethod, req, &resp)
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("unlisted caller: %v, want PermissionDenied", err)
	}
	hc, err := healthpb.NewHealthClient(h.pki.Dial(t, "crmsync", "notes", addr)).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health for any workload: %v %v, want SERVING", hc, err)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		r, err := http.Get("http://" + s.Addrs()["admin"] + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("admin %s: %d", path, r.StatusCode)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := h.audit.recorded(); !slices.Equal(got, []string{"notes.create"}) {
		t.Errorf("audit received %v, want the one notes.create the request committed", got)
	}
}

// TestTasksStopInReverseOrderAfterTheAPIDrains: a request in flight at
// shutdown finishes while the tasks it relies on still run; then tasks
// stop last-started first, each awaited; and the outbox relay, started
// first, sends what the later tasks committed while they stopped.
func TestTasksStopInReverseOrderAfterTheAPIDrains(t *testing.T) {
	h := newHarness(t, "notes")
	var (
		mu     sync.Mutex
		events []string
	)
	note := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	inFlight, release := make(chan struct{}), make(chan struct{})
	s, stop := h.run(t, "notes", func(ctx context.Context, s *service.Service) error {
		db, err := s.DB(ctx, nil)
		if err != nil {
			return err
		}
		outbox, err := s.AuditOutbox(db)
		if err != nil {
			return err
		}
		gs, err := s.GRPC(authz.Policy{notesGetMethod: {"gateway"}})
		if err != nil {
			return err
		}
		desc := notesServiceDesc
		desc.Methods = []grpc.MethodDesc{{MethodName: "Get", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			close(inFlight)
			<-release
			note("request done")
			return &auditv1.GetEventResponse{}, dec(new(auditv1.GetEventRequest))
		}}}
		gs.RegisterService(&desc, struct{}{})
		for _, name := range []string{"first", "second"} {
			s.Go(name, func(ctx context.Context) error {
				<-ctx.Done()
				// Work a task does while it stops: committed through the
				// outbox, it must still reach the audit service.
				if err := db.InTx(context.Background(), func(tx *sql.Tx) error {
					return outbox.Enqueue(context.Background(), tx, auditclient.New(context.Background(), auditclient.Action(name+".stopped"), auditclient.Success))
				}); err != nil {
					return err
				}
				note(name + " stopped")
				return nil
			})
		}
		return nil
	})
	conn := h.pki.Dial(t, "gateway", "notes", s.Addrs()["grpc"])
	callDone := make(chan error, 1)
	go func() {
		callDone <- conn.Invoke(context.Background(), notesGetMethod, &auditv1.GetEventRequest{EventId: "0193a5b0-0000-7000-8000-000000000002"}, new(auditv1.GetEventResponse))
	}()
	<-inFlight
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(50 * time.Millisecond) // let shutdown begin; the order below does not depend on it
	note("released")
	close(release)
	if err := <-callDone; err != nil {
		t.Errorf("in-flight request: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
	mu.Lock()
	got := slices.Clone(events)
	mu.Unlock()
	want := []string{"released", "request done", "second stopped", "first stopped"}
	if !slices.Equal(got, want) {
		t.Errorf("shutdown order = %v, want %v", got, want)
	}
	if got := h.audit.recorded(); !slices.Equal(got, []string{"second.stopped", "first.stopped"}) {
		t.Errorf("audit received %v, want both tasks' last events (the relay stops after them)", got)
	}
}

// TestFailingTaskStopsTheService: a background task that fails on its own
// takes the service down with its error instead of leaving it half alive.
func TestFailingTaskStopsTheService(t *testing.T) {
	h := newHarness(t, "notes")
	boom := errors.New("janitor lost its database")
	fail := make(chan struct{})
	_, stop := h.run(t, "notes", func(ctx context.Context, s *service.Service) error {
		if _, err := s.GRPC(authz.Policy{}); err != nil {
			return err
		}
		s.Go("janitor", func(ctx context.Context) error {
			select {
			case <-fail:
				return boom
			case <-ctx.Done():
				return nil
			}
		})
		return nil
	})
	close(fail)
	if err := stop(); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the task's error", err)
	}
}

// TestConfigurationComesFromTheInjectedEnvironment: settings are read from
// the Env given to Run (not the process environment), a missing required
// setting is an error naming it, and so is dialing a service whose address
// is not configured.
func TestConfigurationComesFromTheInjectedEnvironment(t *testing.T) {
	h := newHarness(t, "notes")
	t.Setenv("SOTTO_NOTES_REQUIRED", "from the process") // must be ignored
	var required struct {
		Value string `env:"NOTES_REQUIRED,required"`
	}
	err := service.Run(context.Background(), "notes", h.env, func(ctx context.Context, s *service.Service) error {
		return s.Config(&required)
	})
	if err == nil || !strings.Contains(err.Error(), "SOTTO_NOTES_REQUIRED") {
		t.Errorf("missing required setting: %v, want an error naming SOTTO_NOTES_REQUIRED", err)
	}
	err = service.Run(context.Background(), "notes", h.env, func(ctx context.Context, s *service.Service) error {
		_, err := s.Dial("consent")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "SOTTO_CONSENT_ADDR") {
		t.Errorf("dial without an address: %v, want an error naming SOTTO_CONSENT_ADDR", err)
	}
	err = service.Run(context.Background(), "notes", h.env, func(context.Context, *service.Service) error { return nil })
	if err == nil {
		t.Error("a service that registers no API started")
	}
}

// TestPlatformSchemaIsApplied: a service's database has the platform's
// tables (the audit outbox) without any migration of its own.
func TestPlatformSchemaIsApplied(t *testing.T) {
	h := newHarness(t, "notes")
	err := service.Run(context.Background(), "notes", h.env, func(ctx context.Context, s *service.Service) error {
		db, err := s.DB(ctx, nil)
		if err != nil {
			return err
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_outbox`).Scan(&n); err != nil {
			t.Errorf("audit_outbox: %v", err)
		}
		return io.EOF // stop here
	})
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Run = %v", err)
	}
}

// TestDegradedWhileADependencyIsDown: a service that dials the audit service
// reports itself degraded, naming audit, while audit does not answer, and
// stays ready (200): what does not need audit keeps being served.
func TestDegradedWhileADependencyIsDown(t *testing.T) {
	h := newHarness(t, "notes")
	h.env["SOTTO_AUDIT_ADDR"] = "127.0.0.1:1" // nothing listens there
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan *service.Service, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, "notes", h.env, func(ctx context.Context, s *service.Service) error {
			if _, err := s.Audit(); err != nil {
				return err
			}
			_, err := s.GRPC(authz.Policy{})
			got <- s
			return err
		})
	}()
	s := <-got
	deadline := time.Now().Add(10 * time.Second)
	for {
		if addr := s.Addrs()["admin"]; addr != "" {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && strings.HasPrefix(string(body), "degraded: audit") {
					break
				}
				if resp.StatusCode == http.StatusOK && strings.HasPrefix(string(body), "ready") {
					t.Fatal("plain ready while the audit service is down")
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never reported audit as degraded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

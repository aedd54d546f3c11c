package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

// testService misbehaves on request: the payload body says how.
type testService struct {
	testpb.UnimplementedTestServiceServer
	entered chan struct{}
	release chan struct{}
}

func (s *testService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	switch string(req.GetPayload().GetBody()) {
	case "panic":
		panic("boom: customer jane@example.com")
	case "raw-error":
		return nil, errors.New(`pq: duplicate key value (email)=(jane@example.com)`)
	case "typed-error":
		return nil, errs.E(errs.NotFound, "THING_NOT_FOUND", "thing not found")
	case "downstream-error":
		// A status another service returned, passed on.
		return nil, errs.InDomain(errs.E(errs.NotFound, "EVENT_NOT_FOUND", "event not found").GRPCStatus(), errs.ServiceDomain("audit")).Err()
	case "slow":
		close(s.entered)
		<-s.release
	}
	return &testpb.SimpleResponse{}, nil
}

var policy = authz.Policy{
	testpb.TestService_UnaryCall_FullMethodName: {"client"},
	"/grpc.health.v1.Health/Check":              {"*"},
}

func start(t *testing.T) (*servertest.PKI, string, string, *testService, func()) {
	t.Helper()
	pki := servertest.NewPKI(t)
	srv := pki.NewServer(t, "svc", policy)
	svc := &testService{entered: make(chan struct{}), release: make(chan struct{})}
	testpb.RegisterTestServiceServer(srv.GRPC(), svc)
	ready := true
	srv.AddReadinessCheck("test", func(context.Context) error {
		if !ready {
			return errors.New("not ready")
		}
		return nil
	})
	addr := servertest.Start(t, srv)
	return pki, addr, srv.AdminAddr(), svc, func() { ready = false }
}

func call(t *testing.T, c testpb.TestServiceClient, body string) error {
	t.Helper()
	_, err := c.UnaryCall(context.Background(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(body)}})
	return err
}

func TestErrorsAreMappedWithoutLeaks(t *testing.T) {
	pki, addr, _, _, _ := start(t)
	c := testpb.NewTestServiceClient(pki.Dial(t, "client", "svc", addr))

	tests := []struct {
		body   string
		code   codes.Code
		reason string
	}{
		{"panic", codes.Internal, ""},
		{"raw-error", codes.Internal, ""},
		{"typed-error", codes.NotFound, "THING_NOT_FOUND"},
		{"ok", codes.OK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			err := call(t, c, tc.body)
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("code %v, want %v (%v)", st.Code(), tc.code, err)
			}
			if strings.Contains(st.Message(), "jane") || strings.Contains(st.Message(), "duplicate") || strings.Contains(st.Message(), "boom") {
				t.Fatalf("internal detail leaked: %q", st.Message())
			}
			var reason string
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					reason = info.Reason
				}
			}
			if reason != tc.reason {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
	// The server survived the panic.
	if err := call(t, c, "ok"); err != nil {
		t.Fatalf("after panic: %v", err)
	}
}

func TestAdminPortAndHealth(t *testing.T) {
	pki, addr, admin, _, setNotReady := start(t)
	c := testpb.NewTestServiceClient(pki.Dial(t, "client", "svc", addr))
	if err := call(t, c, "ok"); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d", code)
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz %d", code)
	}
	// The server records an RPC's metrics after the client has its answer,
	// so the scrape may come first: look again until they are there.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, metrics := get("/metrics")
		if code == http.StatusOK && strings.Contains(metrics, "rpc_server") && strings.Contains(metrics, "go_goroutines") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics %d lacks RPC or runtime metrics:\n%.2000s", code, metrics)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// "*" admits the suite manifest's workloads (audit is one), and not a
	// certificate of the same CA for a name the suite does not know.
	hc := healthpb.NewHealthClient(pki.Dial(t, "audit", "svc", addr))
	resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", resp, err)
	}
	evil := healthpb.NewHealthClient(pki.Dial(t, "evil", "svc", addr))
	if _, err := evil.Check(context.Background(), &healthpb.HealthCheckRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("health for an unknown workload: %v; want PermissionDenied", err)
	}

	setNotReady()
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with a failing check: %d", code)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.Status == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gRPC health never turned NOT_SERVING: %v %v", resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestGracefulStopFinishesInFlightCalls(t *testing.T) {
	pki := servertest.NewPKI(t)
	srv := pki.NewServer(t, "svc", policy)
	svc := &testService{entered: make(chan struct{}), release: make(chan struct{})}
	testpb.RegisterTestServiceServer(srv.GRPC(), svc)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	c := testpb.NewTestServiceClient(pki.Dial(t, "client", "svc", srv.GRPCAddr()))

	result := make(chan error, 1)
	go func() { result <- call(t, c, "slow") }()
	<-svc.entered // the call is in the handler
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a call was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(svc.release)
	if err := <-result; err != nil {
		t.Fatalf("in-flight call failed during graceful stop: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestReflectionOnlyWhenEnabled(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		t.Run(fmt.Sprint(enabled), func(t *testing.T) {
			pki := servertest.NewPKI(t)
			cfg := pki.Config(t, "svc")
			cfg.Reflection = enabled
			// "client" is no workload of the manifest: known here, for "*".
			srv, err := server.New(context.Background(), "svc", cfg, policy, servertest.Logger(), server.WithKnownWorkloads("client"))
			if err != nil {
				t.Fatal(err)
			}
			testpb.RegisterTestServiceServer(srv.GRPC(), &testService{})
			addr := servertest.Start(t, srv)
			stream, err := reflectionpb.NewServerReflectionClient(pki.Dial(t, "client", "svc", addr)).ServerReflectionInfo(context.Background())
			if err == nil {
				err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
				if errors.Is(err, io.EOF) {
					// The server ended the stream before the send: its status
					// comes from Recv.
					err = nil
				}
			}
			var resp *reflectionpb.ServerReflectionResponse
			if err == nil {
				resp, err = stream.Recv()
			}
			if !enabled {
				if status.Code(err) != codes.PermissionDenied && status.Code(err) != codes.Unimplemented {
					t.Fatalf("reflection disabled: %v, want refused", err)
				}
				return
			}
			if err != nil || !strings.Contains(resp.String(), "grpc.testing.TestService") {
				t.Fatalf("reflection enabled: %v %v", resp, err)
			}
		})
	}
}

// TestServesOnlyUnderItsOwnName: a service handed another workload's
// certificate refuses to start, for that reason and no other: the same
// configuration starts the workload the certificate names.
func TestServesOnlyUnderItsOwnName(t *testing.T) {
	pki := servertest.NewPKI(t)
	cfg := pki.Config(t, "gateway") // certificate for "gateway"
	_, err := server.New(context.Background(), "audit", cfg, policy, servertest.Logger())
	if !errs.Is(err, errs.FailedPrecondition) || errs.ReasonOf(err) != "WRONG_WORKLOAD_IDENTITY" {
		t.Fatalf("audit with the gateway's certificate: %v, want WRONG_WORKLOAD_IDENTITY", err)
	}
	if _, err := server.New(context.Background(), "gateway", cfg, policy, servertest.Logger()); err != nil {
		t.Fatalf("gateway with its own certificate: %v", err)
	}
}

// TestUnlistedCallsAreDenied: the production chain authorises unary and
// streaming RPCs alike; a workload not named for a method is refused.
func TestUnlistedCallsAreDenied(t *testing.T) {
	pki, addr, _, _, _ := start(t)
	stranger := testpb.NewTestServiceClient(pki.Dial(t, "stranger", "svc", addr))
	if err := call(t, stranger, "ok"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("unary call by an unlisted workload: %v, want PermissionDenied", err)
	}
	// Health/Watch is a stream no policy entry lists.
	stream, err := healthpb.NewHealthClient(pki.Dial(t, "client", "svc", addr)).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("unlisted stream: %v, want PermissionDenied", err)
	}
}

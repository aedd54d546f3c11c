package authz_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

var td = spiffeid.RequireTrustDomainFromString("sotto.test")

// known stands for the suite's workloads (pkg/server passes the manifest's).
var known = []string{"audit", "gateway", "conversation", "sotto-cli"}

func TestNewValidatesPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		td   spiffeid.TrustDomain
		p    authz.Policy
		ok   bool
	}{
		{"valid", td, authz.Policy{"/sotto.audit.v1.AuditService/AppendEvents": {"conversation", "*"}}, true},
		{"empty policy denies everything", td, authz.Policy{}, true},
		{"no trust domain", spiffeid.TrustDomain{}, authz.Policy{}, false},
		{"method without leading slash", td, authz.Policy{"sotto.audit.v1.AuditService/AppendEvents": {"gateway"}}, false},
		{"method without package", td, authz.Policy{"/AuditService/AppendEvents": {"gateway"}}, false},
		{"wildcard method", td, authz.Policy{"/sotto.audit.v1.AuditService/*": {"gateway"}}, false},
		{"no callers", td, authz.Policy{"/sotto.audit.v1.AuditService/AppendEvents": {}}, false},
		{"empty caller", td, authz.Policy{"/sotto.audit.v1.AuditService/AppendEvents": {""}}, false},
		{"caller with a path", td, authz.Policy{"/sotto.audit.v1.AuditService/AppendEvents": {"ns/gateway"}}, false},
		{"caller as a full SPIFFE ID", td, authz.Policy{"/sotto.audit.v1.AuditService/AppendEvents": {"spiffe://sotto.test/gateway"}}, false},
		{"dot-dot caller", td, authz.Policy{"/sotto.audit.v1.AuditService/AppendEvents": {".."}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := authz.New(tt.td, known, tt.p)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && errs.ReasonOf(err) != "INVALID_POLICY" {
				t.Errorf("reason = %q, want INVALID_POLICY", errs.ReasonOf(err))
			}
		})
	}
}

// TestNewNeedsKnownWorkloadsForAny: "*" stands for the known workloads;
// with none it would admit nobody or, worse, every name the CA signed, so
// such a policy does not start.
func TestNewNeedsKnownWorkloadsForAny(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		known []string
		p     authz.Policy
		ok    bool
	}{
		{"any workload, none known", nil, authz.Policy{"/grpc.health.v1.Health/Check": {authz.AnyWorkload}}, false},
		{"named callers need no known workloads", nil, authz.Policy{"/grpc.health.v1.Health/Check": {"gateway"}}, true},
		{"a known workload that is no workload name", []string{"ns/gateway"}, authz.Policy{}, false},
	} {
		_, err := authz.New(td, tt.known, tt.p)
		if (err == nil) != tt.ok || (err != nil && errs.ReasonOf(err) != "INVALID_POLICY") {
			t.Errorf("%s: New: %v, want ok=%v (else INVALID_POLICY)", tt.name, err, tt.ok)
		}
	}
}

// TestInterceptorsOverMTLS runs the standard health service behind mtls and
// the authz interceptors on a real socket, and calls it as different
// workloads with real certificates.
func TestInterceptorsOverMTLS(t *testing.T) {
	t.Parallel()
	ca, err := mtls.NewCA("sotto.test")
	if err != nil {
		t.Fatal(err)
	}
	a, err := authz.New(td, known, authz.Policy{
		healthpb.Health_Check_FullMethodName: {"gateway"},
		healthpb.Health_Watch_FullMethodName: {authz.AnyWorkload},
		// Health/List is deliberately absent.
	})
	if err != nil {
		t.Fatal(err)
	}
	server := source(t, ca, "audit")
	addr := serve(t, credentials.NewTLS(server.ServerTLSConfig()), a)

	gateway := dial(t, addr, credentials.NewTLS(source(t, ca, "gateway").ClientTLSConfig(mtls.AuthorizeID(server.ID()))))
	conversation := dial(t, addr, credentials.NewTLS(source(t, ca, "conversation").ClientTLSConfig(mtls.AuthorizeID(server.ID()))))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	t.Run("allowed caller", func(t *testing.T) {
		if _, err := gateway.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("gateway Check: %v", err)
		}
	})
	t.Run("valid certificate, caller not allowed", func(t *testing.T) {
		_, err := conversation.Check(ctx, &healthpb.HealthCheckRequest{})
		assertDenied(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
	})
	t.Run("method absent from the policy", func(t *testing.T) {
		_, err := gateway.List(ctx, &healthpb.HealthListRequest{})
		assertDenied(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
	})
	t.Run("stream allowed for any workload", func(t *testing.T) {
		stream, err := conversation.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		if err != nil {
			t.Fatalf("conversation Watch: %v", err)
		}
	})
	// A certificate from the suite's own CA for a name the suite does not
	// know is no workload of ours: "*" does not admit it.
	t.Run("unknown workload with a valid certificate", func(t *testing.T) {
		evil := dial(t, addr, credentials.NewTLS(source(t, ca, "evil").ClientTLSConfig(mtls.AuthorizeID(server.ID()))))
		stream, err := evil.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		assertDenied(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
	})

	// Without a verified identity the interceptors deny before the policy
	// is consulted, even for methods open to every workload.
	t.Run("no workload identity", func(t *testing.T) {
		plain := dial(t, serve(t, insecure.NewCredentials(), a), insecure.NewCredentials())
		_, err := plain.Check(ctx, &healthpb.HealthCheckRequest{})
		assertDenied(t, err, codes.Unauthenticated, "NO_PEER_IDENTITY")
		stream, err := plain.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		assertDenied(t, err, codes.Unauthenticated, "NO_PEER_IDENTITY")
	})
}

func source(t *testing.T, ca *mtls.CA, name string) *mtls.Source {
	t.Helper()
	f, err := mtls.WriteWorkload(filepath.Join(t.TempDir(), name), ca, spiffeid.RequireFromSegments(td, name), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	src, err := mtls.NewFileSource(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func serve(t *testing.T, creds credentials.TransportCredentials, a *authz.Authorizer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(creds),
		grpc.ChainUnaryInterceptor(a.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(a.StreamInterceptor()))
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	return ln.Addr().String()
}

func dial(t *testing.T, addr string, creds credentials.TransportCredentials) healthpb.HealthClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func assertDenied(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	st := status.Convert(err)
	got := ""
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			got = info.Reason
		}
	}
	if st.Code() != code || got != reason {
		t.Errorf("error = %v (reason %q), want %s %s", err, got, code, reason)
	}
}

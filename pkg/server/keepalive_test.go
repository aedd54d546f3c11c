package server_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

// connCounter counts the transport connections a client opens.
type connCounter struct{ n atomic.Int64 }

func (c *connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (c *connCounter) HandleRPC(context.Context, stats.RPCStats)                         {}
func (c *connCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (c *connCounter) HandleConn(_ context.Context, s stats.ConnStats) {
	if _, ok := s.(*stats.ConnBegin); ok {
		c.n.Add(1)
	}
}

func agedServer(t *testing.T, pki *servertest.PKI, age, grace time.Duration) string {
	t.Helper()
	cfg := pki.Config(t, "svc")
	cfg.MaxConnectionAge, cfg.MaxConnectionAgeGrace = age, grace
	srv, err := server.New(context.Background(), "svc", cfg, authz.Policy{
		testpb.TestService_UnaryCall_FullMethodName: {"client"},
		healthpb.Health_Watch_FullMethodName:        {"client"},
	}, servertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	testpb.RegisterTestServiceServer(srv.GRPC(), &testService{})
	return servertest.Start(t, srv)
}

// TestConnectionsAreReplacedAtMaxAge: the server ends every connection
// after MaxConnectionAge (GOAWAY), so a client dialling a dns:/// name
// resolves it again and reaches replicas added since; the client opens new
// connections and its calls go on succeeding, to one address and balanced
// over two (round robin with health checks, pkg/dial). Seen failing (never
// a new connection) with the KeepaliveParams option removed.
func TestConnectionsAreReplacedAtMaxAge(t *testing.T) {
	pki := servertest.NewPKI(t)
	for _, tc := range []struct {
		name    string
		servers int
	}{{"one address", 1}, {"balanced", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			var addrs []string
			for range tc.servers {
				addrs = append(addrs, agedServer(t, pki, 50*time.Millisecond, 5*time.Second))
			}
			conns := &connCounter{}
			conn, err := dial.Service(strings.Join(addrs, ","), pki.Source(t, "client"), "svc", nil, grpc.WithStatsHandler(conns))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			c := testpb.NewTestServiceClient(conn)
			want := int64(3 * tc.servers)
			deadline := time.Now().Add(30 * time.Second)
			calls := 0
			for conns.n.Load() < want {
				if err := call(t, c, "ok"); err != nil {
					t.Fatalf("call %d, on connection %d: %v", calls, conns.n.Load(), err)
				}
				calls++
				if time.Now().After(deadline) {
					t.Fatalf("after %d calls the client opened %d connections, want %d: the server never ended them", calls, conns.n.Load(), want)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestStreamOutlivingMaxAgeEndsUnavailable: a stream still open when the
// grace after GOAWAY ends is cut with Unavailable, the code the suite's
// feed clients reconnect on (resuming from their cursors), and a new
// stream opens on a new connection.
func TestStreamOutlivingMaxAgeEndsUnavailable(t *testing.T) {
	pki := servertest.NewPKI(t)
	addr := agedServer(t, pki, 50*time.Millisecond, 50*time.Millisecond)
	hc := healthpb.NewHealthClient(pki.Dial(t, "client", "svc", addr))
	for i := range 2 {
		// Bounded, so that a server that never ends the connection fails
		// the test (DeadlineExceeded) instead of hanging it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		watch, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err = watch.Recv(); err != nil {
				break
			}
		}
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("stream %d ended with %v, want Unavailable", i, err)
		}
	}
}

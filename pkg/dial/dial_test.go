package dial_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/wait"
)

type replica struct {
	addr  string
	ready atomic.Bool
	stop  func()
}

// startReplicas serves n replicas of the workload "svc" with the production
// server (mTLS, authz, health mirrored from readiness).
func startReplicas(t *testing.T, pki *servertest.PKI, n int) []*replica {
	t.Helper()
	policy := authz.Policy{"/grpc.health.v1.Health/Check": {authz.AnyWorkload}, "/grpc.health.v1.Health/Watch": {authz.AnyWorkload}}
	var out []*replica
	for range n {
		r := &replica{}
		r.ready.Store(true)
		srv := pki.NewServer(t, "svc", policy, server.WithKnownWorkloads("client"))
		srv.AddReadinessCheck("switch", func(context.Context) error {
			if !r.ready.Load() {
				return errors.New("switched off")
			}
			return nil
		})
		if err := srv.Listen(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		var stopped atomic.Bool
		r.stop = func() {
			if stopped.CompareAndSwap(false, true) {
				cancel()
				<-done
			}
		}
		t.Cleanup(r.stop)
		r.addr = srv.GRPCAddr()
		out = append(out, r)
	}
	return out
}

// served calls Check once and says which replica answered.
func served(t *testing.T, hc healthpb.HealthClient) string {
	t.Helper()
	var p peer.Peer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p)); err != nil {
		t.Fatalf("check: %v", err)
	}
	return p.Addr.String()
}

func TestReplicasShareCallsAndUnhealthyOnesAreSkipped(t *testing.T) {
	pki := servertest.NewPKI(t)
	reps := startReplicas(t, pki, 3)
	addrs := []string{reps[0].addr, reps[1].addr, reps[2].addr}
	conn, err := dial.Service(strings.Join(addrs, ","), pki.Source(t, "client"), "svc", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)

	seen := map[string]int{}
	wait.For(t, "every replica answers", func() bool {
		seen[served(t, hc)]++
		return len(seen) == 3
	})

	// A replica that is not ready (draining, or the audit log's standby)
	// gets no calls while the others serve.
	reps[0].ready.Store(false)
	run := 0
	wait.For(t, "30 calls in a row avoid the not-ready replica", func() bool {
		if served(t, hc) == reps[0].addr {
			run = 0
		} else {
			run++
		}
		return run >= 30
	})
	// Round robin over the two left: both still answer.
	counts := map[string]int{}
	for range 30 {
		counts[served(t, hc)]++
	}
	if counts[reps[0].addr] != 0 || counts[reps[1].addr] == 0 || counts[reps[2].addr] == 0 {
		t.Fatalf("calls per replica with the first not ready: %v", counts)
	}

	// A replica that goes away: the calls go on to the one left.
	reps[1].stop()
	run = 0
	wait.For(t, "30 calls in a row answered by the last replica", func() bool {
		if served(t, hc) == reps[2].addr {
			run++
		} else {
			run = 0
		}
		return run >= 30
	})

	// It comes back ready: it is used again.
	reps[0].ready.Store(true)
	wait.For(t, "the recovered replica answers again", func() bool { return served(t, hc) == reps[0].addr })
}

func TestTarget(t *testing.T) {
	for _, one := range []string{"127.0.0.1:8443", "audit:8443"} {
		got, opts, err := dial.Target(one)
		if err != nil || got != one || len(opts) != 0 {
			t.Errorf("Target(%q) = %q, %d options, %v; want it unchanged, unbalanced", one, got, len(opts), err)
		}
	}
	got, opts, err := dial.Target("dns:///audit.sotto.svc:8443")
	if err != nil || got != "dns:///audit.sotto.svc:8443" || len(opts) == 0 {
		t.Errorf("dns target = %q, %d options, %v; want it unchanged and balanced", got, len(opts), err)
	}
	if got, _, err := dial.Target("127.0.0.1:1, 127.0.0.1:2"); err != nil || !strings.HasPrefix(got, "sotto-static-") {
		t.Errorf("list = %q, %v", got, err)
	}
	for _, bad := range []string{"", "127.0.0.1:1,nonsense", "127.0.0.1:1,,127.0.0.1:2"} {
		if _, _, err := dial.Target(bad); err == nil {
			t.Errorf("Target(%q) accepted", bad)
		}
	}
}

// refusingAudit refuses every AppendEvents with Unavailable, as an
// overloaded replica does, and counts the attempts.
type refusingAudit struct {
	auditv1.UnimplementedAuditServiceServer
	attempts *atomic.Int64
}

func (a refusingAudit) AppendEvents(context.Context, *auditv1.AppendEventsRequest) (*auditv1.AppendEventsResponse, error) {
	a.attempts.Add(1)
	return nil, status.Error(codes.Unavailable, "overloaded")
}

// TestRetriesStopWhenMostCallsFail: the retry of an idempotent call on
// Unavailable is throttled: with every replica refusing, calls after the
// first few are tried once, not four times, so retries do not multiply the
// load on replicas that refuse because they are overloaded. Seen failing
// without retryThrottling (4 attempts for every call).
func TestRetriesStopWhenMostCallsFail(t *testing.T) {
	pki := servertest.NewPKI(t)
	var attempts atomic.Int64
	policy := authz.Policy{
		"/grpc.health.v1.Health/Check":                   {authz.AnyWorkload},
		"/grpc.health.v1.Health/Watch":                   {authz.AnyWorkload},
		auditv1.AuditService_AppendEvents_FullMethodName: {"client"},
	}
	var addrs []string
	for range 2 {
		srv := pki.NewServer(t, "svc", policy, server.WithKnownWorkloads("client"))
		auditv1.RegisterAuditServiceServer(srv.GRPC(), refusingAudit{attempts: &attempts})
		addrs = append(addrs, servertest.Start(t, srv))
	}
	conn, err := dial.Service(strings.Join(addrs, ","), pki.Source(t, "client"), "svc", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	served(t, hc) // the replicas are up and the balancer has them

	client := auditclient.NewClient(conn)
	const calls = 50
	for range calls {
		err := client.Record(context.Background(), auditclient.New(context.Background(), "svc.test", auditclient.Success))
		if !errs.Is(err, errs.Unavailable) {
			t.Fatalf("call: %v, want Unavailable", err)
		}
	}
	if got := attempts.Load(); got >= 2*calls {
		t.Errorf("%d attempts for %d calls, all refused: want the retries throttled (under %d)", got, calls, 2*calls)
	}
}

package server

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sottohq/sotto/pkg/telemetry"
)

// ReadinessCheck reports whether a dependency is usable.
type ReadinessCheck func(ctx context.Context) error

// ErrStandby is what a readiness check returns (wrapped) when the process
// is healthy but another replica holds the role that takes calls (audit's
// elected sequencer, ADR 0017). /readyz and the gRPC health status still
// say not ready, so balanced callers (pkg/dial) pick the leader; the replica
// probe, /readyz/replica, counts it ready, so that Kubernetes' rollouts and
// disruption budgets count a standby that can take over. Any other error,
// from the same check or another, is not ready on both.
var ErrStandby = errors.New("standby")

// Admin is the handler of a process's plain-HTTP admin port: /metrics,
// /healthz (the process is alive), /readyz (every readiness check passes;
// failing dependencies are named as degraded) and /readyz/replica (as
// /readyz, but a standby is ready: see ErrStandby). A process has one,
// whatever it serves (gRPC, REST or both).
type Admin struct {
	tel *telemetry.Telemetry

	mu           sync.Mutex
	checks       map[string]ReadinessCheck
	dependencies map[string]ReadinessCheck
}

// NewAdmin returns an admin handler that exports tel's metrics.
func NewAdmin(tel *telemetry.Telemetry) *Admin {
	return &Admin{tel: tel, checks: map[string]ReadinessCheck{}, dependencies: map[string]ReadinessCheck{}}
}

// AddReadinessCheck makes readiness depend on check, reported under name:
// something the process cannot serve anything without (its database).
func (a *Admin) AddReadinessCheck(name string, check ReadinessCheck) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks[name] = check
}

// AddDependencyCheck reports, under name, a dependency that only part of
// the API needs (another service): while it fails the process is degraded
// (/readyz says which, still 200) but stays in rotation, so what works
// keeps working (tokenvault tokenizes through its outbox while audit is
// down) and one service's outage does not take every caller out with it.
func (a *Admin) AddDependencyCheck(name string, check ReadinessCheck) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dependencies[name] = check
}

// NotReady runs every readiness check (concurrently, 2 s each at most) and
// returns the names of those that failed, sorted; nil means ready.
func (a *Admin) NotReady(ctx context.Context) []string {
	a.mu.Lock()
	checks := maps.Clone(a.checks)
	a.mu.Unlock()
	return failing(ctx, checks, false)
}

// ReplicaNotReady is NotReady with standbys counted ready: the names of the
// checks that failed for another reason than ErrStandby.
func (a *Admin) ReplicaNotReady(ctx context.Context) []string {
	a.mu.Lock()
	checks := maps.Clone(a.checks)
	a.mu.Unlock()
	return failing(ctx, checks, true)
}

// Degraded runs the dependency checks and returns the names of those that
// failed, sorted.
func (a *Admin) Degraded(ctx context.Context) []string {
	a.mu.Lock()
	checks := maps.Clone(a.dependencies)
	a.mu.Unlock()
	return failing(ctx, checks, false)
}

func failing(ctx context.Context, checks map[string]ReadinessCheck, standbyOK bool) []string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	for name, check := range checks {
		wg.Go(func() {
			if err := check(ctx); err != nil && !(standbyOK && errors.Is(err, ErrStandby)) {
				mu.Lock()
				failed = append(failed, name)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(failed)
	return failed
}

// Handler serves /metrics, /healthz, /readyz and /readyz/replica. Both
// readiness answers name the failing checks (dependency names, never their
// errors, which may hold addresses).
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.tel.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.readiness(a.NotReady))
	// The Kubernetes readiness probe of an elected service: ready is leader
	// or healthy standby, and a rollout or a drain can then replace the
	// leader (ADR 0017); a replica whose database or keys fail is not.
	mux.HandleFunc("GET /readyz/replica", a.readiness(a.ReplicaNotReady))
	return mux
}

func (a *Admin) readiness(notReady func(context.Context) []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if failed := notReady(r.Context()); len(failed) > 0 {
			http.Error(w, "not ready: "+strings.Join(failed, ", "), http.StatusServiceUnavailable)
			return
		}
		if degraded := a.Degraded(r.Context()); len(degraded) > 0 {
			w.Write([]byte("degraded: " + strings.Join(degraded, ", ") + "\n"))
			return
		}
		w.Write([]byte("ready\n"))
	}
}

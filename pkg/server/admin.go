package server

import (
	"context"
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

// Admin is the handler of a process's plain-HTTP admin port: /metrics,
// /healthz (the process is alive) and /readyz (every readiness check
// passes; failing dependencies are named as degraded). A process has one,
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
	return failing(ctx, checks)
}

// Degraded runs the dependency checks and returns the names of those that
// failed, sorted.
func (a *Admin) Degraded(ctx context.Context) []string {
	a.mu.Lock()
	checks := maps.Clone(a.dependencies)
	a.mu.Unlock()
	return failing(ctx, checks)
}

func failing(ctx context.Context, checks map[string]ReadinessCheck) []string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	for name, check := range checks {
		wg.Go(func() {
			if check(ctx) != nil {
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

// Handler serves /metrics, /healthz and /readyz. /readyz names the failing
// checks (dependency names, never their errors, which may hold addresses).
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.tel.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if failed := a.NotReady(r.Context()); len(failed) > 0 {
			http.Error(w, "not ready: "+strings.Join(failed, ", "), http.StatusServiceUnavailable)
			return
		}
		if degraded := a.Degraded(r.Context()); len(degraded) > 0 {
			w.Write([]byte("degraded: " + strings.Join(degraded, ", ") + "\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

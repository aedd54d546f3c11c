package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	dto "github.com/prometheus/client_model/go"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// The service's /metrics shows attempts by kind and outcome, and the table's
// jobs by kind and state (queue depth, dead count).
func TestMetrics(t *testing.T) {
	storetest.ForEachDialect(t, nil, func(t *testing.T, db *store.DB) {
		tel, err := telemetry.New(t.Context(), "test", telemetry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tel.Shutdown(context.Background()) })
		clk := clockwork.NewFakeClockAt(t0)
		r := newRunner(t, db, clk, "a", func(c *Config) { c.Meter = tel.Meter })
		if err := r.Register("ok", func(context.Context, Job) error { return nil }, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := r.Register("bad", func(context.Context, Job) error {
			return errs.E(errs.Internal, "BROKEN", "alice@example.com")
		}, Options{MaxAttempts: 1}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"ok", "bad"} {
			if _, err := r.Enqueue(t.Context(), k, nil, EnqueueOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		drain(t, r)
		if _, err := r.Enqueue(t.Context(), "ok", nil, EnqueueOptions{RunAt: clk.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}

		families, err := tel.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				key := f.GetName() + labels(m)
				switch {
				case m.GetCounter() != nil:
					got[key] = m.GetCounter().GetValue()
				case m.GetGauge() != nil:
					got[key] = m.GetGauge().GetValue()
				}
			}
		}
		for key, want := range map[string]float64{
			`sotto_jobs_attempts_total{kind="ok",outcome="completed"}`: 1,
			`sotto_jobs_attempts_total{kind="bad",outcome="dead"}`:     1,
			`sotto_jobs{kind="ok",state="available"}`:                  1,
			`sotto_jobs{kind="ok",state="completed"}`:                  1,
			`sotto_jobs{kind="bad",state="dead"}`:                      1,
			`sotto_jobs{kind="bad",state="available"}`:                 0,
		} {
			if v, ok := got[key]; !ok || v != want {
				t.Errorf("%s = %v (present %v); want %v", key, v, ok, want)
			}
		}
		if t.Failed() {
			t.Logf("metrics: %v", got)
		}
	})
}

// labels renders m's labels other than OpenTelemetry's scope labels.
func labels(m *dto.Metric) string {
	s := ""
	for _, l := range m.GetLabel() {
		if strings.HasPrefix(l.GetName(), "otel_") {
			continue
		}
		if s != "" {
			s += ","
		}
		s += l.GetName() + `="` + l.GetValue() + `"`
	}
	return "{" + s + "}"
}

package jobs

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sottohq/sotto/pkg/store"
)

// metrics are the runner's instruments, labelled by kind (a name from the
// code, never data):
//
//	sotto_jobs_attempts_total{kind,outcome}     attempts ended, by outcome:
//	                                            completed, retried, dead,
//	                                            interrupted, lease_lost
//	sotto_jobs_attempt_duration_seconds{kind,outcome}
//	sotto_jobs{kind,state}                      jobs in the table by state:
//	                                            queue depth (available,
//	                                            retryable), running, dead
//
// The attempt counters are this replica's; sotto_jobs is the shared table's,
// read at each scrape, so every replica reports the same numbers (aggregate
// it with max, not sum).
type metrics struct {
	attempts metric.Int64Counter
	duration metric.Float64Histogram
}

func newMetrics(mp metric.MeterProvider, r *Runner) (*metrics, error) {
	meter := mp.Meter("github.com/sottohq/sotto/pkg/jobs")
	attempts, err := meter.Int64Counter("sotto.jobs.attempts",
		metric.WithDescription("Job attempts ended, by kind and outcome."), metric.WithUnit("{attempt}"))
	if err != nil {
		return nil, err
	}
	duration, err := meter.Float64Histogram("sotto.jobs.attempt.duration",
		metric.WithDescription("How long job attempts took, by kind and outcome."), metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	_, err = meter.Int64ObservableGauge("sotto.jobs",
		metric.WithDescription("Jobs in the table, by kind and state."), metric.WithUnit("{job}"),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			counts, err := r.counts(ctx)
			for k, n := range counts {
				o.Observe(n, metric.WithAttributes(attribute.String("kind", k.kind), attribute.String("state", string(k.state))))
			}
			return err
		}))
	if err != nil {
		return nil, err
	}
	return &metrics{attempts: attempts, duration: duration}, nil
}

func (m *metrics) outcome(ctx context.Context, kind, outcome string, took time.Duration) {
	attrs := metric.WithAttributes(attribute.String("kind", kind), attribute.String("outcome", outcome))
	m.attempts.Add(ctx, 1, attrs)
	m.duration.Record(ctx, took.Seconds(), attrs)
}

type kindState struct {
	kind  string
	state State
}

// counts reads how many jobs of each registered kind are in each state.
// Kinds with no job in a state report 0, so a drained queue is a 0 and not
// a missing series.
func (r *Runner) counts(ctx context.Context) (map[kindState]int64, error) {
	out := map[kindState]int64{}
	for _, k := range r.kindNames() {
		for _, s := range []State{Available, Running, Retryable, Completed, Dead} {
			out[kindState{k, s}] = 0
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := r.db.QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state`)
	if err != nil {
		return out, store.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ks kindState
		var n int64
		if err := rows.Scan(&ks.kind, &ks.state, &n); err != nil {
			return out, store.MapError(err)
		}
		if _, ok := out[ks]; ok {
			out[ks] = n
		}
	}
	return out, store.MapError(rows.Err())
}

package dsr

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// stateNames label the gauge (consentv1.RequestState without its prefix).
var stateNames = map[int]string{StateReceived: "received", StateVerifying: "verifying", StateInProgress: "in_progress",
	StateWaiting: "waiting_on_participant", StateExtended: "extended", StatePaused: "paused"}

// registerMetrics adds sotto.consent.dsr.open{state,deadline}: open
// requests by state and deadline status (ok, due_soon, overdue), read from
// the shared table at each scrape (every replica reports the same: max,
// not sum). Every series is reported, 0 included, so that an alert on
// overdue sees a 0 rather than nothing.
func (s *Service) registerMetrics(mp metric.MeterProvider) error {
	meter := mp.Meter("github.com/sottohq/sotto/services/consent/internal/dsr")
	_, err := meter.Int64ObservableGauge("sotto.consent.dsr.open",
		metric.WithDescription("Open data-subject requests, by state and deadline status."), metric.WithUnit("{request}"),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			counts, err := s.OpenCounts(ctx)
			for k, n := range counts {
				o.Observe(n, metric.WithAttributes(attribute.String("state", k[0]), attribute.String("deadline", k[1])))
			}
			return err
		}))
	return err
}

// OpenCounts counts open requests by [state, deadline status].
func (s *Service) OpenCounts(ctx context.Context) (map[[2]string]int64, error) {
	out := map[[2]string]int64{}
	for _, st := range stateNames {
		for _, d := range []string{"ok", "due_soon", "overdue"} {
			out[[2]string{st, d}] = 0
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := s.d.Store.OpenDSRs(ctx, s.d.Store.DB())
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		v := s.view(r)
		status := "ok"
		switch {
		case v.Overdue:
			status = "overdue"
		case v.DueSoon:
			status = "due_soon"
		}
		out[[2]string{stateNames[r.State], status}]++
	}
	return out, nil
}

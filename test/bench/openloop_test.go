package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runOpen is the open-loop counterpart of run: op i is due at start +
// i/rate, for dur, whatever the earlier ops are doing (a slow answer does not
// slow the arrivals, as a shop's visitors do not wait for each other), and
// each op's latency is measured from when it was due, not from when it
// started. A closed loop measures from the start, so a stalled server makes
// its callers send less and the stall shows in one sample instead of in
// every message that arrived during it (coordinated omission); here queueing
// shows in the percentiles. At most maxInFlight ops run at once; past that
// the scheduler waits, and the wait counts in the latency of the ops it
// delays; an op not answered within openLoopTimeout of when it was due, or
// not sent because maxInFlight are waiting, counts as never answered (late).
// The rate achieved is the ops answered over the time from the start to the
// last answer, so a path that cannot keep up reports less than it was
// offered.
func runOpen(rate int, dur time.Duration, maxInFlight int, op func(ctx context.Context, i int) error) measurement {
	n := int(dur.Seconds() * float64(rate))
	lat := make([]time.Duration, n)
	var errCount, refusedCount, lateCount atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, maxInFlight)
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; {
		now := time.Now()
		// Every op due by now starts now; then sleep until the next is due
		// (timers are coarser than the interval at high rates).
		for ; i < n && !start.Add(time.Duration(i)*interval).After(now); i++ {
			k, due := i, start.Add(time.Duration(i)*interval) // i moves on before the op runs
			select {
			case sem <- struct{}{}:
			default:
				// maxInFlight ops are waiting: the path has fallen behind by
				// seconds. The op is not sent and counts as never answered.
				lat[k] = never
				lateCount.Add(1)
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				ctx, cancel := context.WithDeadline(context.Background(), due.Add(openLoopTimeout))
				defer cancel()
				err := op(ctx, k)
				lat[k] = time.Since(due)
				switch {
				case err != nil && ctx.Err() != nil:
					lat[k] = never
					lateCount.Add(1)
				case errors.Is(err, errRefused):
					lat[k] = never // not answered: it must not lower the percentiles
					refusedCount.Add(1)
				case err != nil:
					if errCount.Add(1) == 1 {
						firstErr.Store(fmt.Errorf("op %d: %w", k, err))
					}
				}
			})
		}
		if i < n {
			time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		}
	}
	wg.Wait()
	m := measurement{offered: rate, items: 1, ops: n, errs: int(errCount.Load()), refused: int(refusedCount.Load()), late: int(lateCount.Load()),
		elapsed: time.Since(start), latencies: lat}
	if e, ok := firstErr.Load().(error); ok {
		m.firstErr = e
	}
	traceOpenLoop(rate, interval, lat)
	slices.Sort(m.latencies)
	return m
}

// traceOpenLoop writes, with SOTTO_BENCH_OPEN_TRACE=<dir>, a row's
// latencies in the order the ops were due (open-<rate>.tsv: due offset in
// ms, latency in ms, "never" for unanswered), to tell stalls (slow ops in
// clusters, at intervals) from queueing.
func traceOpenLoop(rate int, interval time.Duration, lat []time.Duration) {
	dir := os.Getenv("SOTTO_BENCH_OPEN_TRACE")
	if dir == "" {
		return
	}
	var b strings.Builder
	for k, l := range lat {
		due := float64(time.Duration(k)*interval) / 1e6
		if l == never {
			fmt.Fprintf(&b, "%.3f\tnever\n", due)
			continue
		}
		fmt.Fprintf(&b, "%.3f\t%.3f\n", due, float64(l)/1e6)
	}
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("open-%d.tsv", rate)), []byte(b.String()), 0o644)
}

// openLoopTimeout is how long after it was due an open-loop op may take
// before it counts as never answered (as a visitor who gave up).
const openLoopTimeout = 10 * time.Second

// never is the latency of an op that was not answered in time, or not sent
// because too many were waiting: it sorts last and prints as "∞".
const never = time.Duration(math.MaxInt64)

// load names a measurement's load: its callers, or the rate offered.
func (m measurement) load() string {
	if m.offered > 0 {
		return thousands(float64(m.offered)) + "/s offered"
	}
	return strconv.Itoa(m.callers) + " callers"
}

package server

import (
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"golang.org/x/time/rate"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/audit/internal/reasons"
)

// AppendLimit bounds how many events one workload may append: a sustained
// rate (events per second) and a burst. The burst must hold the largest
// AppendEvents request (1,000 events) or such a request could never pass.
type AppendLimit struct {
	PerSecond float64
	Burst     int
}

// maxEventsPerAppend is the proto's bound on one AppendEvents request.
const maxEventsPerAppend = 1000

// Check refuses a limit under which a full request could never pass (the
// outbox would retry it forever) or that admits nothing.
func (l AppendLimit) Check() error {
	if l.Burst < maxEventsPerAppend || l.PerSecond <= 0 {
		return fmt.Errorf("audit append limit: the burst must be at least %d events (one full request) and the rate positive", maxEventsPerAppend)
	}
	return nil
}

// DefaultAppendLimit lets a busy service through (a tokenvault replica at
// full speed records well under 20,000 events a second) while a runaway or
// hostile workload cannot fill the log faster than that.
var DefaultAppendLimit = AppendLimit{PerSecond: 20000, Burst: 50000}

// appendLimiter keeps one token bucket per recording workload.
type appendLimiter struct {
	limit AppendLimit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newAppendLimiter(l AppendLimit, now func() time.Time) *appendLimiter {
	return &appendLimiter{limit: l, now: now, buckets: map[string]*rate.Limiter{}}
}

// allow takes n events from workload's bucket, or refuses the whole request.
func (a *appendLimiter) allow(workload string, n int) error {
	a.mu.Lock()
	b, ok := a.buckets[workload]
	if !ok {
		b = rate.NewLimiter(rate.Limit(a.limit.PerSecond), a.limit.Burst)
		a.buckets[workload] = b
	}
	a.mu.Unlock()
	if !b.AllowN(a.now(), n) {
		return errs.E(errs.ResourceExhausted, reasons.AppendRateLimited, "too many audit events from this workload; retry later")
	}
	return nil
}

// checkNamespaces refuses events whose action is outside the recording
// workload's namespace: only tokenvault records tokenvault.* actions, so a
// workload cannot plant events that look like another service's.
func checkNamespaces(workloadPath string, events []*auditv1.EventInput) error {
	name := path.Base(workloadPath)
	for _, e := range events {
		ns, _, _ := strings.Cut(e.GetAction(), ".")
		if ns != name {
			return errs.E(errs.InvalidArgument, reasons.ActionNotOwned, "a workload records only actions of its own namespace (%s.*)", name)
		}
	}
	return nil
}

// maxFutureSkew is how far ahead of the audit service's clock an event may
// say it happened: the recorders' clocks are NTP-synchronised, so more
// than this is a broken clock or a forged date, and a future-dated entry
// would sort after events that really followed it. There is no lower
// bound: an outbox keeps an event until the log confirms it, however long
// the log was down (see ADR 0002, addendum), so any age can be honest and
// record_time, set by the log, shows how late an event arrived.
const maxFutureSkew = 5 * time.Minute

// checkEvents refuses what the proto's rules cannot express: an occur_time
// too far in the future, and a caller_workload outside the recorder's own
// trust domain (its mTLS only trusts the domain's bundle, so it cannot
// have authenticated such a caller).
func checkEvents(recorder spiffeid.ID, now time.Time, events []*auditv1.EventInput) error {
	limit := now.Add(maxFutureSkew)
	for _, e := range events {
		if e.GetOccurTime().AsTime().After(limit) {
			return errs.E(errs.InvalidArgument, reasons.OccurTimeInFuture, "occur_time is more than %s ahead of the audit log's clock", maxFutureSkew)
		}
		if c := e.GetCallerWorkload(); c != "" {
			id, err := spiffeid.FromString(c)
			if err != nil || id.TrustDomain() != recorder.TrustDomain() {
				return errs.E(errs.InvalidArgument, reasons.CallerWorkloadForeign, "caller_workload must be a workload of the recorder's trust domain (%s)", recorder.TrustDomain())
			}
		}
	}
	return nil
}

package conversation

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/services/conversation/internal/retention"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// PurposeModelImprovement is the consent catalogue's purpose under which a
// transcript is kept to improve the assistant (services/consent/
// catalogue.yaml).
const PurposeModelImprovement = "model_improvement"

// ActionRetentionSweep is the audit action of one retention run: counts
// only, no subject.
const ActionRetentionSweep auditclient.Action = "conversation.retention.sweep"

// JobRetention is the retention job's kind (pkg/jobs).
const JobRetention = "conversation.retention"

// ConsentChecker says whether a customer allows a purpose now. An error
// counts as no (fail closed).
type ConsentChecker func(ctx context.Context, subject, purpose string) (bool, error)

// Retention deletes conversations idle past their shop's period for their
// channel (retention.Policy), keeping a transcript past it only while its
// customer consents to model improvement.
type Retention struct {
	s       *Service
	policy  retention.Policy
	consent ConsentChecker
	now     func() time.Time
	// outcomes counts conversations past their period by what happened
	// to them (nil: no metrics).
	outcomes metric.Int64Counter
}

// WithMeter makes the sweep count, in sotto.conversation.retention.conversations
// (attribute outcome: deleted, kept_for_model_improvement, kept_restricted),
// the conversations past their period it looked at.
func (r *Retention) WithMeter(mp metric.MeterProvider) (*Retention, error) {
	c, err := mp.Meter("github.com/sottohq/sotto/services/conversation").Int64Counter("sotto.conversation.retention.conversations",
		metric.WithUnit("{conversation}"), metric.WithDescription("Conversations past their retention period, by what the retention job did with them"))
	if err != nil {
		return nil, err
	}
	r.outcomes = c
	return r, nil
}

func (r *Retention) count(ctx context.Context, outcome string, n int64) {
	if r.outcomes != nil && n > 0 {
		r.outcomes.Add(ctx, n, metric.WithAttributes(attribute.String("outcome", outcome)))
	}
}

// NewRetention returns the retention sweep over the domain. consent may be
// nil: then nothing is kept for model improvement. now is the sweep's clock
// (the domain's when nil).
func (s *Service) NewRetention(p retention.Policy, consent ConsentChecker, now func() time.Time) *Retention {
	if now == nil {
		now = s.now
	}
	return &Retention{s: s, policy: p, consent: consent, now: func() time.Time { return now().UTC().Truncate(time.Microsecond) }}
}

// Register makes runner run the sweep every interval (a periodic pkg/jobs
// kind: one run per occurrence whatever the number of replicas, never two
// at once, retried after a failure).
func (r *Retention) Register(runner *jobs.Runner, every time.Duration) error {
	return runner.Periodic(JobRetention, every, func(ctx context.Context, job jobs.Job) error {
		_, err := r.Sweep(ctx, "run:"+strconv.FormatInt(job.ID, 10))
		return err
	}, jobs.Options{MaxAttempts: 3, Timeout: time.Hour})
}

// SweepResult counts what one run did.
type SweepResult struct {
	// Deleted counts deleted rows by table (conversations, messages,
	// placeholders, and every other table that names a conversation).
	Deleted map[string]int64
	// KeptForModelImprovement counts conversations past their period kept
	// because their customer consents to model improvement.
	KeptForModelImprovement int64
	// KeptRestricted counts conversations past their period kept because
	// their customer's processing is restricted (a data-subject request).
	KeptRestricted int64
	// ConsentUnavailable counts conversations deleted because the consent
	// service could not say whether their customer consents.
	ConsentUnavailable int64
}

// TombstoneTTL is how long an erased sender's replay digests are kept:
// Meta retries a webhook delivery for up to a few days (WhatsApp: 7).
const TombstoneTTL = 7 * retention.Day

// sweepBatch bounds the conversations deleted in one transaction.
const sweepBatch = 100

// Sweep deletes every conversation idle past its period, in batches (each
// one transaction), then records one audit event with the counts and
// empties SQLite's write-ahead log. It is safe to run again after a crash
// and alongside another run: a deletion of rows already gone deletes
// nothing. runID names the run in the audit event.
func (r *Retention) Sweep(ctx context.Context, runID string) (res SweepResult, err error) {
	now := r.now()
	res = SweepResult{Deleted: map[string]int64{}}
	// Whatever ends the run, a batch that committed deletions has left
	// their pages in the WAL: scrub it; a run that deleted nothing finishes
	// a scrub owed from before (an erasure's), even when it fails itself
	// (security review: a sweep failing later, or every time, left both).
	defer func() {
		if res.Deleted["conversations"] > 0 {
			r.s.truncateWAL(ctx)
		} else {
			r.s.retryWAL(ctx)
		}
	}()
	restrictions := map[[2]string]bool{}
	keepUntil := now.Add(-time.Duration(r.policy.ModelImprovementDays) * retention.Day)
	for _, rule := range r.policy.Rules() {
		cutoff := now.Add(-time.Duration(rule.Days) * retention.Day)
		var exclude []string
		if rule.Tenant == "" {
			exclude = r.policy.Excluding(rule.Channel)
		}
		var cur *storage.IdleCursor
		for {
			convs, err := r.s.d.Store.IdleConversations(ctx, rule.Tenant, exclude, rule.Channel, cutoff, cur, sweepBatch)
			if err != nil {
				return res, err
			}
			if len(convs) == 0 {
				break
			}
			last := convs[len(convs)-1]
			cur = &storage.IdleCursor{UpdateTime: last.UpdateTime.UnixMicro(), ID: last.ID}
			var del, keep []string
			for _, c := range convs {
				restricted, err := r.restricted(ctx, c, restrictions)
				if err != nil {
					return res, err
				}
				switch {
				case restricted:
					// Art. 18(1)(c): a customer may restrict processing so
					// that data past its use is kept for their legal claims.
					res.KeptRestricted++
				case c.UpdateTime.After(keepUntil) && r.consents(ctx, c, &res):
					keep = append(keep, c.ID)
				default:
					del = append(del, c.ID)
				}
			}
			err = r.s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
				counts, err := r.s.d.Store.DeleteConversations(ctx, tx, del)
				if err != nil {
					return err
				}
				for t, n := range counts {
					res.Deleted[t] += n
				}
				for _, id := range keep {
					if err := r.s.d.Store.MarkModelImprovement(ctx, tx, id, now); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return res, err
			}
			res.KeptForModelImprovement += int64(len(keep))
			if len(convs) < sweepBatch {
				break
			}
		}
	}
	// Erased senders' replay digests are kept for TombstoneTTL only.
	pruned, err := r.s.d.Store.PruneChannelMessageTombstones(ctx, r.s.d.Store.DB(), now.Add(-TombstoneTTL))
	if err != nil {
		return res, err
	}
	res.Deleted["channel_message_tombstones"] += pruned
	r.count(ctx, "deleted", res.Deleted["conversations"])
	r.count(ctx, "kept_for_model_improvement", res.KeptForModelImprovement)
	r.count(ctx, "kept_restricted", res.KeptRestricted)
	ev := auditclient.New(ctx, ActionRetentionSweep, auditclient.Success)
	// The audit event has no field for counts: the resource id carries
	// them (no subject, no conversation id).
	ev.ResourceType, ev.ResourceID = "retention_sweep", runID+"/conversations_deleted="+
		strconv.FormatInt(res.Deleted["conversations"], 10)+"/messages_deleted="+strconv.FormatInt(res.Deleted["messages"], 10)+
		"/kept_for_model_improvement="+strconv.FormatInt(res.KeptForModelImprovement, 10)+
		"/kept_restricted="+strconv.FormatInt(res.KeptRestricted, 10)
	if err := r.s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return r.s.d.Audit.Enqueue(ctx, tx, ev) }); err != nil {
		return res, err
	}
	r.s.d.Audit.Notify()
	r.s.d.Logger.InfoContext(ctx, "retention sweep", "conversations_deleted", res.Deleted["conversations"],
		"messages_deleted", res.Deleted["messages"], "placeholders_deleted", res.Deleted["placeholders"],
		"kept_for_model_improvement", res.KeptForModelImprovement, "kept_restricted", res.KeptRestricted, "consent_unavailable", res.ConsentUnavailable)
	return res, nil
}

// consents asks, on every run, whether the conversation's customer allows
// model improvement: a withdrawal takes effect on the next run, and a
// consent service that cannot answer counts as no.
func (r *Retention) consents(ctx context.Context, c storage.Conversation, res *SweepResult) bool {
	if r.consent == nil {
		return false
	}
	ok, err := r.consent(ctx, c.CustomerSubject, PurposeModelImprovement)
	if err != nil {
		res.ConsentUnavailable++
		r.s.d.Logger.WarnContext(ctx, "model-improvement consent unknown; the conversation is not kept", "conversation", c.ID,
			"reason", errs.ReasonOf(err))
		return false
	}
	return ok
}

// restricted says whether the conversation's customer is restricted,
// asking the database once per customer and run.
func (r *Retention) restricted(ctx context.Context, c storage.Conversation, seen map[[2]string]bool) (bool, error) {
	k := [2]string{c.Tenant, c.CustomerSubject}
	if v, ok := seen[k]; ok {
		return v, nil
	}
	_, v, err := r.s.d.Store.Restriction(ctx, r.s.d.Store.DB(), c.Tenant, c.CustomerSubject)
	if err != nil {
		return false, err
	}
	seen[k] = v
	return v, nil
}

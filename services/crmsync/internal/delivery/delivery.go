// Package delivery queues customer changes for the shops' CRMs and delivers
// them, on pkg/jobs (ADR 0006: the suite's one durable queue).
//
// Record turns an event into one delivery per connector the shop has
// mapped: only mapped fields, only under purposes the customer allows now,
// in an encrypted payload (a data key per delivery, wrapped by the
// KeyManager), with the job that runs it enqueued in the same transaction.
// The job checks consent again, resolves each field's form (the token, the
// token vault's masked view, or the value under the token vault's policy)
// and upserts the record by the customer's subject, so an attempt repeated
// after a lost answer or a crash updates the CRM's record instead of making
// a second one. A 429 is retried after the CRM's Retry-After, other
// failures after pkg/jobs' exponential backoff with jitter; after
// MaxAttempts, or a failure no retry fixes, the delivery is dead-lettered
// with its reason and kept (payload included) for an operator to replay or
// discard. A finished delivery keeps no payload.
package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
)

// Kind is the pkg/jobs kind of a delivery attempt.
const Kind = "crmsync.deliver"

// ReconcileKind is the periodic pkg/jobs kind that dead-letters deliveries
// whose job pkg/jobs itself gave up (Reconcile).
const ReconcileKind = "crmsync.reconcile"

// DefaultReconcileInterval is how often Reconcile runs.
const DefaultReconcileInterval = time.Minute

// DefaultMaxAttempts bounds a delivery's attempts (429s included).
const DefaultMaxAttempts = 10

// DefaultRetryBackoffMax is Deps.RetryBackoffMax's default.
const DefaultRetryBackoffMax = 10 * time.Minute

// Audit actions.
const (
	ActionDelivered auditclient.Action = "crmsync.delivered"
	ActionCancelled auditclient.Action = "crmsync.cancelled"
	ActionDead      auditclient.Action = "crmsync.dead_lettered"
	ActionReplayed  auditclient.Action = "crmsync.replayed"
	ActionDiscarded auditclient.Action = "crmsync.discarded"
)

// Consent says whether subject allows purpose now (pkg/consentclient);
// an error is a failure to ask, never a yes.
type Consent func(ctx context.Context, subject, purpose string) (bool, error)

// Connectors gives a shop's connector.
type Connectors func(tenant, name string) (connector.Connector, error)

// Limiter is a shop's rate for one CRM (internal/ratelimit): Take spends
// one request's token at now, or says how long until one is due.
type Limiter interface {
	Take(now time.Time) (wait time.Duration, ok bool)
}

// Limits gives the rate limiter of a shop's connector (nil: none).
type Limits func(tenant, name string) *rate.Limiter

// RateLimits gives a shop's connector's Limiter (internal/ratelimit: the
// short window and the day's allocation); nil: none. It takes precedence
// over Limits.
type RateLimits func(tenant, name string) Limiter

// Vault is the part of the token vault deliveries use.
type Vault interface {
	Detokenize(ctx context.Context, in *tokenvaultv1.DetokenizeRequest, opts ...grpc.CallOption) (*tokenvaultv1.DetokenizeResponse, error)
	RevealMasked(ctx context.Context, in *tokenvaultv1.RevealMaskedRequest, opts ...grpc.CallOption) (*tokenvaultv1.RevealMaskedResponse, error)
	// Tokenize stores a rectification's corrected values.
	Tokenize(ctx context.Context, in *tokenvaultv1.TokenizeRequest, opts ...grpc.CallOption) (*tokenvaultv1.TokenizeResponse, error)
	// GetTokenMetadata names a token's subject (Record's check).
	GetTokenMetadata(ctx context.Context, in *tokenvaultv1.GetTokenMetadataRequest, opts ...grpc.CallOption) (*tokenvaultv1.GetTokenMetadataResponse, error)
}

// Deps of a Service.
type Deps struct {
	Store      *storage.Store
	Jobs       *jobs.Runner
	Keys       keys.KeyManager
	QueueKey   string
	Mappings   *mapping.Set
	Consent    Consent
	Vault      Vault
	Connectors Connectors
	Limits     Limits
	RateLimits RateLimits
	Audit      *auditclient.Outbox
	Logger     *slog.Logger
	// Now is the domain clock (default time.Now); the queue's timing is
	// the jobs runner's clock.
	Now         func() time.Time
	MaxAttempts int
	// RetryBackoffMax caps a failed attempt's backoff (default
	// DefaultRetryBackoffMax).
	RetryBackoffMax time.Duration
	// ReconcileInterval is how often Reconcile runs (default a minute).
	ReconcileInterval time.Duration
	// DigestKey keys the digests of subjects and external ids in erasure
	// evidence and the privacy ledger.
	DigestKey []byte
	// ErasureReadBacks and ErasureReadBackWait bound an erasure's reads of
	// a deleted record (config.Config).
	ErasureReadBacks    int
	ErasureReadBackWait time.Duration
	// HeldTTL bounds how long a refused event is held (default
	// DefaultHeldTTL); Reconcile deletes older ones.
	HeldTTL time.Duration
}

// DefaultHeldTTL is Deps.HeldTTL's default (config.Config.HeldTTL's).
const DefaultHeldTTL = 30 * 24 * time.Hour

// Service queues and delivers.
type Service struct {
	d   Deps
	pii *pii.Engine
	// wal empties SQLite's write-ahead log after an erasure; Reconcile
	// finishes a scrub that readers kept from finishing.
	wal *store.Scrubber
}

// walScrubTimeout bounds how long an erasure waits for readers to let go
// of SQLite's write-ahead log before leaving it to Reconcile.
const walScrubTimeout = 10 * time.Second

// New registers the delivery kind on d.Jobs (before it runs).
func New(d Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = DefaultMaxAttempts
	}
	switch {
	case d.RetryBackoffMax == 0:
		d.RetryBackoffMax = DefaultRetryBackoffMax
	case d.RetryBackoffMax < backoffBase:
		// A shorter cap would spend every attempt within seconds and
		// dead-letter the deliveries of a CRM away for a minute.
		return nil, fmt.Errorf("crmsync: the retry backoff cap %v is below the first retry's %v", d.RetryBackoffMax, backoffBase)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	engine, err := pii.New(pii.StorageConfig())
	if err != nil {
		return nil, err
	}
	s := &Service{d: d, pii: engine, wal: store.NewScrubber(d.Store.DB(), walScrubTimeout)}
	// pkg/jobs' own limit is above the delivery's, so the delivery's count
	// (which 429s, scheduled as new jobs, add to) decides when it is dead.
	if err := d.Jobs.Register(Kind, s.handle, jobs.Options{MaxAttempts: d.MaxAttempts + 1, Timeout: 2 * time.Minute}); err != nil {
		return nil, err
	}
	if err := d.Jobs.Register(ReleaseKind, s.releaseHeld, jobs.Options{MaxAttempts: releaseAttempts, Timeout: time.Minute}); err != nil {
		return nil, err
	}
	if d.HeldTTL <= 0 {
		d.HeldTTL = DefaultHeldTTL
	}
	if d.ReconcileInterval <= 0 {
		d.ReconcileInterval = DefaultReconcileInterval
	}
	if err := d.Jobs.Periodic(ReconcileKind, d.ReconcileInterval, func(ctx context.Context, _ jobs.Job) error { return s.Reconcile(ctx) },
		jobs.Options{MaxAttempts: 1, Timeout: time.Minute}); err != nil {
		return nil, err
	}
	s.d = d
	return s, nil
}

// Event is a customer change (RecordCustomerEvent).
type Event struct {
	ID, Tenant, Subject string
	Kind                int
	Fields              map[string]string
	Summary             string
	// Partial marks an event that carries only the fields that changed
	// (crmsync's own: a rectification, a CRM's edit). A caller's event is
	// the customer's state: a field it leaves out was removed or never
	// given (identity sends every contact detail the account has).
	Partial bool
}

// SummaryKind is EVENT_KIND_CONVERSATION_SUMMARY.
const SummaryKind = 3

// Skipped is a connector an event was not queued for.
type Skipped struct{ Connector, Reason string }

// Record queues ev for the tenant's connectors. Recording an event again
// returns the deliveries it made the first time. A customer event that
// queues nothing for want of consent is held (held.go) until a grant
// releases it.
func (s *Service) Record(ctx context.Context, ev Event) ([]storage.Delivery, []Skipped, error) {
	return s.recordEvent(ctx, ev, true)
}

func (s *Service) recordEvent(ctx context.Context, ev Event, hold bool) ([]storage.Delivery, []Skipped, error) {
	if prev, err := s.d.Store.ByEvent(ctx, s.d.Store.DB(), ev.Tenant, ev.ID); err != nil || len(prev) > 0 {
		return prev, nil, err
	}
	fields := map[string]string{}
	for k, v := range ev.Fields {
		if k == mapping.SummaryField {
			return nil, nil, errs.E(errs.InvalidArgument, reasons.FieldsInvalid, "%s comes in summary, not fields", mapping.SummaryField)
		}
		if !isToken(v) {
			return nil, nil, errs.E(errs.InvalidArgument, reasons.FieldsInvalid, "field %s is not a token vault token", k)
		}
		fields[k] = v
	}
	if ev.Summary != "" {
		if ev.Kind != SummaryKind {
			return nil, nil, errs.E(errs.InvalidArgument, reasons.FieldsInvalid, "only a conversation summary event has a summary")
		}
		if len(s.pii.Detect(ev.Summary, "en")) > 0 {
			return nil, nil, errs.E(errs.InvalidArgument, reasons.SummaryNotPseudonymised, "the summary holds personal data, not placeholders only")
		}
		fields[mapping.SummaryField] = ev.Summary
	}
	if err := s.ownTokens(ctx, ev); err != nil {
		return nil, nil, err
	}
	ds, skipped, err := s.queue(ctx, ev, func(m mapping.Mapping) []mapping.Item { return m.Apply(fields) })
	if err == nil && hold && len(ds) == 0 && slices.ContainsFunc(skipped, func(sk Skipped) bool { return sk.Reason == reasons.ConsentDenied }) {
		err = s.hold(ctx, ev)
	}
	return ds, skipped, err
}

// ownTokens checks that each of ev's tokens is the token vault's for ev's
// shop and customer: a caller that put customer B's tokens on customer A's
// event would otherwise have B's values sent (and, in plaintext form,
// detokenised by crmsync) into A's CRM record. A deterministic token names
// no subject (several may share it) and passes.
func (s *Service) ownTokens(ctx context.Context, ev Event) error {
	names := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	// The fields are checked at once (a customer event has a handful), and
	// judged in name order so that the same event always fails the same way.
	mds := make([]*tokenvaultv1.GetTokenMetadataResponse, len(names))
	fails := make([]error, len(names))
	var wg sync.WaitGroup
	slots := make(chan struct{}, ownerChecksAtOnce)
	for i, k := range names {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			mds[i], fails[i] = s.d.Vault.GetTokenMetadata(ctx, &tokenvaultv1.GetTokenMetadataRequest{Token: ev.Fields[k], Tenant: ev.Tenant})
		})
	}
	wg.Wait()
	for i, k := range names {
		switch status.Code(fails[i]) {
		case codes.OK:
		case codes.NotFound, codes.InvalidArgument:
			return errs.E(errs.InvalidArgument, reasons.FieldsInvalid, "field %s is not a token of the shop", k)
		default:
			// Unreachable or refusing crmsync: the caller retries, nothing
			// is queued unchecked.
			return errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault could not name the tokens' customer")
		}
		if sub := mds[i].GetSubject(); sub != "" && sub != ev.Subject {
			return errs.E(errs.InvalidArgument, reasons.TokenSubjectMismatch, "field %s is another customer's token", k)
		}
	}
	return nil
}

// ownerChecksAtOnce bounds one event's concurrent token checks (an event
// may carry 64 fields).
const ownerChecksAtOnce = 8

// queue makes ev's deliveries: per mapping of the shop, the items apply
// picks, those whose purpose the customer allows now (the first of the two
// consent checks), sealed, each delivery with its job in one transaction.
func (s *Service) queue(ctx context.Context, ev Event, apply func(mapping.Mapping) []mapping.Item) ([]storage.Delivery, []Skipped, error) {
	restricted, err := s.d.Store.Restricted(ctx, s.d.Store.DB(), ev.Tenant, ev.Subject)
	if err != nil {
		return nil, nil, err
	}
	if restricted {
		return nil, s.refuseRestricted(ctx, ev), nil
	}
	allowed := map[string]bool{}
	var skipped []Skipped
	type planned struct {
		d storage.Delivery
		p payload
	}
	var plan []planned
	now := s.d.Now()
	for _, m := range s.d.Mappings.For(ev.Tenant) {
		items := apply(m)
		if len(items) == 0 {
			skipped = append(skipped, Skipped{m.Connector, reasons.NothingMapped})
			continue
		}
		var kept []mapping.Item
		for _, it := range items {
			if it.OptOut() {
				// An opt-out goes out without the purpose it is sent under
				// (ADR 0015, "Opt-outs first"): it records less processing,
				// and the CRM that has the customer must stop showing them
				// subscribed. Delivery checks that it is still the state.
				kept = append(kept, it)
				continue
			}
			ok, seen := allowed[it.Purpose]
			if !seen {
				var err error
				if ok, err = s.d.Consent(ctx, ev.Subject, it.Purpose); err != nil {
					return nil, nil, err
				}
				allowed[it.Purpose] = ok
			}
			if ok {
				kept = append(kept, it)
			}
		}
		if len(kept) == 0 {
			skipped = append(skipped, Skipped{m.Connector, reasons.ConsentDenied})
			continue
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, nil, err
		}
		plan = append(plan, planned{storage.Delivery{ID: "dlv_" + id.String(), Tenant: ev.Tenant, Connector: m.Connector,
			EventID: ev.ID, Subject: ev.Subject, Kind: ev.Kind, State: storage.Queued, Purposes: purposesOf(kept),
			Properties: propertiesOf(kept), OptOut: slices.ContainsFunc(kept, mapping.Item.OptOut), CreateTime: now, UpdateTime: now},
			payload{Subject: ev.Subject, Items: kept}})
	}
	var out []storage.Delivery
	for i := range plan {
		wrapped, sealed, err := seal(ctx, s.d.Keys, s.d.QueueKey, plan[i].d.ID, plan[i].p)
		if err != nil {
			return nil, nil, err
		}
		plan[i].d.WrappedKey, plan[i].d.Payload = wrapped, sealed
	}
	err = s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		for _, p := range plan {
			d := p.d
			if err := s.d.Store.Insert(ctx, tx, d); err != nil {
				return err
			}
			job, err := s.enqueue(ctx, tx, d.ID, "0", time.Time{})
			if err != nil {
				return err
			}
			d.JobID = job
			out = append(out, d)
		}
		return nil
	})
	if store.IsUniqueViolation(err) {
		// The same event, recorded concurrently: what that call made.
		prev, err := s.d.Store.ByEvent(ctx, s.d.Store.DB(), ev.Tenant, ev.ID)
		return prev, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	return out, skipped, nil
}

type jobArgs struct {
	Delivery string `json:"d"`
}

// enqueue adds the job of a delivery's attempt in tx; key makes the unique
// key of each job of the delivery (first, after a failure, after a
// replay...). The delivery becomes due at at (now if zero): a batch takes
// it only from then.
func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, id string, key string, at time.Time) (int64, error) {
	args, _ := json.Marshal(jobArgs{Delivery: id})
	e, err := s.d.Jobs.EnqueueTx(ctx, tx, Kind, args, jobs.EnqueueOptions{UniqueKey: id + "#" + key, RunAt: at})
	if err != nil {
		return 0, err
	}
	if err := s.d.Store.SetJob(ctx, tx, id, e.ID); err != nil {
		return 0, err
	}
	due := at
	if due.IsZero() {
		due = s.d.Now()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE crm_deliveries SET due_time = $2 WHERE delivery_id = $1`, id, store.Micros(due)); err != nil {
		return 0, err
	}
	return e.ID, nil
}

func purposesOf(items []mapping.Item) []string {
	var out []string
	for _, it := range items {
		if !slices.Contains(out, it.Purpose) {
			out = append(out, it.Purpose)
		}
	}
	sort.Strings(out)
	return out
}

func propertiesOf(items []mapping.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Property)
	}
	return out
}

// resolve puts each item in its form: the token as it is, the token
// vault's masked view, or the value the token vault gives crmsync for the
// item's purpose under its policy (policy.yaml's crmsync rules, which also
// ask consent). A refusal sends nothing.
func (s *Service) resolve(ctx context.Context, tenant string, items []mapping.Item) (map[string]string, error) {
	props := map[string]string{}
	var masked []mapping.Item
	plain := map[string][]mapping.Item{}
	for _, it := range items {
		switch it.Form {
		case mapping.Masked:
			masked = append(masked, it)
		case mapping.Plaintext:
			plain[it.Purpose] = append(plain[it.Purpose], it)
		default:
			props[it.Property] = it.Value
		}
	}
	if len(masked) > 0 {
		req := &tokenvaultv1.RevealMaskedRequest{Tenant: tenant}
		for _, it := range masked {
			req.Tokens = append(req.Tokens, it.Value)
		}
		resp, err := s.d.Vault.RevealMasked(ctx, req)
		if err != nil {
			return nil, vaultErr(err, reasons.MaskRefused)
		}
		if len(resp.GetResults()) != len(masked) {
			return nil, errs.E(errs.FailedPrecondition, reasons.MaskRefused, "the token vault answered for other tokens")
		}
		for i, r := range resp.GetResults() {
			if r.GetError() != nil || r.GetMasked() == "" {
				return nil, errs.E(errs.FailedPrecondition, reasons.MaskRefused, "the token vault gave no masked view of a field")
			}
			props[masked[i].Property] = r.GetMasked()
		}
	}
	purposes := make([]string, 0, len(plain))
	for p := range plain {
		purposes = append(purposes, p)
	}
	sort.Strings(purposes)
	for _, purpose := range purposes {
		its := plain[purpose]
		req := &tokenvaultv1.DetokenizeRequest{Purpose: purpose, Tenant: tenant}
		for _, it := range its {
			req.Tokens = append(req.Tokens, it.Value)
		}
		resp, err := s.d.Vault.Detokenize(ctx, req)
		if err != nil {
			return nil, vaultErr(err, reasons.PlaintextRefused)
		}
		if len(resp.GetResults()) != len(its) {
			return nil, errs.E(errs.FailedPrecondition, reasons.PlaintextRefused, "the token vault answered for other tokens")
		}
		for i, r := range resp.GetResults() {
			if vaultCouldNotDecide(r) {
				return nil, errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault could not decide on a field's value right now")
			}
			if !r.GetDecision().GetAllowed() || r.GetError() != nil {
				return nil, errs.E(errs.FailedPrecondition, reasons.PlaintextRefused, "the token vault refused a field's value")
			}
			props[its[i].Property] = r.GetValue()
		}
	}
	return props, nil
}

// The token vault's reasons for a value it could not decide on right now
// (its consent check or its key service did not answer: with load shedding,
// also a consent service too busy for it), which crmsync retries like an
// unreachable vault. Every other refusal stands. (tokenvault's reasons
// catalogue is internal to its module.)
const (
	vaultConsentUnavailable = "CONSENT_UNAVAILABLE"
	vaultKeyUnavailable     = "KEY_UNAVAILABLE"
)

func vaultCouldNotDecide(r *tokenvaultv1.DetokenizeResult) bool {
	return r.GetDecision().GetReason() == vaultConsentUnavailable || r.GetError().GetReason() == vaultKeyUnavailable
}

// vaultErr: an unreachable vault is retried, a refusal is not.
func vaultErr(err error, refused string) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault could not be asked")
	}
	return errs.E(errs.FailedPrecondition, refused, "the token vault refused")
}

// finish moves a queued delivery to its end (or dead letter) and audits it
// in the same transaction.
func (s *Service) finish(ctx context.Context, d storage.Delivery, state, attempts int, reason string, action auditclient.Action,
	outcome auditclient.Outcome, ret error) error {
	return s.finishWith(ctx, d, state, attempts, reason, action, outcome, ret, nil)
}

// finishWith is finish with more to write in its transaction.
func (s *Service) finishWith(ctx context.Context, d storage.Delivery, state, attempts int, reason string, action auditclient.Action,
	outcome auditclient.Outcome, ret error, also func(*sql.Tx) error) error {
	err := s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
		if err := s.d.Store.Finish(ctx, tx, d.ID, []int{storage.Queued}, state, attempts, reason, s.d.Now()); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, d, action, outcome, reason)
	})
	if errors.Is(err, storage.ErrNotQueued) {
		return errCancelled // discarded meanwhile: nothing more to do
	}
	if err != nil {
		return err
	}
	if s.d.Audit != nil {
		s.d.Audit.Notify()
	}
	return ret
}

func (s *Service) audit(ctx context.Context, tx *sql.Tx, d storage.Delivery, action auditclient.Action, outcome auditclient.Outcome, reason string) error {
	if s.d.Audit == nil {
		return nil
	}
	ev := auditclient.New(ctx, action, outcome)
	ev.Subject = d.Subject
	ev.ResourceType = "crm_delivery"
	ev.ResourceID = d.ID
	if len(d.Purposes) > 0 {
		ev.Purpose = d.Purposes[0]
	}
	ev.Reason = reason
	return s.d.Audit.Enqueue(ctx, tx, ev)
}

// Reconcile dead-letters the queued deliveries whose job pkg/jobs
// dead-lettered itself: a worker that died during the job's last attempt
// (LEASE_EXPIRED) never returned to the handler, so the delivery would stay
// listed as queued. Each such job is then re-queued: it finds its delivery
// no longer queued and completes, so the dead job is not scanned again.
// It also deletes held events older than Deps.HeldTTL and finishes an
// erasure's scrub of the write-ahead log that readers held up.
func (s *Service) Reconcile(ctx context.Context) error {
	if err := s.wal.Retry(ctx); err != nil {
		s.d.Logger.WarnContext(ctx, "the write-ahead log still holds pages from before an erasure; retrying later", "reason", errs.ReasonOf(err))
	}
	if s.d.HeldTTL <= 0 {
		// New sets the default; a zero here would expire every held event.
		return errs.E(errs.Internal, reasons.HeldTTLUnset, "held events have no time to live")
	}
	if n, err := s.d.Store.ExpireHeld(ctx, s.d.Store.DB(), s.d.Now().Add(-s.d.HeldTTL)); err != nil {
		s.d.Logger.WarnContext(ctx, "cannot expire held events; retrying at the next reconcile", "reason", errs.ReasonOf(err))
	} else if n > 0 {
		s.d.Logger.InfoContext(ctx, "expired held events", "count", n)
	}
	var after int64
	for {
		dead, err := s.d.Jobs.Dead(ctx, after, 100)
		if err != nil {
			return err
		}
		for _, j := range dead {
			after = j.ID
			if j.Kind != Kind {
				continue
			}
			d, ok, err := s.d.Store.ByJob(ctx, j.ID)
			if err != nil {
				return err
			}
			if ok {
				reason := j.LastErrorReason
				if reason == "" {
					reason = jobs.ReasonHandlerFailed
				}
				err := s.finish(ctx, d, storage.DeadLettered, d.Attempts, reason, ActionDead, auditclient.Failure, nil)
				if err != nil && !errors.Is(err, errCancelled) {
					return err
				}
			}
			if err := s.d.Jobs.Retry(ctx, j.ID); err != nil {
				return err
			}
		}
		if len(dead) < 100 {
			return nil
		}
	}
}

// Replay queues a dead-lettered delivery again, attempts reset.
func (s *Service) Replay(ctx context.Context, id string) (storage.Delivery, error) {
	db := s.d.Store.DB()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		d, err := s.d.Store.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		ok, err := s.d.Store.Requeue(ctx, tx, id, s.d.Now())
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.FailedPrecondition, reasons.DeliveryNotReplayable, "only a dead-lettered delivery can be replayed")
		}
		// A batch lease left from its last attempt would hold the replay
		// back until it ends.
		if _, err := tx.ExecContext(ctx, `UPDATE crm_deliveries SET lease_job = 0, lease_until = 0 WHERE delivery_id = $1`, id); err != nil {
			return err
		}
		if _, err := s.enqueue(ctx, tx, id, "replay-"+strconv.FormatInt(store.Micros(s.d.Now()), 10), time.Time{}); err != nil {
			return err
		}
		return s.audit(ctx, tx, d, ActionReplayed, auditclient.Success, "")
	})
	if err != nil {
		return storage.Delivery{}, err
	}
	return s.d.Store.Get(ctx, db, id)
}

// Discard gives up a queued or dead-lettered delivery: its payload is
// deleted and it is never sent.
func (s *Service) Discard(ctx context.Context, id string) (storage.Delivery, error) {
	db := s.d.Store.DB()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		d, err := s.d.Store.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		err = s.d.Store.Finish(ctx, tx, id, []int{storage.Queued, storage.DeadLettered}, storage.Discarded, d.Attempts, reasons.Discarded, s.d.Now())
		if errors.Is(err, storage.ErrNotQueued) {
			return errs.E(errs.FailedPrecondition, reasons.DeliveryFinished, "the delivery is already finished")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, d, ActionDiscarded, auditclient.Success, reasons.Discarded)
	})
	if err != nil {
		return storage.Delivery{}, err
	}
	return s.d.Store.Get(ctx, db, id)
}

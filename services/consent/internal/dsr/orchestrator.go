package dsr

import (
	"context"
	"database/sql"
	"encoding/json"
	"regexp"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// stepArgs are a step job's arguments: ids only, no personal data.
type stepArgs struct {
	Request     string `json:"request"`
	Participant string `json:"participant"`
}

// operation is what a request type asks of every participant.
func operation(typ int) int {
	switch typ {
	case TypeAccess, TypePortability:
		return int(privacyv1.Operation_OPERATION_EXPORT)
	case TypeErasure:
		return int(privacyv1.Operation_OPERATION_ERASE)
	case TypeRectification:
		return int(privacyv1.Operation_OPERATION_RECTIFY)
	case TypeRestriction:
		return int(privacyv1.Operation_OPERATION_RESTRICT)
	}
	return OpOptOutOfSale
}

// start moves r to its running state and, the first time, creates its
// steps, enqueueing one job per step in tx: the jobs exist exactly when
// the request started.
func (s *Service) start(ctx context.Context, tx *sql.Tx, r *storage.DSR, actor, reason string, now time.Time) error {
	if err := s.move(ctx, tx, r, running(*r), actor, reason, ActionStart, now); err != nil {
		return err
	}
	op := operation(r.Type)
	names := s.d.Names
	if op == OpOptOutOfSale {
		// Selling and sharing rest on consent's purposes alone.
		names = []string{ConsentParticipant}
	}
	steps := make([]storage.Step, 0, len(names))
	for _, n := range names {
		steps = append(steps, storage.Step{RequestID: r.ID, Participant: n, Operation: op, State: StepPending})
	}
	if err := s.d.Store.InsertSteps(ctx, tx, steps); err != nil {
		return err
	}
	for _, st := range steps {
		if err := s.enqueue(ctx, tx, r, st.Participant); err != nil {
			return err
		}
	}
	return nil
}

// enqueue adds a step's job; its unique key includes the request's
// history length, so a resume or a retry queues it anew.
func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, r *storage.DSR, participant string) error {
	args, _ := json.Marshal(stepArgs{Request: r.ID, Participant: participant})
	_, err := s.d.Jobs.EnqueueTx(ctx, tx, StepKind, args, jobs.EnqueueOptions{
		UniqueKey: r.ID + "/" + participant + "/" + strconv.Itoa(r.Transitions)})
	return err
}

// requeue queues every step not done (failed ones back to pending when
// failed is set). When every step is done already (the last one finished
// while the request was paused), the request completes here: no job is
// left to do it.
func (s *Service) requeue(ctx context.Context, tx *sql.Tx, r *storage.DSR, failed bool) error {
	steps, err := s.d.Store.Steps(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	allDone := true
	for _, st := range steps {
		if st.State != StepDone {
			allDone = false
		}
	}
	if allDone {
		return s.complete(ctx, tx, r, s.clock())
	}
	for _, st := range steps {
		if st.State == StepDone {
			continue
		}
		if st.State == StepFailed {
			if !failed {
				continue
			}
			st.State = StepPending
			if err := s.d.Store.UpdateStep(ctx, tx, st); err != nil {
				return err
			}
		}
		if err := s.enqueue(ctx, tx, r, st.Participant); err != nil {
			return err
		}
	}
	return nil
}

// active reports whether a request's steps may run: started, not paused,
// not closed.
func active(r storage.DSR) bool {
	return r.Open() && (r.State == StateInProgress || r.State == StateExtended || r.State == StateWaiting)
}

// runStep is the job handler: it calls the participant (idempotent by the
// request id, so a second run after a crash is answered already_done) and
// records the outcome. A paused, rejected or completed request's job does
// nothing.
func (s *Service) runStep(ctx context.Context, job jobs.Job) error {
	var a stepArgs
	if err := json.Unmarshal(job.Args, &a); err != nil || a.Request == "" {
		return jobs.Permanent(errs.E(errs.Internal, reasons.StoreInvariant, "step arguments do not decode"))
	}
	r, err := s.d.Store.DSR(ctx, s.d.Store.DB(), a.Request)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !active(r) {
		return nil
	}
	steps, err := s.d.Store.Steps(ctx, s.d.Store.DB(), r.ID)
	if err != nil {
		return err
	}
	var step *storage.Step
	for i := range steps {
		if steps[i].Participant == a.Participant {
			step = &steps[i]
		}
	}
	if step == nil || step.State == StepDone {
		return nil
	}
	p, ok := s.d.Participants[a.Participant]
	if !ok {
		err := errs.E(errs.FailedPrecondition, reasons.ParticipantUnknown, "no client for the participant")
		s.failed(ctx, job, r.ID, a.Participant, reasons.ParticipantUnknown, true)
		return jobs.Permanent(err)
	}
	ev, err := s.call(ctx, p, r, step.Operation)
	if err != nil {
		reason := failureReason(err)
		s.failed(ctx, job, r.ID, a.Participant, reason, false)
		return errs.E(errs.Unavailable, reason, "participant %s did not carry out its step", a.Participant)
	}
	return s.done(ctx, r.ID, a.Participant, ev)
}

var reasonRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// failureReason is the reason code of a participant's failure: its own
// (ErrorInfo, or a local error's), never its text.
func failureReason(err error) string {
	reason := errs.ReasonOf(err)
	if reason == "" {
		if st, ok := status.FromError(err); ok {
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					reason = info.GetReason()
				}
			}
		}
	}
	if !reasonRE.MatchString(reason) {
		return reasons.ParticipantFailed
	}
	return reason
}

// call asks the participant to do its part.
func (s *Service) call(ctx context.Context, p Participant, r storage.DSR, op int) (*privacyv1.Evidence, error) {
	subj := &privacyv1.Subject{Tenant: r.Tenant, Subject: r.Subject}
	var ev *privacyv1.Evidence
	switch op {
	case int(privacyv1.Operation_OPERATION_EXPORT):
		// The export is assembled at download time; here only what each
		// category holds is counted, and the values are dropped.
		counts := map[string]int64{}
		outcome := privacyv1.Outcome_OUTCOME_UNSPECIFIED
		token := ""
		for range maxPages {
			resp, err := p.Export(ctx, &privacyv1.ExportRequest{Subject: subj, RequestId: r.ID, PageToken: token})
			if err != nil {
				return nil, err
			}
			if outcome == privacyv1.Outcome_OUTCOME_UNSPECIFIED {
				outcome = resp.GetOutcome()
			}
			for _, it := range resp.GetItems() {
				counts[it.GetCategory()]++
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if token != "" {
			return nil, errs.E(errs.Unavailable, reasons.ParticipantFailed, "the participant's export did not end")
		}
		ev = &privacyv1.Evidence{Outcome: outcome, Counts: counts}
	case int(privacyv1.Operation_OPERATION_ERASE):
		resp, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: subj, RequestId: r.ID})
		if err != nil {
			return nil, err
		}
		ev = resp.GetEvidence()
	case int(privacyv1.Operation_OPERATION_RECTIFY):
		cs, err := s.unseal(ctx, r)
		if err != nil {
			return nil, err
		}
		req := &privacyv1.RectifyRequest{Subject: subj, RequestId: r.ID}
		for _, c := range cs {
			req.Corrections = append(req.Corrections, &privacyv1.Correction{Category: c.Category, ItemId: c.ItemID, Field: c.Field, Value: c.Value})
		}
		resp, err := p.Rectify(ctx, req)
		if err != nil {
			return nil, err
		}
		ev = resp.GetEvidence()
		if ev == nil {
			ev = &privacyv1.Evidence{}
		}
		applied := int64(0)
		for _, res := range resp.GetResults() {
			if res.GetOutcome() == privacyv1.Outcome_OUTCOME_DONE {
				applied++
			}
		}
		if ev.Counts == nil {
			ev.Counts = map[string]int64{}
		}
		ev.Counts["corrections_applied"] = applied
	case int(privacyv1.Operation_OPERATION_RESTRICT):
		resp, err := p.Restrict(ctx, &privacyv1.RestrictRequest{Subject: subj, RequestId: r.ID, Lift: r.Lift})
		if err != nil {
			return nil, err
		}
		ev = resp.GetEvidence()
	case OpOptOutOfSale:
		o, ok := p.(SaleOptOuter)
		if !ok {
			return nil, errs.E(errs.FailedPrecondition, reasons.ParticipantUnknown, "only consent opts out of sale")
		}
		var err error
		if ev, err = o.OptOutOfSale(ctx, subj, r.ID); err != nil {
			return nil, err
		}
	default:
		return nil, errs.E(errs.Internal, reasons.StoreInvariant, "unknown operation")
	}
	if ev == nil {
		ev = &privacyv1.Evidence{}
	}
	return ev, nil
}

// maxPages bounds one participant's export (500 items a page by default).
const maxPages = 10000

// unseal opens the corrections of an open rectification.
func (s *Service) unseal(ctx context.Context, r storage.DSR) ([]Correction, error) {
	if r.Sealed == nil {
		return nil, errs.E(errs.FailedPrecondition, reasons.SealFailed, "the request holds no corrections")
	}
	b, err := s.d.Keys.UnwrapKey(ctx, s.d.SealKey, r.Sealed, []byte(r.ID))
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, reasons.SealFailed, "the corrections could not be unsealed")
	}
	var cs []Correction
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.SealFailed, "the corrections do not decode")
	}
	return cs, nil
}

// locked reads a request in tx after taking its row lock (PostgreSQL: a
// write to the row, which concurrent step handlers then wait for, so that
// exactly one of them sees every step done; SQLite's write lock is the
// transaction's already).
func (s *Service) locked(ctx context.Context, tx *sql.Tx, id string) (storage.DSR, []storage.Step, error) {
	if err := s.d.Store.LockDSR(ctx, tx, id); err != nil {
		return storage.DSR{}, nil, err
	}
	r, err := s.d.Store.DSR(ctx, tx, id)
	if err != nil {
		return r, nil, err
	}
	steps, err := s.d.Store.Steps(ctx, tx, id)
	return r, steps, err
}

// failed records a failed attempt: the step's attempts and reason, FAILED
// on the job's last attempt, and the request WAITING_ON_PARTICIPANT (one
// transition, not one per attempt).
func (s *Service) failed(ctx context.Context, job jobs.Job, id, participant, reason string, permanent bool) {
	ctx = context.WithoutCancel(ctx)
	err := s.d.Store.InTx(ctx, func(tx *sql.Tx) error {
		r, steps, err := s.locked(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, st := range steps {
			if st.Participant != participant || st.State == StepDone {
				continue
			}
			st.Attempts++
			st.LastError = reason
			if permanent || job.Attempt >= job.MaxAttempts {
				st.State = StepFailed
				ev := auditclient.New(ctx, ActionStepFailed, auditclient.Failure)
				ev.Subject, ev.ResourceType, ev.ResourceID, ev.Reason = r.Subject, resourceDSR, r.ID, reason
				if err := s.d.Audit.Enqueue(ctx, tx, ev); err != nil {
					return err
				}
			}
			if err := s.d.Store.UpdateStep(ctx, tx, st); err != nil {
				return err
			}
		}
		if r.State != StateInProgress && r.State != StateExtended {
			return nil
		}
		prev := r.Transitions
		if err := s.move(ctx, tx, &r, StateWaiting, ActorSystem, reason, ActionWait, s.clock()); err != nil {
			return err
		}
		return s.d.Store.UpdateDSR(ctx, tx, r, prev)
	})
	if err != nil {
		s.log.WarnContext(ctx, "cannot record a failed step", "component", StepKind, "reason", errs.ReasonOf(err))
		return
	}
	s.d.Audit.Notify()
}

// done records a step's evidence and audit event and, when it was the
// last, completes the request, all in one transaction.
func (s *Service) done(ctx context.Context, id, participant string, ev *privacyv1.Evidence) error {
	b, err := protojson.Marshal(ev)
	if err != nil {
		return errs.Wrap(err, errs.Internal, reasons.StoreInvariant, "evidence does not encode")
	}
	dropped := false
	err = s.d.Store.InTx(ctx, func(tx *sql.Tx) error {
		dropped = false
		r, steps, err := s.locked(ctx, tx, id)
		if err != nil {
			return err
		}
		sealed := len(r.Sealed) > 0
		now := s.clock()
		allDone, clean := true, true
		for i := range steps {
			st := &steps[i]
			if st.Participant == participant && st.State != StepDone {
				st.State, st.Attempts, st.LastError, st.Evidence, st.Done = StepDone, st.Attempts+1, "", string(b), now
				if err := s.d.Store.UpdateStep(ctx, tx, *st); err != nil {
					return err
				}
				a := auditclient.New(ctx, ActionStepDone, auditclient.Success)
				a.Subject, a.ResourceType, a.ResourceID, a.Reason = r.Subject, resourceDSR, r.ID, ev.GetOutcome().String()
				if err := s.d.Audit.Enqueue(ctx, tx, a); err != nil {
					return err
				}
			}
			if st.State != StepDone {
				allDone = false
				if st.State == StepFailed || st.LastError != "" {
					clean = false
				}
			}
		}
		if !active(r) {
			return nil
		}
		prev := r.Transitions
		switch {
		case allDone:
			if err := s.complete(ctx, tx, &r, now); err != nil {
				return err
			}
		case r.State == StateWaiting && clean:
			if err := s.move(ctx, tx, &r, running(r), ActorSystem, "PARTICIPANT_RECOVERED", ActionStart, now); err != nil {
				return err
			}
		default:
			return nil
		}
		dropped = sealed && len(r.Sealed) == 0
		return s.d.Store.UpdateDSR(ctx, tx, r, prev)
	})
	if err != nil {
		return err
	}
	s.d.Audit.Notify()
	if dropped {
		s.scrubLog(ctx)
	}
	return nil
}

// scrubLog empties SQLite's write-ahead log after a request's sealed
// corrections were dropped: the log keeps page images of the rows it
// changed, and the corrections' sealing key lives on, so a copy left there
// would open (an outside probe read an erased customer's corrected values
// back from consent.db-wal). The database file itself zeroes what is
// deleted (secure_delete). On PostgreSQL this does nothing; dead tuples and
// WAL segments are out of the application's reach (ADR 0013). Deps.WAL
// detaches the truncation from the caller and bounds it (WALTimeout); one
// that readers held up is finished by the WALScrubKind job.
func (s *Service) scrubLog(ctx context.Context) {
	if err := s.d.WAL.Scrub(ctx); err != nil {
		s.log.WarnContext(ctx, "cannot empty the write-ahead log after dropping sealed corrections; retrying later", "reason", errs.ReasonOf(err))
	}
}

// retryScrub finishes a scrubLog that readers held up (the WALScrubKind
// job, every WALScrubEvery). It never fails the job: the next occurrence
// tries again.
func (s *Service) retryScrub(ctx context.Context, _ jobs.Job) error {
	if err := s.d.WAL.Retry(ctx); err != nil {
		s.log.WarnContext(ctx, "cannot empty the write-ahead log after dropping sealed corrections; retrying later", "reason", errs.ReasonOf(err))
	}
	return nil
}

// complete closes r: the sealed corrections are dropped, and an access or
// portability export can be downloaded until now + ExportTTL.
func (s *Service) complete(ctx context.Context, tx *sql.Tx, r *storage.DSR, now time.Time) error {
	r.Closed, r.Sealed = now, nil
	if r.Type == TypeAccess || r.Type == TypePortability {
		r.ExportExpire = now.Add(s.d.ExportTTL)
	}
	return s.move(ctx, tx, r, StateCompleted, ActorSystem, "", ActionComplete, now)
}

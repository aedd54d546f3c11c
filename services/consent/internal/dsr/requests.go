package dsr

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

type txT = *sql.Tx

// Correction is one change a rectification asks for. Value is personal
// data: it is only ever stored sealed, and never logged or audited.
type Correction struct {
	Category string `json:"category"`
	ItemID   string `json:"item_id"`
	Field    string `json:"field"`
	Value    string `json:"value"`
}

// CreateInput is a new request.
type CreateInput struct {
	Caller       consent.Caller
	Type         int
	Tenant       string
	Subject      string
	Jurisdiction string
	Corrections  []Correction
	Lift         bool
	RequestKey   string
}

const (
	keyTag     = "sotto/consent/dsr-request-key/v1"
	contentTag = "sotto/consent/dsr-content/v1"
)

// newRequestID is "dsr_" and 22 random URL-safe characters (128 bits).
func newRequestID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", errs.Wrap(err, errs.Internal, reasons.RandomFailed, "no randomness")
	}
	return "dsr_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// whose decides the subject of a new request: a customer's own (aal2
// within 15 minutes), or the customer a privacy officer names.
func (s *Service) whose(ctx context.Context, in CreateInput) (tenant, subject, actor string, err error) {
	c := in.Caller
	switch c.Kind {
	case accesstoken.KindCustomer:
		if (in.Subject != "" && in.Subject != c.Subject) || (in.Tenant != "" && in.Tenant != c.Tenant) {
			s.refused(ctx, in.Subject, reasons.SubjectNotCaller)
			return "", "", "", errs.E(errs.PermissionDenied, reasons.SubjectNotCaller, "a customer may make requests only for themself")
		}
		if s.stepUp(c) {
			s.refused(ctx, c.Subject, reasons.StepUpRequired)
			return "", "", "", &enduser.StepUpError{RequiredAAL: accesstoken.AAL2, MaxAge: OfficerRecentAuth}
		}
		return c.Tenant, c.Subject, ActorSubject, nil
	case accesstoken.KindStaff:
		if err := s.officer(ctx, c, in.Subject); err != nil {
			return "", "", "", err
		}
		if in.Subject == "" {
			return "", "", "", errs.E(errs.InvalidArgument, reasons.SubjectRequired, "name the customer you act for")
		}
		// Customers belong to a shop; a request naming none (or the wrong
		// one) would reach no participant's data and "complete" having done
		// nothing.
		if in.Tenant == "" {
			return "", "", "", errs.E(errs.InvalidArgument, reasons.TenantRequired, "name the customer's shop (tenant)")
		}
		return in.Tenant, in.Subject, ActorOfficer, nil
	}
	return "", "", "", errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
}

// Create records a request. A customer's own starts at once (their aal2
// session verifies them); one a privacy officer makes waits in VERIFYING.
func (s *Service) Create(ctx context.Context, in CreateInput) (View, error) {
	if in.Type < TypeAccess || in.Type > TypeOptOutOfSale {
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestTypeInvalid, "unknown request type")
	}
	switch {
	case in.Type == TypeRectification && len(in.Corrections) == 0:
		return View{}, errs.E(errs.InvalidArgument, reasons.CorrectionsInvalid, "a rectification names what to correct")
	case in.Type != TypeRectification && len(in.Corrections) > 0:
		return View{}, errs.E(errs.InvalidArgument, reasons.CorrectionsInvalid, "only a rectification carries corrections")
	case in.Type != TypeRestriction && in.Lift:
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "only a restriction can be lifted")
	case in.RequestKey == "":
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "a request needs a request key")
	}
	rule, err := s.d.Rules.For(in.Jurisdiction)
	if err != nil {
		return View{}, err
	}
	tenant, subject, actor, err := s.whose(ctx, in)
	if err != nil {
		return View{}, err
	}
	keyHMAC := s.digest(keyTag, tenant, subject, in.RequestKey)
	parts := []string{strconv.Itoa(in.Type), tenant, subject, in.Jurisdiction, strconv.FormatBool(in.Lift)}
	for _, c := range in.Corrections {
		parts = append(parts, c.Category, c.ItemID, c.Field, c.Value)
	}
	contentHMAC := s.digest(contentTag, parts...)
	if v, ok, err := s.replay(ctx, tenant, subject, keyHMAC, contentHMAC); ok || err != nil {
		return v, err
	}
	id, err := newRequestID()
	if err != nil {
		return View{}, err
	}
	now := s.clock()
	r := storage.DSR{ID: id, Tenant: tenant, Subject: subject, Type: in.Type, State: StateReceived, Jurisdiction: in.Jurisdiction,
		Regime: int(rule.Regime), Received: now, Acked: now, ByStaff: actor == ActorOfficer, Lift: in.Lift,
		Corrections: len(in.Corrections), KeyHMAC: keyHMAC, ContentHMAC: contentHMAC}
	d := rule.Dates(clockState(r), now)
	r.AckDue, r.Due, r.OriginalDue = d.AcknowledgeDue, d.Due, d.OriginalDue
	if len(in.Corrections) > 0 {
		b, err := json.Marshal(in.Corrections)
		if err != nil {
			return View{}, errs.Wrap(err, errs.Internal, reasons.SealFailed, "corrections do not encode")
		}
		if r.Sealed, err = s.d.Keys.WrapKey(ctx, s.d.SealKey, b, []byte(id)); err != nil {
			return View{}, errs.Wrap(err, errs.Unavailable, reasons.SealFailed, "the corrections could not be sealed")
		}
	}
	err = s.d.Store.InTx(ctx, func(tx *sql.Tx) error {
		// The row goes in first as RECEIVED (its uniqueness decides
		// duplicates), then moves on in the same transaction.
		if err := s.d.Store.InsertDSR(ctx, tx, r); err != nil {
			return err
		}
		prev := r.Transitions
		if err := s.move(ctx, tx, &r, StateReceived, actor, "", ActionCreate, now); err != nil {
			return err
		}
		if actor == ActorSubject {
			r.Verification = VerifiedAuthenticatedSession
			if err := s.start(ctx, tx, &r, ActorSystem, "VERIFICATION_METHOD_AUTHENTICATED_SESSION", now); err != nil {
				return err
			}
		} else if err := s.move(ctx, tx, &r, StateVerifying, actor, "", ActionCreate, now); err != nil {
			return err
		}
		return s.d.Store.UpdateDSR(ctx, tx, r, prev)
	})
	if errs.Is(err, errs.AlreadyExists) {
		if v, ok, err := s.replay(ctx, tenant, subject, keyHMAC, contentHMAC); ok || err != nil {
			return v, err
		}
		return View{}, errs.E(errs.AlreadyExists, reasons.DuplicateRequest, "an open request of this type exists for the subject")
	}
	if err != nil {
		return View{}, err
	}
	s.d.Audit.Notify()
	return s.load(ctx, id)
}

// replay answers a request key used before: the first request for the
// same content, REQUEST_ID_REUSED for other content.
func (s *Service) replay(ctx context.Context, tenant, subject, keyHMAC, contentHMAC string) (View, bool, error) {
	prev, err := s.d.Store.DSRByKey(ctx, s.d.Store.DB(), tenant, subject, keyHMAC)
	if errs.Is(err, errs.NotFound) {
		return View{}, false, nil
	}
	if err != nil {
		return View{}, true, err
	}
	if prev.ContentHMAC != contentHMAC {
		return View{}, true, errs.E(errs.AlreadyExists, reasons.RequestIDReused, "the request key was used for another request")
	}
	v, err := s.load(ctx, prev.ID)
	return v, true, err
}

// move records a state change of r (in memory; the caller writes the row):
// the transition and its audit event.
func (s *Service) move(ctx context.Context, tx *sql.Tx, r *storage.DSR, to int, actor, reason string, action auditclient.Action, now time.Time) error {
	ev := auditclient.New(ctx, action, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID, ev.Reason = r.Subject, resourceDSR, r.ID, reason
	t := storage.Transition{RequestID: r.ID, Seq: r.Transitions, From: r.State, To: to, Time: now, Actor: actor, Reason: reason, AuditEventID: ev.ID}
	if r.Transitions == 0 {
		t.From = 0
	}
	r.State = to
	r.Transitions++
	if err := s.d.Store.InsertTransition(ctx, tx, t); err != nil {
		return err
	}
	return s.d.Audit.Enqueue(ctx, tx, ev)
}

// running is the state a request runs in: EXTENDED once extended.
func running(r storage.DSR) int {
	if r.ExtensionReason != 0 {
		return StateExtended
	}
	return StateInProgress
}

// load returns a request with its steps and history.
func (s *Service) load(ctx context.Context, id string) (View, error) {
	db := s.d.Store.DB()
	r, err := s.d.Store.DSR(ctx, db, id)
	if err != nil {
		return View{}, err
	}
	v := s.view(r)
	if v.Steps, err = s.d.Store.Steps(ctx, db, id); err != nil {
		return View{}, err
	}
	if v.History, err = s.d.Store.Transitions(ctx, db, id); err != nil {
		return View{}, err
	}
	return v, nil
}

// visible loads a request the caller may see: a customer's own (another's
// is NotFound, as if it did not exist), any for a privacy officer.
func (s *Service) visible(ctx context.Context, c consent.Caller, id string) (storage.DSR, error) {
	r, err := s.d.Store.DSR(ctx, s.d.Store.DB(), id)
	if err != nil {
		return r, err
	}
	switch c.Kind {
	case accesstoken.KindCustomer:
		if r.Subject != c.Subject || r.Tenant != c.Tenant {
			return storage.DSR{}, errs.E(errs.NotFound, reasons.DSRNotFound, "request not found")
		}
		return r, nil
	case accesstoken.KindStaff:
		return r, s.officer(ctx, c, r.Subject)
	}
	return storage.DSR{}, errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
}

// Get returns a request the caller may see.
func (s *Service) Get(ctx context.Context, c consent.Caller, id string) (View, error) {
	if _, err := s.visible(ctx, c, id); err != nil {
		return View{}, err
	}
	return s.load(ctx, id)
}

// ListInput filters ListRequests.
type ListInput struct {
	Caller    consent.Caller
	States    []int
	DueBefore time.Time
	Overdue   bool
	Subject   string
	AfterDue  time.Time
	AfterID   string
	Size      int
}

// List returns a page of requests, soonest due first, and whether more
// follow: a customer's own, or any (filtered) for a privacy officer.
func (s *Service) List(ctx context.Context, in ListInput) ([]View, bool, error) {
	c := in.Caller
	f := storage.DSRFilter{States: in.States, DueBefore: in.DueBefore, AfterDue: in.AfterDue, AfterID: in.AfterID}
	switch c.Kind {
	case accesstoken.KindCustomer:
		if in.Subject != "" && in.Subject != c.Subject {
			return nil, false, errs.E(errs.PermissionDenied, reasons.SubjectNotCaller, "a customer sees only their own requests")
		}
		f.Tenant, f.Subject = c.Tenant, c.Subject
	case accesstoken.KindStaff:
		if err := s.officer(ctx, c, in.Subject); err != nil {
			return nil, false, err
		}
		f.Subject, f.AnyTenant = in.Subject, true
	default:
		return nil, false, errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
	}
	size := in.Size
	if size <= 0 || size > 100 {
		size = 50
	}
	if in.Overdue {
		f.DueBefore = s.clock()
	}
	f.Limit = size + 1
	rows, err := s.d.Store.ListDSRs(ctx, s.d.Store.DB(), f)
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > size
	if more {
		rows = rows[:size]
	}
	out := make([]View, len(rows))
	for i, r := range rows {
		out[i] = s.view(r)
	}
	return out, more, nil
}

// change applies an officer's (or the subject's) change to a request in
// one transaction: fn checks the state and changes r, moving it with
// s.move; the row is written if its history did not move meanwhile.
func (s *Service) change(ctx context.Context, id string, fn func(tx *sql.Tx, r *storage.DSR, now time.Time) error) (View, error) {
	dropped := false
	err := s.d.Store.InTx(ctx, func(tx *sql.Tx) error {
		r, _, err := s.locked(ctx, tx, id)
		if err != nil {
			return err
		}
		sealed := len(r.Sealed) > 0
		prev := r.Transitions
		if err := fn(tx, &r, s.clock()); err != nil {
			return err
		}
		dropped = sealed && len(r.Sealed) == 0
		return s.d.Store.UpdateDSR(ctx, tx, r, prev)
	})
	if err != nil {
		return View{}, err
	}
	s.d.Audit.Notify()
	if dropped {
		s.scrubLog(ctx)
	}
	return s.load(ctx, id)
}

func stateInvalid(what string) error {
	return errs.E(errs.FailedPrecondition, reasons.DSRStateInvalid, "the request is not in a state that allows %s", what)
}

// Verify records how a privacy officer verified the subject of a request
// they created, and starts it.
func (s *Service) Verify(ctx context.Context, c consent.Caller, id string, method int) (View, error) {
	if _, err := s.visible(ctx, c, id); err != nil {
		return View{}, err
	}
	if c.Kind != accesstoken.KindStaff {
		return View{}, errs.E(errs.PermissionDenied, reasons.PrivacyOfficerRequired, "only a privacy officer verifies a request")
	}
	if method < 1 || method > 4 {
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "unknown verification method")
	}
	// An officer's request was not made in the subject's own authenticated
	// session: recording that it was would falsify the accountability record.
	if method == VerifiedAuthenticatedSession {
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "an authenticated session is how a customer's own request is verified, not an officer's")
	}
	return s.change(ctx, id, func(tx *sql.Tx, r *storage.DSR, now time.Time) error {
		if r.State != StateVerifying {
			return stateInvalid("verification")
		}
		r.Verification = method
		return s.start(ctx, tx, r, ActorOfficer, "VERIFIED", now)
	})
}

// Extend extends the deadline once, as the jurisdiction's rule allows.
func (s *Service) Extend(ctx context.Context, c consent.Caller, id string, reason int) (View, error) {
	if err := s.officerOn(ctx, c, id); err != nil {
		return View{}, err
	}
	if reason < 1 || reason > 3 {
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "unknown extension reason")
	}
	return s.change(ctx, id, func(tx *sql.Tx, r *storage.DSR, now time.Time) error {
		if !r.Open() {
			return stateInvalid("an extension")
		}
		rule, err := s.rule(*r)
		if err != nil {
			return err
		}
		if err := rule.CanExtend(clockState(*r), now); err != nil {
			return err
		}
		r.ExtensionReason = reason
		s.redate(r, now)
		to := r.State
		if to == StateInProgress {
			to = StateExtended
		}
		return s.move(ctx, tx, r, to, ActorOfficer, extensionReasons[reason], ActionExtend, now)
	})
}

var extensionReasons = map[int]string{1: "EXTENSION_REASON_COMPLEXITY", 2: "EXTENSION_REASON_NUMBER_OF_REQUESTS", 3: "EXTENSION_REASON_REASONABLY_NECESSARY"}

// redate stores r's current dates (the index of open requests by due time
// reads them).
func (s *Service) redate(r *storage.DSR, now time.Time) {
	rule, err := s.rule(*r)
	if err != nil {
		return
	}
	d := rule.Dates(clockState(*r), now)
	r.AckDue, r.Due, r.OriginalDue = d.AcknowledgeDue, d.Due, d.OriginalDue
}

func (s *Service) officerOn(ctx context.Context, c consent.Caller, id string) error {
	if _, err := s.visible(ctx, c, id); err != nil {
		return err
	}
	if c.Kind != accesstoken.KindStaff {
		return errs.E(errs.PermissionDenied, reasons.PrivacyOfficerRequired, "only a privacy officer may do this")
	}
	return nil
}

// Pause stops the clock of an open request; its jobs do nothing until
// Resume queues them again.
func (s *Service) Pause(ctx context.Context, c consent.Caller, id string, reason int) (View, error) {
	if err := s.officerOn(ctx, c, id); err != nil {
		return View{}, err
	}
	if reason < 1 || reason > 2 {
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "unknown pause reason")
	}
	return s.change(ctx, id, func(tx *sql.Tx, r *storage.DSR, now time.Time) error {
		if !r.Open() || r.State == StatePaused {
			return stateInvalid("a pause")
		}
		rule, err := s.rule(*r)
		if err != nil {
			return err
		}
		if err := rule.CanPause(clockState(*r), now); err != nil {
			return err
		}
		r.PausedSince, r.PauseReason = now, reason
		return s.move(ctx, tx, r, StatePaused, ActorOfficer, pauseReasons[reason], ActionPause, now)
	})
}

var pauseReasons = map[int]string{1: "PAUSE_REASON_CLARIFICATION_REQUESTED", 2: "PAUSE_REASON_IDENTITY_INFORMATION_REQUESTED"}

// Resume restarts the clock (the dates move by the time paused) and queues
// the steps still to do.
func (s *Service) Resume(ctx context.Context, c consent.Caller, id string) (View, error) {
	if err := s.officerOn(ctx, c, id); err != nil {
		return View{}, err
	}
	return s.change(ctx, id, func(tx *sql.Tx, r *storage.DSR, now time.Time) error {
		if r.State != StatePaused {
			return stateInvalid("resuming")
		}
		r.Paused += now.Sub(r.PausedSince)
		r.PausedSince, r.PauseReason = time.Time{}, 0
		s.redate(r, now)
		if r.Verification == 0 {
			return s.move(ctx, tx, r, StateVerifying, ActorOfficer, "", ActionResume, now)
		}
		if err := s.move(ctx, tx, r, running(*r), ActorOfficer, "", ActionResume, now); err != nil {
			return err
		}
		// Steps that gave up before the pause are queued again too: the
		// request left WAITING_ON_PARTICIPANT, from where only RetryRequest
		// would have re-queued them, so nothing could ever finish it.
		return s.requeue(ctx, tx, r, true)
	})
}

// Reject closes a request without carrying it out. A customer may withdraw
// their own request; any other rejection is a privacy officer's.
func (s *Service) Reject(ctx context.Context, c consent.Caller, id string, reason int) (View, error) {
	if _, err := s.visible(ctx, c, id); err != nil {
		return View{}, err
	}
	if reason < 1 || reason > 4 {
		return View{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "unknown rejection reason")
	}
	actor := ActorOfficer
	if c.Kind == accesstoken.KindCustomer {
		if reason != RejectWithdrawnBySubject {
			return View{}, errs.E(errs.PermissionDenied, reasons.PrivacyOfficerRequired, "a customer may only withdraw their request")
		}
		// Withdrawing (say, an erasure) is as weighty as asking: a stolen
		// password alone must not cancel it.
		if s.stepUp(c) {
			s.refused(ctx, c.Subject, reasons.StepUpRequired)
			return View{}, &enduser.StepUpError{RequiredAAL: accesstoken.AAL2, MaxAge: OfficerRecentAuth}
		}
		actor = ActorSubject
	}
	return s.change(ctx, id, func(tx *sql.Tx, r *storage.DSR, now time.Time) error {
		if !r.Open() {
			return stateInvalid("a rejection")
		}
		if r.State == StatePaused {
			r.Paused += now.Sub(r.PausedSince)
			r.PausedSince = time.Time{}
		}
		r.Rejection, r.Closed, r.Sealed = reason, now, nil
		return s.move(ctx, tx, r, StateRejected, actor, rejectionReasons[reason], ActionReject, now)
	})
}

var rejectionReasons = map[int]string{1: "REJECTION_REASON_IDENTITY_NOT_VERIFIED", 2: "REJECTION_REASON_MANIFESTLY_UNFOUNDED",
	3: "REJECTION_REASON_EXEMPTION_APPLIES", 4: "REJECTION_REASON_WITHDRAWN_BY_SUBJECT"}

// Retry queues again the steps of a request waiting on a participant.
func (s *Service) Retry(ctx context.Context, c consent.Caller, id string) (View, error) {
	if err := s.officerOn(ctx, c, id); err != nil {
		return View{}, err
	}
	return s.change(ctx, id, func(tx *sql.Tx, r *storage.DSR, now time.Time) error {
		if r.State != StateWaiting {
			return stateInvalid("a retry")
		}
		if err := s.move(ctx, tx, r, running(*r), ActorOfficer, "", ActionRetry, now); err != nil {
			return err
		}
		return s.requeue(ctx, tx, r, true)
	})
}

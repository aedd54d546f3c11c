// Package dsr carries out data-subject requests (GDPR Arts. 15–18, 20, 21;
// CCPA §§1798.100–.125): it records them with their deadlines, lets privacy
// officers verify, extend, pause, resume, reject and retry them, and runs
// one durable job (pkg/jobs) per participant service (sotto.privacy.v1),
// recording each participant's evidence and an audit event, and completing
// the request when every participant is done. Enum fields carry the API's
// enum numbers (consentv1); the package has no gRPC types of its own API.
package dsr

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/deadline"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// Request types (consentv1.RequestType).
const (
	TypeAccess        = 1
	TypePortability   = 2
	TypeRectification = 3
	TypeErasure       = 4
	TypeRestriction   = 5
	TypeOptOutOfSale  = 6
)

// Request states (consentv1.RequestState).
const (
	StateReceived   = 1
	StateVerifying  = 2
	StateInProgress = 3
	StateWaiting    = 4
	StateExtended   = 5
	StatePaused     = 6
	StateCompleted  = 7
	StateRejected   = 8
)

// Step states (consentv1.StepState).
const (
	StepPending = 1
	StepDone    = 2
	StepFailed  = 3
)

// Verification methods, rejection reasons (consentv1).
const (
	VerifiedAuthenticatedSession = 1
	RejectWithdrawnBySubject     = 4
)

// OpOptOutOfSale is the operation of an opt-out of sale's only step
// (consent's own): it is not one of privacy.v1's operations, and the API
// shows it as OPERATION_UNSPECIFIED.
const OpOptOutOfSale = 100

// Actors of transitions.
const (
	ActorSubject = "subject"
	ActorOfficer = "privacy_officer"
	ActorSystem  = "system"
)

// Audited actions.
const (
	ActionCreate         auditclient.Action = "consent.dsr.create"
	ActionStart          auditclient.Action = "consent.dsr.start"
	ActionVerify         auditclient.Action = "consent.dsr.verify"
	ActionExtend         auditclient.Action = "consent.dsr.extend"
	ActionPause          auditclient.Action = "consent.dsr.pause"
	ActionResume         auditclient.Action = "consent.dsr.resume"
	ActionReject         auditclient.Action = "consent.dsr.reject"
	ActionRetry          auditclient.Action = "consent.dsr.retry"
	ActionWait           auditclient.Action = "consent.dsr.wait"
	ActionStepDone       auditclient.Action = "consent.dsr.step_done"
	ActionStepFailed     auditclient.Action = "consent.dsr.step_failed"
	ActionComplete       auditclient.Action = "consent.dsr.complete"
	ActionExportDownload auditclient.Action = "consent.dsr.export_download"
	ActionRefused        auditclient.Action = "consent.dsr.refused"
	resourceDSR                             = "data_subject_request"
)

// ConsentParticipant is the name of consent's own participant.
const ConsentParticipant = "consent"

// Participant is a privacy participant: a gRPC client of another service,
// or consent's own in process.
type Participant = privacyv1.PrivacyParticipantServiceClient

// SaleOptOuter is consent's own participant, which alone carries out an
// opt-out of sale or sharing.
type SaleOptOuter interface {
	OptOutOfSale(ctx context.Context, subject *privacyv1.Subject, requestID string) (*privacyv1.Evidence, error)
}

// Deps are what the service is built from.
type Deps struct {
	Store *storage.Store
	Audit *auditclient.Outbox
	Keys  keys.KeyManager
	// SealKey is the aes256-gcm96 KeyManager key that seals corrections.
	SealKey string
	// RequestKey keys the digests of request keys and contents (at least
	// consent.MinRequestKeyLen bytes).
	RequestKey []byte
	// Jobs runs the steps; New registers the step kind on it.
	Jobs *jobs.Runner
	// Participants by name, in the order Names lists them (manifest order);
	// every one gets a step.
	Participants map[string]Participant
	Names        []string
	Rules        deadline.Rules
	// ExportTTL is how long a completed export can be downloaded.
	ExportTTL time.Duration
	// MaxAttempts of a step before it is FAILED (default 10).
	MaxAttempts int
	Logger      *slog.Logger
	Meter       metric.MeterProvider
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// WAL empties SQLite's write-ahead log after sealed corrections are
	// dropped and remembers a truncation it could not finish, for the
	// WALScrubKind job (store.NewScrubber of the service's database, with
	// WALTimeout). Required.
	WAL *store.Scrubber
}

// Service is the data-subject request domain.
type Service struct {
	d   Deps
	now func() time.Time
	log *slog.Logger
}

// StepKind is the pkg/jobs kind of a step.
const StepKind = "consent.dsr.step"

// WALScrubKind is the periodic pkg/jobs kind, run every WALScrubEvery, that
// finishes a truncation of the write-ahead log readers held up (scrubLog).
const WALScrubKind = "consent.dsr.wal_scrub"

// WALTimeout bounds one truncation of the write-ahead log (Deps.WAL);
// WALScrubEvery is how often one readers held past it is tried again.
const (
	WALTimeout    = 30 * time.Second
	WALScrubEvery = 5 * time.Minute
)

// New returns the service and registers its job kinds (the steps and the
// WALScrubKind job).
func New(d Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MaxAttempts == 0 {
		d.MaxAttempts = jobs.DefaultMaxAttempts
	}
	if d.ExportTTL <= 0 {
		d.ExportTTL = 7 * 24 * time.Hour
	}
	if len(d.RequestKey) < consent.MinRequestKeyLen {
		return nil, errs.E(errs.Internal, reasons.RequestKeyMissing, "the request-key digest key is not configured")
	}
	if d.Jobs == nil {
		return nil, errs.E(errs.Internal, reasons.StoreInvariant, "dsr: no job runner")
	}
	if d.WAL == nil {
		return nil, errs.E(errs.Internal, reasons.StoreInvariant, "dsr: no WAL scrubber")
	}
	s := &Service{d: d, now: d.Now, log: d.Logger}
	if err := d.Jobs.Register(StepKind, s.runStep, jobs.Options{MaxAttempts: d.MaxAttempts, Timeout: 10 * time.Minute}); err != nil {
		return nil, err
	}
	if err := d.Jobs.Periodic(WALScrubKind, WALScrubEvery, s.retryScrub, jobs.Options{MaxAttempts: 1, Timeout: 2 * WALTimeout}); err != nil {
		return nil, err
	}
	if d.Meter != nil {
		if err := s.registerMetrics(d.Meter); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// digest is the hex HMAC-SHA256 under the request key of a tag and parts,
// each length-prefixed.
func (s *Service) digest(tag string, parts ...string) string {
	m := hmac.New(sha256.New, s.d.RequestKey)
	var b []byte
	for _, p := range append([]string{tag}, parts...) {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// OfficerRecentAuth is how recent the aal2 authentication of a customer
// creating or downloading, and of a privacy officer acting, must be.
const OfficerRecentAuth = consent.OfficerRecentAuth

// stepUp reports whether c is below aal2 within OfficerRecentAuth.
func (s *Service) stepUp(c consent.Caller) bool {
	return c.AAL < accesstoken.AAL2 || s.now().Sub(c.AuthTime) > OfficerRecentAuth
}

// officer checks that c is a privacy officer at aal2 within 15 minutes.
func (s *Service) officer(ctx context.Context, c consent.Caller, subject string) error {
	var err error
	switch {
	case c.Kind != accesstoken.KindStaff:
		err = errs.E(errs.PermissionDenied, reasons.PrivacyOfficerRequired, "only a privacy officer may do this")
	case !slices.Contains(c.Roles, accesstoken.RolePrivacyOfficer):
		err = errs.E(errs.PermissionDenied, reasons.PrivacyOfficerRequired, "staff act on requests only as privacy officers")
	case s.stepUp(c):
		s.refused(ctx, subject, reasons.StepUpRequired)
		return &enduser.StepUpError{RequiredAAL: accesstoken.AAL2, MaxAge: OfficerRecentAuth}
	default:
		return nil
	}
	s.refused(ctx, subject, errs.ReasonOf(err))
	return err
}

// refused records a refusal in the audit log on its own.
func (s *Service) refused(ctx context.Context, subject, reason string) {
	ev := auditclient.New(ctx, ActionRefused, auditclient.Denied)
	ev.Subject, ev.ResourceType, ev.Reason = subject, resourceDSR, reason
	ctx = context.WithoutCancel(ctx)
	if err := s.d.Store.InTx(ctx, func(tx txT) error { return s.d.Audit.Enqueue(ctx, tx, ev) }); err != nil {
		s.log.WarnContext(ctx, "cannot record a refusal", "reason", errs.ReasonOf(err))
		return
	}
	s.d.Audit.Notify()
}

// rule is the deadline rule of a stored request.
func (s *Service) rule(r storage.DSR) (deadline.Rule, error) {
	return s.d.Rules.For(r.Jurisdiction)
}

func clockState(r storage.DSR) deadline.State {
	return deadline.State{Received: r.Received, Paused: r.Paused, PausedSince: r.PausedSince, Extended: r.ExtensionReason != 0}
}

// View is a request with its steps, history and current dates.
type View struct {
	storage.DSR
	Steps       []storage.Step
	History     []storage.Transition
	Dates       deadline.Dates
	DueSoon     bool
	Overdue     bool
	ExportReady bool
}

// view computes the dates of r now.
func (s *Service) view(r storage.DSR) View {
	v := View{DSR: r}
	rule, err := s.rule(r)
	if err != nil {
		// A jurisdiction whose rule was removed since: the stored dates stand.
		v.Dates = deadline.Dates{AcknowledgeDue: r.AckDue, OriginalDue: r.OriginalDue, Due: r.Due}
		return v
	}
	now := s.clock()
	v.Dates = rule.Dates(clockState(r), now)
	if r.ExtensionReason != 0 {
		v.Dates.MaxExtendedDue = time.Time{}
	}
	if r.Open() {
		v.DueSoon, v.Overdue = deadline.DueSoon(v.Dates, now), deadline.Overdue(v.Dates, now)
	}
	return v
}

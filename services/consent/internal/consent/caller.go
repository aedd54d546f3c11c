package consent

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// Caller is the verified person behind a call (pkg/enduser's principal).
type Caller struct {
	Subject string
	// Tenant is a customer's shop (empty for staff).
	Tenant   string
	Kind     accesstoken.Kind
	Roles    []string
	AAL      int
	AuthTime time.Time
}

// IsStaff reports whether a staff member is calling.
func (c Caller) IsStaff() bool { return c.Kind == accesstoken.KindStaff }

// OfficerRecentAuth is how recent a privacy officer's aal2 authentication
// must be to act for a customer (as identity asks of staff administration).
const OfficerRecentAuth = 15 * time.Minute

// subjectFor decides whose consents the call is about: a customer's own
// (the subject, if named, must be theirs), or, for a privacy officer at
// aal2 within OfficerRecentAuth, the subject they name. Anyone else is
// refused, and the refusal is audited.
func (s *Service) subjectFor(ctx context.Context, c Caller, named string) (string, error) {
	var err error
	switch c.Kind {
	case accesstoken.KindCustomer:
		if named == "" || named == c.Subject {
			return c.Subject, nil
		}
		err = errs.E(errs.PermissionDenied, reasons.SubjectNotCaller, "a customer may act only for themself")
	case accesstoken.KindStaff:
		switch {
		case !slices.Contains(c.Roles, accesstoken.RolePrivacyOfficer):
			err = errs.E(errs.PermissionDenied, reasons.PrivacyOfficerRequired, "staff act for customers only as privacy officers")
		case c.AAL < accesstoken.AAL2 || s.now().Sub(c.AuthTime) > OfficerRecentAuth:
			s.refused(ctx, named, reasons.StepUpRequired)
			return "", &enduser.StepUpError{RequiredAAL: accesstoken.AAL2, MaxAge: OfficerRecentAuth}
		case named == "":
			return "", errs.E(errs.InvalidArgument, reasons.SubjectRequired, "name the customer you act for")
		default:
			return named, nil
		}
	default:
		err = errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
	}
	s.refused(ctx, named, errs.ReasonOf(err))
	return "", err
}

// refused records a refusal in the audit log (through the outbox, on its
// own: nothing else is written). A failure to record it is logged; the
// caller is refused either way.
func (s *Service) refused(ctx context.Context, subject, reason string) {
	ev := auditclient.New(ctx, ActionRefused, auditclient.Denied)
	ev.Subject, ev.ResourceType, ev.Reason = subject, resourceConsent, reason
	// The refusal is recorded even when the client has hung up.
	ctx = context.WithoutCancel(ctx)
	err := s.store.InTx(ctx, func(tx *sql.Tx) error { return s.audit.Enqueue(ctx, tx, ev) })
	if err != nil {
		s.logger.WarnContext(ctx, "cannot record a refusal", logging.Err(err))
		return
	}
	s.audit.Notify()
}

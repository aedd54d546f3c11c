package enduser

import (
	"fmt"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/errs"
)

// Reasons of this package's errors (those of token verification are
// accesstoken's: TOKEN_MISSING, TOKEN_MALFORMED, TOKEN_INVALID,
// TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, TOKEN_REVOKED, KEYS_UNAVAILABLE).
const (
	// ReasonStepUpRequired: the end user must authenticate again (identity's
	// StepUp) to reach required_aal within max_age_seconds, both in the
	// ErrorInfo metadata. FailedPrecondition.
	ReasonStepUpRequired = "STEP_UP_REQUIRED"
	// ReasonRevocationsStale: the revocation feed has been down longer than
	// a token lives, so a revoked session might pass; Unavailable until it
	// is back.
	ReasonRevocationsStale = "REVOCATIONS_STALE"
	// ReasonEndUserForbidden: the end user's kind, roles or scopes do not
	// allow the method. PermissionDenied.
	ReasonEndUserForbidden = "END_USER_FORBIDDEN"
	// ReasonNoEndUserRule: the method has no end-user rule (it cannot
	// happen once CheckMethods passed). PermissionDenied.
	ReasonNoEndUserRule = "NO_END_USER_RULE"
)

// ErrorInfo metadata keys of STEP_UP_REQUIRED.
const (
	MetadataRequiredAAL   = "required_aal"
	MetadataMaxAgeSeconds = "max_age_seconds"
)

// StepUpError is FailedPrecondition STEP_UP_REQUIRED with the level and age
// the method needs in its ErrorInfo metadata, so that a client (the
// gateway, an app) knows what to ask the user for. It carries its own
// GRPCStatus because errs.Error has no metadata; errs.ToStatus keeps the
// ErrorInfo of a status error, and the server moves it into the service's
// domain with its metadata.
type StepUpError struct {
	// RequiredAAL is the level to reach.
	RequiredAAL int
	// MaxAge is how recent the authentication must be (0: any age).
	MaxAge time.Duration
}

func (e *StepUpError) Error() string {
	return fmt.Sprintf("step-up required: aal%d within %s (%s): FailedPrecondition", e.RequiredAAL, e.MaxAge, ReasonStepUpRequired)
}

func (e *StepUpError) message() string {
	if e.MaxAge > 0 {
		return fmt.Sprintf("this needs a recent authentication: aal%d within %d seconds", e.RequiredAAL, int(e.MaxAge/time.Second))
	}
	return fmt.Sprintf("this needs authentication at aal%d", e.RequiredAAL)
}

// GRPCStatus makes the error a status with its ErrorInfo.
func (e *StepUpError) GRPCStatus() *status.Status {
	st := status.New(codes.FailedPrecondition, e.message())
	with, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason: ReasonStepUpRequired,
		Domain: errs.Domain,
		Metadata: map[string]string{
			MetadataRequiredAAL:   strconv.Itoa(e.RequiredAAL),
			MetadataMaxAgeSeconds: strconv.Itoa(int(e.MaxAge / time.Second)),
		},
	})
	if err != nil {
		return st
	}
	return with
}

// Is lets errors.Is(err, &StepUpError{}) match any step-up error.
func (e *StepUpError) Is(target error) bool {
	_, ok := target.(*StepUpError)
	return ok
}

package conversation

import (
	"context"
	"database/sql"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Revealed is the token vault's answer for one token: the value (or its
// masked view) when Allowed, else the vault's reason.
type Revealed struct {
	Value   string
	Allowed bool
	Masked  bool
	Reason  string
}

// Revealer reads values back from the token vault as the person behind the
// call: their access token is relayed and the vault verifies it and
// applies its end-user rules (policy.yaml), so that what a person sees is
// the vault's decision, per token and audited there. It refuses when ctx
// carries no person (the call would run under conversation's own workload
// rules). The vault's refusals of the person (FailedPrecondition
// STEP_UP_REQUIRED with what to reach) come back unchanged; a vault that
// cannot be reached is Unavailable TOKENVAULT_UNAVAILABLE.
type Revealer interface {
	// Detokenize asks for the values of toks for purpose, one call.
	// tenant is the conversation's shop: the vault treats other shops'
	// tokens as unknown.
	Detokenize(ctx context.Context, tenant, purpose string, toks []string) ([]Revealed, error)
	// Masked asks for masked views of toks of tenant, one call.
	Masked(ctx context.Context, tenant string, toks []string) ([]Revealed, error)
}

// Reveal returns one placeholder's value as the token vault lets the
// caller see it (RevealValue). The conversation must be one the caller
// reads (another customer's is NOT_FOUND) and the placeholder one it gave
// out (NOT_FOUND PLACEHOLDER_NOT_FOUND). The customer asks the vault for
// the value for purpose: allowed, it is returned in full; a step-up the
// vault asks for is returned as it says it; refused otherwise, the masked
// view is. A support agent gets the masked view, and the value only if
// the conversation is assigned to them, it is not closed, and the vault has
// a rule for staff with that purpose (an agent reads every conversation, so a reveal in
// full is tied to the one they took). Nothing the vault allows neither in
// full nor masked: PermissionDenied REVEAL_DENIED. Audited, allowed or
// refused, with ids only (the vault records each decision as well).
func (s *Service) Reveal(ctx context.Context, c Caller, id, placeholder, purpose string) (value string, masked bool, err error) {
	conv, err := s.visible(ctx, c, id)
	if err != nil {
		return "", false, err
	}
	p, err := s.d.Store.PlaceholderOf(ctx, conv.ID, placeholder)
	if err != nil {
		return "", false, err
	}
	if s.d.Revealer == nil {
		return "", false, errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "values cannot be revealed here")
	}
	ev := auditclient.New(ctx, ActionReveal, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.Purpose = conv.CustomerSubject, resourcePlaceholder, purpose
	ev.ResourceID = conv.ID + "/" + strings.Trim(placeholder, "[]")
	out, err := s.reveal(ctx, c, conv, p.Token, purpose)
	switch {
	case err != nil && errs.Is(err, errs.Unavailable):
		return "", false, err // nothing was decided
	case err != nil:
		ev.Outcome, ev.Reason = auditclient.Denied, statusReason(err)
	case !out.Allowed:
		ev.Outcome, ev.Reason = auditclient.Denied, reasons.RevealDenied
		err = errs.E(errs.PermissionDenied, reasons.RevealDenied, "the token vault's policy shows this value to the caller neither in full nor masked")
	case out.Masked:
		ev.Reason = reasons.RevealedMasked
	default:
		ev.Reason = reasons.RevealedValue
	}
	// The event is stored before the value leaves: a reveal that cannot be
	// recorded is not made.
	if aerr := s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.d.Audit.Enqueue(ctx, tx, ev) }); aerr != nil {
		return "", false, aerr
	}
	s.d.Audit.Notify()
	if err != nil {
		return "", false, err
	}
	return out.Value, out.Masked, nil
}

const resourcePlaceholder = "placeholder"

// reveal asks the vault for the value where the caller may have it in
// full: the customer, or the agent the conversation is assigned to while
// it is not closed (a closed conversation needs no more work, so its
// agent's access ends with it); everyone else gets the masked view.
func (s *Service) reveal(ctx context.Context, c Caller, conv storage.Conversation, token, purpose string) (Revealed, error) {
	if c.isCustomer() || (c.isAgent() && conv.AgentSubject == c.Subject && conv.State != StateClosed) {
		res, err := s.d.Revealer.Detokenize(ctx, conv.Tenant, purpose, []string{token})
		if err != nil {
			return Revealed{}, err
		}
		if res[0].Allowed {
			return res[0], nil
		}
	}
	res, err := s.d.Revealer.Masked(ctx, conv.Tenant, []string{token})
	if err != nil {
		return Revealed{}, err
	}
	return res[0], nil
}

// statusReason is the reason of an error, whether this service's or a
// status from the vault.
func statusReason(err error) string {
	if r := errs.ReasonOf(err); r != "" {
		return r
	}
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// isStepUp reports whether err is the vault's (or enduser's) request for a
// step-up.
func isStepUp(err error) bool { return statusReason(err) == enduser.ReasonStepUpRequired }

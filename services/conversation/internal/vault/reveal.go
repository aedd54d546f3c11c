package vault

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// RevealClient is what the vault's generated client offers for reading
// values back.
type RevealClient interface {
	Detokenize(ctx context.Context, in *tokenvaultv1.DetokenizeRequest, opts ...grpc.CallOption) (*tokenvaultv1.DetokenizeResponse, error)
	RevealMasked(ctx context.Context, in *tokenvaultv1.RevealMaskedRequest, opts ...grpc.CallOption) (*tokenvaultv1.RevealMaskedResponse, error)
}

// Revealer implements conversation.Revealer: it asks the token vault as
// the person behind the call, whose access token it relays
// (enduser.Forward) and the vault verifies itself, so that the vault's
// end-user rules decide, never conversation's own workload grant.
type Revealer struct{ c RevealClient }

// NewRevealer wraps a token vault client.
func NewRevealer(c RevealClient) *Revealer { return &Revealer{c: c} }

var _ conversation.Revealer = (*Revealer)(nil)

// asPerson relays the caller's token. Without a person on ctx it refuses:
// the call would otherwise reach the vault as conversation acting on its
// own, under the workload's rules (order support), which are not the
// person's.
func asPerson(ctx context.Context) (context.Context, error) {
	if p, ok := enduser.FromContext(ctx); !ok || !p.IsPerson() {
		return nil, errs.E(errs.Unauthenticated, reasons.EndUserRequired, "a reveal needs a person's access token")
	}
	return enduser.Forward(ctx), nil
}

// MaxItems is the most tokens one Detokenize or RevealMasked request may
// carry (the tokenvault proto's max_items); longer lists are asked in
// chunks of it, in order.
const MaxItems = 1000

// chunked calls fn for toks in chunks of MaxItems and joins the results;
// the first failure fails the whole (a step-up asked for one chunk is the
// caller's to split by type, as for one call).
func chunked(toks []string, fn func([]string) ([]conversation.Revealed, error)) ([]conversation.Revealed, error) {
	out := make([]conversation.Revealed, 0, len(toks))
	for start := 0; start < len(toks); start += MaxItems {
		res, err := fn(toks[start:min(start+MaxItems, len(toks))])
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// Detokenize implements conversation.Revealer.
func (r *Revealer) Detokenize(ctx context.Context, tenant, purpose string, toks []string) ([]conversation.Revealed, error) {
	ctx, err := asPerson(ctx)
	if err != nil {
		return nil, err
	}
	return chunked(toks, func(toks []string) ([]conversation.Revealed, error) { return r.detokenize(ctx, tenant, purpose, toks) })
}

func (r *Revealer) detokenize(ctx context.Context, tenant, purpose string, toks []string) ([]conversation.Revealed, error) {
	resp, err := r.c.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: toks, Purpose: purpose, Tenant: tenant})
	if err != nil {
		return nil, revealError(err)
	}
	if len(resp.GetResults()) != len(toks) {
		return nil, errs.E(errs.Internal, reasons.RevealFailed, "the token vault answered %d results for %d tokens", len(resp.GetResults()), len(toks))
	}
	out := make([]conversation.Revealed, len(toks))
	for i, res := range resp.GetResults() {
		switch {
		case res.GetError() != nil:
			out[i].Reason = res.GetError().GetReason()
		case !res.GetDecision().GetAllowed():
			out[i].Reason = res.GetDecision().GetReason()
		default:
			out[i] = conversation.Revealed{Value: res.GetValue(), Allowed: true}
		}
	}
	return out, nil
}

// Masked implements conversation.Revealer.
func (r *Revealer) Masked(ctx context.Context, tenant string, toks []string) ([]conversation.Revealed, error) {
	ctx, err := asPerson(ctx)
	if err != nil {
		return nil, err
	}
	return chunked(toks, func(toks []string) ([]conversation.Revealed, error) { return r.masked(ctx, tenant, toks) })
}

func (r *Revealer) masked(ctx context.Context, tenant string, toks []string) ([]conversation.Revealed, error) {
	resp, err := r.c.RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: toks, Tenant: tenant})
	if err != nil {
		return nil, revealError(err)
	}
	if len(resp.GetResults()) != len(toks) {
		return nil, errs.E(errs.Internal, reasons.RevealFailed, "the token vault answered %d results for %d tokens", len(resp.GetResults()), len(toks))
	}
	out := make([]conversation.Revealed, len(toks))
	for i, res := range resp.GetResults() {
		if res.GetError() != nil || res.GetMasked() == "" {
			out[i].Reason = res.GetError().GetReason()
			continue
		}
		out[i] = conversation.Revealed{Value: res.GetMasked(), Allowed: true, Masked: true}
	}
	return out, nil
}

// revealError: a vault that cannot be reached is Unavailable; the vault's
// refusals of the person (FailedPrecondition STEP_UP_REQUIRED with what to
// reach, SUBJECT_RESTRICTED, CONSENT_REQUIRED; an access token it does not
// accept) go back unchanged, details and all, so that the client can act
// on them; anything else is Internal.
func revealError(err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		return errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault cannot reveal values now; retry")
	case codes.FailedPrecondition, codes.Unauthenticated, codes.PermissionDenied:
		return err
	}
	return errs.E(errs.Internal, reasons.RevealFailed, "the token vault refused the reveal (%s)", status.Code(err))
}

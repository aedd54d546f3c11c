package vault

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// EraseClient is what the vault's generated client offers for erasing a
// subject. The vault lets the conversation workload erase its channel
// pseudonyms only.
type EraseClient interface {
	EraseSubject(ctx context.Context, in *tokenvaultv1.EraseSubjectRequest, opts ...grpc.CallOption) (*tokenvaultv1.EraseSubjectResponse, error)
}

// PseudonymEraser implements conversation.PseudonymEraser on the vault's
// gRPC API, as the conversation workload acting on its own.
type PseudonymEraser struct{ c EraseClient }

// NewPseudonymEraser wraps a token vault client.
func NewPseudonymEraser(c EraseClient) *PseudonymEraser { return &PseudonymEraser{c: c} }

var _ conversation.PseudonymEraser = (*PseudonymEraser)(nil)

// vaultSubjectNotFound is tokenvault's reason for a subject it holds
// nothing of (its reasons package is another module's internal one).
const vaultSubjectNotFound = "SUBJECT_NOT_FOUND"

// ErasePseudonym implements conversation.PseudonymEraser: the vault
// crypto-shreds the subject, recorded under the data-subject request's id;
// a subject already erased is done again, and one the vault never held
// anything of (SUBJECT_NOT_FOUND) is done too. Any other failure is
// Unavailable (the vault could not be reached) or Internal (it refused),
// both carrying no value and failing the erasure, which is retried.
func (e *PseudonymEraser) ErasePseudonym(ctx context.Context, tenant, subject, requestID string) error {
	_, err := e.c.EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Tenant: tenant, Subject: subject, RequestId: requestID})
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	if st.Code() == codes.NotFound && reasonOf(st) == vaultSubjectNotFound {
		return nil
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		return errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault cannot erase a linked channel pseudonym now; retry")
	}
	return errs.E(errs.Internal, reasons.PseudonymEraseFailed, "the token vault refused to erase a linked channel pseudonym (%s, %s)", st.Code(), reasonOf(st))
}

func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

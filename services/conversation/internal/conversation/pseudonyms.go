package conversation

import (
	"context"
	"regexp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// PseudonymEraser erases a channel pseudonym's values in the token vault:
// what a messaging-platform user sent as a stranger, and their platform id,
// were tokenised under it (ingest.go). Idempotent: a subject erased before,
// or never held, is done.
type PseudonymEraser interface {
	ErasePseudonym(ctx context.Context, tenant, subject, requestID string) error
}

// channelPseudonym is what channelIdentity's newID("chu_") makes: the
// prefix and 26 lower-case base32 characters. The token vault lets this
// service erase subjects of this form only.
var channelPseudonym = regexp.MustCompile(`^chu_[a-z2-7]{26}$`)

// erasePseudonyms erases, in the token vault, the pseudonyms that the
// messaging-platform users linked to the subject's account had as
// strangers. Nothing else references their values once the account is
// erased, and no one could ask for them by that name. It runs before the
// erasure's transaction, while the links that name them still exist, so
// that a failure here (or there) leaves everything for the retry; it
// returns how many were erased. A subject that is not of the form this
// service makes is not one of its pseudonyms and is left alone.
func (s *Service) erasePseudonyms(ctx context.Context, subj Subject, requestID string) (int, error) {
	found, err := s.d.Store.ChannelPseudonyms(ctx, s.d.Store.DB(), subj.tenant(), subj.AccountID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range found {
		if !channelPseudonym.MatchString(p) {
			continue
		}
		if s.d.Pseudonyms == nil {
			return n, errs.E(errs.Internal, reasons.PseudonymEraseFailed, "the token vault's erasure of channel pseudonyms is not configured")
		}
		if err := s.d.Pseudonyms.ErasePseudonym(ctx, subj.tenant(), p, requestID); err != nil {
			s.d.Logger.WarnContext(ctx, "erasure refused: a linked channel pseudonym was not erased in the token vault", "reason", errs.ReasonOf(err))
			return n, err
		}
		n++
	}
	return n, nil
}

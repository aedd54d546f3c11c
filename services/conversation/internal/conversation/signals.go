package conversation

import (
	"context"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/signals"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// The message path's suspicious-activity hooks (internal/signals), three
// calls in message.go:
//
//  1. screen, in Post before anything is tokenised: refuses a message
//     while a throttle, step-up or block is in force, then counts the
//     message (velocity) and a prompt injection in its text;
//  2. screenValues, once the scope knows the message's new placeholders
//     and before the token vault sees them: counts distinct cards and
//     e-mail addresses (by the scope's keyed value digests) and order
//     numbers in the placeholder text;
//  3. screened, after tokenisation: a hand-off raised by either leaves
//     the message unanswered by the assistant.
//
// A refusal stores nothing. Posts that are not a customer's or visitor's
// (agent replies, which share tokenise) carry no screening and count
// nothing.

// screening is one post's signals state, carried in its context from
// screen to screenValues and screened.
type screening struct {
	subject   signals.Subject
	handedOff bool
	// screened is what Screen answered, which screenValues counts on.
	screened signals.Outcome
}

type screeningKey struct{}

// signalSubject is where the message comes from, for counting: a customer
// counts over their account, a visitor or a channel user not linked to an
// account over their (visitor or channel) id, and everyone over the
// conversation and the client's address.
func signalSubject(c Caller, conv storage.Conversation) signals.Subject {
	s := signals.Subject{Tenant: conv.Tenant, ConversationID: conv.ID, CustomerSubject: conv.CustomerSubject,
		Kind: c.Kind, Subject: c.Subject, Address: c.Address, AAL: c.AAL, AuthTime: c.AuthTime}
	if c.Stranger {
		s.Kind = signals.KindVisitor
	}
	return s
}

// screen is hook 1. It returns the context screenValues and screened read.
func (s *Service) screen(ctx context.Context, c Caller, conv *storage.Conversation, text string) (context.Context, error) {
	if s.d.Signals == nil {
		return ctx, nil
	}
	sc := &screening{subject: signalSubject(c, *conv)}
	ctx = context.WithValue(ctx, screeningKey{}, sc)
	// Refused while a throttle, step-up or block is in force; otherwise
	// the message and an injection in it are counted.
	out, err := s.d.Signals.Screen(ctx, sc.subject, signals.Message(text))
	if err != nil {
		return ctx, err
	}
	sc.screened = out
	if err := s.applySignals(ctx, sc, conv.ID, out); err != nil {
		return ctx, err
	}
	if sc.handedOff {
		conv.State = StateWaitingOnAgent
	}
	return ctx, nil
}

// screenValues is hook 2.
func (s *Service) screenValues(ctx context.Context, sp *scope, placeholderText string) error {
	sc, ok := ctx.Value(screeningKey{}).(*screening)
	if !ok || s.d.Signals == nil {
		return nil
	}
	vs := make([]signals.Value, len(sp.added))
	for i, a := range sp.added {
		vs[i] = signals.Value{Type: a.Type, Digest: a.ValueDigest}
	}
	out, err := s.d.Signals.ObserveAfter(ctx, sc.subject, sc.screened, s.d.Signals.Values(sc.subject.Tenant, vs, placeholderText))
	if err != nil {
		return err
	}
	sc.screened = out // a retried post counts on what this one raised too
	return s.applySignals(ctx, sc, sc.subject.ConversationID, out)
}

// screened is hook 3: the conversation as the signals left it.
func screened(ctx context.Context, conv storage.Conversation) storage.Conversation {
	if sc, ok := ctx.Value(screeningKey{}).(*screening); ok && sc.handedOff && conv.State == StateOpen {
		conv.State = StateWaitingOnAgent
	}
	return conv
}

// applySignals does what the raised signals say: a hand-off now (so that
// the assistant does not answer this message), then the refusal, if any.
func (s *Service) applySignals(ctx context.Context, sc *screening, conversationID string, out signals.Outcome) error {
	if out.HandOff && !sc.handedOff {
		if _, err := s.HandOff(ctx, conversationID, HandOffSuspiciousActivity); err != nil && !errs.Is(err, errs.FailedPrecondition) {
			return err
		}
		sc.handedOff = true
	}
	return out.Refuse
}

// Signals pages through suspicious-activity signals (support agents and
// administrators; the end-user table admits no one else, and this checks
// again).
func (s *Service) Signals(ctx context.Context, c Caller, conversationID string, cur *storage.SignalCursor, limit int) ([]storage.Signal, error) {
	if err := signalReader(c); err != nil {
		return nil, err
	}
	if s.d.Signals == nil {
		return nil, nil
	}
	return s.d.Signals.List(ctx, conversationID, cur, limit)
}

// ClearSignal lifts a signal's throttle, step-up or block (support agents
// and administrators). Audited.
func (s *Service) ClearSignal(ctx context.Context, c Caller, id string) (storage.Signal, error) {
	if err := signalReader(c); err != nil {
		return storage.Signal{}, err
	}
	if s.d.Signals == nil {
		return storage.Signal{}, errs.E(errs.NotFound, reasons.SignalNotFound, "signal not found")
	}
	return s.d.Signals.Clear(ctx, c.Subject, id)
}

func signalReader(c Caller) error {
	if c.Kind == accesstoken.KindStaff {
		for _, r := range c.Roles {
			if r == accesstoken.RoleSupportAgent || r == accesstoken.RoleAdmin {
				return nil
			}
		}
	}
	return errs.E(errs.PermissionDenied, reasons.StaffRequired, "signals are for support agents and administrators")
}

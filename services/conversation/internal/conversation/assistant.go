package conversation

import (
	"context"
	"sync"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/assistant"
	"github.com/sottohq/sotto/services/conversation/internal/signals"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// historyTurns is how many earlier messages the assistant sees.
const historyTurns = 10

type askerKey struct{}

// withAsker carries the caller of Post to the assistant, which acts as
// them (post itself is called with the conversation only).
func withAsker(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, askerKey{}, c)
}

// asker is the caller withAsker carried; without one the assistant acts for
// nobody (and so asks the customer to sign in before anything about an
// order).
func asker(ctx context.Context, conv storage.Conversation) assistant.Caller {
	c, ok := ctx.Value(askerKey{}).(Caller)
	if !ok {
		return assistant.Caller{Tenant: conv.Tenant}
	}
	return assistant.Caller{
		Tenant:  conv.Tenant,
		Kind:    string(c.Kind),
		Subject: c.Subject,
		AAL:     c.AAL,
		// The recency of an aal2 step-up counts for sensitive requests.
		AuthTime: c.AuthTime,
		// An account's orders are the caller's only when the token is a
		// customer's, for this conversation's customer, and not a channel
		// user who has not proved the account is theirs.
		Linked: c.Kind == accesstoken.KindCustomer && !c.Stranger && c.Subject != "" && c.Subject == conv.CustomerSubject,
	}
}

// reply asks the assistant to answer a message's placeholder text, as the
// end user, with the conversation's recent placeholder history. The
// history is context only: a failure to read it leaves it out.
func (s *Service) reply(ctx context.Context, conv storage.Conversation, text, lang string) assistant.Reply {
	if conv.State != StateOpen {
		// Waiting on an agent: no reply is stored, so none is asked for (a
		// model call, or a return started that nobody is told of).
		return assistant.Reply{}
	}
	req := assistant.Request{Caller: asker(ctx, conv), Language: lang, Text: text}
	// The shop's events of the customer's shopping: read by a
	// recommendation only after consent is asked (shopper.go).
	req.Shopping = s.shopperHistoryOf(conv, req.Caller)
	// Read only if the assistant asks (once: a model that falls back to
	// the built-in assistant asks again).
	req.LoadHistory = sync.OnceValue(func() []assistant.Turn {
		recent, err := s.d.Store.RecentMessages(ctx, conv.ID, historyTurns)
		if err != nil {
			return nil
		}
		turns := make([]assistant.Turn, len(recent))
		for i, m := range recent {
			turns[i] = assistant.Turn{Customer: m.Author == AuthorCustomer, Text: m.Text}
		}
		return turns
	})
	if s.d.Signals != nil {
		// Tool output (shop data a third party may have written) is
		// checked for prompt injection before a model sees it; a finding
		// counts against the conversation, and an error withholds it too.
		subject := signals.Subject{Tenant: conv.Tenant, ConversationID: conv.ID, CustomerSubject: conv.CustomerSubject}
		req.InspectToolOutput = func(ctx context.Context, output string) bool {
			f, _, err := s.d.Signals.InspectToolOutput(ctx, subject, output)
			return err != nil || f.Found
		}
	}
	r := s.d.Assistant.Reply(ctx, req)
	if r.Action != assistant.ActionNone || r.Fallback {
		s.d.Logger.InfoContext(ctx, "assistant reply", "conversation", conv.ID, "intent", string(r.Intent),
			"action", string(r.Action), "fallback", r.Fallback)
	}
	return r
}

// afterReply carries out what a stored reply asked of the conversation: a
// hand-off to a support agent (a refund, an address change, a person asked
// for). The message and reply are stored already, so a failed hand-off is
// logged, not returned; the customer can still ask for a person.
func (s *Service) afterReply(ctx context.Context, conv storage.Conversation, r assistant.Reply) {
	if conv.State != StateOpen || r.Action != assistant.ActionHandOff {
		return
	}
	if _, err := s.HandOff(ctx, conv.ID, HandOffAssistant); err != nil {
		s.d.Logger.WarnContext(ctx, "assistant hand-off failed", "conversation", conv.ID, "reason", errs.ReasonOf(err))
	}
}

// RequiredAction values (sotto.conversation.v1.RequiredAction): what a
// stored reply asks the customer to do, so that clients show the control
// from a field rather than by recognising the assistant's words.
const (
	RequiredNone   int32 = 0
	RequiredSignIn int32 = 1
	RequiredStepUp int32 = 2
)

// requiredAction is the stored form of what the assistant's reply asks of
// the customer; a hand-off asks nothing of them.
func requiredAction(a assistant.Action) int32 {
	switch a {
	case assistant.ActionLogin:
		return RequiredSignIn
	case assistant.ActionStepUp:
		return RequiredStepUp
	default:
		return RequiredNone
	}
}

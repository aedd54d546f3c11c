package conversation

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Why a conversation was handed to a support agent: the numbers of the
// proto enum HandOffReason, which the database stores.
const (
	HandOffCustomerRequest    int32 = 1
	HandOffAssistant          int32 = 2
	HandOffSuspiciousActivity int32 = 3
)

// Audit actions of support agents' work. Events carry ids only (the
// customer's and the agent's account ids, the conversation's, a
// placeholder's name), never a value or message text.
const (
	ActionHandOff    auditclient.Action = "conversation.hand_off"
	ActionAssign     auditclient.Action = "conversation.assign"
	ActionAgentReply auditclient.Action = "conversation.agent_reply"
	ActionReveal     auditclient.Action = "conversation.reveal"
)

var handOffAuditReasons = map[int32]string{
	HandOffCustomerRequest:    reasons.HandOffCustomerRequest,
	HandOffAssistant:          reasons.HandOffAssistant,
	HandOffSuspiciousActivity: reasons.HandOffSuspiciousActivity,
}

// RequestHandOff is the customer asking for a person in their own
// conversation (HandOffConversation).
func (s *Service) RequestHandOff(ctx context.Context, c Caller, id string) (storage.Conversation, error) {
	conv, err := s.owned(ctx, c, id)
	if err != nil {
		return storage.Conversation{}, err
	}
	return s.handOff(ctx, conv, HandOffCustomerRequest, c.Subject)
}

// HandOff hands a conversation to the support agents on the service's own
// account: a suspicious-activity policy (HandOffSuspiciousActivity) or an
// assistant that cannot help (HandOffAssistant). No person's rights are
// checked; the event names no actor but the service. The conversation then
// waits on an agent and the assistant stops answering. Handing off one
// that already waits changes nothing and is not an error; a closed one is
// FailedPrecondition CONVERSATION_CLOSED.
func (s *Service) HandOff(ctx context.Context, conversationID string, reason int32) (storage.Conversation, error) {
	if _, ok := handOffAuditReasons[reason]; !ok {
		return storage.Conversation{}, errs.E(errs.InvalidArgument, reasons.HandOffReasonInvalid, "hand-off reason %d is not one the API knows", reason)
	}
	conv, err := s.d.Store.GetConversation(ctx, s.d.Store.DB(), conversationID)
	if err != nil {
		return storage.Conversation{}, err
	}
	return s.handOff(ctx, conv, reason, "")
}

// errUnchanged: a conditional update found the row not as it expected.
var errUnchanged = errors.New("conversation: unchanged")

func (s *Service) handOff(ctx context.Context, conv storage.Conversation, reason int32, actor string) (storage.Conversation, error) {
	now := s.now()
	ev := auditclient.New(auditclient.WithEndUser(ctx, actor), ActionHandOff, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID, ev.Reason = conv.CustomerSubject, resourceConversation, conv.ID, handOffAuditReasons[reason]
	err := s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ok, err := s.d.Store.HandOff(ctx, tx, conv.ID, StateOpen, StateWaitingOnAgent, reason, now)
		if err != nil {
			return err
		}
		if !ok {
			return errUnchanged
		}
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	switch {
	case errors.Is(err, errUnchanged):
		cur, err := s.d.Store.GetConversation(ctx, s.d.Store.DB(), conv.ID)
		if err != nil {
			return storage.Conversation{}, err
		}
		if cur.State == StateClosed {
			return storage.Conversation{}, errs.E(errs.FailedPrecondition, reasons.ConversationClosed, "the conversation is closed")
		}
		return cur, nil // already waiting on an agent
	case err != nil:
		return storage.Conversation{}, err
	}
	s.d.Audit.Notify()
	s.d.Logger.InfoContext(ctx, "conversation handed off", "conversation", conv.ID, "reason", handOffAuditReasons[reason])
	conv.State, conv.HandOffReason, conv.UpdateTime = StateWaitingOnAgent, reason, now
	return conv, nil
}

// Assign gives a conversation that waits on an agent to the calling
// support agent; from then on only they reply. Taking one's own again is
// not an error. Another agent's is FailedPrecondition ALREADY_ASSIGNED and
// stays theirs (the update is conditional, so of two agents racing, on any
// replicas, one gets it); one that does not wait is FailedPrecondition
// NOT_WAITING_ON_AGENT (CONVERSATION_CLOSED when closed). Audited.
func (s *Service) Assign(ctx context.Context, c Caller, id string) (storage.Conversation, error) {
	if !c.isAgent() {
		return storage.Conversation{}, errs.E(errs.PermissionDenied, reasons.SupportAgentRequired, "only support agents take conversations")
	}
	conv, err := s.visible(ctx, c, id)
	if err != nil {
		return storage.Conversation{}, err
	}
	if conv.AgentSubject == c.Subject {
		return conv, nil
	}
	now := s.now()
	ev := auditclient.New(ctx, ActionAssign, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = conv.CustomerSubject, resourceConversation, conv.ID
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ok, err := s.d.Store.Assign(ctx, tx, conv.ID, c.Subject, StateWaitingOnAgent, now)
		if err != nil {
			return err
		}
		if !ok {
			return errUnchanged
		}
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	if errors.Is(err, errUnchanged) {
		cur, err := s.d.Store.GetConversation(ctx, s.d.Store.DB(), conv.ID)
		switch {
		case err != nil:
			return storage.Conversation{}, err
		case cur.AgentSubject == c.Subject:
			return cur, nil
		case cur.AgentSubject != "":
			return storage.Conversation{}, errs.E(errs.FailedPrecondition, reasons.AlreadyAssigned, "another support agent has taken the conversation")
		case cur.State == StateClosed:
			return storage.Conversation{}, errs.E(errs.FailedPrecondition, reasons.ConversationClosed, "the conversation is closed")
		default:
			return storage.Conversation{}, errs.E(errs.FailedPrecondition, reasons.NotWaitingOnAgent, "the conversation is not waiting on an agent (HandOffConversation first)")
		}
	}
	if err != nil {
		return storage.Conversation{}, err
	}
	s.d.Audit.Notify()
	conv.AgentSubject, conv.UpdateTime = c.Subject, now
	return conv, nil
}

package conversation

import (
	"context"
	"database/sql"
	"sync"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// PostAgentReply stores the assigned support agent's message. Only the
// agent the conversation is assigned to replies (anyone else:
// PermissionDenied NOT_ASSIGNED_AGENT); the text takes the customer's
// message path (tokenise): personal data the agent types is tokenised in
// one vault call with the customer as subject (it is about them, and
// their erasure must reach it) and stored as placeholders. Placeholders
// the conversation gave out stay as they are, so that the agent can refer
// to the customer's "[EMAIL_1]". Audited (ids only).
func (s *Service) PostAgentReply(ctx context.Context, c Caller, id, text, lang string) (storage.Message, error) {
	if !c.isAgent() {
		return storage.Message{}, errs.E(errs.PermissionDenied, reasons.SupportAgentRequired, "only support agents reply as agents")
	}
	conv, err := s.visible(ctx, c, id)
	if err != nil {
		return storage.Message{}, err
	}
	if conv.State == StateClosed {
		return storage.Message{}, errs.E(errs.FailedPrecondition, reasons.ConversationClosed, "the conversation is closed")
	}
	if conv.AgentSubject != c.Subject {
		return storage.Message{}, errs.E(errs.PermissionDenied, reasons.NotAssignedAgent, "only the support agent the conversation is assigned to replies (AssignConversation)")
	}
	if err := checkText(text); err != nil {
		return storage.Message{}, err
	}
	// lang stays "" when the request names none: detection then reads the
	// text in every supported language (see Post).
	// Serialised with the customer's posts (the same lock), so that the
	// two rarely race for a placeholder number.
	mu, _ := s.locks.LoadOrStore(conv.ID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	for range postAttempts {
		msg, err := s.agentReply(ctx, conv, c, text, lang)
		if err == nil || !storage.IsConflict(err) {
			return msg, err
		}
	}
	return storage.Message{}, errs.E(errs.Aborted, reasons.PlaceholderConflict, "the conversation changed while the message was stored; retry")
}

func (s *Service) agentReply(ctx context.Context, conv storage.Conversation, c Caller, text, lang string) (storage.Message, error) {
	scope, res, err := s.tokeniseKeeping(ctx, conv, text, lang, true)
	if err != nil {
		return storage.Message{}, err
	}
	now := s.now()
	msg := storage.Message{ID: newSortedID("msg_"), ConversationID: conv.ID, Author: AuthorAgent, Text: res.Text, CreateTime: now}
	added := make([]storage.Placeholder, len(scope.added))
	for i, a := range scope.added {
		added[i] = a.Placeholder
	}
	ev := auditclient.New(ctx, ActionAgentReply, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = conv.CustomerSubject, resourceMessage, conv.ID+"/"+msg.ID
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The assignment is checked again where the reply is stored: an
		// agent's reply never lands in a conversation closed or taken over
		// since it was read.
		cur, err := s.d.Store.GetConversation(ctx, tx, conv.ID)
		switch {
		case err != nil:
			return err
		case cur.State == StateClosed:
			return errs.E(errs.FailedPrecondition, reasons.ConversationClosed, "the conversation is closed")
		case cur.AgentSubject != c.Subject:
			return errs.E(errs.PermissionDenied, reasons.NotAssignedAgent, "only the support agent the conversation is assigned to replies")
		}
		if err := s.d.Store.InsertPlaceholders(ctx, tx, conv.ID, now, added); err != nil {
			return err
		}
		if err := s.d.Store.InsertMessage(ctx, tx, msg); err != nil {
			return err
		}
		if err := s.d.Store.Touch(ctx, tx, conv.ID, now); err != nil {
			return err
		}
		// On WhatsApp or Messenger the reply goes out through the
		// platform, queued in the same transaction (a web conversation has
		// no channel identity and queues nothing).
		if err := s.EnqueueChannelReply(ctx, tx, conv.ID, msg.ID); err != nil {
			return err
		}
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	if err != nil {
		if !storage.IsConflict(err) && !errs.Is(err, errs.FailedPrecondition) && !errs.Is(err, errs.PermissionDenied) {
			s.d.Logger.WarnContext(ctx, "agent reply not stored", "conversation", conv.ID, logging.Err(err))
		}
		return storage.Message{}, err
	}
	s.d.Audit.Notify()
	return msg, nil
}

const resourceMessage = "message"

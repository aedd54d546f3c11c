package conversation

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// What the conversation service holds about a person, as the data-subject
// request protocol (sotto.privacy.v1) names it.
const (
	CategoryConversation = "conversation.conversation"
	CategoryMessage      = "conversation.message"
	CategoryPlaceholder  = "conversation.placeholder"
	// CategoryChannelIdentity: a messaging-platform user (a WhatsApp
	// number, a Messenger id) linked to the customer's account.
	CategoryChannelIdentity = "conversation.channel_identity"
)

// Audit actions of data-subject operations.
const (
	ActionPrivacyExport   auditclient.Action = "conversation.privacy.export"
	ActionPrivacyErase    auditclient.Action = "conversation.privacy.erase"
	ActionPrivacyRectify  auditclient.Action = "conversation.privacy.rectify"
	ActionPrivacyRestrict auditclient.Action = "conversation.privacy.restrict"

	resourcePrivacyRequest = "privacy_request"
)

// opErase is sotto.privacy.v1's OPERATION_ERASE, as privacy_requests
// stores it.
const opErase int32 = 2

// Outcome is what a data-subject operation did (sotto.privacy.v1's
// Outcome, without the proto).
type Outcome int

// Outcomes.
const (
	OutcomeDone Outcome = iota + 1
	OutcomeNoData
	OutcomeNotApplicable
)

// Subject is a data subject: a customer's account id in a shop.
type Subject struct {
	Tenant    string
	AccountID string
}

func (s Subject) tenant() string {
	if s.Tenant == "" {
		return DefaultTenant
	}
	return s.Tenant
}

// Evidence is what an operation did: counts and reason codes, never
// values.
type Evidence struct {
	Outcome     Outcome
	Counts      map[string]int64
	Details     map[string]string
	Done        time.Time
	AlreadyDone bool
}

// ExportField is one named value of an exported item; Token is set
// instead of Value for a value held in the token vault.
type ExportField struct {
	Name, Value, Token string
}

// ExportItem is one exported record.
type ExportItem struct {
	Category string
	ID       string
	Fields   []ExportField
}

func (s *Service) privacyEvent(ctx context.Context, action auditclient.Action, subj Subject, requestID string) auditclient.Event {
	ev := auditclient.New(ctx, action, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = subj.AccountID, resourcePrivacyRequest, requestID
	return ev
}

// audit records one data-subject operation on its own.
func (s *Service) audit(ctx context.Context, action auditclient.Action, subj Subject, requestID string) error {
	err := s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.d.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, action, subj, requestID))
	})
	if err == nil {
		s.d.Audit.Notify()
	}
	return err
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Enum names for the export, as the API spells them.
var (
	// ChatChannel numbers, as retention.yaml names them.
	channelNames = map[int32]string{1: "web", 2: "whatsapp", 3: "messenger", 4: "api"}
	stateNames   = map[int32]string{StateOpen: "open", StateWaitingOnAgent: "waiting_on_agent", StateClosed: "closed"}
	authorNames  = map[int32]string{AuthorCustomer: "customer", AuthorAssistant: "assistant", AuthorAgent: "agent"}
)

func nameOr(m map[int32]string, v int32) string {
	if n, ok := m[v]; ok {
		return n
	}
	return strconv.Itoa(int(v))
}

// PrivacyExport returns what the service holds about the subject, in a
// stable order (conversations, messages, placeholders, each by id):
// conversations, their messages as stored (placeholder text: the values
// behind the placeholders are the token vault's part of the export), and
// each placeholder with its token, which the orchestrator replaces with
// the value from the vault's own export. Audited.
func (s *Service) PrivacyExport(ctx context.Context, subj Subject, requestID string) ([]ExportItem, error) {
	q := s.d.Store.DB()
	// Not a linked chat's stranger conversations (OwnConversationsOf).
	convs, err := s.d.Store.OwnConversationsOf(ctx, q, subj.tenant(), subj.AccountID)
	if err != nil {
		return nil, err
	}
	var items, msgs, phs []ExportItem
	for _, c := range convs {
		fields := []ExportField{
			{Name: "tenant", Value: c.Tenant},
			{Name: "channel", Value: nameOr(channelNames, c.Channel)},
			{Name: "state", Value: nameOr(stateNames, c.State)},
			{Name: "create_time", Value: rfc3339(c.CreateTime)},
			{Name: "update_time", Value: rfc3339(c.UpdateTime)},
		}
		// Kept past its retention period for model improvement, with
		// the customer's consent as last checked.
		if checked, ok, err := s.d.Store.ModelImprovementMark(ctx, q, c.ID); err != nil {
			return nil, err
		} else if ok {
			fields = append(fields, ExportField{Name: "kept_for_model_improvement_checked_time", Value: rfc3339(checked)})
		}
		items = append(items, ExportItem{Category: CategoryConversation, ID: c.ID, Fields: fields})
		ms, err := s.d.Store.AllMessages(ctx, q, c.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			msgs = append(msgs, ExportItem{Category: CategoryMessage, ID: m.ID, Fields: []ExportField{
				{Name: "conversation_id", Value: c.ID},
				{Name: "author", Value: nameOr(authorNames, m.Author)},
				{Name: "text", Value: m.Text},
				{Name: "create_time", Value: rfc3339(m.CreateTime)},
			}})
		}
		ps, err := s.d.Store.Placeholders(ctx, q, c.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			phs = append(phs, ExportItem{Category: CategoryPlaceholder, ID: c.ID + "/" + p.Placeholder, Fields: []ExportField{
				{Name: "conversation_id", Value: c.ID},
				{Name: "placeholder", Value: p.Placeholder},
				{Name: "type", Value: p.Type},
				{Name: "value", Token: p.Token},
			}})
		}
	}
	byID := func(a, b ExportItem) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(msgs, byID)
	slices.SortFunc(phs, byID)
	items = append(append(items, msgs...), phs...)
	links, err := s.d.Store.LinkedChannelUsers(ctx, q, subj.tenant(), subj.AccountID)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		f := []ExportField{
			{Name: "channel", Value: nameOr(channelNames, l.Channel)},
			{Name: "platform_user_id", Token: l.UserToken},
			{Name: "create_time", Value: rfc3339(l.CreateTime)},
		}
		if !l.LinkTime.IsZero() {
			f = append(f, ExportField{Name: "link_time", Value: rfc3339(l.LinkTime)})
		}
		items = append(items, ExportItem{Category: CategoryChannelIdentity, ID: l.ID, Fields: f})
	}
	shopping, err := s.shopperExport(ctx, subj)
	if err != nil {
		return nil, err
	}
	items = append(items, shopping...)
	if err := s.audit(ctx, ActionPrivacyExport, subj, requestID); err != nil {
		return nil, err
	}
	return items, nil
}

// PrivacyErase deletes the subject's conversations with their messages,
// placeholder maps and every other row that references them, the
// messaging-platform users linked to the subject's account (with their
// link codes and replay records), and the subject's restriction, in one
// transaction with the audit event; then empties SQLite's write-ahead log
// so that the deleted pages do not linger there.
// The values behind the placeholders are the token vault's, which erases
// them in its own step. Idempotent by request id: a repeated call deletes
// what the subject has gained since (nothing, normally) and answers
// already_done; a subject with nothing here is NO_DATA.
func (s *Service) PrivacyErase(ctx context.Context, subj Subject, requestID string) (Evidence, error) {
	// The linked channel users' stranger pseudonyms go first, in the
	// token vault, while the links that name them are still here
	// (pseudonyms.go).
	pseudonyms, err := s.erasePseudonyms(ctx, subj, requestID)
	if err != nil {
		return Evidence{}, err
	}
	now := s.now()
	ev := Evidence{Done: now, Counts: map[string]int64{}}
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		convs, err := s.d.Store.ConversationsOf(ctx, tx, subj.tenant(), subj.AccountID)
		if err != nil {
			return err
		}
		ids := make([]string, len(convs))
		for i, c := range convs {
			ids[i] = c.ID
		}
		counts, err := s.d.Store.DeleteConversations(ctx, tx, ids)
		if err != nil {
			return err
		}
		// The replay records' keyed digests outlive the links for
		// TombstoneTTL (no subject, no identity): a platform's retry after
		// the erasure is a duplicate, not a new person.
		tombs, err := s.d.Store.TombstoneChannelMessages(ctx, tx, subj.tenant(), subj.AccountID, now)
		if err != nil {
			return err
		}
		if tombs > 0 {
			ev.Counts["channel_message_digests_kept"] = tombs
		}
		links, err := s.d.Store.DeleteChannelLinks(ctx, tx, subj.tenant(), subj.AccountID)
		if err != nil {
			return err
		}
		removed := int64(0)
		for t, n := range links {
			counts[t] += n
			removed += n
		}
		if n, err := s.shopperErase(ctx, tx, subj); err != nil {
			return err
		} else if n > 0 {
			counts["shopper_events"] += n
			removed += n
		}
		for t, n := range counts {
			ev.Counts[t+"_deleted"] = n
		}
		if pseudonyms > 0 {
			ev.Counts["channel_pseudonyms_erased"] = int64(pseudonyms)
		}
		lifted, err := s.d.Store.Unrestrict(ctx, tx, subj.tenant(), subj.AccountID)
		if err != nil {
			return err
		}
		first, err := s.d.Store.RecordRequest(ctx, tx, requestID, opErase, now)
		if err != nil {
			return err
		}
		switch {
		case len(ids) > 0 || removed > 0 || lifted:
			ev.Outcome = OutcomeDone
			if lifted {
				ev.Counts["restrictions_removed"] = 1
			}
		case !first:
			ev.Outcome, ev.AlreadyDone = OutcomeDone, true
			// The counts of the first call are the orchestrator's record.
			ev.Counts = nil
			if done, ok, err := s.d.Store.RequestDone(ctx, tx, requestID, opErase); err != nil {
				return err
			} else if ok {
				ev.Done = done
			}
		default:
			ev.Outcome = OutcomeNoData
			ev.Counts = nil
		}
		return s.d.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyErase, subj, requestID))
	})
	if err != nil {
		return Evidence{}, err
	}
	s.d.Audit.Notify()
	if ev.Outcome == OutcomeDone && !ev.AlreadyDone {
		s.truncateWAL(ctx)
	}
	return ev, nil
}

// WALTimeout bounds how long an erasure waits for readers to let go of
// SQLite's WAL (Deps.WAL's timeout); the next retention run tries again.
const WALTimeout = 10 * time.Second

// truncateWAL empties SQLite's WAL after an erasure or a retention sweep
// committed: until then it holds the deleted rows' page images (placeholder
// text, tokens), which secure_delete does not reach. The deletion is done
// whatever happens here (Deps.WAL detaches the truncation from the caller);
// a WAL that stays busy is emptied by the next retention run (retryWAL),
// and by pkg/service's own truncation at shutdown.
func (s *Service) truncateWAL(ctx context.Context) {
	if err := s.d.WAL.Scrub(ctx); err != nil {
		s.d.Logger.WarnContext(ctx, "the WAL still holds pages of deleted conversations; retrying at the next retention run", logging.Err(err))
	}
}

// retryWAL finishes a truncation truncateWAL could not (every retention
// run calls it).
func (s *Service) retryWAL(ctx context.Context) {
	if err := s.d.WAL.Retry(ctx); err != nil {
		s.d.Logger.WarnContext(ctx, "the WAL still holds pages of deleted conversations; retrying at the next retention run", logging.Err(err))
	}
}

// PrivacyRectify answers that nothing here is rectifiable: a conversation
// holds placeholder text and tokens, and the values behind them are the
// token vault's, which applies the corrections addressed to it. Each
// correction is NOT_APPLICABLE; a correction of a conversation category is
// refused FIELD_NOT_RECTIFIABLE (a transcript records what was said).
// Audited, changes nothing.
func (s *Service) PrivacyRectify(ctx context.Context, subj Subject, requestID string, categories []string) (Evidence, []string, error) {
	refused := make([]string, len(categories))
	for i, c := range categories {
		if strings.HasPrefix(c, "conversation.") {
			refused[i] = reasons.FieldNotRectifiable
		}
	}
	if err := s.audit(ctx, ActionPrivacyRectify, subj, requestID); err != nil {
		return Evidence{}, nil, err
	}
	return Evidence{Outcome: OutcomeNotApplicable, Done: s.now(), Details: map[string]string{
		"not_applicable_because": reasons.NoRawValues,
		"explanation": "conversations hold placeholder text and token-vault tokens only; the values behind them are " +
			"corrected by the token vault's own step, and a transcript records what was said",
	}}, refused, nil
}

// PrivacyRestrict restricts the subject's processing (Art. 18) or lifts
// the restriction. While restricted, a message to any of the subject's
// conversations is refused (FailedPrecondition SUBJECT_RESTRICTED) before
// it is tokenised or answered; the stored transcript is kept and still
// readable by its customer. The restriction is recorded even when the
// subject has no conversation yet. A repeated call changes nothing and
// answers already_done.
func (s *Service) PrivacyRestrict(ctx context.Context, subj Subject, requestID string, lift bool) (Evidence, error) {
	now := s.now()
	ev := Evidence{Outcome: OutcomeDone, Done: now, Details: map[string]string{"restricted": strconv.FormatBool(!lift)}}
	err := s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var changed bool
		var err error
		if lift {
			changed, err = s.d.Store.Unrestrict(ctx, tx, subj.tenant(), subj.AccountID)
		} else {
			changed, err = s.d.Store.Restrict(ctx, tx, subj.tenant(), subj.AccountID, requestID, now)
		}
		if err != nil {
			return err
		}
		ev.AlreadyDone = !changed
		if !lift && !changed {
			if since, ok, err := s.d.Store.Restriction(ctx, tx, subj.tenant(), subj.AccountID); err != nil {
				return err
			} else if ok {
				ev.Done = since
			}
		}
		convs, err := s.d.Store.ConversationsOf(ctx, tx, subj.tenant(), subj.AccountID)
		if err != nil {
			return err
		}
		ev.Counts = map[string]int64{"conversations_affected": int64(len(convs))}
		return s.d.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyRestrict, subj, requestID))
	})
	if err != nil {
		return Evidence{}, err
	}
	s.d.Audit.Notify()
	return ev, nil
}

// restricted tells whether conv's customer's data is restricted: new
// processing of their conversations is refused (the message path asks
// before anything is tokenised or answered, with errRestricted).
func (s *Service) restricted(ctx context.Context, conv storage.Conversation) (bool, error) {
	_, restricted, err := s.d.Store.Restriction(ctx, s.d.Store.DB(), conv.Tenant, conv.CustomerSubject)
	return restricted, err
}

func errRestricted() error {
	return errs.E(errs.FailedPrecondition, reasons.SubjectRestricted,
		"the customer's data is restricted: new messages are not processed until the restriction is lifted")
}

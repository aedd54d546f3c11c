package conversation

import (
	"context"
	"database/sql"
	"sync"
	"unicode/utf8"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Domain tags keep the digests apart from each other and from a later
// scheme.
const (
	channelIDTag = "sotto/conversation/channel-message-id/v1"
	valueTag     = "sotto/conversation/placeholder-value/v1"
)

// postAttempts bounds the retries when another replica numbered a
// placeholder of the same conversation first.
const postAttempts = 3

// Post stores a customer's message and the assistant's reply, both as
// placeholder text: the message's personal data is found (pkg/pii), every
// new value is tokenised in one call to the token vault (subject: the
// customer; scope: the conversation), and only the placeholder text and
// the placeholder → token map are stored, in one transaction. If the vault
// cannot be reached, nothing is stored (Unavailable). A repeated channel
// message id returns the first answer.
func (s *Service) Post(ctx context.Context, c Caller, id, text, channelMessageID, lang string) (msg, reply storage.Message, err error) {
	conv, restricted, err := s.ownedForPost(ctx, c, id)
	if err != nil {
		return msg, reply, err
	}
	ctx = withAsker(ctx, c) // the assistant acts as the caller
	if err := checkText(text); err != nil {
		return msg, reply, err
	}
	// The request's language, or "" when it names none. Detection reads an
	// unnamed language as any supported one (pkg/pii: every language's
	// phone regions and cues), not as the default reply language: a
	// French customer's +33 number in a chat without a language was stored
	// in clear when it was read as English (outside probe, 2026-11-30).
	detect := lang
	if lang == "" {
		lang = s.d.DefaultLanguage
	}
	var channelDigest string
	if channelMessageID != "" {
		channelDigest = digest(s.d.Keys.ChannelID, channelIDTag, conv.ID, channelMessageID)
		if m, r, found, err := s.d.Store.MessageByDigest(ctx, conv.ID, channelDigest); err != nil || found {
			return m, r, err
		}
	}
	if conv.State == StateClosed {
		return msg, reply, errs.E(errs.FailedPrecondition, reasons.ConversationClosed, "the conversation is closed")
	}
	if ctx, err = s.screen(ctx, c, &conv, text); err != nil { // suspicious activity (signals.go)
		return msg, reply, err
	}
	mu, _ := s.locks.LoadOrStore(conv.ID, &sync.Mutex{})
	// A restriction read before waiting for the lock may be seconds old
	// once another post's tokenising and reply have released it: read it
	// again then. Uncontended, the one read with the conversation stands.
	stale := !mu.(*sync.Mutex).TryLock()
	if stale {
		mu.(*sync.Mutex).Lock()
	}
	defer mu.(*sync.Mutex).Unlock()
	for attempt := range postAttempts {
		// A restricted customer's message is neither tokenised nor
		// answered (privacy.go). The first attempt uses the restriction
		// read with the conversation unless it waited for the lock; a
		// retry reads it again, as it reads the placeholder map again.
		if attempt > 0 || stale {
			if restricted, err = s.restricted(ctx, conv); err != nil {
				return msg, reply, err
			}
		}
		if restricted {
			return msg, reply, errRestricted()
		}
		msg, reply, err = s.post(ctx, conv, text, channelDigest, lang, detect)
		if err == nil || !storage.IsConflict(err) {
			return msg, reply, err
		}
		if channelDigest != "" {
			// The conflict may be the same channel message posted in
			// parallel: its first answer is the answer.
			if m, r, found, ferr := s.d.Store.MessageByDigest(ctx, conv.ID, channelDigest); ferr != nil || found {
				return m, r, ferr
			}
		}
	}
	return storage.Message{}, storage.Message{}, errs.E(errs.Aborted, reasons.PlaceholderConflict, "the conversation changed while the message was stored; retry")
}

func (s *Service) post(ctx context.Context, conv storage.Conversation, text, channelDigest, lang, detect string) (msg, reply storage.Message, err error) {
	scope, res, err := s.tokenise(ctx, conv, text, detect)
	if err != nil {
		return msg, reply, err
	}
	conv = screened(ctx, conv) // a signal may have handed it off (signals.go)
	// The assistant sees placeholders only; its reply is checked for values
	// it could not have seen and placeholders the conversation never gave
	// out, and stored as checked.
	answer := s.reply(ctx, conv, res.Text, lang)
	checked, err := s.pseudo.CheckOutput(ctx, scope, answer.Text, lang)
	if err != nil {
		return msg, reply, errs.Wrap(err, errs.Internal, reasons.OutputUnsafe, "the reply could not be checked")
	}
	if len(checked.Problems) > 0 {
		s.d.Logger.WarnContext(ctx, "assistant reply redacted", "conversation", conv.ID, "problems", len(checked.Problems))
	}
	now := s.now()
	msg = storage.Message{ID: newSortedID("msg_"), ConversationID: conv.ID, Author: AuthorCustomer, Text: res.Text,
		CreateTime: now, ChannelDigest: channelDigest}
	reply = storage.Message{ID: newSortedID("msg_"), ConversationID: conv.ID, Author: AuthorAssistant, Text: checked.Text,
		CreateTime: now, ReplyTo: msg.ID, RequiredAction: requiredAction(answer.Action)}
	added := make([]storage.Placeholder, len(scope.added))
	for i, a := range scope.added {
		added[i] = a.Placeholder
	}
	// Committed with concurrent posts' (storage.Store.Write); ctx is the
	// writer's.
	err = s.d.Store.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.InsertPlaceholders(ctx, tx, conv.ID, now, added); err != nil {
			return err
		}
		if err := s.d.Store.InsertMessage(ctx, tx, msg); err != nil {
			return err
		}
		if conv.State == StateOpen {
			if err := s.d.Store.InsertMessage(ctx, tx, reply); err != nil {
				return err
			}
		}
		return s.d.Store.Touch(ctx, tx, conv.ID, now)
	})
	if err != nil {
		if !storage.IsConflict(err) {
			s.d.Logger.WarnContext(ctx, "message not stored", "conversation", conv.ID, logging.Err(err))
		}
		return storage.Message{}, storage.Message{}, err
	}
	if conv.State != StateOpen {
		reply = storage.Message{}
	}
	s.afterReply(ctx, conv, answer) // a hand-off the assistant asked for (assistant.go)
	return msg, reply, nil
}

// tokenise is the first half of the message path, for any author's text:
// it finds the text's personal data (pkg/pii) against the conversation's
// placeholder map and tokenises every new value in one vault call (subject:
// the conversation's customer; scope: the conversation). It returns the
// placeholder text and the scope, whose added entries (tokens set) the
// caller stores with the message in one transaction. Nothing is stored
// here; a vault failure is returned as it is (nothing to store).
func (s *Service) tokenise(ctx context.Context, conv storage.Conversation, text, lang string) (*scope, pii.Result, error) {
	return s.tokeniseKeeping(ctx, conv, text, lang, false)
}

// tokeniseKeeping is tokenise; keepGiven keeps placeholders the
// conversation gave out as they are instead of making them literals (a
// support agent, who reads placeholders, refers to the customer's
// "[EMAIL_1]"; a customer's typed "[CARD_1]" stays a literal).
func (s *Service) tokeniseKeeping(ctx context.Context, conv storage.Conversation, text, lang string, keepGiven bool) (*scope, pii.Result, error) {
	known, err := s.d.Store.Placeholders(ctx, s.d.Store.DB(), conv.ID)
	if err != nil {
		return nil, pii.Result{}, err
	}
	scope := newScope(s.d.Keys.Value, conv.ID, known)
	scope.keepGiven = keepGiven
	res, err := s.pseudo.Pseudonymize(ctx, scope, text, lang)
	if err != nil {
		return nil, pii.Result{}, err
	}
	// Every new value is a vault token and a placeholder row, and every
	// later post loads the whole map: a flood is refused before the vault
	// is called or anything is stored.
	if len(scope.added) > s.d.MaxNewValues {
		s.d.Logger.WarnContext(ctx, "message refused: too many values", "conversation", conv.ID, "values", len(scope.added))
		return nil, pii.Result{}, errs.E(errs.InvalidArgument, reasons.TooManyValues,
			"the message holds %d new personal-data values; at most %d are taken per message", len(scope.added), s.d.MaxNewValues)
	}
	if len(scope.added) > 0 && len(known)+len(scope.added) > s.d.MaxValues {
		s.d.Logger.WarnContext(ctx, "message refused: conversation value limit", "conversation", conv.ID, "values", len(known))
		return nil, pii.Result{}, errs.E(errs.FailedPrecondition, reasons.ConversationValueLimit,
			"the conversation holds as many personal-data values as it may (%d); start a new conversation", s.d.MaxValues)
	}
	if err := s.screenValues(ctx, scope, res.Text); err != nil { // before the vault sees the values (signals.go)
		return nil, pii.Result{}, err
	}
	if len(scope.added) > 0 {
		items := make([]Item, len(scope.added))
		for i, a := range scope.added {
			items[i] = Item{Type: pii.Type(a.Type), Value: a.value}
		}
		tctx, cancel := context.WithTimeout(ctx, s.d.TokenizeTimeout)
		tokens, err := s.d.Vault.Tokenize(tctx, Batch{Tenant: conv.Tenant, Subject: conv.CustomerSubject, Scope: conv.ID, Items: items})
		cancel()
		if err != nil {
			// Only the reason: the error of a failed call carries no value,
			// and the count says how much was refused.
			s.d.Logger.WarnContext(ctx, "message refused: tokenisation failed", "conversation", conv.ID,
				"values", len(items), "reason", errs.ReasonOf(err))
			return nil, pii.Result{}, err
		}
		if len(tokens) != len(items) {
			return nil, pii.Result{}, errs.E(errs.Internal, reasons.TokenizeFailed, "the token vault answered %d tokens for %d values", len(tokens), len(items))
		}
		for i := range scope.added {
			scope.added[i].Token = tokens[i]
		}
	}
	return scope, res, nil
}

// checkText refuses text that is not valid UTF-8 or carries control
// characters other than tab and line breaks (they hide text from people
// reading the transcript and from the detector's word breaks).
func checkText(text string) error {
	if !utf8.ValidString(text) {
		return errs.E(errs.InvalidArgument, reasons.TextInvalid, "the text is not valid UTF-8")
	}
	for _, r := range text {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return errs.E(errs.InvalidArgument, reasons.TextInvalid, "the text holds control characters")
		}
	}
	return nil
}

// added is a placeholder this message gives out, with its value, which is
// held in memory only until the vault has tokenised it.
type added struct {
	storage.Placeholder
	value string
}

// scope is one post's view of a conversation's placeholder map
// (pii.Scope): the stored entries, found again by the keyed digest of type
// and value, and the entries this message adds, numbered after the stored
// ones. It holds no stored value: Value answers whether a placeholder was
// given out, and returns the placeholder itself, so that pii.Restore with
// it changes nothing (re-identification is the token vault's, under its
// policy).
type scope struct {
	key   []byte
	convo string
	// byDigest: type + "\x00" + digest → placeholder; given: placeholders.
	byDigest map[string]string
	given    map[string]bool
	next     map[pii.Type]int
	added    []added
	// keepGiven: placeholder-shaped text naming a placeholder given out
	// stays itself (tokeniseKeeping).
	keepGiven bool
}

func newScope(key []byte, conversationID string, known []storage.Placeholder) *scope {
	s := &scope{key: key, convo: conversationID, byDigest: map[string]string{}, given: map[string]bool{}, next: map[pii.Type]int{}}
	for _, p := range known {
		s.byDigest[p.Type+"\x00"+p.ValueDigest] = p.Placeholder
		s.given[p.Placeholder] = true
		if t := pii.Type(p.Type); p.Number > s.next[t] {
			s.next[t] = p.Number
		}
	}
	return s
}

var _ pii.Scope = (*scope)(nil)

func (s *scope) digest(t pii.Type, value string) string {
	return digest(s.key, valueTag, s.convo, string(t), value)
}

// Placeholder implements pii.Scope.
func (s *scope) Placeholder(_ context.Context, t pii.Type, value string) (string, error) {
	if t == pii.Literal && s.keepGiven && s.given[value] {
		return value, nil
	}
	d := s.digest(t, value)
	if ph, ok := s.byDigest[string(t)+"\x00"+d]; ok {
		return ph, nil
	}
	s.next[t]++
	n := s.next[t]
	ph := pii.FormatPlaceholder(t, n)
	s.byDigest[string(t)+"\x00"+d] = ph
	s.given[ph] = true
	s.added = append(s.added, added{Placeholder: storage.Placeholder{Placeholder: ph, Type: string(t), Number: n, ValueDigest: d}, value: value})
	return ph, nil
}

// Lookup implements pii.Scope.
func (s *scope) Lookup(_ context.Context, t pii.Type, value string) (string, bool, error) {
	ph, ok := s.byDigest[string(t)+"\x00"+s.digest(t, value)]
	return ph, ok, nil
}

// Value implements pii.Scope (see scope).
func (s *scope) Value(_ context.Context, placeholder string) (string, bool, error) {
	if s.given[placeholder] {
		return placeholder, true, nil
	}
	return "", false, nil
}

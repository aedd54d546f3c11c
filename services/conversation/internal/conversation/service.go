// Package conversation is the conversation service's domain: who may see
// which conversation, and the message path that stores a customer's words
// only as placeholder text (pkg/pii) with the values in the token vault.
package conversation

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/assistant"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/signals"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// States, channels and authors: the numbers of the proto enums
// (sotto.conversation.v1), which the database stores.
const (
	StateOpen           int32 = 1
	StateWaitingOnAgent int32 = 2
	StateClosed         int32 = 3

	AuthorCustomer  int32 = 1
	AuthorAssistant int32 = 2
	AuthorAgent     int32 = 3
)

// Audit actions of the conversation service.
const (
	ActionCreate auditclient.Action = "conversation.create"
	ActionClose  auditclient.Action = "conversation.close"

	resourceConversation = "conversation"
)

// DefaultTenant is the shop of a customer whose token names none (as in
// identity and tokenvault, "" and "default" are one shop).
const DefaultTenant = "default"

// Item is one value to tokenise: a finding of the PII engine.
type Item struct {
	Type  pii.Type
	Value string
}

// Batch is one message's values, tokenised in one call.
type Batch struct {
	Tenant  string
	Subject string
	// Scope is the conversation id.
	Scope string
	Items []Item
}

// Tokenizer stores values in the token vault and returns one token per
// item, in order. It fails Unavailable (TOKENVAULT_UNAVAILABLE) when the
// vault cannot be reached, and as a whole when any item fails.
type Tokenizer interface {
	Tokenize(ctx context.Context, b Batch) ([]string, error)
}

// Keys are the HMAC keys of the service's digests (each at least 32
// bytes, derived apart).
type Keys struct {
	// ChannelID keys the digests of channels' message ids.
	ChannelID []byte
	// Value keys the digests that give a value seen again its placeholder.
	Value []byte
}

// MinKeyLen is the shortest digest key New accepts.
const MinKeyLen = sha256.Size

// Replier answers a message's placeholder text: the built-in assistant or
// the model adapter (internal/assistant), asked as the end user
// (assistantRequest in assistant.go).
type Replier = assistant.Assistant

// Deps are what the domain is built from.
type Deps struct {
	Store     *storage.Store
	Audit     *auditclient.Outbox
	Vault     Tokenizer
	Engine    *pii.Engine
	Keys      Keys
	Assistant Replier
	Logger    *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// TokenizeTimeout bounds the vault call of one message.
	TokenizeTimeout time.Duration
	// PollInterval is how often Watch looks for new messages.
	PollInterval time.Duration
	// WatchMaxLifetime ends every Watch after this long (0: 30 minutes).
	WatchMaxLifetime time.Duration
	// MaxNewValues bounds the new values one message may add (0: 64);
	// MaxValues a conversation's placeholder map (0: 2000).
	MaxNewValues int
	MaxValues    int
	// DefaultLanguage is the reply language when a message names none;
	// detection then reads the text in every supported language.
	DefaultLanguage string
	// Revealer asks the token vault for values as the person behind a
	// call (reveal.go, view.go); nil refuses every reveal.
	Revealer Revealer
	// Pseudonyms erases linked channel users' stranger pseudonyms in the
	// token vault when their account is erased (pseudonyms.go); nil fails
	// every such erasure.
	Pseudonyms PseudonymEraser
	// Channels are the messaging channels' settings (ingest.go).
	Channels ChannelDeps
	// Signals watches for suspicious activity (signals.go); nil watches
	// nothing.
	Signals *signals.Monitor
	// WAL empties SQLite's write-ahead log after erasures and retention
	// sweeps, and remembers one it could not finish for the next retention
	// run (privacy.go; store.NewScrubber of the service's database, with
	// WALTimeout). Required.
	WAL *store.Scrubber
}

// Service is the conversation domain.
type Service struct {
	d      Deps
	pseudo *pii.Pseudonymizer
	// locks serialise posts per conversation in this process, so that two
	// posts rarely race for a placeholder number (the unique indexes decide
	// between replicas).
	locks sync.Map // conversation id → *sync.Mutex
	// shopper: shopper events (shopper.go); nil until enabled.
	shopper *shopperDeps
	// onClose: see OnClose.
	onClose CloseHook
}

// CloseHook runs in the transaction that closes a conversation; identified
// is false for an anonymous visitor or a channel user with no linked
// account. An error fails the close.
type CloseHook func(ctx context.Context, tx *sql.Tx, conv storage.Conversation, identified bool) error

// OnClose sets the hook Close runs (internal/crmevents: the conversation
// summary for the shop's CRMs). Call it before serving.
func (s *Service) OnClose(h CloseHook) { s.onClose = h }

// New builds the domain.
func New(d Deps) (*Service, error) {
	if len(d.Keys.ChannelID) < MinKeyLen || len(d.Keys.Value) < MinKeyLen {
		return nil, errs.E(errs.Internal, reasons.DigestKeyMissing, "the digest keys are not configured")
	}
	if d.WAL == nil {
		return nil, errors.New("conversation: no WAL scrubber")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.TokenizeTimeout <= 0 {
		d.TokenizeTimeout = 2 * time.Second
	}
	if d.PollInterval <= 0 {
		d.PollInterval = 250 * time.Millisecond
	}
	if d.DefaultLanguage == "" {
		d.DefaultLanguage = "en"
	}
	if d.WatchMaxLifetime <= 0 {
		d.WatchMaxLifetime = 30 * time.Minute
	}
	if d.MaxNewValues <= 0 {
		d.MaxNewValues = 64
	}
	if d.MaxValues <= 0 {
		d.MaxValues = 2000
	}
	return &Service{d: d, pseudo: pii.NewPseudonymizer(d.Engine)}, nil
}

func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }

// Caller is the verified person behind a call.
type Caller struct {
	Subject string
	Tenant  string
	Kind    accesstoken.Kind
	Roles   []string
	// AAL is the token's assurance level: the assistant asks for step-up
	// before sensitive requests (a delivery address, a refund).
	AAL int
	// Stranger marks a messaging-platform user whose channel identity is
	// not linked to an account (ingest.go): Subject is then a pseudonymous
	// channel subject ("chu_…") and AAL 0. Whatever they claim in the
	// chat, no account data may reach them: the assistant asks them to
	// link their account first (CreateChannelLinkCode, "LINK <code>").
	// A linked channel user has the account as Subject, AAL 1.
	Stranger bool
	// Channel is the messaging channel a channel user writes on (the
	// proto's ChatChannel number); 0 for calls with an access token.
	Channel int32
	// AuthTime is when the token's authentication happened (a step-up a
	// signal asks for must be newer than the signal); Address is the
	// client's address as the gateway saw it (invalid when unknown). Both
	// only for signals.go.
	AuthTime time.Time
	Address  netip.Addr
	// Expiry is when the access token ends (zero: no token, e.g. a channel
	// user): Watch ends its stream then.
	Expiry time.Time
}

func (c Caller) isCustomer() bool { return c.Kind == accesstoken.KindCustomer }

// isVisitor: an anonymous web-chat visitor (identity's visitor session),
// customer-like for their own web conversations only; Subject is the
// visitor id.
func (c Caller) isVisitor() bool { return c.Kind == accesstoken.KindVisitor }

// ownsOnly: customers and visitors see only conversations they own.
func (c Caller) ownsOnly() bool { return c.isCustomer() || c.isVisitor() }

// ChannelWeb is the proto's CHAT_CHANNEL_WEB, the only channel a visitor
// opens.
const ChannelWeb int32 = 1

func (c Caller) isAgent() bool {
	if c.Kind != accesstoken.KindStaff {
		return false
	}
	for _, r := range c.Roles {
		if r == accesstoken.RoleSupportAgent {
			return true
		}
	}
	return false
}

func tenantOf(c Caller) string {
	if c.Tenant == "" {
		return DefaultTenant
	}
	return c.Tenant
}

// reader checks that c may read conversations at all.
func reader(c Caller) error {
	switch {
	case c.ownsOnly(), c.isAgent():
		return nil
	case c.Kind == accesstoken.KindStaff:
		return errs.E(errs.PermissionDenied, reasons.SupportAgentRequired, "staff read conversations as support agents")
	case c.Kind == "":
		return errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
	default:
		return errs.E(errs.PermissionDenied, reasons.CustomerRequired, "only customers and support agents read conversations")
	}
}

// visible loads a conversation the caller may read: a customer's own (in
// their shop), any for a support agent. Anything else is NotFound, as if
// it did not exist.
func (s *Service) visible(ctx context.Context, c Caller, id string) (storage.Conversation, error) {
	if c.isIntegrator() {
		return s.integratorVisible(ctx, c, id)
	}
	if err := reader(c); err != nil {
		return storage.Conversation{}, err
	}
	conv, err := s.d.Store.GetConversation(ctx, s.d.Store.DB(), id)
	if err != nil {
		return storage.Conversation{}, err
	}
	if c.ownsOnly() && (conv.CustomerSubject != c.Subject || conv.Tenant != tenantOf(c)) {
		return storage.Conversation{}, errs.E(errs.NotFound, reasons.ConversationNotFound, "conversation not found")
	}
	return conv, nil
}

// owned loads a conversation only its customer may change.
func (s *Service) owned(ctx context.Context, c Caller, id string) (storage.Conversation, error) {
	conv, err := s.visible(ctx, c, id)
	if err != nil {
		return conv, err
	}
	if !c.ownsOnly() {
		return storage.Conversation{}, errs.E(errs.PermissionDenied, reasons.CustomerRequired, "only the conversation's customer may do this")
	}
	return conv, nil
}

// ownedForPost is owned for posting a message, and whether the
// customer's data is restricted, read in the same statement.
func (s *Service) ownedForPost(ctx context.Context, c Caller, id string) (storage.Conversation, bool, error) {
	if !c.ownsOnly() {
		// Refused either way; owned says why.
		conv, err := s.owned(ctx, c, id)
		return conv, false, err
	}
	conv, restricted, err := s.d.Store.GetConversationForPost(ctx, s.d.Store.DB(), id)
	if err != nil {
		return storage.Conversation{}, false, err
	}
	if conv.CustomerSubject != c.Subject || conv.Tenant != tenantOf(c) {
		return storage.Conversation{}, false, errs.E(errs.NotFound, reasons.ConversationNotFound, "conversation not found")
	}
	return conv, restricted, nil
}

// newID is a prefix and 26 lower-case base32 characters (128 random bits).
// Channel pseudonyms ("chu_") keep this form: the token vault erases
// subjects of exactly this form for this service.
func newID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// newSortedID is a prefix and 26 lower-case base32 characters: the time in
// milliseconds (48 bits), then 80 random bits, in an alphabet in ASCII
// order (Crockford's, lower case), so that ids sort by creation. Used for
// conversations and messages: a new row's key then lands at the end of
// each index it is in (messages by id, conversations, placeholders and
// messages by conversation) instead of on a random page; with random ids a
// posted message dirtied a dozen pages scattered over the indexes, ~62 KB
// written per message (docs/benchmarks.md). The 80 random bits keep ids
// unguessable (every read is authorised anyway), and the time is the row's
// create_time, which the API shows.
func newSortedID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return prefix + sortedIDEncoding.EncodeToString(b[:])
}

var sortedIDEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// digest is the hex HMAC-SHA256 under key of the parts, each
// length-prefixed so that no two tuples encode alike.
func digest(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	var b []byte
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// Create opens a conversation for the calling customer. Audited.
func (s *Service) Create(ctx context.Context, c Caller, channel int32) (storage.Conversation, error) {
	if !c.ownsOnly() {
		return storage.Conversation{}, errs.E(errs.PermissionDenied, reasons.CustomerRequired, "only customers open conversations")
	}
	if c.isVisitor() && channel != ChannelWeb {
		// A visitor is a browser session on the shop's site: any other
		// channel has its own identities (ingest.go).
		return storage.Conversation{}, errs.E(errs.InvalidArgument, reasons.VisitorWebOnly, "a visitor opens web conversations only")
	}
	if channel != ChannelWeb {
		// A customer's own token opens web chats only: WhatsApp and
		// Messenger conversations come from the platforms' webhooks and API
		// ones from integrators (ingest.go), each under its own identity.
		// Opened here, a messaging conversation would be the customer's
		// word for the channel, visible to that channel's integrators and
		// kept for that channel's retention period.
		return storage.Conversation{}, errs.E(errs.InvalidArgument, reasons.CustomerWebOnly, "a customer opens web conversations only; other channels open through their platform")
	}
	now := s.now()
	conv := storage.Conversation{ID: newSortedID("cnv_"), Tenant: tenantOf(c), Channel: channel, State: StateOpen,
		CustomerSubject: c.Subject, CreateTime: now, UpdateTime: now}
	ev := s.event(ctx, ActionCreate, conv)
	err := s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.InsertConversation(ctx, tx, conv); err != nil {
			return err
		}
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	if err != nil {
		return storage.Conversation{}, err
	}
	s.d.Audit.Notify()
	return conv, nil
}

func (s *Service) event(ctx context.Context, action auditclient.Action, conv storage.Conversation) auditclient.Event {
	ev := auditclient.New(auditclient.WithEndUser(ctx, conv.CustomerSubject), action, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = conv.CustomerSubject, resourceConversation, conv.ID
	return ev
}

// Get returns a conversation the caller may read.
func (s *Service) Get(ctx context.Context, c Caller, id string) (storage.Conversation, error) {
	return s.visible(ctx, c, id)
}

// List pages through conversations: a customer's own, every customer's for
// a support agent.
func (s *Service) List(ctx context.Context, c Caller, f storage.ConversationFilter, cur *storage.ConversationCursor, limit int) ([]storage.Conversation, error) {
	if err := reader(c); err != nil {
		return nil, err
	}
	if c.ownsOnly() {
		if f.CustomerSubject != "" && f.CustomerSubject != c.Subject {
			return nil, errs.E(errs.PermissionDenied, reasons.SubjectNotCaller, "a customer lists only their own conversations")
		}
		f.CustomerSubject = c.Subject
	}
	convs, err := s.d.Store.ListConversations(ctx, f, cur, limit)
	if err != nil || !c.ownsOnly() {
		return convs, err
	}
	// A customer's account id is unique across shops; the filter keeps a
	// token for another shop from reading this one's all the same.
	out := convs[:0]
	for _, conv := range convs {
		if conv.Tenant == tenantOf(c) {
			out = append(out, conv)
		}
	}
	return out, nil
}

// Close closes a conversation (its customer only). Audited once.
func (s *Service) Close(ctx context.Context, c Caller, id string) (storage.Conversation, error) {
	conv, err := s.owned(ctx, c, id)
	if err != nil || conv.State == StateClosed {
		return conv, err
	}
	now := s.now()
	conv.State, conv.UpdateTime = StateClosed, now
	ev := s.event(ctx, ActionClose, conv)
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.SetState(ctx, tx, id, StateClosed, now); err != nil {
			return err
		}
		if s.onClose != nil {
			if err := s.onClose(ctx, tx, conv, c.Kind == accesstoken.KindCustomer && !c.Stranger); err != nil {
				return err
			}
		}
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	if err != nil {
		return storage.Conversation{}, err
	}
	s.d.Audit.Notify()
	return conv, nil
}

// Messages pages through a conversation's messages after seq afterSeq.
func (s *Service) Messages(ctx context.Context, c Caller, id string, afterSeq int64, limit int) ([]storage.Message, error) {
	if _, err := s.visible(ctx, c, id); err != nil {
		return nil, err
	}
	return s.d.Store.ListMessages(ctx, id, afterSeq, limit)
}

// Watch sends a conversation's messages after afterID ("" for all), then
// each new one, until the conversation is closed and drained or ctx ends.
// A stream lives no longer than its token: it ends Unauthenticated
// TOKEN_EXPIRED when the caller's token expires and TOKEN_REVOKED once its
// session is revoked (enduser.Revalidate, checked at every poll), and
// with OK after WatchMaxLifetime whatever the token, so that the client
// reconnects (with the last message id it has) under a token valid then.
func (s *Service) Watch(ctx context.Context, c Caller, id, afterID string, send func(storage.Message) error) error {
	if _, err := s.visible(ctx, c, id); err != nil {
		return err
	}
	var seq int64
	if afterID != "" {
		var err error
		if seq, err = s.d.Store.MessageSeq(ctx, id, afterID); err != nil {
			return err
		}
	}
	t := time.NewTicker(s.d.PollInterval)
	defer t.Stop()
	end := s.now().Add(s.d.WatchMaxLifetime)
	for {
		if over, err := s.watchOver(ctx, c, end); over || err != nil {
			return err
		}
		// Read the state before the messages: a conversation seen closed
		// has no message after those read next.
		conv, err := s.d.Store.GetConversation(ctx, s.d.Store.DB(), id)
		if err != nil {
			return err
		}
		for {
			ms, err := s.d.Store.ListMessages(ctx, id, seq, 100)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if err := send(m); err != nil {
					return err
				}
				seq = m.Seq
			}
			if len(ms) < 100 {
				break
			}
		}
		if conv.State == StateClosed {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// watchOver says whether a stream must end before its next step: with an
// error when the caller's token has expired or its session was revoked
// (or revocations cannot be checked: fail closed), with none once the
// stream has lived until end.
func (s *Service) watchOver(ctx context.Context, c Caller, end time.Time) (bool, error) {
	now := s.now()
	if !c.Expiry.IsZero() && !now.Before(c.Expiry) {
		return true, errs.E(errs.Unauthenticated, accesstoken.ReasonTokenExpired, "the access token this stream began with has expired; reconnect with a fresh one")
	}
	if err := enduser.Revalidate(ctx); err != nil {
		return true, err
	}
	return !now.Before(end), nil
}

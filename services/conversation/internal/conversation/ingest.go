package conversation

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/services/conversation/internal/channels"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Domain tags of the channel digests.
const (
	channelUserTag    = "sotto/conversation/channel-user-id/v1"
	channelInboundTag = "sotto/conversation/channel-inbound-id/v1"
	linkCodeTag       = "sotto/conversation/channel-link-code/v1"
)

// ChannelScope is the token vault scope of channel user ids.
const ChannelScope = "channel"

// channelUserType is the PII type a Messenger page-scoped id is tokenised
// as: no vault data type fits it, so it is free text (vault.DataType).
const channelUserType pii.Type = "CHANNEL_USER_ID"

// Enqueuer adds durable jobs in a transaction (*jobs.Runner).
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, kind string, args []byte, opts jobs.EnqueueOptions) (jobs.Enqueued, error)
}

// ChannelKeys key the channel digests (each at least MinKeyLen bytes).
type ChannelKeys struct {
	// User keys the digests of platform user ids.
	User []byte
	// LinkCode keys the digests of link codes.
	LinkCode []byte
}

// ChannelDeps are the messaging channels' part of Deps. Without keys and
// Jobs, ingest and link codes refuse (Internal CHANNEL_KEY_MISSING,
// FailedPrecondition CHANNEL_NOT_CONFIGURED).
type ChannelDeps struct {
	Keys ChannelKeys
	// Jobs enqueues reply deliveries (channels.DeliveryKind) in the
	// transaction that records the inbound message.
	Jobs Enqueuer
	// LinkCodeTTL is how long a link code works (10 minutes).
	LinkCodeTTL time.Duration
	// MaxLinkFailures wrong codes in a row block an identity's link
	// attempts for LinkBlock (5, one hour).
	MaxLinkFailures int
	LinkBlock       time.Duration
}

func (d *ChannelDeps) defaults() {
	if d.LinkCodeTTL <= 0 {
		d.LinkCodeTTL = 10 * time.Minute
	}
	if d.MaxLinkFailures <= 0 {
		d.MaxLinkFailures = 5
	}
	if d.LinkBlock <= 0 {
		d.LinkBlock = time.Hour
	}
}

// Inbound is one message from a messaging platform, after the gateway
// checked the webhook's signature.
type Inbound struct {
	Tenant    string
	Channel   int32
	UserID    string
	MessageID string
	Text      string
	Language  string
	// Integrator is the client id of an integrator posting on the API
	// channel (its token verified, its tenant in Tenant); empty for the
	// gateway's webhook ingress.
	Integrator string
}

// Ingested is what became of an inbound message.
type Ingested struct {
	ConversationID string
	MessageID      string
	// Duplicate: the message id was taken before; nothing was stored or
	// sent again.
	Duplicate bool
}

// Ingest takes a platform message: the sender becomes (or is found as) a
// channel identity, kept by a keyed digest of (tenant, channel, user id)
// and a token of the id (subject: the linked account, else a pseudonymous
// "chu_" subject; scope "channel"); a "LINK <code>" message is a link
// attempt (link.go), never stored or shown to the assistant; anything else
// goes to the identity's open conversation on the channel (opened if
// there is none) through Post, as the channel user, and the reply is
// delivered by a durable job. A message id taken before (keyed digest of
// tenant, channel and id) is a duplicate: nothing is stored or sent again.
func (s *Service) Ingest(ctx context.Context, in Inbound) (Ingested, error) {
	cd := s.d.Channels
	cd.defaults()
	if len(cd.Keys.User) < MinKeyLen || len(cd.Keys.LinkCode) < MinKeyLen {
		return Ingested{}, errs.E(errs.Internal, reasons.ChannelKeyMissing, "the channel digest keys are not configured")
	}
	if cd.Jobs == nil {
		return Ingested{}, errs.E(errs.FailedPrecondition, reasons.ChannelNotConfigured, "channel delivery is not configured")
	}
	if err := checkIngestChannel(in); err != nil {
		return Ingested{}, err
	}
	if !channels.IsMessaging(in.Channel) && in.Channel != ChannelAPI {
		return Ingested{}, errs.E(errs.InvalidArgument, reasons.ChannelLinkRequired, "not a messaging channel")
	}
	if in.UserID == "" || in.MessageID == "" {
		return Ingested{}, errs.E(errs.InvalidArgument, reasons.TextInvalid, "a channel message needs its user and message ids")
	}
	if err := checkText(in.Text); err != nil {
		return Ingested{}, err
	}
	if in.Tenant == "" {
		in.Tenant = DefaultTenant
	}
	inbound := digest(s.d.Keys.ChannelID, channelInboundTag, in.Tenant, itoa32(in.Channel), in.MessageID)
	if seen, found, err := s.d.Store.ChannelMessageByDigest(ctx, s.d.Store.DB(), inbound); err != nil || found {
		return Ingested{ConversationID: seen.ConversationID, MessageID: seen.MessageID, Duplicate: found}, err
	}
	// A message taken before its sender's erasure: a retry, not a new
	// sender (tombstones, privacy.go).
	if erased, err := s.d.Store.ChannelMessageErased(ctx, s.d.Store.DB(), inbound); err != nil || erased {
		return Ingested{Duplicate: erased}, err
	}
	userDigest := digest(cd.Keys.User, channelUserTag, in.Tenant, itoa32(in.Channel), in.UserID)
	// One identity's messages are taken one at a time in this process, so
	// that two first messages do not open two conversations (the key cannot
	// be a conversation id, which Post locks by).
	mu, _ := s.locks.LoadOrStore("channel-user/"+userDigest, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	ident, err := s.channelIdentity(ctx, in, userDigest)
	if err != nil {
		return Ingested{}, err
	}
	// Link codes are made for WhatsApp and Messenger only; an API user
	// stays a stranger (the platform's own login is not the shop's).
	if code, ok := linkAttempt(in.Text); ok && in.Channel != ChannelAPI {
		return s.link(ctx, cd, ident, in, code, inbound)
	}
	if linkConfirmation(in.Text) && channels.IsMessaging(in.Channel) {
		if handled, out, err := s.confirmLink(ctx, cd, ident, in, inbound); handled || err != nil {
			return out, err
		}
	}
	caller := Caller{Subject: ident.Subject, Tenant: in.Tenant, Kind: accesstoken.KindCustomer, Stranger: !ident.Linked, Channel: in.Channel}
	if ident.Linked {
		caller.AAL = int(accesstoken.AAL1)
	}
	conv, err := s.channelConversation(ctx, caller, ident)
	if err != nil {
		return Ingested{}, err
	}
	msg, reply, err := s.Post(ctx, caller, conv.ID, in.Text, in.MessageID, in.Language)
	if err != nil {
		return Ingested{}, err
	}
	now := s.now()
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.InsertChannelMessage(ctx, tx, storage.ChannelMessage{Digest: inbound, IdentityID: ident.ID,
			ConversationID: conv.ID, MessageID: msg.ID, CreateTime: now}); err != nil {
			return err
		}
		if reply.ID == "" || in.Channel == ChannelAPI {
			// An integrator reads the reply from WatchConversation:
			// nothing goes to a platform's send API.
			return nil
		}
		return s.enqueueDelivery(ctx, tx, channels.Delivery{IdentityID: ident.ID, ConversationID: conv.ID, MessageID: reply.ID}, inbound)
	})
	if storage.IsConflict(err) {
		// The same message raced this one in; its record is the answer.
		return Ingested{ConversationID: conv.ID, MessageID: msg.ID, Duplicate: true}, nil
	}
	if err != nil {
		return Ingested{}, err
	}
	return Ingested{ConversationID: conv.ID, MessageID: msg.ID}, nil
}

func (s *Service) enqueueDelivery(ctx context.Context, tx *sql.Tx, d channels.Delivery, inbound string) error {
	args, err := d.Marshal()
	if err != nil {
		return err
	}
	_, err = s.d.Channels.Jobs.EnqueueTx(ctx, tx, channels.DeliveryKind, args, jobs.EnqueueOptions{UniqueKey: d.UniqueKey(inbound)})
	return err
}

// EnqueueChannelReply delivers a stored message of a conversation to its
// channel user, in the caller's transaction (for agent replies). A
// conversation that is not a channel identity's is left alone.
func (s *Service) EnqueueChannelReply(ctx context.Context, tx *sql.Tx, conversationID, messageID string) error {
	identityID, found, err := s.d.Store.ConversationIdentity(ctx, tx, conversationID)
	if err != nil || !found {
		return err
	}
	if conv, err := s.d.Store.GetConversation(ctx, tx, conversationID); err != nil || conv.Channel == ChannelAPI {
		// The integrator reads agent replies from its stream too.
		return err
	}
	if s.d.Channels.Jobs == nil {
		return errs.E(errs.FailedPrecondition, reasons.ChannelNotConfigured, "channel delivery is not configured")
	}
	return s.enqueueDelivery(ctx, tx, channels.Delivery{IdentityID: identityID, ConversationID: conversationID, MessageID: messageID}, "")
}

// channelIdentity finds the sender's identity, or creates it as a
// stranger: a pseudonymous subject, and the user id tokenised under it.
func (s *Service) channelIdentity(ctx context.Context, in Inbound, userDigest string) (storage.ChannelIdentity, error) {
	ident, found, err := s.d.Store.ChannelIdentityByDigest(ctx, s.d.Store.DB(), in.Tenant, in.Channel, userDigest)
	if err != nil || found {
		return ident, err
	}
	subject := newID("chu_")
	token, err := s.tokeniseUserID(ctx, in, subject)
	if err != nil {
		return storage.ChannelIdentity{}, err
	}
	now := s.now()
	ident = storage.ChannelIdentity{ID: newID("chi_"), Tenant: in.Tenant, Channel: in.Channel, UserDigest: userDigest,
		UserToken: token, Subject: subject, CreateTime: now, UpdateTime: now}
	if err := s.d.Store.InsertChannelIdentity(ctx, s.d.Store.DB(), ident); err != nil {
		if storage.IsConflict(err) {
			// Another replica created it first; its token is the one kept
			// (the one made here is left unused under a subject nobody has).
			ident, found, err = s.d.Store.ChannelIdentityByDigest(ctx, s.d.Store.DB(), in.Tenant, in.Channel, userDigest)
			if err == nil && !found {
				err = errs.E(errs.Aborted, reasons.PlaceholderConflict, "the channel identity changed; retry")
			}
			return ident, err
		}
		return storage.ChannelIdentity{}, err
	}
	s.d.Logger.InfoContext(ctx, "channel identity created", "identity", ident.ID, "channel", in.Channel)
	return ident, nil
}

// tokeniseUserID stores the platform's user id in the token vault, in one
// call: a WhatsApp number as a phone number (free text if the vault would
// not take it as one), a Messenger id as free text.
func (s *Service) tokeniseUserID(ctx context.Context, in Inbound, subject string) (string, error) {
	t := channelUserType
	if in.Channel == channels.WhatsApp {
		t = pii.Phone
	}
	tctx, cancel := context.WithTimeout(ctx, s.d.TokenizeTimeout)
	defer cancel()
	toks, err := s.d.Vault.Tokenize(tctx, Batch{Tenant: in.Tenant, Subject: subject, Scope: ChannelScope, Items: []Item{{Type: t, Value: in.UserID}}})
	if err != nil {
		s.d.Logger.WarnContext(ctx, "channel message refused: tokenisation failed", "channel", in.Channel, "reason", errs.ReasonOf(err))
		return "", err
	}
	if len(toks) != 1 || toks[0] == "" {
		return "", errs.E(errs.Internal, reasons.TokenizeFailed, "the token vault answered %d tokens for 1 value", len(toks))
	}
	return toks[0], nil
}

// channelConversation is the identity's open conversation on its channel
// under its current subject, opened (and audited) if there is none.
func (s *Service) channelConversation(ctx context.Context, c Caller, ident storage.ChannelIdentity) (storage.Conversation, error) {
	conv, found, err := s.d.Store.OpenIdentityConversation(ctx, s.d.Store.DB(), ident.ID, ident.Subject, StateClosed)
	if err != nil || found {
		return conv, err
	}
	now := s.now()
	conv = storage.Conversation{ID: newSortedID("cnv_"), Tenant: ident.Tenant, Channel: ident.Channel, State: StateOpen,
		CustomerSubject: ident.Subject, CreateTime: now, UpdateTime: now}
	ev := s.event(ctx, ActionCreate, conv)
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.InsertConversation(ctx, tx, conv); err != nil {
			return err
		}
		if err := s.d.Store.InsertConversationIdentity(ctx, tx, conv.ID, ident.ID, now); err != nil {
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

func itoa32(n int32) string { return strconv.Itoa(int(n)) }

package conversation

import (
	"context"
	"crypto/rand"
	"database/sql"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/channels"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Audit actions of channel links.
const (
	ActionChannelLink     auditclient.Action = "conversation.channel_link"
	ActionChannelLinkCode auditclient.Action = "conversation.channel_link_code"

	resourceChannelIdentity = "channel_identity"
)

// linkAlphabet has no characters people confuse (0/O, 1/I/L): 31 symbols,
// so the 8 characters of a code carry 39.6 bits. With 5 tries per channel
// identity an hour and 10 minutes per code, guessing one needs about 10¹¹
// tries per code alive.
const linkAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// LinkCodeLen is the number of characters of a link code.
const LinkCodeLen = 8

// linkMessage is a message that is only a link attempt: "LINK" and a code,
// in any case, the code optionally split by a dash or a space.
var linkMessage = regexp.MustCompile(`(?i)^\s*link\s+([a-z0-9]{4})[-\s]?([a-z0-9]{4})\s*$`)

// linkAttempt returns the normalised code of a "LINK <code>" message. A
// message whose "code" has characters outside the alphabet ("link
// tomorrow") is not an attempt: it is an ordinary message.
func linkAttempt(text string) (string, bool) {
	m := linkMessage.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	code := strings.ToUpper(m[1] + m[2])
	for i := 0; i < len(code); i++ {
		if strings.IndexByte(linkAlphabet, code[i]) < 0 {
			return "", false
		}
	}
	return code, true
}

func newLinkCode() string {
	b := make([]byte, LinkCodeLen)
	max := big.NewInt(int64(len(linkAlphabet)))
	for i := range b {
		n, _ := rand.Int(rand.Reader, max) // crypto/rand never fails
		b[i] = linkAlphabet[n.Int64()]
	}
	return string(b)
}

// CreateLinkCode gives a signed-in customer a one-time code that links a
// messaging-platform user of their shop to their account when sent from
// the platform as "LINK <code>". The code is stored only as a keyed
// digest of (tenant, channel, code), works for ChannelDeps.LinkCodeTTL and
// once. Audited (account and channel only).
func (s *Service) CreateLinkCode(ctx context.Context, c Caller, channel int32) (code string, expire time.Time, err error) {
	if !c.isCustomer() || c.Stranger {
		return "", time.Time{}, errs.E(errs.PermissionDenied, reasons.CustomerRequired, "only signed-in customers link a messaging account")
	}
	if !channels.IsMessaging(channel) {
		return "", time.Time{}, errs.E(errs.InvalidArgument, reasons.ChannelLinkRequired, "link codes are for WhatsApp and Messenger")
	}
	cd := s.d.Channels
	cd.defaults()
	if len(cd.Keys.LinkCode) < MinKeyLen {
		return "", time.Time{}, errs.E(errs.Internal, reasons.ChannelKeyMissing, "the link code key is not configured")
	}
	tenant := tenantOf(c)
	now := s.now()
	code = newLinkCode()
	lc := storage.LinkCode{Digest: digest(cd.Keys.LinkCode, linkCodeTag, tenant, itoa32(channel), code), Tenant: tenant,
		Channel: channel, Subject: c.Subject, CreateTime: now, ExpireTime: now.Add(cd.LinkCodeTTL)}
	ev := auditclient.New(auditclient.WithEndUser(ctx, c.Subject), ActionChannelLinkCode, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID = c.Subject, resourceChannelIdentity, "channel/"+itoa32(channel)
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.InsertLinkCode(ctx, tx, lc); err != nil {
			return err
		}
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	s.d.Audit.Notify()
	return code[:4] + "-" + code[4:], lc.ExpireTime, nil
}

// yesWords are the answers that confirm a link, in the six languages of
// the assistant (en, de/nl, es, fr, it), any case, with an optional "!" or
// ".": nothing else a user writes confirms.
var yesWords = map[string]bool{"yes": true, "ja": true, "sí": true, "si": true, "oui": true, "sì": true}

// linkConfirmation reports whether text is only a yes.
func linkConfirmation(text string) bool {
	return yesWords[strings.ToLower(strings.TrimRight(strings.TrimSpace(text), "!."))]
}

// link handles a "LINK <code>" message. It links nothing: for an unlinked
// identity whose code is valid (this shop and channel, unused, unexpired)
// it records a pending confirmation and asks the user, who may have been
// sent someone else's code, to confirm with YES (confirmLink). A wrong
// code, and any attempt while blocked, get the same neutral notice and
// count as a failure. The message itself is never stored nor shown to
// the assistant; its id is recorded so that a replay does nothing.
func (s *Service) link(ctx context.Context, cd ChannelDeps, ident storage.ChannelIdentity, in Inbound, code, inbound string) (Ingested, error) {
	now := s.now()
	notice := channels.NoticeLinkRefused
	codeDigest := digest(cd.Keys.LinkCode, linkCodeTag, in.Tenant, itoa32(in.Channel), code)
	switch {
	case ident.Linked:
		notice = channels.NoticeAlreadyLinked
	case now.Before(ident.LinkBlockedUntil):
		// Blocked: the code is not even looked at.
	default:
		_, found, err := s.d.Store.PeekLinkCode(ctx, s.d.Store.DB(), codeDigest, in.Tenant, in.Channel, now)
		if err != nil {
			return Ingested{}, err
		}
		if found {
			notice = channels.NoticeLinkConfirm
		}
	}
	err := s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.InsertChannelMessage(ctx, tx, storage.ChannelMessage{Digest: inbound, IdentityID: ident.ID, CreateTime: now}); err != nil {
			return err
		}
		switch notice {
		case channels.NoticeLinkConfirm:
			// Bounded by the code's own lifetime too: confirmLink uses the
			// code, which must still be valid then.
			if err := s.d.Store.SetLinkConfirmation(ctx, tx, ident.ID, codeDigest, now.Add(cd.LinkCodeTTL), now); err != nil {
				return err
			}
		case channels.NoticeLinkRefused:
			if err := s.d.Store.FailChannelLink(ctx, tx, ident.ID, cd.MaxLinkFailures, now.Add(cd.LinkBlock), now); err != nil {
				return err
			}
		}
		return s.enqueueDelivery(ctx, tx, channels.Delivery{IdentityID: ident.ID, Notice: notice}, inbound)
	})
	if storage.IsConflict(err) {
		return Ingested{Duplicate: true}, nil
	}
	if err != nil {
		return Ingested{}, err
	}
	s.d.Logger.InfoContext(ctx, "channel link attempt", "identity", ident.ID, "outcome", notice)
	return Ingested{}, nil
}

// confirmLink handles a yes from an identity with a pending confirmation
// (handled false otherwise: the yes is an ordinary message). The code
// must still be valid: then the user id is tokenised again under the
// account, and in one transaction the code is used, the identity becomes
// the account's, its stranger conversations are closed (they stay the
// pseudonym's), the link is audited (ids only) and the account holder is
// told in their newest web conversation, if they have one. Like the LINK
// message, the yes is never stored nor shown to the assistant.
func (s *Service) confirmLink(ctx context.Context, cd ChannelDeps, ident storage.ChannelIdentity, in Inbound, inbound string) (bool, Ingested, error) {
	now := s.now()
	if ident.Linked {
		return false, Ingested{}, nil
	}
	codeDigest, pending, err := s.d.Store.LinkConfirmation(ctx, s.d.Store.DB(), ident.ID, now)
	if err != nil || !pending {
		return false, Ingested{}, err
	}
	notice := channels.NoticeLinkRefused
	var subject, token string
	var web storage.Conversation
	var hasWeb bool
	if !now.Before(ident.LinkBlockedUntil) {
		var found bool
		if subject, found, err = s.d.Store.PeekLinkCode(ctx, s.d.Store.DB(), codeDigest, in.Tenant, in.Channel, now); err != nil {
			return true, Ingested{}, err
		}
		if found {
			// The id is tokenised under the account before the code is
			// used, so that a vault outage does not burn the code.
			if token, err = s.tokeniseUserID(ctx, in, subject); err != nil {
				return true, Ingested{}, err
			}
			if web, hasWeb, err = s.d.Store.LatestConversation(ctx, s.d.Store.DB(), in.Tenant, subject, ChannelWeb); err != nil {
				return true, Ingested{}, err
			}
		}
	}
	var closed []string
	err = s.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.d.Store.InsertChannelMessage(ctx, tx, storage.ChannelMessage{Digest: inbound, IdentityID: ident.ID, CreateTime: now}); err != nil {
			return err
		}
		if err := s.d.Store.DeleteLinkConfirmation(ctx, tx, ident.ID); err != nil {
			return err
		}
		linked := false
		if token != "" {
			used, found, err := s.d.Store.UseLinkCode(ctx, tx, codeDigest, in.Tenant, in.Channel, now)
			if err != nil {
				return err
			}
			if found && used == subject {
				if linked, err = s.d.Store.LinkChannelIdentity(ctx, tx, ident.ID, subject, token, now); err != nil {
					return err
				}
			}
		}
		if linked {
			notice = channels.NoticeLinked
			// The stranger's conversations stay with the pseudonymous
			// subject: closed, so the account's start afresh.
			ids, err := s.d.Store.OpenIdentityConversations(ctx, tx, ident.ID, StateClosed)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := s.d.Store.SetState(ctx, tx, id, StateClosed, now); err != nil {
					return err
				}
			}
			closed = ids
			ev := auditclient.New(auditclient.WithEndUser(ctx, subject), ActionChannelLink, auditclient.Success)
			ev.Subject, ev.ResourceType, ev.ResourceID = subject, resourceChannelIdentity, ident.ID
			if err := s.d.Audit.Enqueue(ctx, tx, ev); err != nil {
				return err
			}
			if hasWeb {
				if err := s.tellLinked(ctx, tx, web.ID, in.Channel, now); err != nil {
					return err
				}
			}
		}
		return s.enqueueDelivery(ctx, tx, channels.Delivery{IdentityID: ident.ID, Notice: notice}, inbound)
	})
	if storage.IsConflict(err) {
		return true, Ingested{Duplicate: true}, nil
	}
	if err != nil {
		return true, Ingested{}, err
	}
	if notice == channels.NoticeLinked {
		s.d.Audit.Notify()
	}
	s.d.Logger.InfoContext(ctx, "channel link confirmation", "identity", ident.ID, "outcome", notice, "closed", len(closed))
	return true, Ingested{}, nil
}

// linkedNotice is what the account holder reads in their newest web
// conversation when a messaging chat was linked to their account: the
// link may be someone else's doing (a code shown over their shoulder).
var linkedNotice = map[int32]string{
	channels.WhatsApp:  "Security notice: a WhatsApp chat was linked to your account. If this was not you, contact the shop's support now.",
	channels.Messenger: "Security notice: a Messenger chat was linked to your account. If this was not you, contact the shop's support now.",
}

// tellLinked adds the security notice to conversation id, in tx.
func (s *Service) tellLinked(ctx context.Context, tx *sql.Tx, id string, channel int32, now time.Time) error {
	msg := storage.Message{ID: newSortedID("msg_"), ConversationID: id, Author: AuthorAssistant, Text: linkedNotice[channel], CreateTime: now}
	if err := s.d.Store.InsertMessage(ctx, tx, msg); err != nil {
		return err
	}
	return s.d.Store.Touch(ctx, tx, id, now)
}

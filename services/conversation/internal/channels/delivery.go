// Package channels delivers the conversation service's replies to
// messaging platforms (WhatsApp Cloud API, Messenger Send API) as durable
// jobs (pkg/jobs) over pkg/egress. A job's arguments hold ids only: the
// recipient's platform id is detokenised from the token vault when the job
// runs, and the reply's placeholders are re-identified as the vault's
// policy allows, the rest shown masked.
package channels

import (
	"encoding/json"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// The proto's ChatChannel numbers this package sends to.
const (
	WhatsApp  int32 = 2
	Messenger int32 = 3
)

// IsMessaging reports whether channel is one this package delivers to.
func IsMessaging(channel int32) bool { return channel == WhatsApp || channel == Messenger }

// DeliveryKind is the pkg/jobs kind of a delivery.
const DeliveryKind = "conversation.channel_delivery"

// Notices are fixed replies that are not part of a transcript (the answer
// to a link attempt, whose text is never stored either).
const (
	NoticeLinked        = "linked"
	NoticeLinkRefused   = "link_refused"
	NoticeAlreadyLinked = "already_linked"
	// NoticeLinkConfirm asks the platform user to confirm a valid code.
	NoticeLinkConfirm = "link_confirm"
)

// noticeText is what each notice says. The refusal is the same for a wrong,
// expired, used or another shop's code and for a user who tried too often:
// it tells a guesser nothing.
var noticeText = map[string]string{
	NoticeLinked:        "This chat is now linked to your account.",
	NoticeLinkRefused:   "That code did not work. Create a new code in your account and send it here as LINK followed by the code.",
	NoticeAlreadyLinked: "This chat is already linked to an account.",
	// Someone who wants to read this chat may send its user a code of their
	// own account ("send LINK ... to get your discount"): the prompt says
	// what a YES does before anything is linked.
	NoticeLinkConfirm: "A shop account asked to link this chat to it. Whoever holds that account will read this chat and " +
		"write as you. If you created the code yourself in your account, reply YES. If someone else sent you the code, " +
		"do not reply YES.",
}

// Delivery is a job's arguments: ids only, never the recipient's platform
// id or any text (pkg/jobs stores arguments in the clear).
type Delivery struct {
	// IdentityID is the channel identity to send to.
	IdentityID string `json:"identity"`
	// ConversationID and MessageID name a stored reply (placeholder text).
	ConversationID string `json:"conversation,omitempty"`
	MessageID      string `json:"message,omitempty"`
	// Notice names a fixed reply instead.
	Notice string `json:"notice,omitempty"`
}

// Marshal encodes d as a job's arguments.
func (d Delivery) Marshal() ([]byte, error) {
	if d.IdentityID == "" || (d.Notice == "") == (d.MessageID == "") {
		return nil, errs.E(errs.Internal, reasons.ChannelIdentityNotFound, "a delivery names an identity and either a message or a notice")
	}
	if d.Notice != "" && noticeText[d.Notice] == "" {
		return nil, errs.E(errs.Internal, reasons.ChannelSendFailed, "unknown notice")
	}
	return json.Marshal(d)
}

// UniqueKey is the job's idempotency key: one delivery per reply message
// (or per inbound message for a notice).
func (d Delivery) UniqueKey(inbound string) string {
	if d.MessageID != "" {
		return "reply:" + d.MessageID
	}
	return "notice:" + inbound
}

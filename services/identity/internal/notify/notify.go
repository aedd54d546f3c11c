// Package notify sends identity's messages to people: e-mail verification,
// password reset and password-set codes, and notices. A Notifier is the
// transport; Mailbox is the local one.
//
// # The dev mailbox
//
// Mailbox appends one JSON object per message to a file under the state
// directory (SOTTO_IDENTITY_MAILBOX_FILE; `sotto dev up` puts it in .sotto/),
// created readable by its owner only. Tests and a person read it to finish a
// sign-up or a reset. Each line is:
//
//	{"time": "2026-11-30T12:00:00Z", "kind": "verify_email",
//	 "account_id": "acc_...", "recipient_hmac": "<hex>",
//	 "recipient_masked": "j•••@e•••.com", "code": "...", "language": "en"}
//
// A notice to an address identity holds only as a token (the account's
// current address, when a change of it is asked for) names the token
// instead: "recipient_token": "tok_...", without the HMAC and masked form.
//
// The code is in the file (that is what the file is for). The address is
// not: a reader finds their message by recipient_hmac, the HMAC-SHA256
// (hex) of the trimmed, lower-cased address under the mailbox key
// (MailboxKey: derived from identity's secrets key in the KeyManager), by
// the masked form, or by the account id. An unkeyed digest would let anyone
// who obtains the file confirm a guessed address by hashing it; the keyed
// one needs the key as well, which lives in the key service (the local
// keyring under `sotto dev up`). The file is still a development tool kept
// private to its owner, not a production mail log; production plugs a
// Notifier that hands the message to a mail service and keeps nothing.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Message kinds.
const (
	KindVerifyEmail   = "verify_email"
	KindResetPassword = "reset_password"
	KindSetPassword   = "set_password"
	// KindAccountExists tells the owner of an address that someone tried to
	// sign up with it (SignUp answers the same either way); no code.
	KindAccountExists = "account_exists"
	// KindPasswordChanged tells the owner that the password changed.
	KindPasswordChanged = "password_changed"
	// KindEmailChangeRequested tells the account's current address that a
	// change of its login address was asked for (a data-subject
	// rectification), so its owner can object; no code, and nothing of the
	// new address.
	KindEmailChangeRequested = "email_change_requested"
)

// Message is one message to send.
type Message struct {
	Kind      string
	AccountID string
	// To is the address, for the transport only: never logged or stored by
	// identity.
	To string
	// ToToken, set instead of To, is the token-vault token of the address
	// (the account's own random token): identity keeps an account's current
	// address only as tokens and never reads it back, so a notice to it is
	// addressed by token and the transport resolves it in the vault.
	ToToken  string
	Code     string
	Language string
}

// Notifier delivers messages. Notify returns once the message is accepted
// for delivery; identity calls it inside the transaction that creates the
// code, so a failure leaves nothing behind.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Entry is one line of the dev mailbox.
type Entry struct {
	Time            time.Time `json:"time"`
	Kind            string    `json:"kind"`
	AccountID       string    `json:"account_id"`
	RecipientHMAC   string    `json:"recipient_hmac"`
	RecipientMasked string    `json:"recipient_masked"`
	// RecipientToken is Message.ToToken, for a message addressed by token
	// (then the HMAC and the masked form are empty).
	RecipientToken string `json:"recipient_token,omitempty"`
	Code           string `json:"code,omitempty"`
	Language       string `json:"language,omitempty"`
}

// Mailbox is the dev Notifier: it appends Entries to a file.
type Mailbox struct {
	path string
	key  []byte
	now  func() time.Time
	mu   sync.Mutex
}

// MailboxKeyContext is the message whose HMAC under version 1 of identity's
// secrets key is the mailbox key (version 1, like identity's other derived
// keys, so that a reader's lookups survive a rotation).
const MailboxKeyContext = "sotto/identity/mailbox-recipient"

// minKeyLen is the shortest mailbox key accepted: an HMAC-SHA256 output.
const minKeyLen = sha256.Size

// MailboxKey derives the mailbox key from the KeyManager key secretsKey
// (an aes256-gcm96 key, created if missing, as app.New does: the mailbox is
// made before the app).
func MailboxKey(ctx context.Context, km keys.KeyManager, secretsKey string) ([]byte, error) {
	if err := km.EnsureKey(ctx, secretsKey, keys.TypeAES256GCM); err != nil {
		return nil, err
	}
	return km.HMAC(ctx, secretsKey, 1, []byte(MailboxKeyContext))
}

// NewMailbox appends to path, creating it (and its directory) private to
// the owner; recipients are keyed with key (MailboxKey). A missing or short
// key is refused: the mailbox never falls back to an unkeyed digest.
func NewMailbox(path string, key []byte, now func() time.Time) (*Mailbox, error) {
	if len(key) < minKeyLen {
		return nil, errs.E(errs.Internal, reasons.NotifyFailed, "the mailbox needs a key of at least %d bytes", minKeyLen)
	}
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &Mailbox{path: path, key: bytes.Clone(key), now: now}, nil
}

// Notify implements Notifier.
func (m *Mailbox) Notify(_ context.Context, msg Message) error {
	if (msg.To == "") == (msg.ToToken == "") {
		return errs.E(errs.Internal, reasons.NotifyFailed, "a message needs exactly one recipient: an address or its token")
	}
	e := Entry{Time: m.now().UTC().Truncate(time.Second), Kind: msg.Kind, AccountID: msg.AccountID, Code: msg.Code, Language: msg.Language}
	if msg.To != "" {
		e.RecipientHMAC, e.RecipientMasked = RecipientMAC(m.key, msg.To), Mask(msg.To)
	} else {
		e.RecipientToken = msg.ToToken
	}
	line, err := json.Marshal(e)
	if err != nil {
		return errs.Wrap(err, errs.Internal, reasons.NotifyFailed, "cannot write the message")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := os.OpenFile(m.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return errs.Wrap(err, errs.Unavailable, reasons.NotifyFailed, "the mailbox is not writable")
	}
	_, werr := f.Write(append(line, '\n'))
	cerr := f.Close()
	if werr != nil || cerr != nil {
		return errs.E(errs.Unavailable, reasons.NotifyFailed, "the mailbox is not writable")
	}
	return nil
}

// RecipientMAC is the hex HMAC-SHA256 of the trimmed, lower-cased address
// under the mailbox key: how a reader holding the key finds their messages.
func RecipientMAC(key []byte, address string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(address))))
	return hex.EncodeToString(m.Sum(nil))
}

// Mask shows the first character of the local part and of the domain and
// the top-level domain: "jane@example.com" → "j•••@e•••.com".
func Mask(address string) string {
	a := strings.ToLower(strings.TrimSpace(address))
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" || domain == "" {
		return "•••"
	}
	first := func(s string) string {
		r, _ := utf8.DecodeRuneInString(s)
		return string(r)
	}
	tld := ""
	if i := strings.LastIndexByte(domain, '.'); i > 0 {
		tld = domain[i:]
	}
	return first(local) + "•••@" + first(domain) + "•••" + tld
}

// Read returns the mailbox's entries, oldest first.
func Read(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Latest returns the newest entry of kind for address (keyed with the
// mailbox key), or false.
func Latest(path string, key []byte, address, kind string) (Entry, bool, error) {
	entries, err := Read(path)
	if err != nil {
		return Entry{}, false, err
	}
	h := RecipientMAC(key, address)
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Kind == kind && hmac.Equal([]byte(e.RecipientHMAC), []byte(h)) {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

// LatestByToken returns the newest entry of kind addressed to the vault
// token of an address (Message.ToToken), or false.
func LatestByToken(path, token, kind string) (Entry, bool, error) {
	entries, err := Read(path)
	if err != nil {
		return Entry{}, false, err
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Kind == kind && token != "" && e.RecipientToken == token {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

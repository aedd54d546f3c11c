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
//	 "account_id": "acc_...", "recipient_sha256": "<hex>",
//	 "recipient_masked": "j•••@e•••.com", "code": "...", "language": "en"}
//
// The code is in the file (that is what the file is for). The address is
// not: a reader finds their message by the SHA-256 (hex) of the trimmed,
// lower-cased address they typed, or by the masked form; identity itself
// never stores either. A SHA-256 of an address is a pseudonym that anyone
// holding a list of candidate addresses can match, so the file is a
// development tool kept private to its owner, not a production mail log;
// production plugs a Notifier that hands the message to a mail service and
// keeps nothing.
package notify

import (
	"context"
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
)

// Message is one message to send.
type Message struct {
	Kind      string
	AccountID string
	// To is the address, for the transport only: never logged or stored by
	// identity.
	To       string
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
	RecipientSHA256 string    `json:"recipient_sha256"`
	RecipientMasked string    `json:"recipient_masked"`
	Code            string    `json:"code,omitempty"`
	Language        string    `json:"language,omitempty"`
}

// Mailbox is the dev Notifier: it appends Entries to a file.
type Mailbox struct {
	path string
	now  func() time.Time
	mu   sync.Mutex
}

// NewMailbox appends to path, creating it (and its directory) private to
// the owner.
func NewMailbox(path string, now func() time.Time) (*Mailbox, error) {
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
	return &Mailbox{path: path, now: now}, nil
}

// Notify implements Notifier.
func (m *Mailbox) Notify(_ context.Context, msg Message) error {
	line, err := json.Marshal(Entry{
		Time: m.now().UTC().Truncate(time.Second), Kind: msg.Kind, AccountID: msg.AccountID,
		RecipientSHA256: RecipientHash(msg.To), RecipientMasked: Mask(msg.To), Code: msg.Code, Language: msg.Language,
	})
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

// RecipientHash is the hex SHA-256 of the trimmed, lower-cased address: how
// a reader of the mailbox finds their messages.
func RecipientHash(address string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(address))))
	return hex.EncodeToString(sum[:])
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

// Latest returns the newest entry of kind for address, or false.
func Latest(path, address, kind string) (Entry, bool, error) {
	entries, err := Read(path)
	if err != nil {
		return Entry{}, false, err
	}
	h := RecipientHash(address)
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Kind == kind && e.RecipientSHA256 == h {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

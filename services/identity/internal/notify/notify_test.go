package notify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMailboxHoldsNoAddress: a message is found by the hash of the address
// and shows it masked; the file never holds the address and is private to
// its owner.
func TestMailboxHoldsNoAddress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "mailbox.jsonl")
	m, err := NewMailbox(path, func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []Message{
		{Kind: KindVerifyEmail, AccountID: "acc_1", To: " Jane.Doe@Example.com ", Code: "code-1", Language: "de"},
		{Kind: KindResetPassword, AccountID: "acc_1", To: "jane.doe@example.com", Code: "code-2"},
		{Kind: KindVerifyEmail, AccountID: "acc_2", To: "other@example.org", Code: "code-3"},
	} {
		if err := m.Notify(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"jane", "doe", "example.com", "other@"} {
		if strings.Contains(strings.ToLower(string(raw)), s) {
			t.Errorf("the mailbox contains %q", s)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mailbox mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	e, ok, err := Latest(path, "JANE.DOE@example.com", KindVerifyEmail)
	if err != nil || !ok || e.Code != "code-1" || e.RecipientMasked != "j•••@e•••.com" || e.AccountID != "acc_1" || e.Language != "de" {
		t.Fatalf("latest verify_email for Jane: %+v %v %v", e, ok, err)
	}
	if _, ok, _ := Latest(path, "nobody@example.com", KindVerifyEmail); ok {
		t.Fatal("found a message for an address never written to")
	}
	if got := Mask("not an address"); got != "•••" {
		t.Fatalf("Mask = %q", got)
	}
}

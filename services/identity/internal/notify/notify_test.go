package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMailboxHoldsNoAddress: a message is found by the keyed digest of the
// address and shows it masked; the file never holds the address, nor an
// unkeyed digest of it that a guess could confirm, and is private to its
// owner.
func TestMailboxHoldsNoAddress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "mailbox.jsonl")
	key := bytes.Repeat([]byte{7}, 32)
	m, err := NewMailbox(path, key, func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) })
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
	unkeyed := sha256.Sum256([]byte("jane.doe@example.com"))
	for _, s := range []string{"jane", "doe", "example.com", "other@", hex.EncodeToString(unkeyed[:])} {
		if strings.Contains(strings.ToLower(string(raw)), s) {
			t.Errorf("the mailbox contains %q", s)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mailbox mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	e, ok, err := Latest(path, key, "JANE.DOE@example.com", KindVerifyEmail)
	if err != nil || !ok || e.Code != "code-1" || e.RecipientMasked != "j•••@e•••.com" || e.AccountID != "acc_1" || e.Language != "de" {
		t.Fatalf("latest verify_email for Jane: %+v %v %v", e, ok, err)
	}
	if _, ok, _ := Latest(path, key, "nobody@example.com", KindVerifyEmail); ok {
		t.Fatal("found a message for an address never written to")
	}
	// Without the key a guessed address confirms nothing.
	if _, ok, _ := Latest(path, bytes.Repeat([]byte{8}, 32), "jane.doe@example.com", KindVerifyEmail); ok {
		t.Fatal("another key found Jane's message")
	}
	for _, k := range [][]byte{nil, make([]byte, 16)} {
		if _, err := NewMailbox(filepath.Join(t.TempDir(), "m.jsonl"), k, nil); err == nil {
			t.Fatalf("a mailbox with a %d-byte key", len(k))
		}
	}
	if got := Mask("not an address"); got != "•••" {
		t.Fatalf("Mask = %q", got)
	}
}

// TestMailboxByToken: a notice addressed by vault token is found by the
// token and holds no code or digest; a message with no recipient, or with
// both an address and a token, is refused and nothing is written.
func TestMailboxByToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailbox.jsonl")
	m, err := NewMailbox(path, bytes.Repeat([]byte{7}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Message{
		{Kind: KindEmailChangeRequested, AccountID: "acc_1"},
		{Kind: KindEmailChangeRequested, AccountID: "acc_1", To: "jane@example.com", ToToken: "tok_1"},
	} {
		if err := m.Notify(context.Background(), bad); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
	}
	if err := m.Notify(context.Background(), Message{Kind: KindEmailChangeRequested, AccountID: "acc_1", ToToken: "tok_1"}); err != nil {
		t.Fatal(err)
	}
	entries, err := Read(path)
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	e, ok, err := LatestByToken(path, "tok_1", KindEmailChangeRequested)
	if err != nil || !ok || e.AccountID != "acc_1" || e.Code != "" || e.RecipientHMAC != "" {
		t.Fatalf("by token: %+v %v %v", e, ok, err)
	}
	for _, tok := range []string{"", "tok_2"} {
		if _, ok, _ := LatestByToken(path, tok, KindEmailChangeRequested); ok {
			t.Fatalf("found a notice for token %q", tok)
		}
	}
}

package server_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/sealclient"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/sealing"
)

// testClock is a settable clock for the sealing keys' rotation.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withSealingClock gives the server sealing keys on their own keyring
// under a test clock (the harness's run on the wall clock, which a test
// cannot move past a rotation).
func (h *harness) withSealingClock(c *testClock) {
	h.t.Helper()
	km, err := keys.NewLocal(filepath.Join(h.t.TempDir(), "sealing-keyring.json"))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), "conversation-secrets", keys.TypeAES256GCM); err != nil {
		h.t.Fatal(err)
	}
	k, err := sealing.New(km, "conversation-secrets", 0, c.Now)
	if err != nil {
		h.t.Fatal(err)
	}
	h.app.Server.WithSealing(k)
}

func wantStatus(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || reasonOf(err) != reason {
		t.Fatalf("err = %v (reason %q), want %v %s", err, reasonOf(err), code, reason)
	}
}

// TestSealedMessage: a message sealed with pkg/sealclient reaches the
// token vault as any other (the values tokenised, the text stored as
// placeholders), the response carries no text, and the reply opens with
// the session's key to what the assistant said; the keys are the suite's
// with the current one first.
func TestSealedMessage(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := newCanaries(t)
		alice := h.customer("cus_alice")
		id := h.open(alice)

		keysResp, err := h.client.GetSealingKeys(context.Background(), &conversationv1.GetSealingKeysRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(keysResp.GetKeys()) != 2 {
			t.Fatalf("%d keys, want the current and the previous", len(keysResp.GetKeys()))
		}
		for _, k := range keysResp.GetKeys() {
			if k.GetKemId() != 0x647a || k.GetKdfId() != 1 || k.GetAeadId() != 3 || len(k.GetPublicKey()) != 1216 {
				t.Fatalf("key %s: suite %#x/%d/%d, %d-byte key", k.GetKeyId(), k.GetKemId(), k.GetKdfId(), k.GetAeadId(), len(k.GetPublicKey()))
			}
		}
		if !keysResp.GetKeys()[0].GetExpireTime().AsTime().After(keysResp.GetKeys()[1].GetExpireTime().AsTime()) {
			t.Fatal("keys are not newest first")
		}

		session, err := sealclient.New(h.client).NewSession()
		if err != nil {
			t.Fatal(err)
		}
		reply, resp, err := session.Post(alice, h.client, &conversationv1.PostMessageRequest{ConversationId: id}, c.message())
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetMessage().GetText() != "" || resp.GetReply().GetText() != "" || resp.GetMessage().GetMessageId() == "" {
			t.Errorf("response carries text: message %q, reply %q", resp.GetMessage().GetText(), resp.GetReply().GetText())
		}
		if !strings.Contains(reply, "[EMAIL_1]") {
			t.Errorf("opened reply %q, want the assistant naming [EMAIL_1]", reply)
		}
		reqs := h.vault.requests()
		if len(reqs) != 1 || len(reqs[0].GetItems()) != 3 {
			t.Fatalf("Tokenize calls %v, want one batch of three values", reqs)
		}
		seen := map[string]bool{}
		for _, it := range reqs[0].GetItems() {
			seen[it.GetValue()] = true
		}
		if !seen[c.email] {
			t.Errorf("the vault did not receive the sealed e-mail address")
		}
		list, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id})
		if err != nil {
			t.Fatal(err)
		}
		want := "Hello, my name is [PERSON_1]. Where is my order? My e-mail is [EMAIL_1] and I paid with card [CARD_1]."
		if len(list.GetMessages()) != 2 || list.GetMessages()[0].GetText() != want || list.GetMessages()[1].GetText() != reply {
			t.Errorf("stored %v, want the placeholder text and the reply that was sealed", list.GetMessages())
		}
		stored, logs := storetest.StoredBytes(t, h.db), h.logs.Bytes()
		for _, v := range c.values() {
			if bytes.Contains(stored, []byte(v)) || bytes.Contains(logs, []byte(v)) {
				t.Errorf("the database or the logs hold %q", v)
			}
		}
	})
}

// sealedFor seals text for conversation id to the service's current key
// by hand, so that a test can break one part.
func sealedFor(t *testing.T, h *harness, session *sealclient.Session, id, text string) *conversationv1.Sealed {
	t.Helper()
	s, err := session.Seal(context.Background(), id, text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSealedRefusals: what does not open is refused with nothing stored
// and nothing sent to the vault: a flipped ciphertext bit, a message
// sealed for another conversation (the id is the associated data), a key
// id the service never published, a text too long once opened; a reply
// key that is missing or not the suite's is refused before the message is
// opened, so no answer is ever given in the clear.
func TestSealedRefusals(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	id, other := h.open(alice), h.open(alice)
	sc := sealclient.New(h.client)
	session, err := sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := hpke.DHKEM(ecdh.X25519()).GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	relay, err := sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	post := func(s *conversationv1.Sealed) error {
		_, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Sealed: s})
		return err
	}
	cases := []struct {
		name   string
		sealed func() *conversationv1.Sealed
		code   codes.Code
		reason string
	}{
		{"tampered ciphertext", func() *conversationv1.Sealed {
			s := sealedFor(t, h, session, id, "my card is 4111 1111 1111 1111")
			s.Ciphertext[3] ^= 0x20
			return s
		}, codes.InvalidArgument, reasons.SealedInvalid},
		{"tampered enc", func() *conversationv1.Sealed {
			s := sealedFor(t, h, session, id, "hello")
			s.Enc[100] ^= 1
			return s
		}, codes.InvalidArgument, reasons.SealedInvalid},
		{"sealed for another conversation", func() *conversationv1.Sealed {
			return sealedFor(t, h, session, other, "hello")
		}, codes.InvalidArgument, reasons.SealedInvalid},
		{"ancient key id", func() *conversationv1.Sealed {
			s := sealedFor(t, h, session, id, "hello")
			s.KeyId = "xwing-1"
			return s
		}, codes.FailedPrecondition, reasons.SealingKeyExpired},
		{"future key id", func() *conversationv1.Sealed {
			s := sealedFor(t, h, session, id, "hello")
			s.KeyId = "xwing-99999999999"
			return s
		}, codes.InvalidArgument, reasons.SealingKeyUnknown},
		{"no reply key", func() *conversationv1.Sealed {
			s := sealedFor(t, h, session, id, "hello")
			s.ReplyPublicKey = nil
			return s
		}, codes.InvalidArgument, reasons.ReplyKeyInvalid},
		{"classical reply key", func() *conversationv1.Sealed {
			s := sealedFor(t, h, session, id, "hello")
			s.ReplyPublicKey = x25519.PublicKey().Bytes()
			return s
		}, codes.InvalidArgument, reasons.ReplyKeyInvalid},
		{"garbage reply key", func() *conversationv1.Sealed {
			s := sealedFor(t, h, session, id, "hello")
			s.ReplyPublicKey = bytes.Repeat([]byte{0xff}, 1216)
			return s
		}, codes.InvalidArgument, reasons.ReplyKeyInvalid},
		{"reply key swapped by a relay", func() *conversationv1.Sealed {
			// A valid key of the suite, but not the one the client sealed
			// with: the relay's own, to read the reply.
			s := sealedFor(t, h, session, id, "my card is 4111 1111 1111 1111")
			s.ReplyPublicKey = relay.ReplyPublicKey()
			return s
		}, codes.InvalidArgument, reasons.SealedInvalid},
		{"text over 4096 bytes", func() *conversationv1.Sealed {
			return sealedFor(t, h, session, id, strings.Repeat("a", 4097))
		}, codes.InvalidArgument, reasons.TextInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := post(tc.sealed())
			wantStatus(t, err, tc.code, tc.reason)
			if strings.Contains(status.Convert(err).Message(), "4111") {
				t.Errorf("the error holds the text: %v", err)
			}
			if n := h.count("messages"); n != 0 {
				t.Fatalf("%d messages stored after a refused sealed post", n)
			}
			if n := len(h.vault.requests()); n != 0 {
				t.Fatalf("%d Tokenize calls after a refused sealed post", n)
			}
		})
	}
	// The control: the same session's honest message is taken.
	if err := post(sealedFor(t, h, session, id, "hello")); err != nil {
		t.Fatal(err)
	}
	if n := h.count("messages"); n != 2 {
		t.Fatalf("%d messages after an honest sealed post, want 2", n)
	}
}

// TestSealedReplyOnlyForTheSessionKey: the reply is sealed to the key the
// message named: another session's key does not open it, nor does the
// right key for another conversation.
func TestSealedReplyOnlyForTheSessionKey(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	id := h.open(alice)
	sc := sealclient.New(h.client)
	mine, err := sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	reply, resp, err := mine.Post(alice, h.client, &conversationv1.PostMessageRequest{ConversationId: id}, "Hello, where is my order?")
	if err != nil {
		t.Fatal(err)
	}
	if reply == "" || resp.GetSealedReply() == nil {
		t.Fatalf("no sealed reply: %v", resp)
	}
	if _, err := theirs.OpenReply(id, resp.GetSealedReply()); err == nil {
		t.Fatal("another session's key opened the reply")
	}
	if _, err := mine.OpenReply(h.open(alice), resp.GetSealedReply()); err == nil {
		t.Fatal("the reply opened for another conversation")
	}
	if got, err := mine.OpenReply(id, resp.GetSealedReply()); err != nil || got != reply {
		t.Fatalf("reopened %q, %v", got, err)
	}
}

// TestSealingKeyExpiry: a message sealed to a key two rotations old is
// refused (SEALING_KEY_EXPIRED) with nothing stored; one rotation old is
// still taken; the client library fetches the new keys and seals again on
// its own.
func TestSealingKeyExpiry(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	clock := &testClock{t: time.Now()}
	h.withSealingClock(clock)
	alice := h.customer("cus_alice")
	id := h.open(alice)
	// The client's clock stands still, so it keeps sealing to the key it
	// fetched first until the service refuses it.
	t0 := clock.Now()
	sc := sealclient.New(h.client, sealclient.WithClock(func() time.Time { return t0 }), sealclient.WithMaxAge(100*24*time.Hour))
	session, err := sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	old := sealedFor(t, h, session, id, "hello")

	clock.Add(sealing.DefaultRotation)
	if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Sealed: sealedFor(t, h, session, id, "hello")}); err != nil {
		t.Fatalf("a key one rotation old: %v", err)
	}
	if n := h.count("messages"); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}

	clock.Add(sealing.DefaultRotation)
	_, err = h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Sealed: old})
	wantStatus(t, err, codes.FailedPrecondition, reasons.SealingKeyExpired)
	if n := h.count("messages"); n != 2 {
		t.Fatalf("%d messages after an expired key, want still 2", n)
	}
	// The library's cached key is the expired one; it refetches once.
	if _, _, err := session.Post(alice, h.client, &conversationv1.PostMessageRequest{ConversationId: id}, "hello again"); err != nil {
		t.Fatalf("the client did not recover from a rotation: %v", err)
	}
	if n := h.count("messages"); n != 4 {
		t.Fatalf("%d messages, want 4", n)
	}
}

// BenchmarkPostMessage compares a sealed post (the client library sealing,
// the service opening and sealing the reply, the client opening it) with
// the same post in the clear, over mTLS on SQLite, in one run.
func BenchmarkPostMessage(b *testing.B) {
	h := newHarness(b, sqliteDB(b))
	alice := h.customer("cus_alice")
	const text = "Hello, where is my order? My e-mail is quentin@example.com."
	b.Run("plain", func(b *testing.B) {
		id := h.open(alice)
		for b.Loop() {
			if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: text}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sealed", func(b *testing.B) {
		id := h.open(alice)
		session, err := sealclient.New(h.client).NewSession()
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, _, err := session.Post(alice, h.client, &conversationv1.PostMessageRequest{ConversationId: id}, text); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSealedReplayStoresOnce: a relay that posts a captured sealed message
// again gets the first answer (sealed to the same bound reply key) and
// nothing is stored twice.
func TestSealedReplayStoresOnce(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	id := h.open(alice)
	session, err := sealclient.New(h.client).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	sealed := sealedFor(t, h, session, id, "Where is my order? Write to replay@example.org")
	var first string
	for i := range 3 {
		resp, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Sealed: sealed})
		if err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		if i == 0 {
			first = resp.GetMessage().GetMessageId()
		} else if got := resp.GetMessage().GetMessageId(); got != first {
			t.Errorf("replay %d stored message %s, want the first answer %s", i, got, first)
		}
		if resp.GetSealedReply() == nil {
			t.Fatalf("post %d: no sealed reply", i)
		}
		if _, err := session.OpenReply(id, resp.GetSealedReply()); err != nil {
			t.Errorf("post %d: the reply does not open with the session's key: %v", i, err)
		}
	}
	if n := h.count("messages"); n != 2 {
		t.Fatalf("%d messages after a message and two replays, want 2 (the message and its reply)", n)
	}
	if n := len(h.vault.requests()); n != 1 {
		t.Fatalf("%d Tokenize calls after a message and two replays, want 1", n)
	}
}

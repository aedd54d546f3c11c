package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// canaries are personal data unique to one test run: an e-mail address, a
// card number (Luhn-valid, random) and a name, so that a match in stored
// bytes or logs can only come from the message.
type canaries struct{ email, card, cardDigits, name string }

func newCanaries(t *testing.T) canaries {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	digits := make([]byte, 15)
	digits[0] = '4'
	r := make([]byte, 14)
	if _, err := rand.Read(r); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 15; i++ {
		digits[i] = '0' + r[i-1]%10
	}
	card := string(digits) + string(rune('0'+luhnCheck(string(digits))))
	return canaries{
		email:      "quentin." + hex.EncodeToString(b) + "@example.com",
		card:       card[:4] + " " + card[4:8] + " " + card[8:12] + " " + card[12:],
		cardDigits: card,
		name:       "Quentin Fairweather",
	}
}

// luhnCheck is the check digit that makes payload+digit pass Luhn.
func luhnCheck(payload string) int {
	sum := 0
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if (len(payload)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

func (c canaries) values() []string {
	return []string{c.email, c.cardDigits, c.card, c.name, "Fairweather", c.email[:strings.IndexByte(c.email, '@')]}
}

func (c canaries) message() string {
	return fmt.Sprintf("Hello, my name is %s. Where is my order? My e-mail is %s and I paid with card %s.", c.name, c.email, c.card)
}

func (h *harness) open(ctx context.Context) string {
	h.t.Helper()
	resp, err := h.client.CreateConversation(ctx, &conversationv1.CreateConversationRequest{Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WEB})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.GetConversation().GetConversationId()
}

// TestMessageStoredAsPlaceholdersOnly: a message with an e-mail, a card
// and a name reaches the vault in one batch (subject the customer, scope
// the conversation, typed), is stored as placeholder text, and no canary
// value is in the database file, its WAL or the logs; the assistant's
// reply names the customer's placeholder, never the value.
func TestMessageStoredAsPlaceholdersOnly(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := newCanaries(t)
		alice := h.customer("cus_alice")
		id := h.open(alice)
		resp, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message()})
		if err != nil {
			t.Fatal(err)
		}
		want := "Hello, my name is [PERSON_1]. Where is my order? My e-mail is [EMAIL_1] and I paid with card [CARD_1]."
		if got := resp.GetMessage().GetText(); got != want {
			t.Errorf("stored text %q, want %q", got, want)
		}
		if got := resp.GetReply().GetText(); !strings.Contains(got, "[EMAIL_1]") || resp.GetReply().GetAuthor() != conversationv1.Author_AUTHOR_ASSISTANT {
			t.Errorf("reply %q by %v, want the assistant naming [EMAIL_1]", got, resp.GetReply().GetAuthor())
		}
		reqs := h.vault.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d Tokenize calls, want 1", len(reqs))
		}
		r := reqs[0]
		if r.GetSubject() != "cus_alice" || r.GetScope() != id || r.GetTenant() != "shop" {
			t.Errorf("tokenised for subject %q scope %q tenant %q", r.GetSubject(), r.GetScope(), r.GetTenant())
		}
		types := map[tokenvaultv1.DataType]bool{}
		for _, it := range r.GetItems() {
			types[it.GetDataType()] = true
		}
		for _, dt := range []tokenvaultv1.DataType{tokenvaultv1.DataType_DATA_TYPE_NAME, tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.DataType_DATA_TYPE_CARD_NUMBER} {
			if !types[dt] || len(r.GetItems()) != 3 {
				t.Errorf("items %v, want one each of NAME, EMAIL, CARD_NUMBER", r.GetItems())
				break
			}
		}

		// The same e-mail again keeps its placeholder and needs no vault call.
		resp, err = h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "Please use " + c.email + " again."})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.GetMessage().GetText(); got != "Please use [EMAIL_1] again." {
			t.Errorf("second message %q", got)
		}
		if n := len(h.vault.requests()); n != 1 {
			t.Errorf("%d Tokenize calls after a known value, want still 1", n)
		}

		list, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetMessages()) != 4 || list.GetMessages()[0].GetText() != want {
			t.Errorf("ListMessages: %v", list.GetMessages())
		}
		stored, logs := storetest.StoredBytes(t, h.db), h.logs.Bytes()
		for _, v := range c.values() {
			if bytes.Contains(stored, []byte(v)) {
				t.Errorf("the database holds %q", v)
			}
			if bytes.Contains(logs, []byte(v)) {
				t.Errorf("the logs hold %q", v)
			}
		}
		if !bytes.Contains(stored, []byte("[EMAIL_1]")) {
			t.Error("the search cannot find the placeholder text it should see")
		}
	})
}

// TestAnotherCustomerCannotRead: another customer's every call on the
// conversation is NOT_FOUND (as if it did not exist); a support agent
// reads it; staff without the role are refused.
func TestAnotherCustomerCannotRead(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		alice, bob := h.customer("cus_alice"), h.customer("cus_bob")
		id := h.open(alice)
		if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "hello"}); err != nil {
			t.Fatal(err)
		}
		calls := map[string]func() error{
			"get": func() error {
				_, err := h.client.GetConversation(bob, &conversationv1.GetConversationRequest{ConversationId: id})
				return err
			},
			"messages": func() error {
				_, err := h.client.ListMessages(bob, &conversationv1.ListMessagesRequest{ConversationId: id})
				return err
			},
			"post": func() error {
				_, err := h.client.PostMessage(bob, &conversationv1.PostMessageRequest{ConversationId: id, Text: "hi"})
				return err
			},
			"close": func() error {
				_, err := h.client.CloseConversation(bob, &conversationv1.CloseConversationRequest{ConversationId: id})
				return err
			},
			"watch": func() error {
				s, err := h.client.WatchConversation(bob, &conversationv1.WatchConversationRequest{ConversationId: id})
				if err != nil {
					return err
				}
				_, err = s.Recv()
				return err
			},
		}
		for name, call := range calls {
			if err := call(); status.Code(err) != codes.NotFound || reasonOf(err) != reasons.ConversationNotFound {
				t.Errorf("bob %s: %v, want NOT_FOUND %s", name, err, reasons.ConversationNotFound)
			}
		}
		list, err := h.client.ListConversations(bob, &conversationv1.ListConversationsRequest{})
		if err != nil || len(list.GetConversations()) != 0 {
			t.Errorf("bob's list: %v, %v", list.GetConversations(), err)
		}
		if _, err := h.client.ListConversations(bob, &conversationv1.ListConversationsRequest{CustomerSubject: "cus_alice"}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("bob listing alice's: %v, want PERMISSION_DENIED", err)
		}
		agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
		msgs, err := h.client.ListMessages(agent, &conversationv1.ListMessagesRequest{ConversationId: id})
		if err != nil || len(msgs.GetMessages()) != 2 {
			t.Errorf("support agent: %v, %v", msgs.GetMessages(), err)
		}
		if _, err := h.client.PostMessage(agent, &conversationv1.PostMessageRequest{ConversationId: id, Text: "hi"}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("agent posting as the customer: %v, want PERMISSION_DENIED", err)
		}
		other := h.staff("stf_other", accesstoken.RolePrivacyOfficer)
		if _, err := h.client.GetConversation(other, &conversationv1.GetConversationRequest{ConversationId: id}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("staff without support_agent: %v, want PERMISSION_DENIED", err)
		}
	})
}

// TestPostIsIdempotentByChannelMessageID: a repeated channel message id
// returns the first answer and stores and tokenises nothing more; the id is
// stored only as a keyed digest.
func TestPostIsIdempotentByChannelMessageID(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := newCanaries(t)
		alice := h.customer("cus_alice")
		id := h.open(alice)
		// A WhatsApp-like id embedding the sender's number.
		wamid := "wamid.HBgMNDkxNTExMjM0NTY3FQIAEhg" + hex.EncodeToString([]byte(c.cardDigits[:6]))
		req := &conversationv1.PostMessageRequest{ConversationId: id, Text: "my e-mail is " + c.email, ChannelMessageId: wamid}
		first, err := h.client.PostMessage(alice, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := h.client.PostMessage(alice, req)
		if err != nil {
			t.Fatal(err)
		}
		if again.GetMessage().GetMessageId() != first.GetMessage().GetMessageId() || again.GetReply().GetMessageId() != first.GetReply().GetMessageId() {
			t.Errorf("replay answered %v, want the first answer %v", again, first)
		}
		if n := h.count("messages"); n != 2 {
			t.Errorf("%d messages stored, want 2 (one post, one reply)", n)
		}
		if n := len(h.vault.requests()); n != 1 {
			t.Errorf("%d Tokenize calls, want 1", n)
		}
		if bytes.Contains(storetest.StoredBytes(t, h.db), []byte(wamid)) {
			t.Error("the database holds the channel message id")
		}
		// Another id is another message.
		req.ChannelMessageId = wamid + "x"
		if _, err := h.client.PostMessage(alice, req); err != nil {
			t.Fatal(err)
		}
		if n := h.count("messages"); n != 4 {
			t.Errorf("%d messages stored, want 4", n)
		}
	})
}

// TestTokenVaultDownRefusesTheMessage: when the vault cannot tokenise, the
// post is UNAVAILABLE and nothing is stored (no message, no placeholder).
func TestTokenVaultDownRefusesTheMessage(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := newCanaries(t)
		alice := h.customer("cus_alice")
		id := h.open(alice)
		h.vault.setDown(true)
		_, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message()})
		if status.Code(err) != codes.Unavailable || reasonOf(err) != reasons.TokenVaultUnavailable {
			t.Fatalf("post with the vault down: %v, want UNAVAILABLE %s", err, reasons.TokenVaultUnavailable)
		}
		if m, p := h.count("messages"), h.count("placeholders"); m != 0 || p != 0 {
			t.Errorf("stored %d messages and %d placeholders, want none", m, p)
		}
		if bytes.Contains(storetest.StoredBytes(t, h.db), []byte(c.email)) {
			t.Error("the database holds the refused message's e-mail")
		}
		h.vault.setDown(false)
		if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message()}); err != nil {
			t.Fatalf("after the vault is back: %v", err)
		}
	})
}

// TestTypedPlaceholderIsALiteral: a customer typing "[CARD_1]" cannot make
// it stand for a value: it becomes a literal placeholder of its own.
func TestTypedPlaceholderIsALiteral(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	id := h.open(alice)
	resp, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "is [CARD_1] mine?"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetMessage().GetText(); got != "is [LITERAL_1] mine?" {
		t.Errorf("stored %q, want the typed placeholder as a literal", got)
	}
}

// TestClosedConversation: closing is the customer's, watching ends after
// the last message, and a closed conversation takes no message.
func TestClosedConversation(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	id := h.open(alice)
	if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "what are your opening hours?"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.CloseConversation(alice, &conversationv1.CloseConversationRequest{ConversationId: id}); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "hello"})
	if status.Code(err) != codes.FailedPrecondition || reasonOf(err) != reasons.ConversationClosed {
		t.Errorf("post to a closed conversation: %v", err)
	}
	stream, err := h.client.WatchConversation(alice, &conversationv1.WatchConversationRequest{ConversationId: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		m, err := stream.Recv()
		if err != nil {
			break
		}
		got = append(got, m.GetMessage().GetText())
	}
	if len(got) != 2 || !strings.Contains(got[1], "Monday–Friday 09:00–18:00") {
		t.Errorf("watched %q", got)
	}
}

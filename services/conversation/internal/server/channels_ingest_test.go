package server_test

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/app"
	"github.com/sottohq/sotto/services/conversation/internal/channels"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

const (
	whatsApp  = conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP
	messenger = conversationv1.ChatChannel_CHAT_CHANNEL_MESSENGER

	linkedNotice  = "This chat is now linked to your account."
	refusedPrefix = "That code did not work."
	confirmPrefix = "A shop account asked to link this chat"
)

func (h *harness) ingest(tenant string, ch conversationv1.ChatChannel, user, id, text string) *conversationv1.IngestChannelMessageResponse {
	h.t.Helper()
	resp, err := h.client.IngestChannelMessage(context.Background(), &conversationv1.IngestChannelMessageRequest{
		Tenant: tenant, Channel: ch, ChannelUserId: user, ChannelMessageId: id, Text: text})
	if err != nil {
		h.t.Fatalf("IngestChannelMessage: %v", err)
	}
	return resp
}

// identity is a channel identity's row, found by the platform id behind
// its token (the test's stand-in vault knows the values).
type identity struct {
	id, subject string
	linked      bool
}

func (h *harness) identityOf(user string) (identity, bool) {
	h.t.Helper()
	rows, err := h.db.QueryContext(context.Background(), `SELECT identity_id, subject, linked, user_token FROM channel_identities`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var i identity
		var linked int64
		var tok string
		if err := rows.Scan(&i.id, &i.subject, &linked, &tok); err != nil {
			h.t.Fatal(err)
		}
		h.vault.mu.Lock()
		v := h.vault.values[tok]
		h.vault.mu.Unlock()
		if v == user {
			i.linked = linked != 0
			return i, true
		}
	}
	return identity{}, false
}

func (h *harness) subjectOf(conversationID string) string {
	h.t.Helper()
	var s string
	if err := h.db.QueryRowContext(context.Background(), `SELECT customer_subject FROM conversations WHERE conversation_id = $1`,
		conversationID).Scan(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// TestChannelMessageKeepsNoRawIDs: a WhatsApp message with an e-mail, a
// card and a name is taken for a stranger: the sender's number is
// tokenised once (subject a pseudonymous "chu_" id, scope "channel",
// PHONE) and kept only as that token and a keyed digest; the message goes
// through the message path; the reply goes out through the emulated Cloud
// API to the number, detokenised for channel_delivery. Neither the number,
// the wamid (which embeds it) nor the canaries are in the database files,
// the jobs table or the logs.
func TestChannelMessageKeepsNoRawIDs(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := newCanaries(t)
		num := waNumber(t)
		mid := wamid(t, num)
		resp := h.ingest("shop", whatsApp, num, mid, c.message())
		if resp.GetConversationId() == "" || resp.GetMessageId() == "" || resp.GetDuplicate() {
			t.Fatalf("ingest answered %v", resp)
		}
		// Searched as stored by ingest and again after the delivery.
		searchCanaries := func() {
			t.Helper()
			stored := storetest.StoredBytes(t, h.db)
			logs := h.logs.Bytes()
			for _, v := range append(c.values(), num, mid, strings.TrimPrefix(mid, "wamid.")) {
				if bytes.Contains(stored, []byte(v)) {
					t.Errorf("canary %q found in the database files", v)
				}
				if bytes.Contains(logs, []byte(v)) {
					t.Errorf("canary %q found in the logs", v)
				}
			}
		}
		searchCanaries()
		sent := h.channels.waitDeliveries(t, 1)
		if sent[0].Platform != "whatsapp" || sent[0].To != num || sent[0].From != waPhoneNumberID || sent[0].Text == "" {
			t.Errorf("delivered %+v, want a text to the sender's number from the shop's number", sent[0])
		}
		reqs := h.vault.requests()
		if len(reqs) == 0 {
			t.Fatal("nothing tokenised")
		}
		first := reqs[0]
		if !strings.HasPrefix(first.GetSubject(), "chu_") || first.GetScope() != conversation.ChannelScope || first.GetTenant() != "shop" ||
			len(first.GetItems()) != 1 || first.GetItems()[0].GetValue() != num ||
			first.GetItems()[0].GetDataType() != tokenvaultv1.DataType_DATA_TYPE_PHONE {
			t.Errorf("the number was tokenised as %v", first)
		}
		ident, ok := h.identityOf(num)
		if !ok || ident.linked || ident.subject != first.GetSubject() {
			t.Fatalf("identity %+v (found %v), want an unlinked stranger under %s", ident, ok, first.GetSubject())
		}
		if got := h.subjectOf(resp.GetConversationId()); got != ident.subject {
			t.Errorf("conversation of %s, want the stranger %s", got, ident.subject)
		}
		if got := h.channels.standin.asked(); !strings.Contains(strings.Join(got, ","), channels.PurposeDelivery) {
			t.Errorf("the vault was asked for %v, want %s", got, channels.PurposeDelivery)
		}

		// The job holds ids only.
		var args []byte
		if err := h.db.QueryRowContext(context.Background(), `SELECT args FROM jobs WHERE kind = $1`, channels.DeliveryKind).Scan(&args); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(args, []byte(num)) || !bytes.Contains(args, []byte(ident.id)) {
			t.Errorf("job arguments %s: want the identity id and not the number", args)
		}
		searchCanaries()
	})
}

// TestChannelReplayStoresAndSendsOnce: the same platform message id again
// is a duplicate even after the conversation it joined was closed (so that
// neither the conversation's own message digest nor the delivery job's
// unique key would catch it): nothing is stored, nothing sent.
func TestChannelReplayStoresAndSendsOnce(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		num := waNumber(t)
		mid := wamid(t, num)
		first := h.ingest("shop", whatsApp, num, mid, "What are your opening hours?")
		h.channels.waitDeliveries(t, 1)
		again := h.ingest("shop", whatsApp, num, mid, "What are your opening hours?")
		if !again.GetDuplicate() || again.GetMessageId() != first.GetMessageId() {
			t.Errorf("replay answered %v, want a duplicate of %v", again, first)
		}
		subject := h.subjectOf(first.GetConversationId())
		if _, err := h.app.Domain.Close(context.Background(), conversation.Caller{Subject: subject, Tenant: "shop",
			Kind: accesstoken.KindCustomer}, first.GetConversationId()); err != nil {
			t.Fatal(err)
		}
		msgs, convs := h.count("messages"), h.count("conversations")
		late := h.ingest("shop", whatsApp, num, mid, "What are your opening hours?")
		if !late.GetDuplicate() {
			t.Errorf("replay after close answered %v, want a duplicate", late)
		}
		if h.count("messages") != msgs || h.count("conversations") != convs {
			t.Errorf("a replay stored something: messages %d → %d, conversations %d → %d", msgs, h.count("messages"), convs, h.count("conversations"))
		}
		h.channels.settle()
		if n := len(h.channels.api.Deliveries()); n != 1 {
			t.Errorf("%d deliveries, want 1", n)
		}
	})
}

var codeShape = regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`)

func (h *harness) linkCode(ctx context.Context, ch conversationv1.ChatChannel) string {
	h.t.Helper()
	resp, err := h.client.CreateChannelLinkCode(ctx, &conversationv1.CreateChannelLinkCodeRequest{Channel: ch})
	if err != nil {
		h.t.Fatal(err)
	}
	if !codeShape.MatchString(resp.GetCode()) {
		h.t.Fatalf("code %q is not 8 characters of the unambiguous alphabet", resp.GetCode())
	}
	if d := resp.GetExpireTime().AsTime().Sub(h.channels.now()); d <= 9*time.Minute || d > 10*time.Minute {
		h.t.Errorf("code expires in %v, want 10 minutes", d)
	}
	return resp.GetCode()
}

// TestChannelLinkByCodeOnly: a stranger claiming an account in the chat
// stays a stranger; "link <code>" (any case) with the customer's code
// links the number to the account: the identity's subject becomes the
// account, the number is tokenised again under it, the stranger's
// conversation is closed, the LINK message is neither stored nor answered
// by the assistant (a fixed notice is sent), and the next message opens a
// conversation the customer sees as theirs.
func TestChannelLinkByCodeOnly(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		alice := h.customerAt("cus_alice", accesstoken.AAL2) // link codes take aal2
		code := h.linkCode(alice, whatsApp)
		num := waNumber(t)
		claim := h.ingest("shop", whatsApp, num, wamid(t, num), "I am alice@example.com, my account is cus_alice. Show my orders.")
		h.channels.waitDeliveries(t, 1)
		if ident, _ := h.identityOf(num); ident.linked || ident.subject == "cus_alice" {
			t.Fatalf("a claim in the message linked the number: %+v", ident)
		}
		if got := h.subjectOf(claim.GetConversationId()); !strings.HasPrefix(got, "chu_") {
			t.Errorf("the claim's conversation belongs to %s, want the stranger", got)
		}

		msgs := h.count("messages")
		link := h.ingest("shop", whatsApp, num, wamid(t, num), "  link "+strings.ToLower(code)+" ")
		if link.GetMessageId() != "" || link.GetConversationId() != "" {
			t.Errorf("link attempt answered %v, want no message", link)
		}
		// A valid code only asks for a confirmation (ADR 0014, "Review
		// fixes (session 6)"); the YES, not stored either, links.
		sent := h.channels.waitDeliveries(t, 2)
		if !strings.HasPrefix(sent[1].Text, confirmPrefix) || sent[1].To != num {
			t.Errorf("after LINK: %+v, want the confirmation prompt", sent[1])
		}
		if ident, _ := h.identityOf(num); ident.linked {
			t.Fatalf("LINK alone linked the number: %+v", ident)
		}
		if yes := h.ingest("shop", whatsApp, num, wamid(t, num), "YES"); yes.GetMessageId() != "" {
			t.Errorf("the confirmation answered %v, want no message", yes)
		}
		sent = h.channels.waitDeliveries(t, 3)
		if sent[2].Text != linkedNotice || sent[2].To != num {
			t.Errorf("after the confirmation: %+v, want the linked notice", sent[2])
		}
		ident, _ := h.identityOf(num)
		if !ident.linked || ident.subject != "cus_alice" {
			t.Fatalf("identity %+v, want linked to cus_alice", ident)
		}
		if h.count("messages") != msgs {
			t.Errorf("the LINK message was stored")
		}
		want := string(conversation.ActionChannelLink) + " cus_alice " + ident.id
		if acts := h.auditActions(); !slices.Contains(acts, want) {
			t.Errorf("audit events %v, want %q", acts, want)
		}
		if bytes.Contains(storetest.StoredBytes(t, h.db), []byte(strings.ReplaceAll(code, "-", ""))) {
			t.Error("the code is in the database files")
		}
		retokenised := false
		for _, r := range h.vault.requests() {
			if r.GetSubject() == "cus_alice" && r.GetScope() == conversation.ChannelScope && r.GetItems()[0].GetValue() == num {
				retokenised = true
			}
		}
		if !retokenised {
			t.Error("the number was not tokenised under the account")
		}
		conv, err := h.client.GetConversation(h.staff("stf_agent", accesstoken.RoleSupportAgent), &conversationv1.GetConversationRequest{ConversationId: claim.GetConversationId()})
		if err != nil || conv.GetConversation().GetState() != conversationv1.State_STATE_CLOSED {
			t.Errorf("the stranger's conversation: %v %v, want closed", conv.GetConversation().GetState(), err)
		}

		next := h.ingest("shop", whatsApp, num, wamid(t, num), "Where is my order?")
		if next.GetConversationId() == claim.GetConversationId() || h.subjectOf(next.GetConversationId()) != "cus_alice" {
			t.Errorf("after linking the message went to %s of %s", next.GetConversationId(), h.subjectOf(next.GetConversationId()))
		}
		list, err := h.client.ListConversations(alice, &conversationv1.ListConversationsRequest{})
		if err != nil || len(list.GetConversations()) != 1 || list.GetConversations()[0].GetConversationId() != next.GetConversationId() {
			t.Errorf("alice lists %v (%v), want the linked number's conversation", list.GetConversations(), err)
		}

		// Linked already: another code is not tried, and not stored.
		again := h.ingest("shop", whatsApp, num, wamid(t, num), "LINK "+h.linkCode(alice, whatsApp))
		if again.GetMessageId() != "" {
			t.Errorf("a LINK message from a linked number was stored")
		}
	})
}

// TestChannelLinkRefused: an expired code, a used code, another shop's
// code, a code for the other channel and a wrong code do not link, and all
// get the same neutral notice; five failures block the number's attempts
// for an hour, even with a right code.
func TestChannelLinkRefused(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		alice := h.customerAt("cus_alice", accesstoken.AAL2)
		refusedFor := func(t *testing.T, tenant, num, text string) {
			t.Helper()
			n := len(h.channels.api.Deliveries())
			h.ingest(tenant, whatsApp, num, wamid(t, num), text)
			if ident, ok := h.identityOf(num); !ok || ident.linked || ident.subject == "cus_alice" {
				t.Errorf("%q linked %+v", text, ident)
			}
			if tenant != "shop" {
				return // that shop has no credentials to send with
			}
			sent := h.channels.waitDeliveries(t, n+1)
			if !strings.HasPrefix(sent[n].Text, refusedPrefix) {
				t.Errorf("%q answered %q, want the neutral refusal", text, sent[n].Text)
			}
		}
		t.Run("expired", func(t *testing.T) {
			code := h.linkCode(alice, whatsApp)
			h.channels.advance(10*time.Minute + time.Second)
			refusedFor(t, "shop", waNumber(t), "LINK "+code)
		})
		t.Run("used", func(t *testing.T) {
			code := h.linkCode(alice, whatsApp)
			first := waNumber(t)
			n := len(h.channels.api.Deliveries())
			h.ingest("shop", whatsApp, first, wamid(t, first), "LINK "+code)
			h.ingest("shop", whatsApp, first, wamid(t, first), "yes")
			h.channels.waitDeliveries(t, n+2)
			if ident, _ := h.identityOf(first); !ident.linked {
				t.Fatalf("the first use did not link: %+v", ident)
			}
			refusedFor(t, "shop", waNumber(t), "LINK "+code)
		})
		t.Run("other shop", func(t *testing.T) {
			refusedFor(t, "othershop", waNumber(t), "LINK "+h.linkCode(alice, whatsApp))
		})
		t.Run("other channel", func(t *testing.T) {
			refusedFor(t, "shop", waNumber(t), "LINK "+h.linkCode(alice, messenger))
		})
		t.Run("wrong code", func(t *testing.T) {
			refusedFor(t, "shop", waNumber(t), "LINK 2345-6789")
		})
		t.Run("blocked after five failures", func(t *testing.T) {
			num := waNumber(t)
			for range 5 {
				refusedFor(t, "shop", num, "LINK 2345-6789")
			}
			refusedFor(t, "shop", num, "LINK "+h.linkCode(alice, whatsApp))
			h.channels.advance(time.Hour + time.Second)
			h.ingest("shop", whatsApp, num, wamid(t, num), "LINK "+h.linkCode(alice, whatsApp))
			h.ingest("shop", whatsApp, num, wamid(t, num), "YES")
			if ident, _ := h.identityOf(num); !ident.linked {
				t.Errorf("after the block a right code did not link: %+v", ident)
			}
		})
	})
}

// TestChannelDeliveryRetries: a platform outage and a rate limit are
// retried by the durable job until the send goes through, once; a
// refusal for good (outside WhatsApp's messaging window) dead-letters the
// job with its reason and sends nothing.
func TestChannelDeliveryRetries(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	h.channels.api.Fail(channeltest.Unavailable, channeltest.RateLimited)
	num := waNumber(t)
	h.ingest("shop", whatsApp, num, wamid(t, num), "What are your opening hours?")
	sent := h.channels.waitDeliveries(t, 1)
	if sent[0].To != num || h.channels.api.Attempts() != 3 {
		t.Errorf("delivered %+v after %d attempts, want one delivery after 3", sent[0], h.channels.api.Attempts())
	}

	h.channels.api.Fail(channeltest.OutsideWindow)
	h.ingest("shop", whatsApp, num, wamid(t, num), "Hello?")
	var dead []string
	for range 200 {
		infos, err := h.channels.jobs.Dead(context.Background(), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) > 0 {
			for _, i := range infos {
				dead = append(dead, i.LastErrorReason)
			}
			break
		}
		h.channels.clock.Advance(time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	if len(dead) != 1 || dead[0] != "CHANNEL_SEND_FAILED" {
		t.Errorf("dead jobs %v, want one CHANNEL_SEND_FAILED", dead)
	}
	if n := len(h.channels.api.Deliveries()); n != 1 {
		t.Errorf("%d deliveries, want still 1", n)
	}
}

// TestChannelMessengerDelivery: a Messenger page-scoped id is tokenised as
// free text and the reply goes to /me/messages with the page token.
func TestChannelMessengerDelivery(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	psid := "2" + waNumber(t)[3:] + "4567"
	h.ingest("shop", messenger, psid, "m_"+psid+"x", "What are your opening hours?")
	sent := h.channels.waitDeliveries(t, 1)
	if sent[0].Platform != "messenger" || sent[0].To != psid {
		t.Errorf("delivered %+v, want Messenger to the PSID", sent[0])
	}
	if dt := h.vault.requests()[0].GetItems()[0].GetDataType(); dt != tokenvaultv1.DataType_DATA_TYPE_FREE_TEXT {
		t.Errorf("the PSID was tokenised as %v", dt)
	}
}

// TestChannelReplyReidentified: a reply's placeholders go to the
// customer's own channel as the vault's policy allows (channel_reply:
// names and contact details in full), a card number masked, and a
// placeholder the conversation does not have is left as it is.
func TestChannelReplyReidentified(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	c := newCanaries(t)
	num := waNumber(t)
	resp := h.ingest("shop", whatsApp, num, wamid(t, num), c.message())
	d := channels.NewDeliverer(h.app.Store, h.channels.vault, nil, nil)
	got, err := d.Reidentify(context.Background(), "shop", resp.GetConversationId(), "Hi [PERSON_1], we write to [EMAIL_1]; card [CARD_1]; [PHONE_7].")
	if err != nil {
		t.Fatal(err)
	}
	want := "Hi " + c.name + ", we write to " + c.email + "; card •••• " + c.cardDigits[12:] + "; [PHONE_7]."
	if got != want {
		t.Errorf("re-identified %q, want %q", got, want)
	}
}

// TestChannelReplySurvivesRestart: a reply whose first send failed waits
// in the jobs table; a new runner on the same database (the service
// restarted) sends it, once.
func TestChannelReplySurvivesRestart(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	h.channels.api.Fail(channeltest.Unavailable)
	num := waNumber(t)
	h.ingest("shop", whatsApp, num, wamid(t, num), "What are your opening hours?")
	for i := 0; h.channels.api.Attempts() < 1; i++ {
		if i > 500 {
			t.Fatal("no send attempt")
		}
		h.channels.clock.Advance(100 * time.Millisecond)
		time.Sleep(5 * time.Millisecond)
	}
	h.channels.stop()
	if n := len(h.channels.api.Deliveries()); n != 0 {
		t.Fatalf("%d deliveries before the restart, want 0", n)
	}

	clock := clockwork.NewFakeClockAt(h.channels.clock.Now())
	runner, err := jobs.New(h.db, jobs.Config{Clock: clock, PollInterval: time.Second, BackoffBase: time.Second, BackoffMax: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sender := channels.NewSender(h.channels.egress, h.channels.secrets, h.channels.api.URL(), "")
	if err := runner.Register(channels.DeliveryKind, channels.NewDeliverer(h.app.Store, h.channels.vault, sender, nil).Handle, channels.Options); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	defer func() { cancel(); clock.Advance(time.Minute); <-done }()
	for i := 0; len(h.channels.api.Deliveries()) < 1; i++ {
		if i > 500 {
			t.Fatal("the restarted runner did not deliver the reply")
		}
		clock.Advance(time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	h.channels.settle()
	clock.Advance(10 * time.Second)
	if d := h.channels.api.Deliveries(); len(d) != 1 || d[0].To != num || h.channels.api.Attempts() != 2 {
		t.Errorf("deliveries %+v after %d attempts, want one to the sender after 2", d, h.channels.api.Attempts())
	}
}

// TestChannelHostileInput: text with control characters is
// InvalidArgument TEXT_INVALID, and nothing is stored, not even the
// sender's identity (invalid UTF-8 cannot cross gRPC: protobuf refuses it
// on both sides).
func TestChannelHostileInput(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	num := waNumber(t)
	for _, text := range []string{"hidden\x00text", "escape \x1b[31m", "c1 \u0085 control"} {
		_, err := h.client.IngestChannelMessage(context.Background(), &conversationv1.IngestChannelMessageRequest{
			Tenant: "shop", Channel: whatsApp, ChannelUserId: num, ChannelMessageId: wamid(t, num), Text: text})
		if status.Code(err) != codes.InvalidArgument || reasonOf(err) != reasons.TextInvalid {
			t.Errorf("%q: %v, want InvalidArgument", text, err)
		}
	}
	for _, table := range []string{"channel_identities", "channel_messages", "messages"} {
		if n := h.count(table); n != 0 {
			t.Errorf("%d rows in %s after refused messages", n, table)
		}
	}
	var jobsN int
	if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM jobs WHERE kind = $1`, channels.DeliveryKind).Scan(&jobsN); err != nil || jobsN != 0 {
		t.Errorf("%d deliveries queued (%v)", jobsN, err)
	}
	if len(h.vault.requests()) != 0 {
		t.Error("a refused message reached the vault")
	}
}

// TestChannelLinkCodesSwept: the hourly sweep deletes codes once they have
// expired, and keeps live ones.
func TestChannelLinkCodesSwept(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	h.linkCode(h.customerAt("cus_alice", accesstoken.AAL2), whatsApp)
	h.channels.advance(10*time.Minute + time.Second)
	h.linkCode(h.customerAt("cus_bob", accesstoken.AAL2), whatsApp)
	h.channels.clock.Advance(10*time.Minute + time.Second) // the runner's: alice's code has expired
	if err := h.channels.jobs.Trigger(context.Background(), app.LinkCodeSweepKind); err != nil {
		t.Fatal(err)
	}
	for i := 0; h.count("channel_link_codes") != 1; i++ {
		if i > 500 {
			t.Fatalf("%d link codes after the sweep, want 1", h.count("channel_link_codes"))
		}
		h.channels.clock.Advance(time.Second)
		time.Sleep(5 * time.Millisecond)
	}
}

// TestChannelFirstMessagesAtOnce: a new sender's messages arriving
// together make one identity and one conversation.
func TestChannelFirstMessagesAtOnce(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		num := waNumber(t)
		const n = 8
		convs := make(chan string, n)
		var wg sync.WaitGroup
		for range n {
			id := wamid(t, num)
			wg.Go(func() {
				resp, err := h.client.IngestChannelMessage(context.Background(), &conversationv1.IngestChannelMessageRequest{
					Tenant: "shop", Channel: whatsApp, ChannelUserId: num, ChannelMessageId: id, Text: "What are your opening hours?"})
				if err != nil {
					t.Error(err)
					return
				}
				convs <- resp.GetConversationId()
			})
		}
		wg.Wait()
		close(convs)
		seen := map[string]bool{}
		for c := range convs {
			seen[c] = true
		}
		if len(seen) != 1 || h.count("channel_identities") != 1 || h.count("conversations") != 1 {
			t.Errorf("%d conversations answered, %d identities, %d conversations stored; want 1 each",
				len(seen), h.count("channel_identities"), h.count("conversations"))
		}
	})
}

// TestChannelIngestIsTheGatewaysOnly: only the gateway's channel ingress
// (which checked the webhook signature) hands messages in; any other
// workload is refused before anything is stored.
func TestChannelIngestIsTheGatewaysOnly(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	num := waNumber(t)
	for _, name := range []string{"crmsync", "identity", "tokenvault"} {
		c := conversationv1.NewConversationServiceClient(h.pki.Dial(t, name, "conversation", h.addr))
		_, err := c.IngestChannelMessage(context.Background(), &conversationv1.IngestChannelMessageRequest{
			Tenant: "shop", Channel: whatsApp, ChannelUserId: num, ChannelMessageId: wamid(t, num), Text: "hello"})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", name, err)
		}
	}
	if n := h.count("channel_identities"); n != 0 {
		t.Errorf("%d identities after refused calls", n)
	}
}

// TestAgentReplyReachesChannel: a support agent's reply to a WhatsApp
// conversation goes out through the platform's send API to the customer's
// number, as the assistant's replies do.
func TestAgentReplyReachesChannel(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	num := waNumber(t)
	resp := h.ingest("shop", whatsApp, num, wamid(t, num), "What are your opening hours?")
	before := len(h.channels.waitDeliveries(t, 1))
	if _, err := h.app.Domain.HandOff(context.Background(), resp.GetConversationId(), conversation.HandOffAssistant); err != nil {
		t.Fatal(err)
	}
	agent := h.staff("stf_agent", accesstoken.RoleSupportAgent)
	if _, err := h.client.AssignConversation(agent, &conversationv1.AssignConversationRequest{ConversationId: resp.GetConversationId()}); err != nil {
		t.Fatal(err)
	}
	const text = "Hello, this is Sam from the shop: we open at nine."
	if _, err := h.client.PostAgentReply(agent, &conversationv1.PostAgentReplyRequest{ConversationId: resp.GetConversationId(), Text: text}); err != nil {
		t.Fatal(err)
	}
	sent := h.channels.waitDeliveries(t, before+1)
	last := sent[len(sent)-1]
	if last.Platform != "whatsapp" || last.To != num || !strings.Contains(last.Text, "we open at nine") {
		t.Errorf("last delivery %+v; want the agent's reply on WhatsApp to the customer's number", last)
	}
}

// TestChannelTextLimitIsInCharacters: WhatsApp allows 4096 characters, so a
// message in Cyrillic of 2800 characters (5200 bytes) is taken, and one of
// 4097 characters is refused.
func TestChannelTextLimitIsInCharacters(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	num := waNumber(t)
	resp := h.ingest("shop", whatsApp, num, wamid(t, num), strings.Repeat("Привет ", 400))
	if resp.GetMessageId() == "" {
		t.Fatalf("a 2800-character Cyrillic message was not stored: %v", resp)
	}
	_, err := h.client.IngestChannelMessage(context.Background(), &conversationv1.IngestChannelMessageRequest{Tenant: "shop",
		Channel: whatsApp, ChannelUserId: num, ChannelMessageId: wamid(t, num), Text: strings.Repeat("я", 4097)})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("4097 characters: %v, want InvalidArgument", err)
	}
}

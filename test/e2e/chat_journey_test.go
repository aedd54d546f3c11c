package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/secrets"
)

// TestChatJourneyThroughTheSuite is issue 12's end-to-end chat through the
// real binaries (`sotto dev up`), as the shop's clients use the gateway:
//
//  1. A customer signs up (mailbox code), logs in and chats on the web with
//     canary personal data (a name, an e-mail address, a phone number and a
//     Luhn-valid card number). The transcript reads in placeholders; the
//     re-identified view shows her own contact details but not the card;
//     revealing the card asks for step-up (401 with RFC 9470's challenge,
//     ADR 0009); she enrols an authenticator app, steps up, and then sees
//     the card.
//  2. She asks for a person; a support agent (staff made by the operator,
//     TOTP, aal2) finds the waiting chat, takes it and replies; the reply
//     reaches her over the Server-Sent Events stream re-identified, while
//     the agent reads placeholders and reveals the card masked only.
//  3. A WhatsApp user (signed webhook deliveries) writes canary values as a
//     stranger, then links to her account with a one-time code, and writes
//     again: that chat is hers. On Messenger she links first, then writes.
//  4. She asks for erasure; every service carries it out, her conversations
//     are gone (404), and so are the values her WhatsApp user typed before
//     the link (tokenvault holds nothing under its pseudonym).
//  5. With the suite stopped, no file under its state directory (databases,
//     WAL and shared-memory files, logs, the dev mailbox, the token vault's
//     store) holds any canary in any spelling searched.
func TestChatJourneyThroughTheSuite(t *testing.T) {
	state := t.TempDir()
	const (
		tenant   = "default"
		waSecret = "journey-wa-app-secret-0123456789abcdef"
		msSecret = "journey-ms-app-secret-0123456789abcdef"
		phoneID  = "106540352242923"
		pageID   = "104953292345679"
	)
	if err := secrets.WriteFile(filepath.Join(state, "secrets.json"), map[string]map[string]string{
		secrets.ChannelPath(tenant, secrets.WhatsApp): {
			secrets.KeyAppSecret: waSecret, secrets.KeyVerifyToken: "journey-verify", secrets.KeyPhoneNumberID: phoneID,
			secrets.KeyAccessToken: "EAAG-journey-access",
		},
		secrets.ChannelPath(tenant, secrets.Messenger): {
			secrets.KeyAppSecret: msSecret, secrets.KeyVerifyToken: "journey-verify", secrets.KeyPageID: pageID,
			secrets.KeyPageAccessToken: "EAAG-journey-page",
		},
	}); err != nil {
		t.Fatal(err)
	}
	// Replies to the WhatsApp user go to a Graph API that does not exist
	// (.invalid never resolves): no test sends a canary to Meta. The send
	// jobs fail and retry; their payloads hold ids only.
	s := startSuite(t, state, append(manyLogins, "SOTTO_CONVERSATION_GRAPH_URL=https://graph.journey.invalid")...)
	s.waitNotDegraded("audit", "tokenvault", "identity", "consent", "conversation")
	started := time.Now()

	c := newJourneyCanaries(t)
	alice := s.signUpCustomer("journey")
	c.account = alice.email
	aal1, _ := s.login(alice, false)

	// 1. The web chat, read back in placeholders.
	r := s.journey(http.MethodPost, "/v1/conversations", aal1, `{"channel":"CHAT_CHANNEL_WEB"}`, nil)
	webID := r.conversationID()
	if r.code != http.StatusOK || webID == "" {
		t.Fatalf("open a web conversation: %d %s", r.code, r.raw)
	}
	text := "Hello, my name is " + c.name + ". Where is my order? Write to " + c.email +
		" or call me at " + c.phone + "; I paid with card " + c.cardSpaced + "."
	r = s.journey(http.MethodPost, "/v1/conversations/"+webID+"/messages", aal1, jsonBody(t, map[string]string{"text": text}), nil)
	if r.code != http.StatusOK {
		t.Fatalf("post: %d %s", r.code, r.raw)
	}
	c.mustNotBeIn(t, "the post's answer", r.raw)
	placeholders := []string{"[PERSON_1]", "[EMAIL_1]", "[PHONE_1]", "[CARD_1]"}
	list := s.journey(http.MethodGet, "/v1/conversations/"+webID+"/messages", aal1, "", nil)
	msgs := list.messages()
	if list.code != http.StatusOK || len(msgs) != 2 || msgs[0].Author != "AUTHOR_CUSTOMER" || msgs[1].Author != "AUTHOR_ASSISTANT" {
		t.Fatalf("transcript: %d %s", list.code, list.raw)
	}
	for _, p := range placeholders {
		if !strings.Contains(msgs[0].Text, p) {
			t.Errorf("the stored message %q has no %s", msgs[0].Text, p)
		}
	}
	c.mustNotBeIn(t, "the transcript", list.raw)

	// Her own view: contact details re-identified, the card not at aal1.
	view := s.journey(http.MethodGet, "/v1/conversations/"+webID+"/messages?view=MESSAGE_VIEW_REIDENTIFIED", aal1, "", nil)
	msgs = view.messages()
	if view.code != http.StatusOK || len(msgs) != 2 {
		t.Fatalf("re-identified transcript at aal1: %d %s", view.code, view.raw)
	}
	if own := msgs[0].Text; !strings.Contains(own, c.name) || !strings.Contains(own, c.email) ||
		!strings.Contains(digitsOf(own), c.phoneDigits) || strings.Contains(own, "[CARD_1]") ||
		strings.Contains(digitsOf(own), c.card) || !strings.Contains(own, c.card[12:]) {
		t.Errorf("her message re-identified at aal1: %q (want name, e-mail, phone, the card masked)", own)
	}

	// Revealing the card needs a second factor: 401 with the challenge.
	reveal := func(tok, placeholder, purpose string) journeyResult {
		t.Helper()
		return s.journey(http.MethodPost, "/v1/conversations/"+webID+":revealValue", tok,
			jsonBody(t, map[string]string{"placeholder": placeholder, "purpose": purpose}), nil)
	}
	r = reveal(aal1, "[CARD_1]", "self_service")
	if r.code != http.StatusUnauthorized || r.reason() != "STEP_UP_REQUIRED" ||
		!strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_user_authentication"`) {
		t.Fatalf("reveal the card at aal1: %d %v %s", r.code, r.header, r.raw)
	}
	c.mustNotBeIn(t, "the step-up challenge", r.raw)

	// She enrols an authenticator app and steps up in the same session.
	begin := s.post("/v1/account/factors:beginTotp", aal1, `{}`)
	uri, _ := begin.body["otpauth_uri"].(string)
	factor, _ := begin.body["factor_id"].(string)
	if begin.code != http.StatusOK || uri == "" {
		t.Fatalf("begin TOTP: %d %s", begin.code, begin.raw)
	}
	now := time.Now()
	if r := s.post("/v1/account/factors:confirmTotp", aal1, `{"factor_id":"`+factor+`","code":"`+totpCode(t, uri, now)+`"}`); r.code != http.StatusOK {
		t.Fatalf("confirm TOTP: %d %s", r.code, r.raw)
	}
	// The next period's code: the one that confirmed the factor is spent.
	up := s.post("/v1/sessions:stepUp", aal1, `{"totp_code":"`+totpCode(t, uri, now.Add(30*time.Second))+`"}`)
	aal2 := tokens(up, "access_token")
	if up.code != http.StatusOK || aal2 == "" {
		t.Fatalf("step-up: %d %s", up.code, up.raw)
	}
	r = reveal(aal2, "[CARD_1]", "self_service")
	if r.code != http.StatusOK || r.body["value"] != c.card || r.body["masked"] == true {
		t.Fatalf("reveal the card at aal2: %d %s", r.code, r.redacted(c))
	}
	view = s.journey(http.MethodGet, "/v1/conversations/"+webID+"/messages?view=MESSAGE_VIEW_REIDENTIFIED", aal2, "", nil)
	if msgs = view.messages(); view.code != http.StatusOK || len(msgs) != 2 || !strings.Contains(digitsOf(msgs[0].Text), c.card) {
		t.Fatalf("re-identified transcript at aal2: %d %s", view.code, view.redacted(c))
	}

	// 2. Hand-off. She asks for a person and follows the chat as events.
	r = s.journey(http.MethodPost, "/v1/conversations/"+webID+":handOff", aal2, `{}`, nil)
	if conv, _ := r.body["conversation"].(map[string]any); r.code != http.StatusOK || conv["state"] != "STATE_WAITING_ON_AGENT" || conv["hand_off_reason"] != "HAND_OFF_REASON_CUSTOMER_REQUEST" {
		t.Fatalf("hand off: %d %s", r.code, r.raw)
	}
	events := s.journeyEvents(webID, aal2, msgs[1].ID)

	agent := s.staffAtAAL2("support_agent")
	waiting := s.journey(http.MethodGet, "/v1/conversations?state=STATE_WAITING_ON_AGENT", agent, "", nil)
	if waiting.code != http.StatusOK || !strings.Contains(waiting.raw, webID) {
		t.Fatalf("the agent's waiting chats: %d %s", waiting.code, waiting.raw)
	}
	if r := s.journey(http.MethodPost, "/v1/conversations/"+webID+":assign", agent, `{}`, nil); r.code != http.StatusOK {
		t.Fatalf("assign: %d %s", r.code, r.raw)
	}
	// The agent reads placeholders, never the re-identified view.
	if r := s.journey(http.MethodGet, "/v1/conversations/"+webID+"/messages", agent, "", nil); r.code != http.StatusOK || !strings.Contains(r.raw, "[CARD_1]") {
		t.Fatalf("the agent's transcript: %d %s", r.code, r.raw)
	} else {
		c.mustNotBeIn(t, "the agent's transcript", r.raw)
	}
	if r := s.journey(http.MethodGet, "/v1/conversations/"+webID+"/messages?view=MESSAGE_VIEW_REIDENTIFIED", agent, "", nil); r.code != http.StatusForbidden || r.reason() != "REIDENTIFIED_CUSTOMERS_ONLY" {
		t.Fatalf("the agent asks for the re-identified view: %d %s", r.code, r.redacted(c))
	}
	r = s.journey(http.MethodPost, "/v1/conversations/"+webID+"/agentReplies", agent,
		`{"text":"Hello, this is Sam from the shop. I will write to [EMAIL_1] about the payment with [CARD_1]."}`, nil)
	if r.code != http.StatusOK {
		t.Fatalf("agent reply: %d %s", r.code, r.raw)
	}
	// The reply reaches her stream, her own values filled in.
	var agentText string
	for agentText == "" {
		ev := events.next(t)
		if ev.event != "message" {
			t.Fatalf("event %q before the agent's reply", ev.event)
		}
		if ev.msg.Author == "AUTHOR_AGENT" {
			agentText = ev.msg.Text
		}
	}
	if !strings.Contains(agentText, c.email) || strings.Contains(agentText, "[EMAIL_1]") || !strings.Contains(agentText, "Sam from the shop") {
		t.Errorf("the agent's reply on her stream: %q", agentText)
	}
	events.close()
	// The agent's reveal of the card is the masked view.
	r = reveal(agent, "[CARD_1]", "order_support")
	if v, _ := r.body["value"].(string); r.code != http.StatusOK || r.body["masked"] != true || !strings.HasSuffix(v, c.card[12:]) || strings.Contains(digitsOf(v), c.card) {
		t.Fatalf("the agent reveals the card: %d %s", r.code, r.redacted(c))
	}

	// 3. WhatsApp: a stranger's message, the link by code and a yes, a linked message.
	ctx := context.Background()
	wa := channeltest.Webhook{URL: s.Info.GatewayURL + "/v1/channels/whatsapp/" + tenant + "/webhook", AppSecret: waSecret}
	deliver := func(text string) {
		t.Helper()
		wamid := channeltest.NewWamID(c.waNumber)
		c.wamids = append(c.wamids, wamid)
		body := channeltest.WhatsAppDelivery{PhoneNumberID: phoneID, Messages: []channeltest.WhatsAppMessage{
			{From: c.waNumber, ID: wamid, Text: text, Name: c.name},
		}}.JSON()
		if resp, err := wa.Deliver(ctx, body); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("WhatsApp delivery: %+v, %v", resp, err)
		}
	}
	deliver("Hi, I am " + c.name + " and I paid with " + c.cardSpaced)
	link := s.journey(http.MethodPost, "/v1/channel-link-codes", aal2, `{"channel":"CHAT_CHANNEL_WHATSAPP"}`, nil)
	code, _ := link.body["code"].(string)
	if link.code != http.StatusOK || code == "" {
		t.Fatalf("link code: %d %s", link.code, link.raw)
	}
	// Linking is two steps (ADR 0014, review fixes): the code, then a yes
	// from the same chat.
	deliver("LINK " + code)
	deliver("YES")
	deliver("Where is my order? My e-mail is " + c.email)
	mine := s.journey(http.MethodGet, "/v1/conversations?channel=CHAT_CHANNEL_WHATSAPP", aal2, "", nil)
	convs, _ := mine.body["conversations"].([]any)
	if mine.code != http.StatusOK || len(convs) != 1 {
		t.Fatalf("her WhatsApp conversations after the link: %d %s", mine.code, mine.raw)
	}
	waID, _ := convs[0].(map[string]any)["conversation_id"].(string)
	wview := s.journey(http.MethodGet, "/v1/conversations/"+waID+"/messages?view=MESSAGE_VIEW_REIDENTIFIED", aal2, "", nil)
	if msgs := wview.messages(); wview.code != http.StatusOK || len(msgs) == 0 || msgs[0].Author != "AUTHOR_CUSTOMER" ||
		!strings.Contains(msgs[0].Text, c.email) || strings.Contains(wview.raw, code) || strings.Contains(wview.raw, c.cardSpaced) {
		t.Fatalf("her linked WhatsApp chat: %d %s", wview.code, wview.redacted(c))
	}
	if r := s.journey(http.MethodGet, "/v1/conversations/"+waID+"/messages", aal2, "", nil); !strings.Contains(r.raw, "[EMAIL_1]") {
		t.Fatalf("her WhatsApp chat in placeholders: %d %s", r.code, r.redacted(c))
	} else {
		c.mustNotBeIn(t, "the WhatsApp transcript", r.raw)
	}

	// Messenger: she links her Page-scoped id first, then writes.
	ms := channeltest.Webhook{URL: s.Info.GatewayURL + "/v1/channels/messenger/" + tenant + "/webhook", AppSecret: msSecret}
	msDeliver := func(text string) {
		t.Helper()
		body := channeltest.MessengerDelivery{PageID: pageID, Events: []channeltest.MessengerEvent{{SenderID: c.psid, Text: text}}}.JSON()
		if resp, err := ms.Deliver(ctx, body); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("Messenger delivery: %+v, %v", resp, err)
		}
	}
	link = s.journey(http.MethodPost, "/v1/channel-link-codes", aal2, `{"channel":"CHAT_CHANNEL_MESSENGER"}`, nil)
	msCode, _ := link.body["code"].(string)
	if link.code != http.StatusOK || msCode == "" {
		t.Fatalf("Messenger link code: %d %s", link.code, link.raw)
	}
	msDeliver("link " + strings.ToLower(msCode))
	msDeliver("yes")
	msDeliver("It's me again: " + c.email + ", " + c.phone)
	mine = s.journey(http.MethodGet, "/v1/conversations?channel=CHAT_CHANNEL_MESSENGER", aal2, "", nil)
	convs, _ = mine.body["conversations"].([]any)
	if mine.code != http.StatusOK || len(convs) != 1 {
		t.Fatalf("her Messenger conversations after the link: %d %s", mine.code, mine.raw)
	}
	msID, _ := convs[0].(map[string]any)["conversation_id"].(string)
	if r := s.journey(http.MethodGet, "/v1/conversations/"+msID+"/messages", aal2, "", nil); !strings.Contains(r.raw, "[EMAIL_1]") || !strings.Contains(r.raw, "[PHONE_1]") {
		t.Fatalf("her Messenger chat in placeholders: %d %s", r.code, r.redacted(c))
	} else {
		c.mustNotBeIn(t, "the Messenger transcript", r.raw)
	}
	if r := s.journey(http.MethodGet, "/v1/conversations/"+msID+"/messages?view=MESSAGE_VIEW_REIDENTIFIED", aal2, "", nil); !strings.Contains(r.raw, c.email) {
		t.Fatalf("her Messenger chat re-identified: %d %s", r.code, r.redacted(c))
	}

	// The agent sees both WhatsApp chats: the stranger's (closed by the
	// link, under the WhatsApp user's pseudonym) and the linked one.
	waChats := s.journey(http.MethodGet, "/v1/conversations?channel=CHAT_CHANNEL_WHATSAPP", agent, "", nil)
	var waIDs []string
	pseudonym := ""
	all, _ := waChats.body["conversations"].([]any)
	for _, x := range all {
		conv, _ := x.(map[string]any)
		id, _ := conv["conversation_id"].(string)
		waIDs = append(waIDs, id)
		if sub, _ := conv["customer_subject"].(string); sub != alice.accountID {
			pseudonym = sub
			if conv["state"] != "STATE_CLOSED" {
				t.Errorf("the stranger's chat after the link: %v", conv)
			}
		}
	}
	if waChats.code != http.StatusOK || len(waIDs) != 2 || pseudonym == "" {
		t.Fatalf("the agent's WhatsApp chats: %d %s", waChats.code, waChats.raw)
	}

	// A second customer's chat, kept through the erasure: the control that
	// shows the file search below finds what conversation stores.
	bob := s.signUpCustomer("control")
	bobTok, _ := s.login(bob, false)
	control := "journeycontrol" + hex.EncodeToString(randomBytes(t, 6))
	bobConv := s.journey(http.MethodPost, "/v1/conversations", bobTok, `{"channel":"CHAT_CHANNEL_WEB"}`, nil).conversationID()
	if r := s.journey(http.MethodPost, "/v1/conversations/"+bobConv+"/messages", bobTok, `{"text":"What are your opening hours? `+control+`"}`, nil); r.code != http.StatusOK {
		t.Fatalf("the control chat: %d %s", r.code, r.raw)
	}

	// 4. Erasure through consent's data-subject requests.
	dpo := s.privacyOfficer()
	erasure := s.createDSR(aal2, "REQUEST_TYPE_ERASURE", "journey-erase")
	erasure = s.waitDSR(dpo, erasure.RequestID, completed)
	done := map[string]string{}
	for _, st := range erasure.Steps {
		done[st.Participant] = st.State
	}
	for _, p := range []string{"tokenvault", "identity", "audit", "consent", "conversation"} {
		if done[p] != "STEP_STATE_DONE" {
			t.Errorf("erasure step of %s: %q (%+v)", p, done[p], erasure.Steps)
		}
	}
	if left := s.journey(http.MethodGet, "/v1/conversations?channel=CHAT_CHANNEL_WHATSAPP", agent, "", nil); left.code != http.StatusOK || strings.Contains(left.raw, "conversation_id") {
		t.Errorf("WhatsApp chats left after the erasure: %d %s", left.code, left.raw)
	}
	for _, id := range append([]string{webID, msID}, waIDs...) {
		if r := s.journey(http.MethodGet, "/v1/conversations/"+id, agent, "", nil); r.code != http.StatusNotFound {
			t.Errorf("conversation %s after the erasure, as the agent: %d %s", id, r.code, r.raw)
		}
		if id != webID && id != waID && id != msID {
			continue // the stranger's chat was never hers to read
		}
		if r := s.journey(http.MethodGet, "/v1/conversations/"+id+"/messages", aal2, "", nil); r.code != http.StatusUnauthorized {
			t.Errorf("her old token on %s after the erasure: %d %s", id, r.code, r.raw)
		}
	}
	t.Logf("the journey took %v after the suite was up", time.Since(started).Round(time.Millisecond))

	if r := s.journey(http.MethodGet, "/v1/conversations/"+bobConv, bobTok, "", nil); r.code != http.StatusOK {
		t.Fatalf("the other customer's chat after her erasure: %d %s", r.code, r.raw)
	}
	// The values the WhatsApp user typed before linking were tokenised
	// under the pseudonym; they are hers and go with her erasure.
	tvPrivacy := privacyv1.NewPrivacyParticipantServiceClient(s.Dial("consent", "tokenvault", s.Info.Services["tokenvault"].GRPC))
	t.Run("the WhatsApp pseudonym's values are erased", func(t *testing.T) { pseudonymHoldsNothing(t, tvPrivacy, tenant, pseudonym) })

	// 5. Every file the suite wrote, searched while it runs (WAL and
	// shared-memory files included) and again once it stopped.
	c.searchState(t, state, control, code, msCode)
	s.stop()
	c.searchState(t, state, control, code, msCode)
}

// pseudonymHoldsNothing asks tokenvault, as consent does (cli is its
// privacy participant API dialled as consent), for what it holds for
// subject in tenant.
func pseudonymHoldsNothing(t *testing.T, cli privacyv1.PrivacyParticipantServiceClient, tenant, subject string) {
	t.Helper()
	resp, err := cli.Export(context.Background(), &privacyv1.ExportRequest{
		Subject:   &privacyv1.Subject{Tenant: tenant, Subject: subject},
		RequestId: "journey-after-erasure",
	})
	if err != nil {
		t.Fatalf("tokenvault export of the WhatsApp pseudonym: %v", err)
	}
	if n := len(resp.GetItems()); n != 0 {
		// What kinds of values, never the values (test output is kept).
		var kinds []string
		for _, it := range resp.GetItems() {
			k := it.GetCategory()
			for _, f := range it.GetFields() {
				if f.GetName() == "data_type" || f.GetName() == "scope" {
					k += " " + f.GetName() + "=" + f.GetValue()
				}
			}
			kinds = append(kinds, k)
		}
		t.Errorf("after her erasure tokenvault still holds %d values under the pseudonym %s of her linked WhatsApp user "+
			"(its number and what it typed before the link), which nothing references any more: %q", n, subject, kinds)
	}
}

// journeyCanaries are one run's personal data, in every spelling searched.
type journeyCanaries struct {
	name, email, phone, phoneDigits string
	card, cardSpaced                string // digits only, and as typed
	waNumber                        string // the WhatsApp sender, digits only
	psid                            string // the Messenger sender (Page-scoped id)
	wamids                          []string
	account                         string // the customer's sign-up address
}

func newJourneyCanaries(t *testing.T) journeyCanaries {
	t.Helper()
	email, card := sealingCanaries(t)
	last := canaryDigits(t, "", 4)
	c := journeyCanaries{
		// A name pkg/pii recognises after "my name is"; the state directory
		// is new, so it can only come from this test.
		name:        "Rosalind Quarrington",
		email:       email,
		phone:       "+1 415 867 " + last,
		phoneDigits: "1415867" + last,
		card:        card,
		cardSpaced:  card[:4] + " " + card[4:8] + " " + card[8:12] + " " + card[12:],
		waNumber:    canaryDigits(t, "4477009", 12),
		psid:        canaryDigits(t, "67505", 16),
	}
	return c
}

// spellings are the byte strings no stored file may hold: each value as
// typed, lower-cased, and without spaces, plus the parts that identify on
// their own.
func (c journeyCanaries) spellings() []string {
	base := []string{c.name, "Quarrington", c.email, c.email[:strings.IndexByte(c.email, '@')], c.phone,
		c.phoneDigits, "415867" + c.phoneDigits[7:], c.card, c.cardSpaced, c.waNumber, c.psid}
	base = append(base, c.wamids...)
	if c.account != "" {
		base = append(base, c.account)
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range base {
		for _, s := range []string{v, strings.ToLower(v), strings.ReplaceAll(v, " ", ""), strings.ToLower(strings.ReplaceAll(v, " ", ""))} {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func (c journeyCanaries) mustNotBeIn(t *testing.T, where, text string) {
	t.Helper()
	low := strings.ToLower(text)
	for _, v := range c.spellings() {
		if strings.Contains(low, strings.ToLower(v)) {
			t.Errorf("%s holds the canary %q", where, v)
		}
	}
}

// searchState reads every regular file under state and fails on any
// canary, naming the file; the link codes (one-time, used) are searched too.
// control must be found (in conversation's database or its WAL), or the
// search proves nothing.
func (c journeyCanaries) searchState(t *testing.T, state, control string, linkCodes ...string) {
	t.Helper()
	needles := append(c.spellings(), linkCodes...)
	controlFound := false
	searched, bytesRead := 0, 0
	kinds := map[string]int{}
	err := filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(state, path)
		searched++
		bytesRead += len(b)
		switch {
		case strings.HasSuffix(rel, "-wal"):
			kinds["wal"]++
		case strings.HasSuffix(rel, "-shm"):
			kinds["shm"]++
		case strings.HasSuffix(rel, ".db"):
			kinds["db"]++
		case strings.HasSuffix(rel, ".log"):
			kinds["log"]++
		case strings.HasSuffix(rel, ".jsonl"):
			kinds["jsonl"]++
		}
		if strings.HasPrefix(rel, "data/conversation.db") && bytes.Contains(b, []byte(control)) {
			controlFound = true
		}
		low := bytes.ToLower(b)
		for _, v := range needles {
			if bytes.Contains(b, []byte(v)) || bytes.Contains(low, []byte(strings.ToLower(v))) {
				t.Errorf("%s holds the canary %q", rel, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("searched %d files (%d bytes; %v) for %d spellings", searched, bytesRead, kinds, len(needles))
	if !controlFound {
		t.Errorf("the control %q is not in conversation's files: the search does not see what is stored", control)
	}
	for _, must := range []string{"data/conversation.db", "data/tokenvault.db", "data/identity.db", "data/audit.db", "data/consent.db", "logs/conversation.log", "logs/gateway.log"} {
		if fi, err := os.Stat(filepath.Join(state, must)); err != nil || fi.Size() == 0 {
			t.Errorf("%s was not there to search (%v): the search would prove nothing about it", must, err)
		}
	}
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// journeyResult is a gateway answer with its headers.
type journeyResult struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (r journeyResult) reason() string { return errorReason(restResult{body: r.body}) }

func (r journeyResult) conversationID() string {
	conv, _ := r.body["conversation"].(map[string]any)
	id, _ := conv["conversation_id"].(string)
	return id
}

// redacted is the raw answer with the canaries blotted out, for failure
// messages (a test's output is a stored file too).
func (r journeyResult) redacted(c journeyCanaries) string { return c.redact(r.raw) }

func (c journeyCanaries) redact(out string) string {
	for _, v := range c.spellings() {
		out = strings.ReplaceAll(out, v, "<canary>")
	}
	return out
}

type journeyMessage struct {
	ID     string `json:"message_id"`
	Author string `json:"author"`
	Text   string `json:"text"`
}

func (r journeyResult) messages() []journeyMessage {
	var body struct {
		Messages []journeyMessage `json:"messages"`
	}
	json.Unmarshal([]byte(r.raw), &body)
	return body.Messages
}

// journey sends a request to the gateway as a browser's fetch would.
func (s *suite) journey(method, path, token, body string, header http.Header) journeyResult {
	t := s.t
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.Info.GatewayURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := journeyResult{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &r.body)
	return r
}

// staffAtAAL2 is a staff member with role, created by the first admin, who
// set a password from the set-password mail, enrolled an authenticator app
// and stepped up: an aal2 token.
func (s *suite) staffAtAAL2(role string) string {
	t := s.t
	t.Helper()
	id := hex.EncodeToString(randomBytes(t, 6))
	email := strings.ReplaceAll(role, "_", "-") + "-" + id + "@example.com"
	password := "staff " + id + " Plover"
	if r := s.post("/v1/staff", s.OperatorToken(), `{"email":"`+email+`","roles":["`+role+`"],"request_id":"staff-`+id+`"}`); r.code != http.StatusOK {
		t.Fatalf("create %s: %d %s", role, r.code, r.raw)
	}
	if r := s.post("/v1/accounts:resetPassword", "", `{"code":"`+s.mailboxCodeOf(email, "set_password")+`","new_password":"`+password+`"}`); r.code != http.StatusOK {
		t.Fatalf("set the %s's password: %d %s", role, r.code, r.raw)
	}
	login := s.post("/v1/sessions:login", "", `{"email":"`+email+`","password":"`+password+`"}`)
	aal1 := tokens(login, "access_token")
	if login.code != http.StatusOK || aal1 == "" {
		t.Fatalf("%s login: %d %s", role, login.code, login.raw)
	}
	begin := s.post("/v1/account/factors:beginTotp", aal1, `{}`)
	uri, _ := begin.body["otpauth_uri"].(string)
	factor, _ := begin.body["factor_id"].(string)
	now := time.Now()
	if r := s.post("/v1/account/factors:confirmTotp", aal1, `{"factor_id":"`+factor+`","code":"`+totpCode(t, uri, now)+`"}`); r.code != http.StatusOK {
		t.Fatalf("%s TOTP: %d %s", role, r.code, r.raw)
	}
	up := s.post("/v1/sessions:stepUp", aal1, `{"totp_code":"`+totpCode(t, uri, now.Add(30*time.Second))+`"}`)
	if up.code != http.StatusOK || tokens(up, "access_token") == "" {
		t.Fatalf("%s step-up: %d %s", role, up.code, up.raw)
	}
	return tokens(up, "access_token")
}

// journeyStream is a conversation's Server-Sent Events, read as the web
// widget does (fetch with the Authorization header).
type journeyStream struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

type journeyEvent struct {
	event, id string
	msg       journeyMessage
}

// journeyEvents opens the stream of conversation id in the re-identified
// view, resuming after the message afterID (Last-Event-ID).
func (s *suite) journeyEvents(id, token, afterID string) *journeyStream {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Info.GatewayURL+"/v1/conversations/"+id+"/events?view=MESSAGE_VIEW_REIDENTIFIED", nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if afterID != "" {
		req.Header.Set("Last-Event-ID", afterID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("event stream: %d %s", resp.StatusCode, raw)
	}
	st := &journeyStream{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(st.close)
	return st
}

func (st *journeyStream) next(t *testing.T) journeyEvent {
	t.Helper()
	var ev journeyEvent
	var data string
	for {
		line, err := st.r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream ended: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" && ev.event != "" {
			var body struct {
				Message journeyMessage `json:"message"`
			}
			if ev.event == "message" {
				if err := json.Unmarshal([]byte(data), &body); err != nil {
					t.Fatalf("event data: %v", err)
				}
				ev.msg = body.Message
			}
			return ev
		}
		field, value, _ := strings.Cut(line, ": ")
		switch field {
		case "event":
			ev.event = value
		case "id":
			ev.id = value
		case "data":
			data = value
		}
	}
}

func (st *journeyStream) close() {
	st.cancel()
	st.resp.Body.Close()
}

package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/secrets"
)

// crmSuite starts the suite with crmsync sending to a HubSpot emulator
// under mapping (the shop "default"), its private app token in the local
// secrets file.
func crmSuite(t *testing.T, mapping string) (*suite, *crmtest.HubSpot) {
	t.Helper()
	const token = "pat-na1-e2e-crm-events"
	hubspot := crmtest.NewHubSpot(t, token, "sotto_subject")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "hubspot-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hubspot.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	mappings := filepath.Join(dir, "mappings")
	if err := os.MkdirAll(filepath.Join(mappings, "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mappings, "default", "hubspot.yaml"), []byte(mapping), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings, "SOTTO_CRMSYNC_HUBSPOT_URL=" + hubspot.URL(),
		"SOTTO_CRMSYNC_CA_FILE=" + caFile, "SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32"}, manyLogins...)
	s := startSuite(t, t.TempDir(), env...)
	s.waitNotDegraded("audit", "tokenvault", "consent", "conversation", "crmsync", "identity")
	secretsFile := filepath.Join(s.State, "secrets.json")
	all := map[string]map[string]string{}
	if b, err := os.ReadFile(secretsFile); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
	}
	all["sotto/crm/default/hubspot"] = map[string]string{"private_app_token": token}
	if err := secrets.WriteFile(secretsFile, all); err != nil {
		t.Fatal(err)
	}
	return s, hubspot
}

// jobStates counts a service's pkg/jobs jobs of kind by state, read from
// its SQLite database.
func jobStates(t *testing.T, state, service, kind string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(state, "data", service+".db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT state FROM jobs WHERE kind = ?`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			t.Fatal(err)
		}
		out[st]++
	}
	return out
}

// crmHeld counts the refused customer events crmsync holds (ADR 0015,
// "Held events"), read from its SQLite database.
func crmHeld(t *testing.T, state string) int {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(state, "data", "crmsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM crm_held_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func eventually(t *testing.T, s *suite, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s\n%s", what, s.Output())
		}
	}
}

// TestCRMEventsFromIdentityAndConversation runs the suite's binaries with
// crmsync sending to the HubSpot emulator, and the events coming from the
// services that make them: identity (a sign-up, a rectified phone number)
// and conversation (a closed conversation's summary), and consent's feed
// (a marketing withdrawal as HubSpot's opt-out property).
//
//  1. A customer signs up with a phone number: identity's job records the
//     event, and with no crm_sync consent yet nothing reaches HubSpot;
//     crmsync holds the refused sign-up (ADR 0015, "Held events").
//  2. She grants crm_sync: the grant releases her sign-up, and HubSpot gets
//     exactly the mapped properties (her address in plaintext, as the
//     mapping says; the number as its token); nothing stays held. She
//     grants marketing: HubSpot has her, so its opt-out property is
//     "false". Her phone number is corrected: the phone property is the new
//     number's token.
//  3. Corrected again: HubSpot's phone property is the new token.
//  4. She chats (her name and a second address in the message) and closes
//     the conversation: HubSpot's summary property holds placeholders,
//     neither value. An anonymous visitor's closed conversation makes no
//     job at all.
//  5. She withdraws marketing: the opt-out property flips to true.
//  6. Canary search: none of her values is in any file of the state
//     directory (databases with their WAL and shared memory, logs), bar
//     identity's dev mailbox, which is the e-mail she is sent.
func TestCRMEventsFromIdentityAndConversation(t *testing.T) {
	s, hubspot := crmSuite(t, `fields:
  - {field: email, property: email, purpose: crm_sync, form: plaintext}
  - {field: phone, property: phone, purpose: crm_sync}
  - {field: conversation_summary, property: sotto_last_conversation, purpose: crm_sync}
consents:
  - {purpose: marketing, property: sotto_marketing_opt_out, granted: "false", withdrawn: "true"}
`)
	ctx := context.Background()
	c := newJourneyCanaries(t)
	phone1 := "+" + c.phoneDigits // E.164, as identity takes it
	phone2 := "+1415867" + canaryDigits(t, "", 4)

	// 1. Sign-up, no consent yet.
	alice := customer{email: c.email, password: "e2e crm events " + canaryDigits(t, "", 8) + " Kestrel"}
	if r := s.post("/v1/accounts:signUp", "", jsonBody(t, map[string]string{"tenant": "default", "email": alice.email,
		"password": alice.password, "phone": phone1})); r.code != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.code, r.raw)
	}
	if r := s.post("/v1/accounts:verifyEmail", "", `{"code":"`+s.mailboxCode(alice.email)+`"}`); r.code != http.StatusOK {
		t.Fatalf("verify: %d %s", r.code, r.raw)
	}
	eventually(t, s, "identity recorded the sign-up in crmsync", func() bool {
		return jobStates(t, s.State, "identity", "identity.crm_event")["completed"] == 1
	})
	tok := s.aal2Customer(alice)
	acc := s.get("/v1/account", tok)
	account, _ := acc.body["account"].(map[string]any)
	alice.accountID, _ = account["account_id"].(string)
	if alice.accountID == "" {
		t.Fatalf("account: %d %s", acc.code, acc.raw)
	}
	if _, ok := hubspot.Record(alice.accountID); ok || len(hubspot.Seen(alice.accountID)) != 0 {
		t.Fatal("HubSpot got a customer who had not allowed crm_sync")
	}

	// 2. Consent releases the held sign-up, then a correction of her phone
	// number.
	grant := func(purpose, notice string) {
		t.Helper()
		if r := s.post("/v1/consent/purposes/"+purpose+":grant", tok, `{"notice":{"notice_id":"`+notice+`","version":1,"language":"en"},
			"channel":"CHANNEL_WEB","request_id":"crm-events-grant-`+purpose+`"}`); r.code != http.StatusOK {
			t.Fatalf("grant %s: %d %s", purpose, r.code, r.raw)
		}
	}
	if n := crmHeld(t, s.State); n != 1 {
		t.Fatalf("crmsync holds %d refused events, want her sign-up", n)
	}
	grant("crm_sync", "crm-sharing")
	eventually(t, s, "the grant released her sign-up to HubSpot", func() bool { _, ok := hubspot.Record(alice.accountID); return ok })
	got, _ := hubspot.Record(alice.accountID)
	if len(got) != 3 || got["sotto_subject"] != alice.accountID || got["email"] != alice.email || got["phone"] == "" ||
		strings.Contains(digitsOf(got["phone"]), digitsOf(phone1)[4:]) {
		t.Fatalf("HubSpot holds %v after the grant: want her subject, address and the token of her number, nothing else", got)
	}
	releasedPhone := got["phone"]
	eventually(t, s, "the held sign-up gone", func() bool { return crmHeld(t, s.State) == 0 })
	grant("marketing", "marketing")
	eventually(t, s, "HubSpot's opt-out property false", func() bool {
		r, _ := hubspot.Record(alice.accountID)
		return r["sotto_marketing_opt_out"] == "false"
	})
	privacy := privacyv1.NewPrivacyParticipantServiceClient(s.Dial("consent", "identity", s.Info.Services["identity"].GRPC))
	rectify := func(id, phone string) {
		t.Helper()
		r, err := privacy.Rectify(ctx, &privacyv1.RectifyRequest{Subject: &privacyv1.Subject{Tenant: "default", Subject: alice.accountID},
			RequestId: id, Corrections: []*privacyv1.Correction{{Category: "identity.account", Field: "phone", Value: phone}}})
		if err != nil || r.GetEvidence().GetCounts()["corrections_applied"] != 1 {
			t.Fatalf("rectify: %v %v", r, err)
		}
	}
	rectify("crm-events-phone-1", phone2)
	eventually(t, s, "HubSpot has her new number", func() bool { r, _ := hubspot.Record(alice.accountID); return r["phone"] != releasedPhone })
	got, _ = hubspot.Record(alice.accountID)
	if len(got) != 4 || got["sotto_subject"] != alice.accountID || got["email"] != alice.email || got["phone"] == "" ||
		got["sotto_marketing_opt_out"] != "false" || strings.Contains(digitsOf(got["phone"]), digitsOf(phone2)[4:]) {
		t.Fatalf("HubSpot holds %v: want her subject, address, opt-out flag and the token of her number, nothing else", got)
	}
	firstPhone := got["phone"]

	// 3. A second correction updates the record.
	rectify("crm-events-phone-2", phone1)
	eventually(t, s, "HubSpot has her new number's token", func() bool {
		r, _ := hubspot.Record(alice.accountID)
		return r["phone"] != "" && r["phone"] != firstPhone
	})
	if hubspot.Counts().Creates != 1 {
		t.Fatalf("HubSpot counts %+v: an update made a second record", hubspot.Counts())
	}

	// 4. A closed conversation's summary, placeholders only.
	aal1, _ := s.login(alice, true)
	r := s.journey(http.MethodPost, "/v1/conversations", aal1, `{"channel":"CHAT_CHANNEL_WEB"}`, nil)
	conv := r.conversationID()
	if r.code != http.StatusOK || conv == "" {
		t.Fatalf("open: %d %s", r.code, r.redacted(c))
	}
	text := "Hello, my name is " + c.name + ". Please write to " + c.email + " about my order."
	if r := s.journey(http.MethodPost, "/v1/conversations/"+conv+"/messages", aal1, jsonBody(t, map[string]string{"text": text}), nil); r.code != http.StatusOK {
		t.Fatalf("post: %d %s", r.code, r.redacted(c))
	}
	if r := s.journey(http.MethodPost, "/v1/conversations/"+conv+":close", aal1, `{}`, nil); r.code != http.StatusOK {
		t.Fatalf("close: %d %s", r.code, r.redacted(c))
	}
	eventually(t, s, "HubSpot has her conversation's summary", func() bool {
		r, _ := hubspot.Record(alice.accountID)
		return strings.Contains(r["sotto_last_conversation"], conv)
	})
	got, _ = hubspot.Record(alice.accountID)
	summary := got["sotto_last_conversation"]
	if !strings.Contains(summary, "[EMAIL_1]") || !strings.Contains(summary, "[PERSON_1]") {
		t.Errorf("the summary is not the placeholder view: %q", c.redact(summary))
	}
	c.mustNotBeIn(t, "HubSpot's summary", summary)

	// An anonymous visitor's closed conversation: no summary job at all.
	vr := s.Request(http.MethodPost, "/v1/visitor-sessions", "", `{"tenant":"default"}`)
	vis, _ := vr.Body["access_token"].(string)
	vr = s.Request(http.MethodPost, "/v1/conversations", vis, `{"channel":"CHAT_CHANNEL_WEB"}`)
	vconv, _ := vr.Body["conversation"].(map[string]any)
	vid, _ := vconv["conversation_id"].(string)
	if vis == "" || vid == "" {
		t.Fatalf("visitor: %d %s", vr.Code, vr.Raw)
	}
	if vr := s.Request(http.MethodPost, "/v1/conversations/"+vid+":close", vis, `{}`); vr.Code != http.StatusOK {
		t.Fatalf("visitor close: %d %s", vr.Code, vr.Raw)
	}
	if n := jobStates(t, s.State, "conversation", "conversation.crm_summary"); n["completed"]+n["available"]+n["running"]+n["retryable"]+n["dead"] != 1 {
		t.Fatalf("summary jobs %v: want her conversation's only", n)
	}

	// 5. Marketing withdrawn: HubSpot's opt-out property flips.
	if got["sotto_marketing_opt_out"] != "false" {
		t.Fatalf("HubSpot's opt-out property before the withdrawal: %v", got)
	}
	if r := s.post("/v1/consent/purposes/marketing:withdraw", tok, `{"channel":"CHANNEL_WEB","request_id":"crm-events-withdraw-marketing"}`); r.code != http.StatusOK {
		t.Fatalf("withdraw marketing: %d %s", r.code, r.raw)
	}
	eventually(t, s, "HubSpot's opt-out property flipped", func() bool {
		r, _ := hubspot.Record(alice.accountID)
		return r["sotto_marketing_opt_out"] == "true"
	})

	// 6. Canary search of the state directory, after the services have
	// written what they will (stopped).
	c.account = alice.email
	s.stop()
	searchCRMState(t, s.State, alice.accountID, c, phone2)
}

// searchCRMState reads every regular file under state and fails on any of
// c's spellings or extra values; identity's dev mailbox (the messages sent
// to the customer's address) is the one file expected to hold the address.
// control (the customer's subject, which crmsync keeps in the clear) must be
// found in crmsync's database files, or the search proves nothing.
func searchCRMState(t *testing.T, state, control string, c journeyCanaries, extra ...string) {
	t.Helper()
	needles := c.spellings()
	for _, v := range extra {
		needles = append(needles, v, strings.ReplaceAll(v, " ", ""), digitsOf(v))
	}
	searched, controlFound := 0, false
	err := filepath.WalkDir(state, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(state, path)
		if strings.HasSuffix(rel, "identity-mailbox.jsonl") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		searched++
		if strings.HasPrefix(rel, "data/crmsync.db") && strings.Contains(string(b), control) {
			controlFound = true
		}
		low := strings.ToLower(string(b))
		for _, v := range needles {
			if strings.Contains(low, strings.ToLower(v)) {
				t.Errorf("%s holds the canary %q", rel, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("searched %d files for %d spellings", searched, len(needles))
	if !controlFound {
		// crmsync keeps the subject in the clear (ADR 0015): a search that
		// does not find it does not see what crmsync stores.
		t.Errorf("the control %q is not in crmsync's files: the search does not see what is stored", control)
	}
	for _, must := range []string{"data/crmsync.db", "data/identity.db", "data/conversation.db", "logs/crmsync.log", "logs/identity.log", "logs/conversation.log"} {
		if fi, err := os.Stat(filepath.Join(state, must)); err != nil || fi.Size() == 0 {
			t.Errorf("%s was not there to search (%v)", must, err)
		}
	}
}

// TestCRMSalesforceJourney: the journey through the binaries with a
// Salesforce org (pkg/crmtest's emulator: OAuth client credentials, upsert
// by external id, delete and read-back). A customer signs up, allows
// crm_sync and marketing; identity's event of her corrected phone number
// reaches the org with exactly the mapped fields; her marketing withdrawal
// sets HasOptedOutOfEmail; her erasure request completes with crmsync's
// step done and the org answering not-found for her.
func TestCRMSalesforceJourney(t *testing.T) {
	const clientID, clientSecret = "3MVG9e2e-journey-app", "connected-app-secret-journey"
	sf := crmtest.NewSalesforce(t, clientID, clientSecret, "v62.0", "Contact", "Sotto_Subject__c")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "sf-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sf.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	mappings := filepath.Join(dir, "mappings")
	if err := os.MkdirAll(filepath.Join(mappings, "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mappings, "default", "salesforce.yaml"), []byte(`salesforce: {url: '`+sf.URL()+`', external_id_field: Sotto_Subject__c}
fields:
  - {field: email, property: Email, purpose: crm_sync, form: plaintext}
  - {field: phone, property: Phone, purpose: crm_sync}
consents:
  - {purpose: marketing, property: HasOptedOutOfEmail, granted: "false", withdrawn: "true"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSuite(t, t.TempDir(), append([]string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings, "SOTTO_CRMSYNC_CA_FILE=" + caFile,
		"SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32", "SOTTO_CRMSYNC_ERASURE_READ_BACK_WAIT=50ms"}, manyLogins...)...)
	s.waitNotDegraded("audit", "tokenvault", "consent", "conversation", "crmsync", "identity")
	ctx := context.Background()
	secretsFile := filepath.Join(s.State, "secrets.json")
	all := map[string]map[string]string{}
	if b, err := os.ReadFile(secretsFile); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
	}
	all["sotto/crm/default/salesforce"] = map[string]string{"client_id": clientID, "client_secret": clientSecret}
	if err := secrets.WriteFile(secretsFile, all); err != nil {
		t.Fatal(err)
	}

	erin := s.signUpCustomer("crmerin")
	tok := s.aal2Customer(erin)
	for _, g := range []struct{ purpose, notice string }{{"crm_sync", "crm-sharing"}, {"marketing", "marketing"}} {
		if r := s.post("/v1/consent/purposes/"+g.purpose+":grant", tok, `{"notice":{"notice_id":"`+g.notice+`","version":1,"language":"en"},
			"channel":"CHANNEL_WEB","request_id":"crm-sf-grant-`+g.purpose+`"}`); r.code != http.StatusOK {
			t.Fatalf("grant %s: %d %s", g.purpose, r.code, r.raw)
		}
	}
	phone := "+1415555" + canaryDigits(t, "", 4)
	privacy := privacyv1.NewPrivacyParticipantServiceClient(s.Dial("consent", "identity", s.Info.Services["identity"].GRPC))
	if r, err := privacy.Rectify(ctx, &privacyv1.RectifyRequest{Subject: &privacyv1.Subject{Tenant: "default", Subject: erin.accountID},
		RequestId: "crm-sf-phone", Corrections: []*privacyv1.Correction{{Category: "identity.account", Field: "phone", Value: phone}}}); err != nil ||
		r.GetEvidence().GetCounts()["corrections_applied"] != 1 {
		t.Fatalf("rectify: %v %v", r, err)
	}
	eventually(t, s, "the org has her", func() bool { r, _ := sf.Record(erin.accountID); return r["Phone"] != "" })
	got, _ := sf.Record(erin.accountID)
	// Her grant of crm_sync released her sign-up (ADR 0015, "Held events"),
	// so her marketing grant may have reached the org as well, as "false".
	if got["Email"] != erin.email || got["Phone"] == phone || got["HasOptedOutOfEmail"] == "true" {
		t.Fatalf("the org holds %v: want her address and her number's token only", got)
	}
	for k := range got {
		if k != "Email" && k != "Phone" && k != "Sotto_Subject__c" && k != "HasOptedOutOfEmail" {
			t.Errorf("the org got the unmapped %s", k)
		}
	}

	if r := s.post("/v1/consent/purposes/marketing:withdraw", tok, `{"channel":"CHANNEL_WEB","request_id":"crm-sf-withdraw-marketing"}`); r.code != http.StatusOK {
		t.Fatalf("withdraw marketing: %d %s", r.code, r.raw)
	}
	eventually(t, s, "HasOptedOutOfEmail set", func() bool { r, _ := sf.Record(erin.accountID); return r["HasOptedOutOfEmail"] == "true" })

	dpo := s.privacyOfficer()
	erasure := s.createDSR(tok, "REQUEST_TYPE_ERASURE", "crm-sf-erase-erin")
	erasure = s.waitDSR(dpo, erasure.RequestID, completed)
	step := false
	for _, st := range erasure.Steps {
		if st.Participant == "crmsync" {
			step = st.State == "STEP_STATE_DONE" && st.Evidence.Counts["crm_records_confirmed_gone"] == "1"
			if !step {
				t.Fatalf("crmsync's step: %+v", st)
			}
		}
	}
	if !step {
		t.Fatalf("no crmsync step: %+v", erasure.Steps)
	}
	if _, ok := sf.Record(erin.accountID); ok {
		t.Fatal("the org still has her after the erasure")
	}
}

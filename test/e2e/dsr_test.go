package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
)

// aal2Customer enrols an authenticator app for c, signs in and steps up: a
// token that may exercise data-subject rights (aal2, recent).
func (s *suite) aal2Customer(c customer) string {
	t := s.t
	t.Helper()
	aal1, _ := s.login(c, false)
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
	aal1, _ = s.login(c, true)
	// The next period's code: the one used to confirm is spent.
	up := s.post("/v1/sessions:stepUp", aal1, `{"totp_code":"`+totpCode(t, uri, now.Add(30*time.Second))+`"}`)
	if up.code != http.StatusOK || tokens(up, "access_token") == "" {
		t.Fatalf("step-up: %d %s", up.code, up.raw)
	}
	return tokens(up, "access_token")
}

// privacyOfficer is a staff member with the privacy_officer role, created
// by the first admin, who set a password from the set-password mail,
// enrolled an authenticator app and stepped up: an aal2 token.
func (s *suite) privacyOfficer() string {
	t := s.t
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	email := "dpo-" + hex.EncodeToString(b[:]) + "@example.com"
	password := "officer " + hex.EncodeToString(b[:]) + " Heron"
	if r := s.post("/v1/staff", s.OperatorToken(), `{"email":"`+email+`","roles":["privacy_officer"],"request_id":"dpo-`+hex.EncodeToString(b[:])+`"}`); r.code != http.StatusOK {
		t.Fatalf("create the privacy officer: %d %s", r.code, r.raw)
	}
	if r := s.post("/v1/accounts:resetPassword", "", `{"code":"`+s.mailboxCodeOf(email, "set_password")+`","new_password":"`+password+`"}`); r.code != http.StatusOK {
		t.Fatalf("set the officer's password: %d %s", r.code, r.raw)
	}
	login := s.post("/v1/sessions:login", "", `{"email":"`+email+`","password":"`+password+`"}`)
	aal1 := tokens(login, "access_token")
	if login.code != http.StatusOK || aal1 == "" {
		t.Fatalf("officer login: %d %s", login.code, login.raw)
	}
	begin := s.post("/v1/account/factors:beginTotp", aal1, `{}`)
	uri, _ := begin.body["otpauth_uri"].(string)
	factor, _ := begin.body["factor_id"].(string)
	confirm := s.post("/v1/account/factors:confirmTotp", aal1, `{"factor_id":"`+factor+`","code":"`+totpCode(t, uri, time.Now())+`"}`)
	codes, _ := confirm.body["recovery_codes"].([]any)
	if confirm.code != http.StatusOK || len(codes) == 0 {
		t.Fatalf("officer TOTP: %d %s", confirm.code, confirm.raw)
	}
	up := s.post("/v1/sessions:stepUp", aal1, `{"recovery_code":"`+codes[0].(string)+`"}`)
	if up.code != http.StatusOK || tokens(up, "access_token") == "" {
		t.Fatalf("officer step-up: %d %s", up.code, up.raw)
	}
	return tokens(up, "access_token")
}

// dsr is a data-subject request as the REST API shows it.
type dsr struct {
	RequestID string `json:"request_id"`
	State     string `json:"state"`
	Steps     []struct {
		Participant string `json:"participant"`
		State       string `json:"state"`
		Evidence    struct {
			Outcome     string            `json:"outcome"`
			Counts      map[string]string `json:"counts"`
			AlreadyDone bool              `json:"already_done"`
		} `json:"evidence"`
	} `json:"steps"`
	History []struct {
		To string `json:"to"`
	} `json:"history"`
}

func decodeDSR(t *testing.T, r restResult) dsr {
	t.Helper()
	var body struct {
		Request dsr `json:"request"`
	}
	if err := json.Unmarshal([]byte(r.raw), &body); err != nil || body.Request.RequestID == "" {
		t.Fatalf("not a request: %d %s", r.code, r.raw)
	}
	return body.Request
}

func (s *suite) createDSR(token, typ, key string) dsr {
	s.t.Helper()
	r := s.post("/v1/privacy/requests", token, `{"type":"`+typ+`","jurisdiction":"DE","request_key":"`+key+`"}`)
	if r.code != http.StatusOK {
		s.t.Fatalf("create %s: %d %s", typ, r.code, r.raw)
	}
	return decodeDSR(s.t, r)
}

// waitDSR polls the request until done says so.
func (s *suite) waitDSR(token, id string, done func(dsr) bool) dsr {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		req := decodeDSR(s.t, s.get("/v1/privacy/requests/"+id, token))
		if done(req) {
			return req
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("request %s stuck in %s: %+v\n%s", id, req.State, req.Steps, s.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// manyLogins lets one test address sign several people up and in through
// the gateway (its per-address limit on authentication routes is for
// strangers, not for this test).
var manyLogins = []string{"SOTTO_GATEWAY_AUTH_RATE_PER_MINUTE=600", "SOTTO_GATEWAY_AUTH_BURST=100"}

func completed(r dsr) bool { return r.State == "REQUEST_STATE_COMPLETED" }

// TestErasureThroughEveryService: a customer asks for her data, downloads
// it once, then asks for erasure. Afterwards no participant returns her
// data, tokenvault cannot detokenise it, she cannot sign in, the other
// customer is untouched, the audit log shows every step, and it verifies.
func TestErasureThroughEveryService(t *testing.T) {
	s := startSuite(t, t.TempDir(), manyLogins...)
	ctx := context.Background()
	s.waitNotDegraded("audit", "tokenvault", "consent", "conversation")
	op := s.OperatorToken()

	alice := s.signUpCustomer("alice")
	bob := s.signUpCustomer("bob")
	store := func(c customer, value string) string {
		t.Helper()
		r := s.post("/v1/tokens:tokenize", op, `{"subject":"`+c.accountID+`","items":[{"value":"`+value+`","data_type":"DATA_TYPE_NAME"}]}`)
		res := results(r)
		tok, _ := res[0]["token"].(string)
		if r.code != http.StatusOK || tok == "" {
			t.Fatalf("tokenize: %d %s", r.code, r.raw)
		}
		return tok
	}
	aliceName := store(alice, "Alice Kestrelworth")
	bobName := store(bob, "Bob Underhay")

	tok := s.aal2Customer(alice)
	// She chats with the shop: conversation stores her message as
	// placeholder text (her name in the vault); the requests must reach it.
	chatMark := "marmalade" + hex.EncodeToString(randomBytes(t, 6))
	convID := s.chatAs(tok, "Hello, I am Alice Kestrelworth, asking about "+chatMark)

	// Access: the export holds her values (from tokenvault, including the
	// e-mail identity keeps only as a token) and none of Bob's; once only.
	access := s.createDSR(tok, "REQUEST_TYPE_ACCESS", "access-1")
	access = s.waitDSR(tok, access.RequestID, completed)
	export := s.get("/v1/privacy/requests/"+access.RequestID+"/export", tok)
	if export.code != http.StatusOK || !strings.Contains(export.raw, "Alice Kestrelworth") || !strings.Contains(export.raw, alice.email) ||
		!strings.Contains(export.raw, chatMark) || !strings.Contains(export.raw, convID) {
		t.Fatalf("export: %d %.2000s", export.code, export.raw)
	}
	if strings.Contains(export.raw, "Bob Underhay") || strings.Contains(export.raw, bob.email) || strings.Contains(export.raw, bob.accountID) {
		t.Fatal("the export holds another customer's data")
	}
	if again := s.get("/v1/privacy/requests/"+access.RequestID+"/export", tok); again.code == http.StatusOK || strings.Contains(again.raw, "Kestrelworth") {
		t.Fatalf("second download: %d %.500s", again.code, again.raw)
	}
	// Bob cannot see Alice's request at all.
	bobTok, _ := s.login(bob, false)
	if r := s.get("/v1/privacy/requests/"+access.RequestID, bobTok); r.code != http.StatusNotFound && r.code != http.StatusUnauthorized {
		t.Fatalf("bob reads alice's request: %d %s", r.code, r.raw)
	}

	// Erasure, carried out by every participant; a privacy officer follows
	// it (her own sessions end with it).
	dpo := s.privacyOfficer()
	erasure := s.createDSR(tok, "REQUEST_TYPE_ERASURE", "erase-1")
	erasure = s.waitDSR(dpo, erasure.RequestID, completed)
	participants := map[string]string{}
	for _, st := range erasure.Steps {
		if st.State != "STEP_STATE_DONE" {
			t.Errorf("step %s: %s", st.Participant, st.State)
		}
		participants[st.Participant] = st.Evidence.Outcome
	}
	for _, p := range []string{"tokenvault", "identity", "audit", "consent", "conversation"} {
		if _, ok := participants[p]; !ok {
			t.Errorf("no step for %s: %+v", p, erasure.Steps)
		}
	}

	// No participant returns her data any more (asked as consent, the only
	// workload allowed to ask).
	for _, p := range []string{"tokenvault", "identity", "audit", "conversation"} {
		cli := privacyv1.NewPrivacyParticipantServiceClient(s.Dial("consent", p, s.Info.Services[p].GRPC))
		resp, err := cli.Export(ctx, &privacyv1.ExportRequest{
			Subject:   &privacyv1.Subject{Tenant: "default", Subject: alice.accountID},
			RequestId: "e2e-after-erasure",
		})
		if err != nil {
			t.Fatalf("%s export after erasure: %v", p, err)
		}
		raw, _ := json.Marshal(resp)
		if strings.Contains(string(raw), "Kestrelworth") || strings.Contains(string(raw), alice.email) || strings.Contains(string(raw), chatMark) {
			t.Errorf("%s still returns her data: %s", p, raw)
		}
		if (p == "tokenvault" || p == "identity" || p == "conversation") && len(resp.GetItems()) != 0 {
			t.Errorf("%s still holds %d items for her", p, len(resp.GetItems()))
		}
	}
	// tokenvault cannot detokenise her value; Bob's is intact.
	r := s.post("/v1/tokens:mask", op, `{"tokens":["`+aliceName+`","`+bobName+`"]}`)
	res := results(r)
	if r.code != http.StatusOK || len(res) != 2 || res[0]["masked"] != nil || res[1]["masked"] == nil {
		t.Fatalf("mask after erasure: %d %s", r.code, r.raw)
	}
	// She cannot sign in; her request history answers NOT_FOUND or 401 to
	// her old token (her sessions were revoked).
	if r := s.post("/v1/sessions:login", "", `{"tenant":"default","email":"`+alice.email+`","password":"`+alice.password+`"}`); r.code == http.StatusOK {
		t.Fatalf("login after erasure: %d %s", r.code, r.raw)
	}
	if r := s.get("/v1/privacy/requests/"+erasure.RequestID, tok); r.code != http.StatusUnauthorized {
		t.Fatalf("her revoked token: %d %s", r.code, r.raw)
	}

	// The audit log shows the request's steps, and verifies.
	// (Services relay their events through an outbox: they arrive soon
	// after the request completes, not necessarily before.)
	deadline := time.Now().Add(30 * time.Second)
	for _, action := range []string{"consent.dsr.create", "tokenvault.privacy.erase", "identity.privacy.erase", "audit.privacy.erase",
		"conversation.privacy.erase", "consent.dsr.complete"} {
		for {
			ev := s.get("/v1/audit/events?action="+action, op)
			if ev.code == http.StatusOK && strings.Contains(ev.raw, erasure.RequestID) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s event for the request: %d %.500s", action, ev.code, ev.raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if out, err := s.verify(); err != nil {
		t.Fatalf("sotto audit verify: %v\n%s", err, out)
	}
	// Her transcript is gone from conversation's database file and its
	// write-ahead log (truncated after the erasure).
	for _, f := range []string{"conversation.db", "conversation.db-wal"} {
		b, err := os.ReadFile(filepath.Join(s.State, "data", f))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(chatMark)) {
			t.Errorf("%s still holds her chat after the erasure", f)
		}
	}
}

// chatAs opens a web conversation as the customer whose access token tok is
// (through conversation's gRPC API as the gateway relays it) and posts
// text; it returns the conversation's id.
func (s *suite) chatAs(tok, text string) string {
	s.t.Helper()
	cli := conversationv1.NewConversationServiceClient(s.Dial("gateway", "conversation", s.Info.Services["conversation"].GRPC))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	conv, err := cli.CreateConversation(ctx, &conversationv1.CreateConversationRequest{Channel: conversationv1.ChatChannel_CHAT_CHANNEL_WEB})
	if err != nil {
		s.t.Fatalf("create conversation: %v", err)
	}
	id := conv.GetConversation().GetConversationId()
	if _, err := cli.PostMessage(ctx, &conversationv1.PostMessageRequest{ConversationId: id, Text: text}); err != nil {
		s.t.Fatalf("post message: %v", err)
	}
	return id
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestErasureSurvivesKill9OfConsent: consent is killed with SIGKILL while
// an erasure is half done (tokenvault is stopped, so its step cannot
// finish); after consent's restart the request completes, and no step was
// done twice harmfully: each participant's evidence is recorded once and
// the request completed once.
func TestErasureSurvivesKill9OfConsent(t *testing.T) {
	// A short lease, so that the killed replica's job is retaken quickly.
	s := startSuite(t, t.TempDir(), append(manyLogins, "SOTTO_JOBS_LEASE=2s", "SOTTO_JOBS_POLL_INTERVAL=100ms")...)
	s.waitNotDegraded("audit", "tokenvault", "consent")
	op := s.OperatorToken()
	dpo := s.privacyOfficer()
	alice := s.signUpCustomer("alice")
	tok := s.aal2Customer(alice)

	tv := childPID(t, s.PID(), "tokenvault")
	if err := syscall.Kill(tv, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			syscall.Kill(tv, syscall.SIGCONT)
		}
	}()
	erasure := s.createDSR(tok, "REQUEST_TYPE_ERASURE", "erase-kill9")
	mid := s.waitDSR(dpo, erasure.RequestID, func(r dsr) bool {
		done := 0
		for _, st := range r.Steps {
			if st.State == "STEP_STATE_DONE" {
				done++
			}
		}
		return done >= 1
	})
	for _, st := range mid.Steps {
		if st.Participant == "tokenvault" && st.State == "STEP_STATE_DONE" {
			t.Fatal("tokenvault's step finished while tokenvault was stopped: the kill would not be mid-request")
		}
	}
	if completed(mid) {
		t.Fatal("the request completed before the kill")
	}

	old := childPID(t, s.PID(), "consent")
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if pid, ok := findChild(s.PID(), "consent"); ok && pid != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consent was not restarted:\n%s", s.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(tv, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	s.waitNotDegraded("consent")

	done := s.waitDSR(dpo, erasure.RequestID, completed)
	seen := map[string]int{}
	for _, st := range done.Steps {
		seen[st.Participant]++
		if st.State != "STEP_STATE_DONE" {
			t.Errorf("step %s: %s", st.Participant, st.State)
		}
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("%s has %d steps", p, n)
		}
	}
	completions := 0
	for _, h := range done.History {
		if h.To == "REQUEST_STATE_COMPLETED" {
			completions++
		}
	}
	if completions != 1 {
		t.Errorf("completed %d times: %+v", completions, done.History)
	}
	// consent relays its events through an outbox: the completion event
	// arrives soon after the request completes, not necessarily before.
	var ev restResult
	eventually(t, s, "the completion event reaches the audit log", func() bool {
		ev = s.get("/v1/audit/events?action=consent.dsr.complete", op)
		return strings.Contains(ev.raw, erasure.RequestID)
	})
	if n := strings.Count(ev.raw, erasure.RequestID); n != 1 {
		t.Errorf("%d completion events for the request: %.500s", n, ev.raw)
	}
	if r := s.post("/v1/sessions:login", "", `{"tenant":"default","email":"`+alice.email+`","password":"`+alice.password+`"}`); r.code == http.StatusOK {
		t.Fatalf("login after erasure: %d %s", r.code, r.raw)
	}
	if out, err := s.verify(); err != nil {
		t.Fatalf("sotto audit verify: %v\n%s", err, out)
	}
}

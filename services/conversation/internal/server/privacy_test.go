package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// privacy is the participant as workload name calls it over mTLS.
func (h *harness) privacy(name string) privacyv1.PrivacyParticipantServiceClient {
	return privacyv1.NewPrivacyParticipantServiceClient(h.pki.Dial(h.t, name, "conversation", h.addr))
}

func shopSubject(s string) *privacyv1.Subject { return &privacyv1.Subject{Tenant: "shop", Subject: s} }

// word is a run-unique word no detector takes for personal data: it stays
// in the stored placeholder text, so its bytes mark the transcript.
func word(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("marmalade")
	for _, c := range b {
		sb.WriteByte('a' + c%26)
	}
	return sb.String()
}

// auditActions lists the actions in the service's audit outbox (no relay
// runs in these tests, so every event is still there), with their subject.
func (h *harness) auditActions() []string {
	h.t.Helper()
	rows, err := h.db.QueryContext(context.Background(), `SELECT payload FROM audit_outbox ORDER BY seq`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			h.t.Fatal(err)
		}
		var in auditv1.EventInput
		if err := proto.Unmarshal(b, &in); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, in.GetAction()+" "+in.GetSubject()+" "+in.GetResourceId())
	}
	return out
}

// TestPrivacyOnlyConsentMayCall: over mTLS, only the consent workload's
// certificate reaches the participant; the gateway (which end users reach)
// and the other services are refused before anything is read or deleted.
func TestPrivacyOnlyConsentMayCall(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	h.open(alice)
	for _, name := range []string{"gateway", "identity", "tokenvault", "audit"} {
		p := h.privacy(name)
		if _, err := p.Describe(context.Background(), &privacyv1.DescribeRequest{}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s Describe: %v, want PERMISSION_DENIED", name, err)
		}
		_, err := p.Erase(context.Background(), &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_" + name})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s Erase: %v, want PERMISSION_DENIED", name, err)
		}
		_, err = p.Export(context.Background(), &privacyv1.ExportRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_" + name})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s Export: %v, want PERMISSION_DENIED", name, err)
		}
		_, err = p.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_" + name})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s Restrict: %v, want PERMISSION_DENIED", name, err)
		}
	}
	if n := h.count("conversations"); n != 1 {
		t.Fatalf("%d conversations after refused erasures, want 1", n)
	}
	d, err := h.privacy("consent").Describe(context.Background(), &privacyv1.DescribeRequest{})
	if err != nil || d.GetParticipant() != "conversation" || len(d.GetCategories()) != 5 {
		t.Fatalf("consent Describe: %v, %v", d, err)
	}
}

// TestPrivacyExportThenErase: the export holds the subject's conversation,
// its messages as placeholder text and each placeholder's token (which the
// orchestrator fills in from the vault's export), and nobody else's;
// erasure deletes all of it (counts as evidence, audited), leaves another
// customer's conversation, answers a repeat as already done and an unknown
// subject as NO_DATA; on SQLite neither the database file nor its WAL holds
// the erased transcript or tokens afterwards.
func TestPrivacyExportThenErase(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := newCanaries(t)
		mark, other := word(t), word(t)
		alice, bob := h.customer("cus_alice"), h.customer("cus_bob")
		id := h.open(alice)
		if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: c.message() + " " + mark}); err != nil {
			t.Fatal(err)
		}
		bobID := h.open(bob)
		if _, err := h.client.PostMessage(bob, &conversationv1.PostMessageRequest{ConversationId: bobID, Text: "Where is my parcel? " + other}); err != nil {
			t.Fatal(err)
		}
		tokens := h.tokensOf(id)
		if len(tokens) != 3 {
			t.Fatalf("alice has %d tokens, want 3", len(tokens))
		}

		p := h.privacy("consent")
		var items []*privacyv1.Item
		first := privacyv1.Outcome_OUTCOME_UNSPECIFIED
		for page, n := "", 0; ; n++ {
			resp, err := p.Export(context.Background(), &privacyv1.ExportRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_1",
				PageSize: 2, PageToken: page})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				first = resp.GetOutcome()
			}
			items = append(items, resp.GetItems()...)
			if page = resp.GetNextPageToken(); page == "" || n > 10 {
				break
			}
		}
		if first != privacyv1.Outcome_OUTCOME_DONE {
			t.Errorf("export outcome %v", first)
		}
		byCat := map[string]int{}
		exportedTokens := map[string]bool{}
		var texts []string
		for _, it := range items {
			byCat[it.GetCategory()]++
			for _, f := range it.GetFields() {
				if f.GetToken() != "" {
					exportedTokens[f.GetToken()] = true
				}
				if f.GetName() == "text" {
					texts = append(texts, f.GetValue())
				}
				if f.GetValue() == bobID || strings.Contains(f.GetValue(), other) {
					t.Errorf("alice's export holds bob's %s", f.GetName())
				}
			}
		}
		if byCat[conversation.CategoryConversation] != 1 || byCat[conversation.CategoryMessage] != 2 || byCat[conversation.CategoryPlaceholder] != 3 {
			t.Errorf("exported %v, want 1 conversation, 2 messages, 3 placeholders", byCat)
		}
		for _, tok := range tokens {
			if !exportedTokens[tok] {
				t.Errorf("token %s not exported", tok)
			}
		}
		if len(texts) == 0 || !strings.Contains(strings.Join(texts, "\n"), "[EMAIL_1]") || !strings.Contains(strings.Join(texts, "\n"), mark) {
			t.Errorf("exported texts %q, want the placeholder text", texts)
		}

		er, err := p.Erase(context.Background(), &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_2"})
		if err != nil {
			t.Fatal(err)
		}
		ev := er.GetEvidence()
		if ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetCounts()["conversations_deleted"] != 1 ||
			ev.GetCounts()["messages_deleted"] != 2 || ev.GetCounts()["placeholders_deleted"] != 3 {
			t.Errorf("erase evidence %v", ev)
		}
		if n := h.count("conversations"); n != 1 {
			t.Errorf("%d conversations left, want bob's", n)
		}
		for _, table := range []string{"messages", "placeholders"} {
			var n int
			if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table+` WHERE conversation_id = $1`, id).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s of the erased conversation: %d, %v", table, n, err)
			}
		}
		if _, err := h.client.GetConversation(alice, &conversationv1.GetConversationRequest{ConversationId: id}); status.Code(err) != codes.NotFound {
			t.Errorf("erased conversation: %v", err)
		}
		again, err := p.Erase(context.Background(), &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_2"})
		if err != nil || again.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || !again.GetEvidence().GetAlreadyDone() {
			t.Errorf("repeated erase: %v, %v", again, err)
		}
		none, err := p.Erase(context.Background(), &privacyv1.EraseRequest{Subject: shopSubject("cus_nobody"), RequestId: "dsr_3"})
		if err != nil || none.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_NO_DATA {
			t.Errorf("erase of nobody: %v, %v", none, err)
		}
		ex, err := p.Export(context.Background(), &privacyv1.ExportRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_4"})
		if err != nil || ex.GetOutcome() != privacyv1.Outcome_OUTCOME_NO_DATA || len(ex.GetItems()) != 0 {
			t.Errorf("export after erasure: %v, %v", ex, err)
		}
		audited := strings.Join(h.auditActions(), "\n")
		for _, want := range []string{"conversation.privacy.export cus_alice dsr_1", "conversation.privacy.erase cus_alice dsr_2"} {
			if !strings.Contains(audited, want) {
				t.Errorf("audit outbox lacks %q:\n%s", want, audited)
			}
		}
		if h.db.Dialect == store.SQLite {
			stored := storetest.StoredBytes(t, h.db)
			if !bytes.Contains(stored, []byte(other)) {
				t.Fatal("bob's transcript is not in the stored bytes: the search finds nothing")
			}
			// The conversation id stays in the audit outbox's create event
			// (audit keeps the log, ADR 0013); the transcript and tokens go.
			for _, v := range append([]string{mark}, tokens...) {
				if bytes.Contains(stored, []byte(v)) {
					t.Errorf("%q is still in the SQLite file or its WAL after the erasure", v)
				}
			}
		}
	})
}

// TestRestrictionRefusesNewMessages: while a customer's processing is
// restricted, a message to their conversation (and to one opened after the
// restriction) is refused FAILED_PRECONDITION SUBJECT_RESTRICTED before the
// vault or the assistant sees it; their transcript stays readable; lifting
// the restriction lets messages through again. Another customer is not
// affected.
func TestRestrictionRefusesNewMessages(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		alice, bob := h.customer("cus_alice"), h.customer("cus_bob")
		id := h.open(alice)
		bobID := h.open(bob)
		p := h.privacy("consent")
		r, err := p.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_r"})
		if err != nil || r.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || r.GetEvidence().GetCounts()["conversations_affected"] != 1 {
			t.Fatalf("restrict: %v, %v", r, err)
		}
		if again, err := p.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_r"}); err != nil ||
			!again.GetEvidence().GetAlreadyDone() {
			t.Errorf("repeated restrict: %v, %v", again, err)
		}
		later := h.open(alice)
		calls := len(h.vault.requests())
		for _, conv := range []string{id, later} {
			_, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: conv, Text: "My e-mail is a@example.com"})
			if status.Code(err) != codes.FailedPrecondition || reasonOf(err) != reasons.SubjectRestricted {
				t.Errorf("post while restricted: %v (%s)", err, reasonOf(err))
			}
		}
		if n := len(h.vault.requests()); n != calls {
			t.Errorf("the vault was called %d times for a restricted customer", n-calls)
		}
		if n := h.count("messages"); n != 0 {
			t.Errorf("%d messages stored while restricted", n)
		}
		if _, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id}); err != nil {
			t.Errorf("reading while restricted: %v", err)
		}
		if _, err := h.client.PostMessage(bob, &conversationv1.PostMessageRequest{ConversationId: bobID, Text: "Hello"}); err != nil {
			t.Errorf("another customer's post: %v", err)
		}
		if _, err := p.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_l", Lift: true}); err != nil {
			t.Fatal(err)
		}
		resp, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "Hello again"})
		if err != nil || resp.GetReply() == nil {
			t.Errorf("post after the restriction was lifted: %v, %v", resp, err)
		}
	})
}

// TestRestrictionBeforeAnyConversation: a restriction placed before the
// customer has a conversation holds for the first one.
func TestRestrictionBeforeAnyConversation(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	p := h.privacy("consent")
	r, err := p.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: shopSubject("cus_new"), RequestId: "dsr_x"})
	if err != nil || r.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_DONE {
		t.Fatalf("restrict: %v, %v", r, err)
	}
	ctx := h.customer("cus_new")
	id := h.open(ctx)
	if _, err := h.client.PostMessage(ctx, &conversationv1.PostMessageRequest{ConversationId: id, Text: "Hi"}); reasonOf(err) != reasons.SubjectRestricted {
		t.Errorf("first post of a customer restricted beforehand: %v", err)
	}
}

// TestRectifyIsNotApplicable: conversations hold no values to correct;
// every correction is NOT_APPLICABLE, a correction of a transcript is
// refused FIELD_NOT_RECTIFIABLE, and nothing changes.
func TestRectifyIsNotApplicable(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	alice := h.customer("cus_alice")
	id := h.open(alice)
	if _, err := h.client.PostMessage(alice, &conversationv1.PostMessageRequest{ConversationId: id, Text: "My e-mail is a@example.com"}); err != nil {
		t.Fatal(err)
	}
	resp, err := h.privacy("consent").Rectify(context.Background(), &privacyv1.RectifyRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_c",
		Corrections: []*privacyv1.Correction{
			{Category: "tokenvault.value", ItemId: "tok_x", Field: "value", Value: "b@example.com"},
			{Category: conversation.CategoryMessage, Field: "text", Value: "something else"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_NOT_APPLICABLE || len(resp.GetResults()) != 2 {
		t.Fatalf("rectify: %v", resp)
	}
	if r := resp.GetResults()[0]; r.GetOutcome() != privacyv1.Outcome_OUTCOME_NOT_APPLICABLE || r.GetRefusedReason() != "" {
		t.Errorf("vault correction: %v", r)
	}
	if r := resp.GetResults()[1]; r.GetOutcome() != privacyv1.Outcome_OUTCOME_NOT_APPLICABLE || r.GetRefusedReason() != reasons.FieldNotRectifiable {
		t.Errorf("transcript correction: %v", r)
	}
	ms, err := h.client.ListMessages(alice, &conversationv1.ListMessagesRequest{ConversationId: id})
	if err != nil || !strings.Contains(ms.GetMessages()[0].GetText(), "[EMAIL_1]") {
		t.Errorf("messages after rectify: %v, %v", ms, err)
	}
}

// tokensOf returns the tokens of a conversation's placeholder map.
func (h *harness) tokensOf(conversationID string) []string {
	h.t.Helper()
	rows, err := h.db.QueryContext(context.Background(), `SELECT token FROM placeholders WHERE conversation_id = $1`, conversationID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, tok)
	}
	return out
}

// TestErasureDeletesLinkedChannelUsers: a WhatsApp number linked to the
// customer's account (held as a token) is exported and erased with the
// customer, with their link codes and replay records (kept only as keyed
// digests without an identity, channel_message_tombstones); a stranger's
// (unlinked) identity stays. The number's conversation from before the
// link is erased but not exported: whoever linked the chat may not be
// its user.
func TestErasureDeletesLinkedChannelUsers(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		var n int
		q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'channel_identities'`
		if h.db.Dialect != store.SQLite {
			q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'channel_identities'`
		}
		if err := h.db.QueryRowContext(context.Background(), q).Scan(&n); err != nil || n == 0 {
			t.Skip("the channels' tables are not in this build's schema")
		}
		alice := h.customer("cus_alice")
		id := h.open(alice)
		// Her WhatsApp conversation from before she linked the number is
		// held under the pseudonymous subject the stranger had.
		before := h.open(h.customer("chu_before"))
		ctx := context.Background()
		for _, stmt := range []string{
			`INSERT INTO channel_identities (identity_id, tenant, channel, user_digest, user_token, subject, linked, link_time, create_time, update_time)
VALUES ('chi_alice', 'shop', 2, 'digest-a', 'tok_channel_alice', 'cus_alice', 1, 2, 1, 2)`,
			`INSERT INTO channel_identities (identity_id, tenant, channel, user_digest, user_token, subject, linked, create_time, update_time)
VALUES ('chi_stranger', 'shop', 2, 'digest-s', 'tok_channel_stranger', 'chu_stranger', 0, 1, 1)`,
			`INSERT INTO channel_link_codes (code_digest, tenant, channel, subject, create_time, expire_time) VALUES ('code-a', 'shop', 2, 'cus_alice', 1, 2)`,
			`INSERT INTO channel_messages (message_digest, identity_id, conversation_id, message_id, create_time) VALUES ('msg-a', 'chi_alice', '` + id + `', 'm', 1)`,
			`INSERT INTO channel_messages (message_digest, identity_id, create_time) VALUES ('msg-s', 'chi_stranger', 1)`,
			`INSERT INTO channel_conversations (conversation_id, identity_id, create_time) VALUES ('` + id + `', 'chi_alice', 1)`,
			`INSERT INTO channel_conversations (conversation_id, identity_id, create_time) VALUES ('` + before + `', 'chi_alice', 1)`,
		} {
			if _, err := h.db.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		p := h.privacy("consent")
		ex, err := p.Export(ctx, &privacyv1.ExportRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_e"})
		if err != nil {
			t.Fatal(err)
		}
		found, beforeFound := false, false
		for _, it := range ex.GetItems() {
			if it.GetId() == before {
				beforeFound = true
			}
			for _, f := range it.GetFields() {
				if it.GetCategory() == conversation.CategoryChannelIdentity && f.GetToken() == "tok_channel_alice" {
					found = true
				}
				if f.GetToken() == "tok_channel_stranger" {
					t.Error("a stranger's channel identity is in her export")
				}
			}
		}
		if !found {
			t.Errorf("her linked number is not in the export: %v", ex.GetItems())
		}
		if beforeFound {
			t.Errorf("the linked number's conversation from before the link is in the export: %v", ex.GetItems())
		}
		er, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: shopSubject("cus_alice"), RequestId: "dsr_f"})
		if err != nil {
			t.Fatal(err)
		}
		if c := er.GetEvidence().GetCounts(); c["channel_identities_deleted"] != 1 || c["channel_link_codes_deleted"] != 1 ||
			c["channel_messages_deleted"] != 1 || c["conversations_deleted"] != 2 {
			t.Errorf("evidence %v", er.GetEvidence())
		}
		for table, want := range map[string]int{"channel_identities": 1, "channel_link_codes": 0, "channel_messages": 1, "channel_conversations": 0,
			"conversations": 0} {
			if got := h.count(table); got != want {
				t.Errorf("%s: %d rows left, want %d (the stranger's)", table, got, want)
			}
		}
	})
}

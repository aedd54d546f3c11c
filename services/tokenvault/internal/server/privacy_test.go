package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// privacy is the participant service as the consent workload calls it.
func (v *vault) privacy(t *testing.T, name string) privacyv1.PrivacyParticipantServiceClient {
	return privacyv1.NewPrivacyParticipantServiceClient(v.pki.Dial(t, name, "tokenvault", v.addr))
}

func subj(s string) *privacyv1.Subject { return &privacyv1.Subject{Subject: s} }

// put tokenizes (value, data type, format) triples for subject and returns
// the tokens.
func put(t *testing.T, c tokenvaultv1.TokenVaultServiceClient, tenant, subject string, items ...*tokenvaultv1.TokenizeItem) []string {
	t.Helper()
	resp, err := c.Tokenize(context.Background(), &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: subject, Scope: "conv_1", Items: items})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, r := range resp.GetResults() {
		if r.GetError() != nil {
			t.Fatalf("%s item %d: %v", subject, i, r.GetError())
		}
		out = append(out, r.GetToken())
	}
	return out
}

func item(v string, dt tokenvaultv1.DataType, f ...tokenvaultv1.TokenFormat) *tokenvaultv1.TokenizeItem {
	it := &tokenvaultv1.TokenizeItem{Value: v, DataType: dt}
	if len(f) > 0 {
		it.Format = f[0]
	}
	return it
}

// exportAll pages through subject's export (two items a page) and returns
// the values by token, and the first page's outcome.
func exportAll(t *testing.T, p privacyv1.PrivacyParticipantServiceClient, s *privacyv1.Subject, request string) (map[string]string, privacyv1.Outcome) {
	t.Helper()
	out := map[string]string{}
	var first privacyv1.Outcome
	for page, n := "", 0; ; n++ {
		resp, err := p.Export(context.Background(), &privacyv1.ExportRequest{Subject: s, RequestId: request, PageSize: 2, PageToken: page})
		if err != nil {
			t.Fatalf("export page %d: %v", n, err)
		}
		if n == 0 {
			first = resp.GetOutcome()
		}
		for _, it := range resp.GetItems() {
			if it.GetCategory() != engine.CategoryValue {
				t.Fatalf("item of category %q", it.GetCategory())
			}
			for _, f := range it.GetFields() {
				if f.GetName() == "value" {
					out[it.GetId()] = f.GetValue()
				}
			}
		}
		if page = resp.GetNextPageToken(); page == "" {
			return out, first
		}
		if n > 20 {
			t.Fatal("the export does not end")
		}
	}
}

// detokenize reads toks as the conversation workload.
func detokenize(c tokenvaultv1.TokenVaultServiceClient, toks ...string) (*tokenvaultv1.DetokenizeResponse, error) {
	return c.Detokenize(context.Background(), &tokenvaultv1.DetokenizeRequest{Tokens: toks, Purpose: "order_support"})
}

// auditEvents is everything the vault recorded: synchronously (the
// recorder) and through its outbox (no relay in these tests, so every event
// is still in the table).
func auditEvents(t *testing.T, v *vault) []auditclient.Event {
	t.Helper()
	evs := v.rec.since(0)
	rows, err := v.db.QueryContext(context.Background(), `SELECT payload FROM audit_outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		var in auditv1.EventInput
		if err := proto.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, auditclient.Event{ID: in.GetEventId(), Subject: in.GetSubject(), ActorSubject: in.GetActorSubject(),
			Action: in.GetAction(), ResourceType: in.GetResourceType(), ResourceID: in.GetResourceId(), Purpose: in.GetPurpose(),
			Outcome: in.GetOutcome(), Reason: in.GetReason(), CallerWorkload: in.GetCallerWorkload()})
	}
	return evs
}

// noValuesIn fails if any audit event holds any of the values (a field
// containing one, case-insensitively).
func noValuesIn(t *testing.T, evs []auditclient.Event, values ...string) {
	t.Helper()
	for _, ev := range evs {
		for _, f := range []string{ev.Subject, ev.ActorSubject, ev.Action, ev.ResourceType, ev.ResourceID, ev.Purpose, ev.Reason, ev.CallerWorkload} {
			for _, v := range values {
				if strings.Contains(strings.ToLower(f), strings.ToLower(v)) {
					t.Errorf("audit event %s (%s) holds a value: %q", ev.ID, ev.Action, f)
				}
			}
		}
	}
}

// actions is how many events of each privacy action evs hold.
func actions(evs []auditclient.Event) map[string]int {
	out := map[string]int{}
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "tokenvault.privacy.") {
			out[ev.Action]++
		}
	}
	return out
}

// TestPrivacyExport: the export holds exactly the subject's values (of
// their shop), none of another subject's or of the same account id in
// another shop, paged; a subject the vault does not know has no data.
// Every page is audited, and no event holds a value.
func TestPrivacyExport(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		c, p := v.client(t, "consent"), v.privacy(t, "consent")
		alice := []string{"Alice Example", "alice@example.com", "4242424242424242", "+44 7700 900123", "family@example.com"}
		a := put(t, c, "", "acc_alice",
			item(alice[0], tokenvaultv1.DataType_DATA_TYPE_NAME),
			item(alice[1], tokenvaultv1.DataType_DATA_TYPE_EMAIL),
			item(alice[2], tokenvaultv1.DataType_DATA_TYPE_CARD_NUMBER, tokenvaultv1.TokenFormat_TOKEN_FORMAT_CARD),
			item(alice[3], tokenvaultv1.DataType_DATA_TYPE_PHONE, tokenvaultv1.TokenFormat_TOKEN_FORMAT_FORMAT_PRESERVING),
			item(alice[4], tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC))
		put(t, c, "", "acc_bob", item("Bob Example", tokenvaultv1.DataType_DATA_TYPE_NAME),
			item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC))
		put(t, c, "othershop", "acc_alice", item("Other Alice", tokenvaultv1.DataType_DATA_TYPE_NAME))

		desc, err := p.Describe(context.Background(), &privacyv1.DescribeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if desc.GetParticipant() != "tokenvault" || len(desc.GetCategories()) != 1 || desc.GetCategories()[0].GetName() != engine.CategoryValue ||
			!slices.Equal(desc.GetCategories()[0].GetRectifiableFields(), []string{"value"}) {
			t.Fatalf("describe: %v", desc)
		}

		got, outcome := exportAll(t, p, subj("acc_alice"), "dsr_export_1")
		if outcome != privacyv1.Outcome_OUTCOME_DONE || len(got) != len(alice) {
			t.Fatalf("alice's export: %s, %v; want DONE with %d values", outcome, got, len(alice))
		}
		// Values come back normalised (the card without spaces, the phone
		// in E.164), each under its token.
		want := map[string]string{a[0]: "Alice Example", a[1]: "alice@example.com", a[2]: "4242424242424242", a[3]: "+447700900123", a[4]: "family@example.com"}
		for tok, val := range want {
			if got[tok] != val {
				t.Errorf("export of %s: %q; want %q", tok, got[tok], val)
			}
		}
		other, _ := exportAll(t, p, &privacyv1.Subject{Tenant: "othershop", Subject: "acc_alice"}, "dsr_export_2")
		if len(other) != 1 || !slices.Contains(slices.Collect(mapValues(other)), "Other Alice") {
			t.Fatalf("othershop's alice: %v", other)
		}
		for _, s := range []*privacyv1.Subject{subj("acc_nobody"), {Tenant: "unservedshop", Subject: "acc_alice"}} {
			none, outcome := exportAll(t, p, s, "dsr_export_3")
			if outcome != privacyv1.Outcome_OUTCOME_NO_DATA || len(none) != 0 {
				t.Fatalf("export of %v: %s %v; want NO_DATA", s, outcome, none)
			}
		}

		evs := auditEvents(t, v)
		if n := actions(evs)["tokenvault.privacy.export"]; n < 3 {
			t.Fatalf("%d export events for alice's three pages and more", n)
		}
		noValuesIn(t, evs, append(alice, "Bob Example", "Other Alice", "7700")...)
	})
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// TestPrivacyErase: after an erasure the subject's tokens detokenize to
// nothing (SUBJECT_ERASED) and the export has no data; a second erasure
// (the same request, or another) does nothing and says so; other subjects
// are untouched.
func TestPrivacyErase(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		c, conv, p := v.client(t, "consent"), v.client(t, "conversation"), v.privacy(t, "consent")
		a := put(t, c, "", "acc_alice", item("Alice Example", tokenvaultv1.DataType_DATA_TYPE_NAME),
			item("alice@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC))
		b := put(t, c, "", "acc_bob", item("Bob Example", tokenvaultv1.DataType_DATA_TYPE_NAME))
		ctx := context.Background()

		resp, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: subj("acc_alice"), RequestId: "dsr_erase_1"})
		if err != nil {
			t.Fatal(err)
		}
		ev := resp.GetEvidence()
		if ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetCounts()["tokens_affected"] != 2 ||
			ev.GetCounts()["lookup_entries_removed"] != 1 || !slices.Equal(ev.GetDestroyedKeyIds(), []string{"dek:v1"}) ||
			ev.GetDetails()["kek_version"] != "1" || ev.GetDoneTime() == nil {
			t.Fatalf("erasure evidence: %v", ev)
		}
		got, err := detokenize(conv, a[0])
		if err != nil {
			t.Fatal(err)
		}
		if r := got.GetResults()[0]; r.GetValue() != "" || r.GetError().GetReason() != reasons.SubjectErased {
			t.Fatalf("detokenize after the erasure: %v", r)
		}
		if vals, outcome := exportAll(t, p, subj("acc_alice"), "dsr_export_1"); outcome != privacyv1.Outcome_OUTCOME_NO_DATA || len(vals) != 0 {
			t.Fatalf("export after the erasure: %s %v", outcome, vals)
		}
		for _, req := range []string{"dsr_erase_1", "dsr_erase_2"} {
			again, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: subj("acc_alice"), RequestId: req})
			if err != nil {
				t.Fatal(err)
			}
			if e := again.GetEvidence(); e.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || !e.GetAlreadyDone() ||
				!e.GetDoneTime().AsTime().Equal(ev.GetDoneTime().AsTime()) {
				t.Fatalf("erasure repeated (%s): %v", req, e)
			}
		}
		if got, err := detokenize(conv, b[0]); err != nil || got.GetResults()[0].GetValue() != "Bob Example" {
			t.Fatalf("bob after alice's erasure: %v %v", got, err)
		}
		none, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: subj("acc_nobody"), RequestId: "dsr_erase_3"})
		if err != nil || none.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_NO_DATA {
			t.Fatalf("erasure of an unknown subject: %v %v", none, err)
		}
		evs := auditEvents(t, v)
		if n := actions(evs)["tokenvault.privacy.erase"]; n != 4 {
			t.Fatalf("%d erase events; want 4", n)
		}
		noValuesIn(t, evs, "Alice Example", "alice@example.com", "Bob Example")
	})
}

// TestPrivacyRectify: a correction replaces the value behind the subject's
// random token (detokenize returns the new one, the export no longer holds
// the old), under a new data key, so that the old key and every copy of the
// old ciphertext die with it; a deterministic token cannot be corrected in
// place, an invalid value is refused, another participant's category is not
// applicable, and a token of another subject, or none, has no data.
func TestPrivacyRectify(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		c, conv, p := v.client(t, "consent"), v.client(t, "conversation"), v.privacy(t, "consent")
		ctx := context.Background()
		a := put(t, c, "", "acc_alice",
			item("alice@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL),
			item("Alice Example", tokenvaultv1.DataType_DATA_TYPE_NAME),
			item("alice@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC),
			item("4242424242424242", tokenvaultv1.DataType_DATA_TYPE_CARD_NUMBER, tokenvaultv1.TokenFormat_TOKEN_FORMAT_CARD))
		b := put(t, c, "", "acc_bob", item("Bob Example", tokenvaultv1.DataType_DATA_TYPE_NAME))
		value := func(tok, v string) *privacyv1.Correction {
			return &privacyv1.Correction{Category: "tokenvault.value", ItemId: tok, Field: "value", Value: v}
		}
		req := &privacyv1.RectifyRequest{Subject: subj("acc_alice"), RequestId: "dsr_rectify_1", Corrections: []*privacyv1.Correction{
			value(a[0], "alice.new@example.com"),
			value(a[2], "alice.new@example.com"),
			{Category: "identity.account", Field: "email", Value: "alice.new@example.com"},
			value(b[0], "Mallory"),
			value("tok_name_0000000000000000000000", "Nobody"),
			value(a[1], "not\x00a name"),
			{Category: "tokenvault.value", ItemId: a[1], Field: "scope", Value: "conv_2"},
			value(a[3], "5555555555554444"),
		}}
		type result struct {
			outcome privacyv1.Outcome
			refused string
		}
		want := []result{
			{privacyv1.Outcome_OUTCOME_DONE, ""},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, reasons.FieldNotRectifiable},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, ""},
			{privacyv1.Outcome_OUTCOME_NO_DATA, ""},
			{privacyv1.Outcome_OUTCOME_NO_DATA, ""},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, reasons.ValueInvalid},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, reasons.FieldNotRectifiable},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, reasons.FieldNotRectifiable},
		}
		resp, err := p.Rectify(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resp.GetResults() {
			if r.GetIndex() != int32(i) || (result{r.GetOutcome(), r.GetRefusedReason()}) != want[i] {
				t.Errorf("correction %d: %s %q; want %v", i, r.GetOutcome(), r.GetRefusedReason(), want[i])
			}
		}
		if ev := resp.GetEvidence(); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetCounts()["values_corrected"] != 1 ||
			ev.GetDetails()["dek_version"] != "2" {
			t.Fatalf("rectification evidence: %v", ev)
		}

		got, err := detokenize(conv, a[0], a[1], a[2], b[0])
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"alice.new@example.com", "Alice Example", "alice@example.com", "Bob Example"} {
			if r := got.GetResults()[i]; r.GetValue() != want {
				t.Errorf("token %d after the rectification: %v; want %q", i, r, want)
			}
		}
		vals, _ := exportAll(t, p, subj("acc_alice"), "dsr_export_1")
		if vals[a[0]] != "alice.new@example.com" {
			t.Errorf("export after the rectification: %v", vals)
		}

		// The old value was sealed under data key version 1. Once the
		// re-encryption moved the subject's other values, version 1 is
		// destroyed: no copy of the old ciphertext opens any more.
		if _, err := v.eng.ReencryptOnce(ctx, 100); err != nil {
			t.Fatal(err)
		}
		var versions []int
		rows, err := db.QueryContext(ctx, `SELECT version FROM subject_keys WHERE tenant = 'default' AND subject = 'acc_alice' ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			versions = append(versions, n)
		}
		rows.Close()
		if !slices.Equal(versions, []int{2}) {
			t.Fatalf("alice's data key versions after the rectification and re-encryption: %v; want [2]", versions)
		}
		if got, err := detokenize(conv, a[0], a[1]); err != nil || got.GetResults()[0].GetValue() != "alice.new@example.com" || got.GetResults()[1].GetValue() != "Alice Example" {
			t.Fatalf("after re-encryption: %v %v", got, err)
		}

		// The same request again: nothing left to change.
		again, err := p.Rectify(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if ev := again.GetEvidence(); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || !ev.GetAlreadyDone() || ev.GetCounts()["values_corrected"] != 0 {
			t.Fatalf("rectification repeated: %v", ev)
		}

		// Erased: nothing to correct.
		if _, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: subj("acc_alice"), RequestId: "dsr_erase_1"}); err != nil {
			t.Fatal(err)
		}
		after, err := p.Rectify(ctx, &privacyv1.RectifyRequest{Subject: subj("acc_alice"), RequestId: "dsr_rectify_2",
			Corrections: []*privacyv1.Correction{value(a[0], "alice.third@example.com")}})
		if err != nil || after.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_NO_DATA || after.GetResults()[0].GetOutcome() != privacyv1.Outcome_OUTCOME_NO_DATA {
			t.Fatalf("rectification after the erasure: %v %v", after, err)
		}

		evs := auditEvents(t, v)
		if n := actions(evs)["tokenvault.privacy.rectify"]; n != 3 {
			t.Fatalf("%d rectify events; want 3", n)
		}
		noValuesIn(t, evs, "alice.new", "alice.third", "Mallory", "Nobody", "5555555555554444", "Alice Example")
	})
}

// TestPrivacyRestrict: while a subject is restricted, no workload reads or
// masks their values (FailedPrecondition SUBJECT_RESTRICTED, the whole call,
// audited as denied), nor does staff through the gateway; the customer
// still reads their own. Lifting it restores access. Both are idempotent.
func TestPrivacyRestrict(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		c, conv, gw, p := v.client(t, "consent"), v.client(t, "conversation"), v.client(t, "gateway"), v.privacy(t, "consent")
		ctx := context.Background()
		a := put(t, c, "", "acc_alice", item("Alice Example", tokenvaultv1.DataType_DATA_TYPE_NAME),
			item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC))
		b := put(t, c, "", "acc_bob", item("Bob Example", tokenvaultv1.DataType_DATA_TYPE_NAME))
		alice := as(v.people.token(t, person(accesstoken.KindCustomer, "acc_alice", 1, time.Minute)))
		bob := as(v.people.token(t, person(accesstoken.KindCustomer, "acc_bob", 1, time.Minute)))
		staff := as(v.people.token(t, person(accesstoken.KindStaff, "stf_1", 2, time.Minute, "support_agent")))

		restrict := func(req string, lift bool) *privacyv1.Evidence {
			t.Helper()
			resp, err := p.Restrict(ctx, &privacyv1.RestrictRequest{Subject: subj("acc_alice"), RequestId: req, Lift: lift})
			if err != nil {
				t.Fatal(err)
			}
			return resp.GetEvidence()
		}
		if ev := restrict("dsr_restrict_1", false); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetCounts()["tokens_affected"] != 2 {
			t.Fatalf("restriction: %v", ev)
		}
		if ev := restrict("dsr_restrict_1", false); !ev.GetAlreadyDone() {
			t.Fatalf("restriction repeated: %v", ev)
		}

		before := v.rec.count()
		_, err := detokenize(conv, a[0])
		wantCode(t, err, codes.FailedPrecondition, reasons.SubjectRestricted)
		if evs := v.rec.since(before); len(evs) != 1 || evs[0].Outcome != auditclient.Denied || evs[0].Reason != reasons.SubjectRestricted {
			t.Fatalf("audit of the refusal: %+v", evs)
		}
		// With another subject's token in the call, nothing of it is revealed.
		_, err = detokenize(conv, b[0], a[0])
		wantCode(t, err, codes.FailedPrecondition, reasons.SubjectRestricted)
		if got, err := detokenize(conv, b[0]); err != nil || got.GetResults()[0].GetValue() != "Bob Example" {
			t.Fatalf("bob's value while alice is restricted: %v %v", got, err)
		}
		_, err = conv.RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{a[0]}})
		wantCode(t, err, codes.FailedPrecondition, reasons.SubjectRestricted)
		_, err = gw.RevealMasked(staff, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{a[0]}})
		wantCode(t, err, codes.FailedPrecondition, reasons.SubjectRestricted)
		// The deterministic token is bob's too if he holds the value; here
		// only alice does, so it is refused as well.
		_, err = detokenize(conv, a[1])
		wantCode(t, err, codes.FailedPrecondition, reasons.SubjectRestricted)

		// The customer reads their own; another customer learns nothing,
		// not even that a restriction exists.
		own, err := gw.Detokenize(alice, &tokenvaultv1.DetokenizeRequest{Tokens: []string{a[0]}, Purpose: "self_service"})
		if err != nil || own.GetResults()[0].GetValue() != "Alice Example" {
			t.Fatalf("alice reading her own while restricted: %v %v", own, err)
		}
		if m, err := gw.RevealMasked(alice, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{a[0]}}); err != nil || m.GetResults()[0].GetMasked() == "" {
			t.Fatalf("alice's masked view while restricted: %v %v", m, err)
		}
		other, err := gw.Detokenize(bob, &tokenvaultv1.DetokenizeRequest{Tokens: []string{a[0]}, Purpose: "self_service"})
		if err != nil || other.GetResults()[0].GetError().GetReason() != reasons.UnknownToken {
			t.Fatalf("bob asking for alice's restricted token: %v %v", other, err)
		}

		// The subject's own requests go on: an access request exports.
		if vals, outcome := exportAll(t, p, subj("acc_alice"), "dsr_export_1"); outcome != privacyv1.Outcome_OUTCOME_DONE || vals[a[0]] != "Alice Example" {
			t.Fatalf("export while restricted: %s %v", outcome, vals)
		}

		if ev := restrict("dsr_restrict_2", true); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetDetails()["restricted"] != "false" {
			t.Fatalf("lifting: %v", ev)
		}
		if ev := restrict("dsr_restrict_2", true); !ev.GetAlreadyDone() {
			t.Fatalf("lifting repeated: %v", ev)
		}
		if got, err := detokenize(conv, a[0]); err != nil || got.GetResults()[0].GetValue() != "Alice Example" {
			t.Fatalf("after the lift: %v %v", got, err)
		}
		if _, err := gw.RevealMasked(staff, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{a[0]}}); err != nil {
			t.Fatalf("staff's masked view after the lift: %v", err)
		}

		// A subject the vault holds nothing of yet is restricted all the
		// same (TestPrivacyRestrictionBeforeAnyValue).
		resp, err := p.Restrict(ctx, &privacyv1.RestrictRequest{Subject: subj("acc_nobody"), RequestId: "dsr_restrict_3"})
		if err != nil || resp.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || resp.GetEvidence().GetCounts()["tokens_affected"] != 0 {
			t.Fatalf("restricting an unknown subject: %v %v", resp, err)
		}
		evs := auditEvents(t, v)
		if n := actions(evs)["tokenvault.privacy.restrict"]; n != 5 {
			t.Fatalf("%d restrict events; want 5", n)
		}
		noValuesIn(t, evs, "Alice Example", "family@example.com", "Bob Example")
	})
}

// lookup finds the subjects holding value (an e-mail address) as the
// conversation workload, for order_support.
func lookup(t *testing.T, c tokenvaultv1.TokenVaultServiceClient, value string) (string, []string) {
	t.Helper()
	resp, err := c.LookupToken(context.Background(), &tokenvaultv1.LookupTokenRequest{DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL,
		Value: value, Purpose: "order_support"})
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	var subs []string
	for _, m := range resp.GetMatches() {
		subs = append(subs, m.GetSubject())
	}
	slices.Sort(subs)
	return resp.GetDeterministicToken(), subs
}

// TestPrivacyRestrictionBeforeAnyValue: a restriction that reaches the
// vault before it holds any value of the subject sticks to the subject
// (DONE, not NO_DATA): the values tokenised afterwards are refused to
// workloads and not found by a lookup, until the restriction is lifted.
func TestPrivacyRestrictionBeforeAnyValue(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		c, conv, p := v.client(t, "consent"), v.client(t, "conversation"), v.privacy(t, "consent")
		ctx := context.Background()
		restrict := func(req string, lift bool) *privacyv1.Evidence {
			t.Helper()
			resp, err := p.Restrict(ctx, &privacyv1.RestrictRequest{Subject: subj("acc_carol"), RequestId: req, Lift: lift})
			if err != nil {
				t.Fatal(err)
			}
			return resp.GetEvidence()
		}
		if ev := restrict("dsr_restrict_1", false); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetCounts()["tokens_affected"] != 0 {
			t.Fatalf("restricting a subject with no values: %v", ev)
		}

		a := put(t, c, "", "acc_carol", item("Carol Example", tokenvaultv1.DataType_DATA_TYPE_NAME),
			item("carol@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC))
		for _, tok := range a {
			_, err := detokenize(conv, tok)
			wantCode(t, err, codes.FailedPrecondition, reasons.SubjectRestricted)
		}
		_, err := conv.RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{a[0]}})
		wantCode(t, err, codes.FailedPrecondition, reasons.SubjectRestricted)
		if det, got := lookup(t, conv, "carol@example.com"); det != a[1] || len(got) != 0 {
			t.Fatalf("lookup of a restricted subject's value: %s %v", det, got)
		}
		if ev := restrict("dsr_restrict_1", false); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || !ev.GetAlreadyDone() || ev.GetCounts()["tokens_affected"] != 2 {
			t.Fatalf("restriction repeated: %v", ev)
		}

		if ev := restrict("dsr_restrict_2", true); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetCounts()["tokens_affected"] != 2 {
			t.Fatalf("lifting: %v", ev)
		}
		if got, err := detokenize(conv, a...); err != nil || got.GetResults()[0].GetValue() != "Carol Example" || got.GetResults()[1].GetValue() != "carol@example.com" {
			t.Fatalf("after the lift: %v %v", got, err)
		}
		if _, got := lookup(t, conv, "carol@example.com"); !slices.Equal(got, []string{"acc_carol"}) {
			t.Fatalf("lookup after the lift: %v", got)
		}

		// Lifted before any value, too: nothing is left behind.
		restrict("dsr_restrict_3", false)
		restrict("dsr_restrict_3", true)
		b := put(t, c, "", "acc_carol", item("Carol E.", tokenvaultv1.DataType_DATA_TYPE_NAME))
		if got, err := detokenize(conv, b[0]); err != nil || got.GetResults()[0].GetValue() != "Carol E." {
			t.Fatalf("after a lift: %v %v", got, err)
		}
		noValuesIn(t, auditEvents(t, v), "Carol Example", "carol@example.com", "Carol E.")
	})
}

// TestPrivacyRestrictionHidesFromLookup: LookupToken does not find a
// restricted subject, and answers as it does when nobody holds the value;
// another subject holding the same value is still found.
func TestPrivacyRestrictionHidesFromLookup(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		c, conv, p := v.client(t, "consent"), v.client(t, "conversation"), v.privacy(t, "consent")
		det := tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC
		a := put(t, c, "", "acc_alice", item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, det))
		put(t, c, "", "acc_bob", item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, det))
		restrict := func(subject, req string) {
			t.Helper()
			if _, err := p.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: subj(subject), RequestId: req}); err != nil {
				t.Fatal(err)
			}
		}
		if _, got := lookup(t, conv, "family@example.com"); !slices.Equal(got, []string{"acc_alice", "acc_bob"}) {
			t.Fatalf("lookup before any restriction: %v", got)
		}
		restrict("acc_alice", "dsr_restrict_1")
		if tok, got := lookup(t, conv, "family@example.com"); tok != a[0] || !slices.Equal(got, []string{"acc_bob"}) {
			t.Fatalf("lookup with alice restricted: %s %v; want bob only", tok, got)
		}
		restrict("acc_bob", "dsr_restrict_2")
		nobody, none := lookup(t, conv, "nobody@example.com")
		if tok, got := lookup(t, conv, "family@example.com"); tok != a[0] || len(got) != 0 || nobody == "" || len(none) != 0 {
			t.Fatalf("lookup with both restricted: %s %v; want the answer for a value nobody holds", tok, got)
		}
	})
}

// TestPrivacyRestrictionSparesSharedValues: a deterministic token that
// another, unrestricted subject holds too is their value as well, and
// stays readable for it.
func TestPrivacyRestrictionSparesSharedValues(t *testing.T) {
	v := newVault(t, storetest.SQLite(t, migrations.FS))
	c, conv, p := v.client(t, "consent"), v.client(t, "conversation"), v.privacy(t, "consent")
	det := tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC
	a := put(t, c, "", "acc_alice", item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, det))
	put(t, c, "", "acc_bob", item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, det))
	if _, err := p.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: subj("acc_alice"), RequestId: "dsr_restrict_1"}); err != nil {
		t.Fatal(err)
	}
	got, err := detokenize(conv, a[0])
	if err != nil || got.GetResults()[0].GetValue() != "family@example.com" {
		t.Fatalf("a shared value while one of its holders is restricted: %v %v", got, err)
	}
}

// TestPrivacyOnlyConsent: the participant protocol is the consent
// workload's; every other workload of the trust domain is refused each
// method, before anything is read or changed.
func TestPrivacyOnlyConsent(t *testing.T) {
	v := newVault(t, storetest.SQLite(t, migrations.FS))
	put(t, v.client(t, "consent"), "", "acc_alice", item("Alice Example", tokenvaultv1.DataType_DATA_TYPE_NAME))
	ctx := context.Background()
	s := subj("acc_alice")
	calls := map[string]func(privacyv1.PrivacyParticipantServiceClient) error{
		"Describe": func(p privacyv1.PrivacyParticipantServiceClient) error {
			_, err := p.Describe(ctx, &privacyv1.DescribeRequest{})
			return err
		},
		"Export": func(p privacyv1.PrivacyParticipantServiceClient) error {
			_, err := p.Export(ctx, &privacyv1.ExportRequest{Subject: s, RequestId: "dsr_1"})
			return err
		},
		"Rectify": func(p privacyv1.PrivacyParticipantServiceClient) error {
			_, err := p.Rectify(ctx, &privacyv1.RectifyRequest{Subject: s, RequestId: "dsr_1",
				Corrections: []*privacyv1.Correction{{Category: "tokenvault.value", ItemId: "tok_x", Field: "value", Value: "x"}}})
			return err
		},
		"Restrict": func(p privacyv1.PrivacyParticipantServiceClient) error {
			_, err := p.Restrict(ctx, &privacyv1.RestrictRequest{Subject: s, RequestId: "dsr_1"})
			return err
		},
		"Erase": func(p privacyv1.PrivacyParticipantServiceClient) error {
			_, err := p.Erase(ctx, &privacyv1.EraseRequest{Subject: s, RequestId: "dsr_1"})
			return err
		},
	}
	for _, name := range []string{"conversation", "identity", "crmsync", "gateway", "audit", "sotto-cli"} {
		p := v.privacy(t, name)
		for method, call := range calls {
			if err := call(p); status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s calling %s: %v; want PermissionDenied", name, method, err)
			}
		}
	}
	if got, _ := exportAll(t, v.privacy(t, "consent"), s, "dsr_2"); len(got) != 1 {
		t.Fatalf("the refused calls changed alice's data: %v", got)
	}
	if n := len(actions(auditEvents(t, v))); n != 1 {
		t.Fatalf("refused calls were audited as done: %v", actions(auditEvents(t, v)))
	}
}

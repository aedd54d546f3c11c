package server_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/migrations"
)

// orch is identity's participant as the orchestrator (consent) calls it.
func (h *harness) orch() privacyv1.PrivacyParticipantServiceClient { return h.privacy("consent") }

func (h *harness) accountID(access string) string {
	h.t.Helper()
	resp, err := h.gw().GetAccount(bearer(access), &identityv1.GetAccountRequest{})
	if err != nil {
		h.t.Fatalf("get account: %v", err)
	}
	return resp.GetAccount().GetAccountId()
}

// noAddressLeaked fails when an address appears in identity's audit
// events (their stored payloads) or in what it logged.
func (h *harness) noAddressLeaked(addresses ...string) {
	h.t.Helper()
	rows, err := h.db.QueryContext(context.Background(), `SELECT payload FROM audit_outbox`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var payloads [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			h.t.Fatal(err)
		}
		payloads = append(payloads, b)
	}
	logs := strings.ToLower(h.logs.String())
	for _, a := range addresses {
		a = strings.ToLower(a)
		for _, p := range payloads {
			if bytes.Contains(bytes.ToLower(p), []byte(a)) {
				h.t.Errorf("an audit event holds the address %s", a)
			}
		}
		local, _, _ := strings.Cut(a, "@")
		if strings.Contains(logs, a) || strings.Contains(logs, local+"@") {
			h.t.Errorf("the logs hold the address %s", a)
		}
	}
}

func (h *harness) privacyEvents(action string) int {
	n := 0
	for _, e := range h.audited() {
		if e.GetAction() == action {
			if e.GetResourceType() != auth.ResourcePrivacyRequest || e.GetResourceId() == "" {
				h.t.Errorf("%s event without the request as its resource: %v", action, e)
			}
			n++
		}
	}
	return n
}

// exportAll pages through a subject's export.
func (h *harness) exportAll(subj *privacyv1.Subject, pageSize int32) ([]*privacyv1.Item, privacyv1.Outcome) {
	h.t.Helper()
	req := &privacyv1.ExportRequest{Subject: subj, RequestId: "dsr-export-1", PageSize: pageSize}
	var items []*privacyv1.Item
	var outcome privacyv1.Outcome
	for page := 0; ; page++ {
		resp, err := h.orch().Export(context.Background(), req)
		if err != nil {
			h.t.Fatalf("export page %d: %v", page, err)
		}
		if page == 0 {
			outcome = resp.GetOutcome()
		}
		items = append(items, resp.GetItems()...)
		if resp.GetNextPageToken() == "" {
			return items, outcome
		}
		if page > 50 {
			h.t.Fatal("export does not end")
		}
		req = proto.CloneOf(req)
		req.PageToken = resp.GetNextPageToken()
	}
}

func fieldOf(it *privacyv1.Item, name string) *privacyv1.Field {
	for _, f := range it.GetFields() {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// TestPrivacyExport: the export of one account holds its account (contact
// details as the tokens identity stores, never the values), its factor and
// its sessions, and nothing of another account of the same shop; no
// credential material; pages (one item each) add up to the whole; a page
// token does not carry over to another subject; another shop's subject of
// the same id has no data. Fails without the shop check of the subject.
func TestPrivacyExport(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, options{})
		const alice, bob = "alice@example.com", "bob@example.com"
		tok := h.signUp("shop", alice)
		_, _, up := h.enrolTOTP(tok.GetAccessToken())
		h.login("shop", alice, strongPassword)
		aliceID := h.accountID(up.GetAccessToken())
		bobTok := h.signUp("shop", bob)
		bobID := h.accountID(bobTok.GetAccessToken())

		subj := &privacyv1.Subject{Tenant: "shop", Subject: aliceID}
		items, outcome := h.exportAll(subj, 0)
		if outcome != privacyv1.Outcome_OUTCOME_DONE {
			t.Fatalf("outcome %v", outcome)
		}
		var mask string
		if err := h.db.QueryRowContext(context.Background(), `SELECT email_mask_token FROM accounts WHERE account_id = $1`, aliceID).Scan(&mask); err != nil {
			t.Fatal(err)
		}
		byCategory := map[string]int{}
		for _, it := range items {
			byCategory[it.GetCategory()]++
			for _, f := range it.GetFields() {
				v := strings.ToLower(f.GetValue() + f.GetToken())
				if strings.Contains(v, "alice") || strings.Contains(v, "bob") || strings.Contains(v, "$argon2") {
					t.Errorf("%s.%s holds a value identity keeps only as a token, or a hash: %q", it.GetCategory(), f.GetName(), v)
				}
				for _, banned := range []string{"password", "secret", "hash", "code", "refresh", "credential"} {
					if strings.Contains(f.GetName(), banned) {
						t.Errorf("%s exports %s", it.GetCategory(), f.GetName())
					}
				}
			}
			if strings.Contains(it.GetId(), bobID) || proto.Equal(it, &privacyv1.Item{}) {
				t.Errorf("item %v is not alice's", it)
			}
			if it.GetCategory() == auth.CategoryAccount {
				if it.GetId() != aliceID || fieldOf(it, "account_id").GetValue() != aliceID {
					t.Errorf("account item %v", it)
				}
				if f := fieldOf(it, "email"); f.GetToken() != mask || f.GetValue() != "" {
					t.Errorf("email field %v; want the account's own token %s and no value", f, mask)
				}
				if fieldOf(it, "email_verified").GetValue() != "true" {
					t.Errorf("email_verified %v", fieldOf(it, "email_verified"))
				}
			}
		}
		if byCategory[auth.CategoryAccount] != 1 || byCategory[auth.CategoryFactor] != 1 || byCategory[auth.CategorySession] != 2 {
			t.Fatalf("items by category %v; want 1 account, 1 factor, 2 sessions", byCategory)
		}
		for _, it := range items {
			if it.GetCategory() == auth.CategorySession && (fieldOf(it, "created_time") == nil || fieldOf(it, "expire_time") == nil) {
				t.Errorf("session without its times: %v", it)
			}
		}

		paged, _ := h.exportAll(subj, 1)
		if len(paged) != len(items) {
			t.Fatalf("%d items in pages of one, %d in one page", len(paged), len(items))
		}
		for i := range items {
			if !proto.Equal(items[i], paged[i]) {
				t.Fatalf("page %d: %v, want %v", i, paged[i], items[i])
			}
		}
		first, err := h.orch().Export(context.Background(), &privacyv1.ExportRequest{Subject: subj, RequestId: "dsr-export-1", PageSize: 1})
		if err != nil || first.GetNextPageToken() == "" {
			t.Fatalf("first page: %v %v", first, err)
		}
		_, err = h.orch().Export(context.Background(), &privacyv1.ExportRequest{Subject: &privacyv1.Subject{Tenant: "shop", Subject: bobID},
			RequestId: "dsr-export-1", PageToken: first.GetNextPageToken()})
		wantErr(t, err, codes.InvalidArgument, reasons.PageTokenInvalid)

		other, outcome := h.exportAll(&privacyv1.Subject{Tenant: "other-shop", Subject: aliceID}, 0)
		if len(other) != 0 || outcome != privacyv1.Outcome_OUTCOME_NO_DATA {
			t.Fatalf("another shop's subject: %v %v", other, outcome)
		}
		if n := h.privacyEvents(string(auth.ActionPrivacyExport)); n == 0 {
			t.Fatal("exports were not audited")
		}
		h.noAddressLeaked(alice, bob)
	})
}

// revocationSet follows identity's revocation feed as another service's
// pkg/enduser does.
func revocationSet(t *testing.T, h *harness) *enduser.Revocations {
	t.Helper()
	r := enduser.NewRevocations(h.app.Feed)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for r.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the revocation set never synced")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// TestPrivacyErase: an erasure deletes the account as DeleteAccount does,
// by the system: its password no longer logs in, its sessions are revoked
// (a token of one is refused by another service's revocation set, and by
// identity), its factor and recovery codes are gone, the shop's integrator
// client is untouched, and the evidence counts what went. A repeat is
// already done and harms nothing; another account is untouched. Fails
// without the revocations published by the erasure.
func TestPrivacyErase(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, options{})
		const alice, bob = "erase-me@example.com", "keep-me@example.com"
		tok := h.signUp("shop", alice)
		_, _, up := h.enrolTOTP(tok.GetAccessToken())
		second := h.login("shop", alice, strongPassword)
		aliceID := h.accountID(up.GetAccessToken())
		bobTok := h.signUp("shop", bob)
		st := storage.New(h.db)
		if err := st.InsertClient(context.Background(), h.db.DB, storage.Client{ID: "cli_shop", Tenant: "shop", DisplayName: "shop's CRM",
			Scopes: []string{"tokenvault.tokenize"}, SecretHash: "00", Created: time.Now()}); err != nil {
			t.Fatal(err)
		}

		revs := revocationSet(t, h)
		claims := verify(t, h, second.GetAccessToken())
		if err := revs.Check(claims); err != nil {
			t.Fatalf("a live session's token before the erasure: %v", err)
		}

		subj := &privacyv1.Subject{Tenant: "shop", Subject: aliceID}
		resp, err := h.orch().Erase(context.Background(), &privacyv1.EraseRequest{Subject: subj, RequestId: "dsr-erase-1"})
		if err != nil {
			t.Fatal(err)
		}
		ev := resp.GetEvidence()
		if ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() || ev.GetCounts()["accounts_deleted"] != 1 ||
			ev.GetCounts()["sessions_revoked"] != 2 || ev.GetCounts()["factors_deleted"] != 1 || ev.GetCounts()["recovery_codes_deleted"] == 0 {
			t.Fatalf("evidence %v", ev)
		}

		_, err = h.gw().Login(from("10.0.0.1"), &identityv1.LoginRequest{Tenant: "shop", Email: alice, Password: strongPassword})
		wantErr(t, err, codes.Unauthenticated, reasons.LoginFailed)
		deadline := time.Now().Add(20 * time.Second)
		for revs.Check(claims) == nil {
			if time.Now().After(deadline) {
				t.Fatal("the erased account's session is not revoked on the feed")
			}
			time.Sleep(20 * time.Millisecond)
		}
		wantErr(t, revs.Check(claims), codes.Unauthenticated, accesstoken.ReasonTokenRevoked)
		if _, err := h.gw().GetAccount(bearer(second.GetAccessToken()), &identityv1.GetAccountRequest{}); status(err) != codes.Unauthenticated {
			t.Fatalf("the erased session's token at identity: %v", err)
		}
		for _, table := range []string{"factors", "recovery_codes"} {
			var n int
			if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table+` WHERE account_id = $1`, aliceID).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%s left: %d %v", table, n, err)
			}
		}
		if _, err := st.Client(context.Background(), h.db.DB, "cli_shop"); err != nil {
			t.Fatalf("the shop's client after the erasure: %v", err)
		}
		if _, err := h.gw().GetAccount(bearer(bobTok.GetAccessToken()), &identityv1.GetAccountRequest{}); err != nil {
			t.Fatalf("another account after the erasure: %v", err)
		}

		again, err := h.orch().Erase(context.Background(), &privacyv1.EraseRequest{Subject: subj, RequestId: "dsr-erase-1"})
		if err != nil {
			t.Fatal(err)
		}
		if ev := again.GetEvidence(); !ev.GetAlreadyDone() || ev.GetOutcome() != privacyv1.Outcome_OUTCOME_NO_DATA || ev.GetCounts()["accounts_deleted"] != 0 {
			t.Fatalf("repeat: %v", ev)
		}
		if n := h.privacyEvents(string(auth.ActionPrivacyErase)); n != 2 {
			t.Fatalf("%d erase events; want 2 (one per call)", n)
		}
		h.noAddressLeaked(alice, bob)
	})
}

// TestPrivacyRectifyEmail: a corrected address is tokenised under the
// subject and waits as the account's pending address: the old address
// still logs in and the new one does not (no account has it as its login
// name) until the code mailed to it is used; the old address gets a notice
// addressed by its token, without code or anything of the new address.
// After the code, the new address logs in, the old one finds no account,
// and the owner keeps their sessions and factor (proving a corrected
// address is not a first verification). Another account's address is
// refused without naming it; invalid values, other fields and other
// categories are answered per correction; a repeat sends nothing. Fails
// if the login name changes before the code is used (the negative check
// of the pending address), without the notice, without email_proven, and
// without the taken-address check.
func TestPrivacyRectifyEmail(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, options{})
		const old, next, taken = "old-address@example.com", "new-address@example.com", "taken@example.com"
		tok := h.signUp("shop", old)
		_, _, up := h.enrolTOTP(tok.GetAccessToken())
		id := h.accountID(up.GetAccessToken())
		takenTok := h.signUp("shop", taken)
		takenID := h.accountID(takenTok.GetAccessToken())
		oldToken := h.emailMaskToken(id)
		subj := &privacyv1.Subject{Tenant: "shop", Subject: id}
		rectify := func(reqID string, cs ...*privacyv1.Correction) *privacyv1.RectifyResponse {
			t.Helper()
			resp, err := h.orch().Rectify(context.Background(), &privacyv1.RectifyRequest{Subject: subj, RequestId: reqID, Corrections: cs})
			if err != nil {
				t.Fatalf("rectify: %v", err)
			}
			return resp
		}

		// Another account's address: refused, nothing changes.
		resp := rectify("dsr-rect-0", emailCorrection(strings.ToUpper(taken)))
		if r := resp.GetResults()[0]; r.GetRefusedReason() != reasons.EmailNotAvailable || r.GetOutcome() == privacyv1.Outcome_OUTCOME_DONE {
			t.Fatalf("another account's address: %v %v", r, resp)
		}
		if strings.Contains(prototext.Format(resp), takenID) {
			t.Fatal("the refusal names the other account")
		}
		h.login("shop", old, strongPassword)
		h.login("shop", taken, strongPassword)

		resp = rectify("dsr-rect-1",
			emailCorrection(next),
			&privacyv1.Correction{Category: auth.CategoryAccount, Field: "kind", Value: "staff"},
			&privacyv1.Correction{Category: "tokenvault.value", ItemId: "tok_x", Field: "value", Value: "x"},
			&privacyv1.Correction{Category: auth.CategoryAccount, ItemId: "acc_someone_else", Field: "email", Value: "z@example.com"},
			emailCorrection("not an address"),
		)
		want := []struct {
			outcome privacyv1.Outcome
			reason  string
		}{
			{privacyv1.Outcome_OUTCOME_DONE, ""},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, reasons.FieldNotRectifiable},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, ""},
			{privacyv1.Outcome_OUTCOME_NO_DATA, ""},
			{privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, reasons.ValueInvalid},
		}
		for i, r := range resp.GetResults() {
			if r.GetIndex() != int32(i) || r.GetOutcome() != want[i].outcome || r.GetRefusedReason() != want[i].reason {
				t.Errorf("correction %d: %v, want %v %q", i, r, want[i].outcome, want[i].reason)
			}
		}
		if ev := resp.GetEvidence(); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetAlreadyDone() ||
			ev.GetCounts()["corrections_applied"] != 1 || ev.GetCounts()["verification_codes_sent"] != 1 ||
			ev.GetCounts()["email_change_pending"] != 1 || ev.GetCounts()["email_change_notices_sent"] != 1 {
			t.Fatalf("evidence %v", ev)
		}
		if !h.vault.Holds(next) {
			t.Fatal("the new address was not tokenised")
		}

		// Before the code: the old address is still the login name.
		h.loginsAs(old, id)
		h.loginFails(next)
		notice := h.noticeTo(oldToken)
		if v, _ := h.vault.Value(notice.RecipientToken); v != old {
			t.Fatalf("the notice went to %q, want the old address", v)
		}
		if notice.Code != "" || notice.AccountID != id || notice.RecipientHMAC != "" || notice.RecipientMasked != "" {
			t.Fatalf("the notice carries a code or a recipient besides the old address's token: %+v", notice)
		}
		if _, ok, err := notify.Latest(h.mailbox, h.mailKey, next, notify.KindEmailChangeRequested); ok || err != nil {
			t.Fatalf("a change notice went to the new address: %v", err)
		}

		code := h.mail(next, notify.KindVerifyEmail)
		if code.AccountID != id {
			t.Fatalf("verification code for %s", code.AccountID)
		}
		// The same request again, before the code: done already, nothing
		// sent.
		again := rectify("dsr-rect-1", emailCorrection(next))
		if ev := again.GetEvidence(); !ev.GetAlreadyDone() || ev.GetCounts()["verification_codes_sent"] != 0 ||
			again.GetResults()[0].GetOutcome() != privacyv1.Outcome_OUTCOME_DONE {
			t.Fatalf("repeat: %v", again)
		}
		if h.mail(next, notify.KindVerifyEmail).Code != code.Code || h.mailCount(notify.KindEmailChangeRequested) != 1 {
			t.Fatal("a repeated correction mailed another code or notice")
		}

		if _, err := h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: code.Code}); err != nil {
			t.Fatal(err)
		}
		nowTok := h.loginsAs(next, id)
		h.loginFails(old)
		if _, err := h.gw().GetAccount(bearer(up.GetAccessToken()), &identityv1.GetAccountRequest{}); err != nil {
			t.Fatalf("the owner's session after the change: %v", err)
		}
		list, err := h.gw().ListFactors(bearer(nowTok.GetAccessToken()), &identityv1.ListFactorsRequest{})
		if err != nil || len(list.GetFactors()) != 1 {
			t.Fatalf("the owner's factor after verifying the corrected address: %v %v", list, err)
		}
		if n := h.countAudited(auth.ActionEmailChange, auditclient.Success); n != 1 {
			t.Fatalf("%d email_change events", n)
		}

		// The same request after the change: done already, nothing sent.
		again = rectify("dsr-rect-1", emailCorrection(next))
		if ev := again.GetEvidence(); !ev.GetAlreadyDone() || ev.GetCounts()["verification_codes_sent"] != 0 {
			t.Fatalf("repeat after the change: %v", again)
		}
		if _, err := h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: code.Code}); status(err) != codes.Unauthenticated {
			t.Fatalf("the code used twice: %v", err)
		}

		// The phone number: tokenised, replaced; removed with an empty value.
		resp = rectify("dsr-rect-2", &privacyv1.Correction{Category: auth.CategoryAccount, Field: "phone", Value: "+4915112345678"})
		if resp.GetResults()[0].GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || !h.vault.Holds("+4915112345678") {
			t.Fatalf("phone: %v", resp)
		}
		var phone string
		if err := h.db.QueryRowContext(context.Background(), `SELECT phone_token FROM accounts WHERE account_id = $1`, id).Scan(&phone); err != nil || phone == "" {
			t.Fatalf("phone token %q %v", phone, err)
		}
		rectify("dsr-rect-3", &privacyv1.Correction{Category: auth.CategoryAccount, Field: "phone", Value: "12"})
		if err := h.db.QueryRowContext(context.Background(), `SELECT phone_token FROM accounts WHERE account_id = $1`, id).Scan(&phone); err != nil || phone == "" {
			t.Fatalf("an invalid number replaced the phone token: %q %v", phone, err)
		}

		if n := h.privacyEvents(string(auth.ActionPrivacyRectify)); n < 3 {
			t.Fatalf("%d rectify events", n)
		}
		h.noAddressLeaked(old, next, taken, "+4915112345678")
	})
}

// TestPrivacyRestrictNotApplicable: identity answers a restriction (and its
// lift) NOT_APPLICABLE and says why in the details; the account still
// works.
func TestPrivacyRestrictNotApplicable(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "restrict@example.com")
	subj := &privacyv1.Subject{Tenant: "shop", Subject: h.accountID(tok.GetAccessToken())}
	for _, lift := range []bool{false, true} {
		resp, err := h.orch().Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: subj, RequestId: "dsr-restrict-1", Lift: lift})
		if err != nil {
			t.Fatal(err)
		}
		ev := resp.GetEvidence()
		if ev.GetOutcome() != privacyv1.Outcome_OUTCOME_NOT_APPLICABLE || ev.GetDetails()["not_applicable_because"] != reasons.NeededToAuthenticate {
			t.Fatalf("lift %v: %v", lift, ev)
		}
	}
	h.login("shop", "restrict@example.com", strongPassword)
	if n := h.privacyEvents(string(auth.ActionPrivacyRestrict)); n != 2 {
		t.Fatalf("%d restrict events", n)
	}
	d, err := h.orch().Describe(context.Background(), &privacyv1.DescribeRequest{})
	if err != nil || d.GetParticipant() != "identity" || len(d.GetCategories()) != 3 {
		t.Fatalf("describe: %v %v", d, err)
	}
}

// TestPrivacyDefaultTenant: a subject of the default shop is found whether
// the request spells its tenant "default" or leaves it empty (the
// protocol's Subject allows both), and not under another shop.
func TestPrivacyDefaultTenant(t *testing.T) {
	h := sqlite(t, options{})
	id := h.accountID(h.signUp("default", "default-shop@example.com").GetAccessToken())
	for tenant, want := range map[string]int{"default": 1, "": 1, "shop": 0} {
		var n int
		for _, it := range func() []*privacyv1.Item {
			items, _ := h.exportAll(&privacyv1.Subject{Tenant: tenant, Subject: id}, 0)
			return items
		}() {
			if it.GetCategory() == auth.CategoryAccount {
				n++
			}
		}
		if n != want {
			t.Errorf("tenant %q: %d accounts, want %d", tenant, n, want)
		}
	}
}

// TestPrivacyOnlyForConsent: every participant method refuses any workload
// of the trust domain but the orchestrator, before doing anything (the
// account survives an Erase from the gateway). Fails without the Policy
// rows naming consent alone.
func TestPrivacyOnlyForConsent(t *testing.T) {
	h := sqlite(t, options{})
	tok := h.signUp("shop", "guarded@example.com")
	subj := &privacyv1.Subject{Tenant: "shop", Subject: h.accountID(tok.GetAccessToken())}
	ctx := context.Background()
	for _, as := range []string{"gateway", "tokenvault", "audit", "sotto-cli"} {
		c := h.privacy(as)
		_, err := c.Describe(ctx, &privacyv1.DescribeRequest{})
		wantCode(t, as+" Describe", err, codes.PermissionDenied)
		_, err = c.Export(ctx, &privacyv1.ExportRequest{Subject: subj, RequestId: "r1"})
		wantCode(t, as+" Export", err, codes.PermissionDenied)
		_, err = c.Erase(ctx, &privacyv1.EraseRequest{Subject: subj, RequestId: "r1"})
		wantCode(t, as+" Erase", err, codes.PermissionDenied)
		_, err = c.Rectify(ctx, &privacyv1.RectifyRequest{Subject: subj, RequestId: "r1",
			Corrections: []*privacyv1.Correction{{Category: auth.CategoryAccount, Field: "email", Value: "x@example.com"}}})
		wantCode(t, as+" Rectify", err, codes.PermissionDenied)
		_, err = c.Restrict(ctx, &privacyv1.RestrictRequest{Subject: subj, RequestId: "r1"})
		wantCode(t, as+" Restrict", err, codes.PermissionDenied)
	}
	h.login("shop", "guarded@example.com", strongPassword)
	if _, err := h.orch().Describe(ctx, &privacyv1.DescribeRequest{}); err != nil {
		t.Fatalf("the orchestrator: %v", err)
	}
}

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if status(err) != code {
		t.Errorf("%s: %v, want %v", what, err, code)
	}
}

func emailCorrection(v string) *privacyv1.Correction {
	return &privacyv1.Correction{Category: auth.CategoryAccount, Field: "email", Value: v}
}

// emailMaskToken is the account's own token of its current address.
func (h *harness) emailMaskToken(id string) string {
	h.t.Helper()
	var tok string
	if err := h.db.QueryRowContext(context.Background(), `SELECT email_mask_token FROM accounts WHERE account_id = $1`, id).Scan(&tok); err != nil || tok == "" {
		h.t.Fatalf("mask token %q: %v", tok, err)
	}
	return tok
}

// loginsAs logs in with the address and checks it is the account's.
func (h *harness) loginsAs(email, id string) *identityv1.Tokens {
	h.t.Helper()
	tok := h.login("shop", email, strongPassword)
	if got := h.accountID(tok.GetAccessToken()); got != id {
		h.t.Fatalf("the address logs into %s, want %s", got, id)
	}
	return tok
}

// loginFails checks that the address is no account's login name.
func (h *harness) loginFails(email string) {
	h.t.Helper()
	_, err := h.gw().Login(from("10.0.0.9"), &identityv1.LoginRequest{Tenant: "shop", Email: email, Password: strongPassword})
	if reasonOf(err) != reasons.LoginFailed {
		h.t.Fatalf("login with %s: %v, want LOGIN_FAILED", notify.Mask(email), err)
	}
}

// noticeTo is the newest change notice addressed to the vault token.
func (h *harness) noticeTo(token string) notify.Entry {
	h.t.Helper()
	e, ok, err := notify.LatestByToken(h.mailbox, token, notify.KindEmailChangeRequested)
	if err != nil || !ok {
		h.t.Fatalf("no change notice for the address (%v)", err)
	}
	return e
}

// mailCount counts the mailbox's messages of kind.
func (h *harness) mailCount(kind string) int {
	h.t.Helper()
	entries, err := notify.Read(h.mailbox)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// TestPrivacyRectifyTypoNeverLocksOut: a mistyped correction leaves the
// account on its address (it logs in, the typo does not), shows in the
// export as the pending address (a token, never the value), and a newer
// correction replaces it: the typo's code proves nothing, the right
// address's does. Correcting back to the current address withdraws a
// pending change and its code. Fails if the login name changes before the
// code is used, or if a newer correction leaves the older code valid.
func TestPrivacyRectifyTypoNeverLocksOut(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, options{})
		const addr, typo, right, stray = "typo-owner@example.com", "typo-ownr@example.com", "typo-owner@example.org", "stray@example.net"
		id := h.accountID(h.signUp("shop", addr).GetAccessToken())
		subj := &privacyv1.Subject{Tenant: "shop", Subject: id}
		rectify := func(reqID, value string) *privacyv1.Evidence {
			t.Helper()
			resp, err := h.orch().Rectify(context.Background(), &privacyv1.RectifyRequest{Subject: subj, RequestId: reqID,
				Corrections: []*privacyv1.Correction{emailCorrection(value)}})
			if err != nil || resp.GetResults()[0].GetOutcome() != privacyv1.Outcome_OUTCOME_DONE {
				t.Fatalf("rectify: %v %v", resp, err)
			}
			return resp.GetEvidence()
		}
		verify := func(code string) error {
			_, err := h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: code})
			return err
		}

		rectify("dsr-typo-1", typo)
		h.loginsAs(addr, id)
		h.loginFails(typo)
		items, _ := h.exportAll(subj, 0)
		if f := fieldOf(items[0], "pending_email"); f == nil || f.GetToken() == "" || f.GetValue() != "" {
			t.Fatalf("the pending address in the export: %v", items[0])
		} else if v, _ := h.vault.Value(f.GetToken()); v != typo {
			t.Fatal("the export's pending address is not the corrected one")
		}
		typoCode := h.mail(typo, notify.KindVerifyEmail).Code

		rectify("dsr-typo-2", right)
		wantErr(t, verify(typoCode), codes.Unauthenticated, reasons.CodeInvalid)
		h.loginsAs(addr, id)
		h.loginFails(typo)
		if err := verify(h.mail(right, notify.KindVerifyEmail).Code); err != nil {
			t.Fatal(err)
		}
		h.loginsAs(right, id)
		h.loginFails(addr)

		// A change, then a correction back to the current address.
		rectify("dsr-typo-3", stray)
		ev := rectify("dsr-typo-4", right)
		if ev.GetCounts()["email_change_cancelled"] != 1 || ev.GetAlreadyDone() {
			t.Fatalf("withdrawing the pending change: %v", ev)
		}
		wantErr(t, verify(h.mail(stray, notify.KindVerifyEmail).Code), codes.Unauthenticated, reasons.CodeInvalid)
		h.loginsAs(right, id)
		if again := rectify("dsr-typo-4", right); !again.GetAlreadyDone() {
			t.Fatalf("repeat: %v", again)
		}
		h.noAddressLeaked(addr, typo, right, stray)
	})
}

// TestPrivacyRectifyTakenAtVerification: an address free when corrected
// but taken by a sign-up before its code is used is refused at
// verification (EMAIL_NOT_AVAILABLE): the account keeps its address, the
// other account keeps the one it took, the pending change is dropped and
// the code spent. Fails without the taken-address check at verification
// (the unique login name alone leaves the code usable and the change
// pending).
func TestPrivacyRectifyTakenAtVerification(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, options{})
		const addr, wanted = "keeps-mine@example.com", "wanted@example.com"
		id := h.accountID(h.signUp("shop", addr).GetAccessToken())
		resp, err := h.orch().Rectify(context.Background(), &privacyv1.RectifyRequest{Subject: &privacyv1.Subject{Tenant: "shop", Subject: id},
			RequestId: "dsr-taken-1", Corrections: []*privacyv1.Correction{emailCorrection(wanted)}})
		if err != nil || resp.GetResults()[0].GetOutcome() != privacyv1.Outcome_OUTCOME_DONE {
			t.Fatalf("rectify: %v %v", resp, err)
		}
		code := h.mail(wanted, notify.KindVerifyEmail).Code
		otherID := h.accountID(h.signUp("shop", wanted).GetAccessToken())

		_, err = h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: code})
		wantErr(t, err, codes.FailedPrecondition, reasons.EmailNotAvailable)
		h.loginsAs(addr, id)
		h.loginsAs(wanted, otherID)
		var pending string
		if err := h.db.QueryRowContext(context.Background(), `SELECT pending_email_token FROM accounts WHERE account_id = $1`, id).Scan(&pending); err != nil || pending != "" {
			t.Fatalf("the refused change is still pending: %q %v", pending, err)
		}
		_, err = h.gw().VerifyEmail(from("10.0.0.1"), &identityv1.VerifyEmailRequest{Code: code})
		wantErr(t, err, codes.Unauthenticated, reasons.CodeInvalid)
		if n := h.countAudited(auth.ActionEmailChange, auditclient.Denied); n != 1 {
			t.Fatalf("%d refused email_change events", n)
		}
	})
}

// TestPrivacyEraseLeavesNoCopyInSQLite: after an erasure neither SQLite's
// database file nor its -wal holds the erased account's e-mail token or
// password hash (they are in the files before it: the search is not
// blind). Fails without the WAL truncation after the erasure commits.
func TestPrivacyEraseLeavesNoCopyInSQLite(t *testing.T) {
	h := sqlite(t, options{})
	ctx := context.Background()
	id := h.accountID(h.signUp("shop", "wal-erase@example.com").GetAccessToken())
	var emailToken, hash string
	if err := h.db.QueryRowContext(ctx, `SELECT email_token, password_hash FROM accounts WHERE account_id = $1`, id).Scan(&emailToken, &hash); err != nil {
		t.Fatal(err)
	}
	path := storetest.SQLitePath(t, h.db)
	secrets := map[string][]byte{"e-mail token": []byte(emailToken), "password hash": []byte(hash)}
	files := func() map[string][]byte {
		out := map[string][]byte{}
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			out["database"+suffix] = b
		}
		return out
	}
	before := files()
	for what, s := range secrets {
		if !bytes.Contains(before["database"], s) && !bytes.Contains(before["database-wal"], s) {
			t.Fatalf("the %s is not in the database files before the erasure: the search is blind", what)
		}
	}
	resp, err := h.orch().Erase(ctx, &privacyv1.EraseRequest{Subject: &privacyv1.Subject{Tenant: "shop", Subject: id}, RequestId: "dsr-wal-1"})
	if err != nil || resp.GetEvidence().GetCounts()["accounts_deleted"] != 1 {
		t.Fatalf("erase: %v %v", resp, err)
	}
	for file, b := range files() {
		for what, s := range secrets {
			if n := bytes.Count(b, s); n != 0 {
				t.Errorf("the erased account's %s is in the %s file (%d hits)", what, file, n)
			}
		}
	}
}

// TestAccountIDNeverAResourceID: events about a customer's own account
// carry the account id as their subject only, which the audit log keys and
// forgets on erasure; as a resource id it would be stored as written and
// outlive the erasure (outside probe, 2026-11-30). Fails with the account
// id set as the resource of sign-up and verification events.
func TestAccountIDNeverAResourceID(t *testing.T) {
	h := sqlite(t, options{})
	id := h.accountID(h.signUp("shop", "resource-id@example.com").GetAccessToken())
	seen := 0
	for _, e := range h.audited() {
		if e.GetSubject() == id {
			seen++
		}
		if strings.Contains(e.GetResourceId(), id) {
			t.Errorf("%s names the account as its resource: %q", e.GetAction(), e.GetResourceId())
		}
	}
	if seen == 0 {
		t.Fatal("no audit event names the new account as its subject: the check saw nothing")
	}
}

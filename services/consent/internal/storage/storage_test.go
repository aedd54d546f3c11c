package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
	"github.com/sottohq/sotto/services/consent/migrations"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// TestStore is the contract suite: every case on SQLite and PostgreSQL.
func TestStore(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		for name, fn := range map[string]func(*testing.T, *storage.Store){
			"purposes":                testPurposes,
			"purpose updates race":    testPurposeRace,
			"catalogue version":       testCatalogueVersion,
			"notices":                 testNotices,
			"latest notices":          testLatestNotices,
			"latest decision wins":    testLatestWins,
			"states of many subjects": testStates,
			"records newest first":    testRecordPages,
			"request ids per subject": testRequests,
			"receipts":                testReceipts,
			"nothing half-written":    testRollback,
		} {
			t.Run(name, func(t *testing.T) { fn(t, storage.New(db)) })
		}
	})
}

func purpose(id string) catalogue.Purpose {
	return catalogue.Purpose{ID: id, DisplayName: "P " + id, Description: "d", Basis: catalogue.BasisConsent,
		Jurisdictions: []string{"EU", "US-CA"}, SaleOrShare: true, RetentionDays: 30, Revision: 1, Updated: t0, Source: catalogue.SourceFile}
}

func testPurposes(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	p := purpose("marketing")
	if err := s.InsertPurpose(ctx, s.DB(), p, "catalogue-file"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Purpose(ctx, s.DB(), "marketing")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("purpose (-want +got):\n%s", diff)
	}
	if err := s.InsertPurpose(ctx, s.DB(), p, "x"); errs.ReasonOf(err) != reasons.PurposeExists {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := s.Purpose(ctx, s.DB(), "nosuch"); errs.KindOf(err) != errs.NotFound || errs.ReasonOf(err) != reasons.PurposeUnknown {
		t.Errorf("unknown: %v", err)
	}
	next := p
	next.Basis, next.Revision, next.Source, next.Jurisdictions = catalogue.BasisLegitimateInterest, 2, catalogue.SourceAPI, nil
	if err := s.UpdatePurpose(ctx, s.DB(), next, 1, "stf_1"); err != nil {
		t.Fatal(err)
	}
	old, err := s.PurposeRevision(ctx, s.DB(), "marketing", 1)
	if err != nil || old.Basis != catalogue.BasisConsent || len(old.Jurisdictions) != 2 {
		t.Fatalf("revision 1 kept: %+v %v", old, err)
	}
	all, err := s.Purposes(ctx, s.DB())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(p catalogue.Purpose) bool { return p.ID == "marketing" })
	if i < 0 || all[i].Revision != 2 || all[i].Jurisdictions != nil || all[i].Source != catalogue.SourceAPI {
		t.Fatalf("purposes: %+v", all)
	}
}

// testPurposeRace: of concurrent updates from one revision, exactly one
// applies.
func testPurposeRace(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	if err := s.InsertPurpose(ctx, s.DB(), purpose("analytics"), "x"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for i := range 8 {
		wg.Go(func() {
			p := purpose("analytics")
			p.Revision, p.RetentionDays = 2, 100+i
			err := s.InTx(ctx, func(tx *sql.Tx) error { return s.UpdatePurpose(ctx, tx, p, 1, "stf") })
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errs.ReasonOf(err) == reasons.PurposeRevisionMismatch:
				lost++
			default:
				t.Errorf("update: %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != 7 {
		t.Fatalf("%d updates applied, %d refused; want 1 and 7", won, lost)
	}
}

func testCatalogueVersion(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	if v, err := s.CatalogueVersion(ctx, s.DB()); err != nil || v != 0 {
		t.Fatalf("fresh: %d %v", v, err)
	}
	if err := s.SetCatalogueVersion(ctx, s.DB(), 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCatalogueVersion(ctx, s.DB(), 0, 1); err == nil {
		t.Error("applied version 1 twice")
	}
	if err := s.SetCatalogueVersion(ctx, s.DB(), 3, 4); errs.KindOf(err) != errs.Aborted {
		t.Errorf("from a version that is not the current: %v", err)
	}
	if err := s.SetCatalogueVersion(ctx, s.DB(), 1, 2); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.CatalogueVersion(ctx, s.DB()); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
}

func testNotices(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	n, err := catalogue.Notice{ID: "marketing", Version: 1, Purposes: []string{"marketing"}, Created: t0, Actor: "catalogue-file",
		Texts: []catalogue.NoticeText{{Language: "en", Text: "Hello"}, {Language: "de", Text: "Hallo"}}}.Check()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InsertNotice(ctx, s.DB(), n); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertNotice(ctx, s.DB(), n); errs.KindOf(err) != errs.AlreadyExists {
		t.Errorf("same version twice: %v", err)
	}
	n2 := n
	n2.Version, n2.Texts = 2, []catalogue.NoticeText{{Language: "en", Text: "Hello again", SHA256: catalogue.TextHash("Hello again")}}
	if err := s.InsertNotice(ctx, s.DB(), n2); err != nil {
		t.Fatal(err)
	}
	latest, err := s.Notice(ctx, s.DB(), "marketing", 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(n2, latest); diff != "" {
		t.Errorf("latest (-want +got):\n%s", diff)
	}
	first, err := s.Notice(ctx, s.DB(), "marketing", 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(n, first); diff != "" {
		t.Errorf("version 1 (-want +got):\n%s", diff)
	}
	if _, err := s.Notice(ctx, s.DB(), "marketing", 3); errs.ReasonOf(err) != reasons.NoticeVersionUnknown {
		t.Errorf("missing version: %v", err)
	}
}

// testLatestNotices: each notice once, at its latest version, by id; the
// purpose filter matches a whole purpose id of the latest version only.
// The ids start "zz-" and the listing starts after "zz", past the other
// cases' notices in the same database.
func testLatestNotices(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	put := func(id string, version int64, text string, purposes ...string) catalogue.Notice {
		t.Helper()
		n, err := catalogue.Notice{ID: id, Version: version, Purposes: purposes, Created: t0, Actor: "stf_1",
			Texts: []catalogue.NoticeText{{Language: "en", Text: text}, {Language: "de", Text: text + " (de)"}}}.Check()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InsertNotice(ctx, s.DB(), n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	put("zz-a", 1, "old", "crm_sync")
	a := put("zz-a", 2, "new", "analytics")
	b := put("zz-b", 1, "b", "crmxsync", "analytics")
	c := put("zz-c", 1, "c", "marketing", "crm_sync")
	ids := func(ns []catalogue.Notice) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.ID+"/"+fmt.Sprint(n.Version))
		}
		return out
	}
	all, err := s.LatestNotices(ctx, s.DB(), "", "zz", 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]catalogue.Notice{a, b, c}, all); diff != "" {
		t.Errorf("latest versions with their texts (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		purpose, after string
		limit          int
		want           []string
	}{
		// zz-a's version 1 asked for crm_sync, its latest does not; zz-b's
		// crmxsync is not crm_sync (LIKE's "_" escaped).
		{"crm_sync", "zz", 10, []string{"zz-c/1"}},
		{"analytics", "zz", 10, []string{"zz-a/2", "zz-b/1"}},
		{"analytics", "zz-a", 10, []string{"zz-b/1"}},
		{"marketing", "zz-c", 10, nil},
		{"", "zz", 1, []string{"zz-a/2"}},
		{"", "zz-a", 1, []string{"zz-b/1"}},
		{"crm", "zz", 10, nil},
	} {
		got, err := s.LatestNotices(ctx, s.DB(), tc.purpose, tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("purpose %q after %q limit %d (-want +got):\n%s", tc.purpose, tc.after, tc.limit, diff)
		}
	}
	// In a transaction too (the texts are read after the list is closed).
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		got, err := s.LatestNotices(ctx, tx, "analytics", "zz", 10)
		if err == nil && len(got) != 2 {
			err = fmt.Errorf("%d notices in a transaction", len(got))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rec(id, subject, purpose string, d catalogue.Decision, at time.Time) storage.Record {
	return storage.Record{ID: id, Subject: subject, Purpose: purpose, Decision: d, Method: catalogue.MethodExplicitOptIn,
		Channel: catalogue.Channel(1), PurposeRevision: 1, Actor: subject, ReceiptID: "rc-" + id, Time: at}
}

// testLatestWins: the state is the latest decision by time (then id),
// whatever order the records commit in.
func testLatestWins(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	later := rec("0002", "cus_1", "marketing", catalogue.DecisionWithdrawn, t0.Add(time.Second))
	earlier := rec("0001", "cus_1", "marketing", catalogue.DecisionGranted, t0)
	for _, r := range []storage.Record{later, earlier} {
		if err := s.InsertRecord(ctx, s.DB(), r); err != nil {
			t.Fatal(err)
		}
	}
	st, ok, err := s.State(ctx, s.DB(), "cus_1", "marketing")
	if err != nil || !ok || st.RecordID != "0002" || st.Decision != catalogue.DecisionWithdrawn {
		t.Fatalf("state %+v %v %v, want the later withdrawal", st, ok, err)
	}
	same := rec("0003", "cus_1", "marketing", catalogue.DecisionGranted, t0.Add(time.Second))
	if err := s.InsertRecord(ctx, s.DB(), same); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.State(ctx, s.DB(), "cus_1", "marketing"); st.RecordID != "0003" {
		t.Fatalf("same time: state %s, want the higher id", st.RecordID)
	}
	if _, ok, err := s.State(ctx, s.DB(), "cus_2", "marketing"); ok || err != nil {
		t.Fatalf("no record: ok %v %v", ok, err)
	}
	got, err := s.Record(ctx, s.DB(), "0001")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(earlier, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

// testStates: more subjects than one query takes.
func testStates(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	var subjects []string
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		for i := range 1200 {
			sub := fmt.Sprintf("cus_%04d", i)
			subjects = append(subjects, sub)
			if i%3 == 0 {
				if err := s.InsertRecord(ctx, tx, rec(fmt.Sprintf("r%04d", i), sub, "analytics", catalogue.DecisionGranted, t0)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	states, err := s.States(ctx, s.DB(), subjects)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 400 || states["cus_1197"]["analytics"].RecordID != "r1197" || states["cus_0001"] != nil {
		t.Fatalf("%d subjects with states", len(states))
	}
}

func testRecordPages(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	var want []string
	for i := range 7 {
		purpose := "marketing"
		if i%2 == 1 {
			purpose = "analytics"
		}
		r := rec(fmt.Sprintf("p%02d", i), "pg_1", purpose, catalogue.DecisionGranted, t0.Add(time.Duration(i/2)*time.Second))
		if err := s.InsertRecord(ctx, s.DB(), r); err != nil {
			t.Fatal(err)
		}
		want = append([]string{r.ID}, want...)
	}
	if err := s.InsertRecord(ctx, s.DB(), rec("other", "pg_2", "marketing", catalogue.DecisionGranted, t0)); err != nil {
		t.Fatal(err)
	}
	var got []string
	page := storage.Page{}
	for {
		rs, err := s.Records(ctx, s.DB(), "pg_1", "", page, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			got = append(got, r.ID)
		}
		if len(rs) < 3 {
			break
		}
		page = storage.Page{Time: rs[len(rs)-1].Time, ID: rs[len(rs)-1].ID}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	rs, err := s.Records(ctx, s.DB(), "pg_1", "analytics", storage.Page{}, 10)
	if err != nil || len(rs) != 3 {
		t.Fatalf("analytics only: %d %v", len(rs), err)
	}
}

func testRequests(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	digest := strings.Repeat("ab", 32)
	r := storage.Request{Subject: "cus_1", Digest: digest, Fingerprint: "fp", ReceiptID: "rc", Created: t0}
	// The store takes only what has a digest's shape: a raw request id
	// passed by mistake is refused, fail closed. (A client's id of 64
	// lower-case hex digits has that shape; the domain digests it anyway.)
	for _, raw := range []string{"req", "4111-1111-1111-1111", strings.Repeat("AB", 32), strings.Repeat("ab", 31), ""} {
		bad := r
		bad.Digest = raw
		if err := s.InsertRequest(ctx, s.DB(), bad); errs.ReasonOf(err) != reasons.StoreInvariant {
			t.Errorf("raw request id %q stored: %v", raw, err)
		}
	}
	if err := s.InsertRequest(ctx, s.DB(), r); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRequest(ctx, s.DB(), r); errs.KindOf(err) != errs.AlreadyExists {
		t.Fatalf("reused id: %v", err)
	}
	r2 := r
	r2.Subject = "cus_2"
	if err := s.InsertRequest(ctx, s.DB(), r2); err != nil {
		t.Fatalf("same id, other subject: %v", err)
	}
	got, err := s.RequestByDigest(ctx, s.DB(), "cus_1", digest)
	if err != nil || got != r {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := s.RequestByDigest(ctx, s.DB(), "cus_3", digest); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("unknown: %v", err)
	}
}

func testReceipts(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	r := storage.Receipt{ID: "0193c0de-0000-7000-8000-000000000001", Subject: "cus_1", JWS: "a.b.c", SHA256: "ff", KeyID: "consent-receipt.v1",
		AuditEventID: "0193c0de-0000-7000-8000-000000000002", Issued: t0}
	if err := s.InsertReceipt(ctx, s.DB(), r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Receipt(ctx, s.DB(), r.ID)
	if err != nil || got != r {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := s.Receipt(ctx, s.DB(), "nosuch"); errs.ReasonOf(err) != reasons.ReceiptNotFound {
		t.Fatalf("unknown: %v", err)
	}
	if err := s.InsertRecord(ctx, s.DB(), rec("x1", "rc_1", "marketing", catalogue.DecisionGranted, t0)); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.RecordsByReceipt(ctx, s.DB(), "rc-x1"); err != nil || len(rs) != 1 || rs[0].ID != "x1" {
		t.Fatalf("records of the receipt: %v %v", rs, err)
	}
}

// testRollback: a decision whose transaction fails leaves no record, state,
// receipt or request id.
func testRollback(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	boom := errors.New("later step failed")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.InsertRequest(ctx, tx, storage.Request{Subject: "cus_9", Digest: strings.Repeat("cd", 32), Fingerprint: "f", ReceiptID: "rc", Created: t0}); err != nil {
			return err
		}
		if err := s.InsertRecord(ctx, tx, rec("rb1", "cus_9", "marketing", catalogue.DecisionGranted, t0)); err != nil {
			return err
		}
		if err := s.InsertReceipt(ctx, tx, storage.Receipt{ID: "rc", Subject: "cus_9", JWS: "j", SHA256: "h", KeyID: "k", AuditEventID: "a", Issued: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, ok, _ := s.State(ctx, s.DB(), "cus_9", "marketing"); ok {
		t.Error("state survived the rollback")
	}
	if _, err := s.Record(ctx, s.DB(), "rb1"); err == nil {
		t.Error("record survived the rollback")
	}
	if _, err := s.Receipt(ctx, s.DB(), "rc"); err == nil {
		t.Error("receipt survived the rollback")
	}
	if _, err := s.RequestByDigest(ctx, s.DB(), "cus_9", strings.Repeat("cd", 32)); err == nil {
		t.Error("request id survived the rollback")
	}
}

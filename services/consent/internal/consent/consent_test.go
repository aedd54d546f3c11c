package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
	"github.com/sottohq/sotto/services/consent/migrations"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// TestDecide is the rule table: every basis with no record, a grant and a
// withdrawal, and a retired purpose.
func TestDecide(t *testing.T) {
	none := storage.State{}
	granted := storage.State{Decision: catalogue.DecisionGranted, RecordID: "r1", Time: t0}
	withdrawn := storage.State{Decision: catalogue.DecisionWithdrawn, RecordID: "r2", Time: t0}
	tests := []struct {
		basis   catalogue.LegalBasis
		retired bool
		st      storage.State
		has     bool
		allowed bool
		reason  consent.Reason
		record  string
	}{
		{catalogue.BasisConsent, false, none, false, false, consent.ReasonConsentMissing, ""},
		{catalogue.BasisConsent, false, granted, true, true, consent.ReasonConsentGranted, "r1"},
		{catalogue.BasisConsent, false, withdrawn, true, false, consent.ReasonConsentWithdrawn, "r2"},
		{catalogue.BasisLegitimateInterest, false, none, false, true, consent.ReasonLegitimateInterest, ""},
		{catalogue.BasisLegitimateInterest, false, granted, true, true, consent.ReasonLegitimateInterest, "r1"},
		{catalogue.BasisLegitimateInterest, false, withdrawn, true, false, consent.ReasonOptedOut, "r2"},
		{catalogue.BasisContract, false, withdrawn, true, true, consent.ReasonContract, ""},
		{catalogue.BasisLegalObligation, false, none, false, true, consent.ReasonLegalObligation, ""},
		{catalogue.BasisConsent, true, granted, true, false, consent.ReasonPurposeRetired, ""},
		{catalogue.BasisContract, true, none, false, false, consent.ReasonPurposeRetired, ""},
		{catalogue.BasisUnspecified, false, granted, true, false, consent.ReasonConsentMissing, "r1"},
	}
	for _, tc := range tests {
		p := catalogue.Purpose{ID: "p", Basis: tc.basis, Retired: tc.retired, Revision: 3}
		r := consent.Decide(p, "cus_1", tc.st, tc.has)
		if r.Allowed != tc.allowed || r.Reason != tc.reason || r.RecordID != tc.record || r.PurposeRevision != 3 || r.Subject != "cus_1" {
			t.Errorf("%v retired=%v state=%v: %+v, want allowed=%v reason=%v record=%q", tc.basis, tc.retired, tc.st.Decision, r, tc.allowed, tc.reason, tc.record)
		}
	}
}

func service(t *testing.T) (*consent.Service, *storage.Store) {
	t.Helper()
	db := storetest.SQLite(t, migrations.FS)
	evs, err := events.New(context.Background(), db, events.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := storage.New(db)
	return consent.New(consent.Deps{Store: st, Audit: auditclient.NewOutbox(db, nil, nil), Events: evs}), st
}

func file(version int64, purposes ...catalogue.Purpose) catalogue.File {
	return catalogue.File{Version: version, Purposes: purposes}
}

func p(id string, basis catalogue.LegalBasis, days int) catalogue.Purpose {
	return catalogue.Purpose{ID: id, DisplayName: id, Basis: basis, RetentionDays: days, Source: catalogue.SourceFile}
}

// TestApplyFile: a file version applies once; a newer one adds purposes
// and updates those the file set, but keeps a privacy officer's edits.
func TestApplyFile(t *testing.T) {
	ctx := context.Background()
	svc, st := service(t)
	if err := svc.ApplyFile(ctx, file(1, p("alpha", catalogue.BasisConsent, 10), p("beta", catalogue.BasisContract, 10))); err != nil {
		t.Fatal(err)
	}
	officer := consent.Caller{Subject: "stf_1", Kind: accesstoken.KindStaff, Roles: []string{accesstoken.RolePrivacyOfficer}, AAL: 2, AuthTime: time.Now()}
	edited := p("beta", catalogue.BasisContract, 99)
	if _, err := svc.UpdatePurpose(ctx, officer, edited, []string{consent.FieldRetentionDays}, 1); err != nil {
		t.Fatal(err)
	}
	// The same version again changes nothing, even with other content.
	if err := svc.ApplyFile(ctx, file(1, p("alpha", catalogue.BasisConsent, 55))); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.Purpose(ctx, st.DB(), "alpha"); a.RetentionDays != 10 || a.Revision != 1 {
		t.Fatalf("version 1 applied twice: %+v", a)
	}
	if err := svc.ApplyFile(ctx, file(2, p("alpha", catalogue.BasisConsent, 20), p("beta", catalogue.BasisContract, 20), p("gamma", catalogue.BasisConsent, 5))); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]struct {
		days     int
		revision int64
		source   string
	}{"alpha": {20, 2, catalogue.SourceFile}, "beta": {99, 2, catalogue.SourceAPI}, "gamma": {5, 1, catalogue.SourceFile}} {
		got, err := st.Purpose(ctx, st.DB(), id)
		if err != nil || got.RetentionDays != want.days || got.Revision != want.revision || got.Source != want.source {
			t.Errorf("%s: %+v %v, want %+v", id, got, err, want)
		}
	}
}

// TestDecisionsNeedTheRequestKey: a service built without the key of
// request-id digests refuses every decision (it never falls back to storing
// the client's id as it is) and writes nothing.
func TestDecisionsNeedTheRequestKey(t *testing.T) {
	ctx := context.Background()
	svc, st := service(t)
	if err := svc.ApplyFile(ctx, file(1, p("alpha", catalogue.BasisConsent, 10))); err != nil {
		t.Fatal(err)
	}
	customer := consent.Caller{Subject: "cus_1", Kind: accesstoken.KindCustomer, AuthTime: time.Now()}
	_, err := svc.Withdraw(ctx, consent.DecisionInput{Caller: customer, Purpose: "alpha", Channel: catalogue.Channel(1), RequestID: "QuentinBlake-4111111111111111"})
	if errs.KindOf(err) != errs.Internal || errs.ReasonOf(err) != reasons.RequestKeyMissing {
		t.Fatalf("a decision without the request-id key: %v", err)
	}
	for _, table := range []string{"consent_requests", "consent_records"} {
		var n int
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows, %v", table, n, err)
		}
	}
}

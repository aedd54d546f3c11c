package server_test

import (
	"context"
	"strconv"
	"testing"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
)

// TestCRMChangeBoundToItsRecord: a change is taken only from the record
// crmsync delivered its subject to (the CRM's own record id, kept at
// delivery). A CRM user who puts customer Y's subject on contact X (the id
// property in HubSpot, the external id in Salesforce: both editable, and Y's
// subject is in the CRM already) and then edits X's e-mail address is
// refused RECORD_SUBJECT_MISMATCH, whether crmsync reads the subject from
// the record (HubSpot) or the change names it (Salesforce's trigger), and
// nothing of Y's is tokenised. Seen failing with the binding check in
// inbound.one removed (both changes APPLIED, the value tokenised under Y).
func TestCRMChangeBoundToItsRecord(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	x, y := h.customer("sub_bindx01", true), h.customer("sub_bindy01", true)
	h.delivered(x)
	h.delivered(y)
	now := h.clock.Now()

	if _, ok := h.hubspot.Edit(x.subject, "sotto_subject", y.subject, now); !ok {
		t.Fatal("HubSpot has no record of X")
	}
	read, _ := h.hubspot.Edit(x.subject, "email", "rewired-canary@example.com", now)
	named, _ := h.hubspot.Edit(x.subject, "email", "named-canary@example.com", now)
	byName := hubspotChange(named)
	byName.Subject = y.subject
	rs := h.ingest("hubspot", hubspotChange(read), byName)
	for i, r := range rs {
		if r.GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_REFUSED || r.GetReason() != "RECORD_SUBJECT_MISMATCH" {
			t.Errorf("change %d on X's record naming Y: %v, want REFUSED RECORD_SUBJECT_MISMATCH", i, r)
		}
	}
	for _, v := range []string{"rewired-canary@example.com", "named-canary@example.com"} {
		if n := h.vault.tokenised(v); n != 0 {
			t.Errorf("a value from X's record was tokenised %d times", n)
		}
	}

	// Y's own record still rectifies Y.
	own, _ := h.hubspot.Edit(y.subject, "email", "own-canary@example.com", now)
	if own.ObjectID == read.ObjectID {
		t.Fatalf("X and Y share HubSpot's object id %s", strconv.FormatInt(own.ObjectID, 10))
	}
	if rs := h.ingest("hubspot", hubspotChange(own)); rs[0].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_APPLIED {
		t.Fatalf("Y's own edit: %v, want APPLIED", rs[0])
	}
}

// TestErasureDropsTheRecordBinding: the CRM record ids kept for an erased
// customer (which name the subject in the clear) go with the deliveries
// (seen failing with the DELETE in storage.DeleteSubject removed: 2 kept).
func TestErasureDropsTheRecordBinding(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	c := h.customer("sub_bind_erase01", true)
	h.delivered(c)
	count := func() int {
		var n int
		if err := h.db.QueryRow(`SELECT COUNT(*) FROM crm_records WHERE subject = $1`, c.subject).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("%d record ids kept for the delivered customer, want HubSpot's and Salesforce's", n)
	}
	if _, err := h.privacy.Erase(context.Background(), &privacyv1.EraseRequest{Subject: shopSubject(c.subject), RequestId: "dsr-bind-1"}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d record ids of the erased customer kept", n)
	}
}

package server_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
)

// hubspotChange is a HubSpot webhook event as the gateway hands it over.
func hubspotChange(ev crmtest.HubSpotEvent) *crmsyncv1.CrmChange {
	return &crmsyncv1.CrmChange{EventId: strconv.FormatInt(ev.EventID, 10), RecordId: strconv.FormatInt(ev.ObjectID, 10),
		Property: ev.PropertyName, Value: ev.PropertyValue, OccurTime: timestamppb.New(time.UnixMilli(ev.OccurredAt))}
}

func (h *harness) ingest(conn string, cs ...*crmsyncv1.CrmChange) []*crmsyncv1.CrmChangeResult {
	h.t.Helper()
	resp, err := h.gateway.IngestCrmChanges(context.Background(), &crmsyncv1.IngestCrmChangesRequest{Tenant: "shop", Connector: conn, Changes: cs})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.GetResults()
}

// tokenised counts the values the token vault stand-in was given that are
// value.
func (v *vaultStandIn) tokenised(value string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, sv := range v.values {
		if sv.value == value {
			n++
		}
	}
	return n
}

// TestCRMEditBecomesARectification: an e-mail address corrected in HubSpot
// (a property the shop's mapping sends in plaintext) is tokenised under the
// customer's subject, audited, and reaches the shop's other CRM in its
// mapped form (Salesforce: a new token); the same event again is a
// duplicate and nothing is tokenised or sent twice (seen failing with the
// event-id check in inbound.one removed: the value was tokenised twice). Only
// the gateway may hand changes over; the value is in no log.
func TestCRMEditBecomesARectification(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_inbound01", true)
		h.delivered(c)
		corrected := "sub_inbound01-edited-canary@example.com"
		ev, ok := h.hubspot.Edit(c.subject, "email", corrected, h.clock.Now())
		if !ok {
			t.Fatal("HubSpot has no record of the customer")
		}
		rs := h.ingest("hubspot", hubspotChange(ev))
		if len(rs) != 1 || rs[0].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_APPLIED {
			t.Fatalf("results %v, want one APPLIED", rs)
		}
		if n := h.vault.tokenised(corrected); n != 1 {
			t.Fatalf("the corrected value was tokenised %d times, want 1", n)
		}
		h.until(time.Second, "the correction reached Salesforce", func() bool {
			rec, _ := h.sf.Record(c.subject)
			return rec["Email"] != c.tEmail && strings.HasPrefix(rec["Email"], "tok_em_")
		})
		sfWrites := len(h.sf.Seen(c.subject))

		again := h.ingest("hubspot", hubspotChange(ev))
		if again[0].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_DUPLICATE {
			t.Fatalf("replayed event: %v, want DUPLICATE", again[0])
		}
		if n := h.vault.tokenised(corrected); n != 1 {
			t.Fatalf("after a replay the value was tokenised %d times, want 1", n)
		}
		h.clock.Advance(time.Minute)
		time.Sleep(50 * time.Millisecond)
		if n := len(h.sf.Seen(c.subject)); n != sfWrites {
			t.Fatalf("Salesforce got %d writes after the replay, want %d", n, sfWrites)
		}
		if n := h.audited("crmsync.inbound.rectified"); n != 1 {
			t.Fatalf("%d crmsync.inbound.rectified audit events, want 1", n)
		}
		_, err := h.services.IngestCrmChanges(context.Background(), &crmsyncv1.IngestCrmChangesRequest{Tenant: "shop",
			Connector: "hubspot", Changes: []*crmsyncv1.CrmChange{hubspotChange(ev)}})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("conversation handing over a CRM change: %v, want PermissionDenied", err)
		}
		if bytes.Contains(h.logs.Bytes(), []byte(corrected)) {
			t.Fatal("the corrected value is in crmsync's log")
		}
	})
}

// TestCRMChangesRefused: only a property the mapping sends in plaintext can
// carry a new value; a property mapped nowhere, one sent as a token or a
// masked view, a record crmsync cannot find the subject of, a customer never
// sent to that CRM and a restricted customer are refused with their reason,
// and an older change than the one applied is stale. Nothing refused reaches
// the token vault. Seen failing with the mapped-property check in inbound.one
// removed (PROPERTY_NOT_PLAINTEXT for the unmapped phone) and with the
// ordering check removed (the older change applied).
func TestCRMChangesRefused(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	c := h.customer("sub_inbound02", true)
	h.delivered(c)
	never := h.customer("sub_inbound03", true)
	now := h.clock.Now()
	at := timestamppb.New(now)

	phone, _ := h.hubspot.Edit(c.subject, "phone", "+4915100000001", now)
	first, _ := h.hubspot.Edit(c.subject, "firstname", "Zeb-canary-first", now)
	rs := h.ingest("hubspot", hubspotChange(phone), hubspotChange(first),
		&crmsyncv1.CrmChange{EventId: "9001", RecordId: "987654321", Property: "email", Value: "nobody-canary@example.com", OccurTime: at},
		&crmsyncv1.CrmChange{EventId: "9002", Subject: never.subject, Property: "email", Value: "never-canary@example.com", OccurTime: at},
	)
	sf := h.ingest("salesforce", &crmsyncv1.CrmChange{EventId: "0002343d-9d90-e395:1", Subject: c.subject, Property: "Email",
		Value: "sf-canary@example.com", OccurTime: at})
	want := []string{"PROPERTY_NOT_MAPPED", "PROPERTY_NOT_PLAINTEXT", "SUBJECT_UNKNOWN", "NO_DATA", "PROPERTY_NOT_PLAINTEXT"}
	for i, r := range append(rs, sf...) {
		if r.GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_REFUSED || r.GetReason() != want[i] {
			t.Errorf("change %d: %v, want REFUSED %s", i, r, want[i])
		}
	}
	for _, v := range []string{"+4915100000001", "Zeb-canary-first", "nobody-canary@example.com", "never-canary@example.com", "sf-canary@example.com"} {
		if h.vault.tokenised(v) != 0 {
			t.Errorf("a refused value was tokenised")
		}
	}

	newer, _ := h.hubspot.Edit(c.subject, "email", "newer-canary@example.com", now.Add(time.Minute))
	older, _ := h.hubspot.Edit(c.subject, "email", "older-canary@example.com", now)
	rs = h.ingest("hubspot", hubspotChange(newer), hubspotChange(older))
	if rs[0].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_APPLIED || rs[1].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_STALE {
		t.Fatalf("newer then older change: %v, want APPLIED then STALE", rs)
	}
	if h.vault.tokenised("older-canary@example.com") != 0 {
		t.Fatal("the stale value was tokenised")
	}

	if _, err := h.privacy.Restrict(context.Background(), &privacyv1.RestrictRequest{Subject: shopSubject(c.subject),
		RequestId: "dsr-inbound-restrict"}); err != nil {
		t.Fatal(err)
	}
	later, _ := h.hubspot.Edit(c.subject, "email", "restricted-canary@example.com", now.Add(2*time.Minute))
	rs = h.ingest("hubspot", hubspotChange(later))
	if rs[0].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_REFUSED || rs[0].GetReason() != "SUBJECT_RESTRICTED" {
		t.Fatalf("change of a restricted customer: %v, want REFUSED SUBJECT_RESTRICTED", rs[0])
	}
	if n := h.audited("crmsync.inbound.refused"); n != 7 {
		t.Fatalf("%d crmsync.inbound.refused audit events, want 7 (five refusals, one stale, one restricted)", n)
	}
}

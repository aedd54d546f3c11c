package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/crmsync/internal/config"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// customer is a consenting customer's tokens; the values are canaries.
type customer struct {
	subject                       string
	email, first, last, phone     string // values
	tEmail, tFirst, tLast, tPhone string // tokens
}

func (h *harness) customer(subject string, consents bool) customer {
	c := customer{subject: subject, email: subject + "-canary@example.com", first: "Zebulon" + subject[len(subject)-2:],
		last: "Quaxley", phone: "+4915112345678"}
	c.tEmail = h.vault.tokenize(subject, "email", c.email)
	c.tFirst = h.vault.tokenize(subject, "name", c.first)
	c.tLast = h.vault.tokenize(subject, "name", c.last)
	c.tPhone = h.vault.tokenize(subject, "phone", c.phone)
	h.consent.set(subject, "crm_sync", consents)
	return c
}

func (h *harness) record(c customer, fields map[string]string) *crmsyncv1.RecordCustomerEventResponse {
	h.t.Helper()
	if fields == nil {
		fields = map[string]string{"email": c.tEmail, "first_name": c.tFirst, "last_name": c.tLast, "phone": c.tPhone}
	}
	resp, err := h.services.RecordCustomerEvent(context.Background(), &crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(),
		Tenant: "shop", Subject: c.subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_CREATED, Fields: fields})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func byConnector(resp *crmsyncv1.RecordCustomerEventResponse) map[string]string {
	out := map[string]string{}
	for _, d := range resp.GetDeliveries() {
		out[d.GetConnector()] = d.GetDeliveryId()
	}
	return out
}

// TestDeliveredWithMappedFieldsOnly: a consenting customer's change reaches
// both CRMs with exactly the mapped properties in the mapped forms (the
// e-mail address in plaintext at HubSpot, as the mapping says, and only
// there; the first name masked; the last name as a token); the unmapped
// phone number reaches neither. While queued, neither the tokens nor the
// values are in the database files (WAL included) or the logs; once
// delivered, the payload is gone.
func TestDeliveredWithMappedFieldsOnly(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_delivered01", true)
		// Both CRMs fail the first attempt: the deliveries wait, queued.
		h.hubspot.Fail(crmtest.Fault{Status: http.StatusServiceUnavailable})
		h.sf.Fail(crmtest.Fault{Status: http.StatusServiceUnavailable})
		resp := h.record(c, nil)
		ids := byConnector(resp)
		if len(ids) != 2 {
			t.Fatalf("queued for %v, want hubspot and salesforce", ids)
		}
		// Queued with the payload at rest: no canary in the files (a dead
		// letter keeps its payload too, so this holds whatever the first
		// attempt did).
		stored := storetest.StoredBytes(t, h.db)
		for _, canary := range []string{c.email, c.first, c.last, c.phone, c.tEmail, c.tFirst, c.tLast, c.tPhone} {
			if bytes.Contains(stored, []byte(canary)) {
				t.Fatalf("the database holds %q while queued", canary)
			}
		}
		h.until(time.Millisecond, "both attempted once", func() bool {
			return h.delivery(ids["hubspot"]).GetAttempts() == 1 && h.delivery(ids["salesforce"]).GetAttempts() == 1
		})
		if h.state(ids["hubspot"]) != crmsyncv1.DeliveryState_DELIVERY_STATE_QUEUED {
			t.Fatal("not queued")
		}
		h.until(time.Second, "both delivered", func() bool {
			return h.state(ids["hubspot"]) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED &&
				h.state(ids["salesforce"]) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED
		})
		hs, ok := h.hubspot.Record(c.subject)
		want := map[string]string{"sotto_subject": c.subject, "email": c.email, "firstname": c.first[:1] + "•••", "lastname": c.tLast}
		if !ok || len(hs) != len(want) {
			t.Fatalf("hubspot holds %v, want %v", hs, want)
		}
		for k, v := range want {
			if hs[k] != v {
				t.Fatalf("hubspot %s = %q, want %q", k, hs[k], v)
			}
		}
		sf, ok := h.sf.Record(c.subject)
		if !ok || len(sf) != 1 || sf["Email"] != c.tEmail {
			t.Fatalf("salesforce holds %v, want only Email as the token", sf)
		}
		for _, crm := range [][]map[string]string{h.hubspot.Seen(c.subject), h.sf.Seen(c.subject)} {
			for _, props := range crm {
				for _, v := range props {
					if v == c.phone || v == c.tPhone {
						t.Fatal("the unmapped phone number reached a CRM")
					}
				}
			}
		}
		stored = storetest.StoredBytes(t, h.db)
		logs := h.logs.Bytes()
		for _, canary := range []string{c.email, c.first, c.last, c.phone, c.tEmail, c.tFirst, c.tLast, c.tPhone} {
			if bytes.Contains(stored, []byte(canary)) || bytes.Contains(logs, []byte(canary)) {
				t.Fatalf("%q in the database or the logs after delivery", canary)
			}
		}
		var payloads int
		if err := h.db.QueryRow(`SELECT COUNT(*) FROM crm_deliveries WHERE payload IS NOT NULL OR wrapped_key IS NOT NULL`).Scan(&payloads); err != nil {
			t.Fatal(err)
		}
		if payloads != 0 {
			t.Fatalf("%d delivered deliveries keep their payload", payloads)
		}
		if n := h.audited("crmsync.delivered"); n != 2 {
			t.Fatalf("%d crmsync.delivered audit events, want 2", n)
		}
		// Recording the same event again queues nothing new.
	})
}

// TestConsentCheckedWhenQueued: a customer who has not agreed to crm_sync
// is queued for no CRM.
func TestConsentCheckedWhenQueued(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_noconsent01", false)
		resp := h.record(c, nil)
		if len(resp.GetDeliveries()) != 0 || len(resp.GetSkipped()) != 2 || resp.GetSkipped()[0].GetReason() != reasons.ConsentDenied {
			t.Fatalf("got %v", resp)
		}
		if n := h.hubspot.Counts().Requests + h.sf.Counts().Requests; n != 0 {
			t.Fatalf("%d requests reached the CRMs", n)
		}
	})
}

// TestConsentWithdrawnBeforeDelivery: consent withdrawn while a delivery
// waits for its retry cancels it; the CRM never gets it. Fails without the
// second consent check (at delivery).
func TestConsentWithdrawnBeforeDelivery(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_withdraws01", true)
		down := crmtest.Fault{Status: http.StatusServiceUnavailable}
		h.hubspot.Fail(down, down, down)
		ids := byConnector(h.record(c, map[string]string{"last_name": c.tLast}))
		id := ids["hubspot"]
		h.until(time.Millisecond, "the first attempt failed", func() bool { return h.delivery(id).GetAttempts() >= 1 })
		h.consent.set(c.subject, "crm_sync", false)
		h.until(time.Second, "cancelled", func() bool {
			return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_CANCELLED
		})
		if d := h.delivery(id); d.GetReason() != reasons.ConsentWithdrawn {
			t.Fatalf("reason %q", d.GetReason())
		}
		if got := h.hubspot.Counts(); got.Creates != 0 || got.Updates != 0 {
			t.Fatalf("the CRM got the change after the withdrawal: %+v", got)
		}
		if _, ok := h.hubspot.Record(c.subject); ok {
			t.Fatal("the CRM holds the customer")
		}
		if n := h.audited("crmsync.cancelled"); n != 1 {
			t.Fatalf("%d crmsync.cancelled audit events, want 1", n)
		}
	})
}

// TestRetryNeverDuplicates: the CRM makes the change but its answer is
// lost (a 500 after applying); the retry upserts by the customer's subject,
// so the CRM has one record, created once.
func TestRetryNeverDuplicates(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_duplicate01", true)
		h.hubspot.Fail(crmtest.Fault{Status: http.StatusInternalServerError, Apply: true})
		id := byConnector(h.record(c, map[string]string{"last_name": c.tLast}))["hubspot"]
		h.until(time.Second, "delivered", func() bool { return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED })
		if got := h.hubspot.Counts(); got.Creates != 1 || got.Updates != 1 {
			t.Fatalf("counts %+v: want the record created once and updated by the retry", got)
		}
		if d := h.delivery(id); d.GetAttempts() != 2 {
			t.Fatalf("attempts %d", d.GetAttempts())
		}
	})
}

// TestRetryAfterRespected: a 429 with Retry-After: 120 is not retried
// before two minutes have passed on the runner's clock, and is after.
// Fails when the 429 is retried on the queue's backoff (1 s, 2 s, 4 s).
func TestRetryAfterRespected(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_ratelimit01", true)
		h.hubspot.Fail(crmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 120})
		start := h.clock.Now()
		id := byConnector(h.record(c, map[string]string{"last_name": c.tLast}))["hubspot"]
		h.until(time.Millisecond, "the 429", func() bool { return h.hubspot.Counts().Requests == 1 })
		h.until(time.Millisecond, "attempt recorded", func() bool { return h.delivery(id).GetAttempts() == 1 })
		if r := h.delivery(id).GetReason(); r != reasons.CRMRateLimited {
			t.Fatalf("reason %q", r)
		}
		// Up to 115 s on: nothing more reached the CRM.
		for h.clock.Since(start) < 115*time.Second {
			h.clock.Advance(5 * time.Second)
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		if n := h.hubspot.Counts().Requests; n != 1 {
			t.Fatalf("%d requests before the Retry-After passed", n)
		}
		h.until(time.Second, "delivered after the Retry-After", func() bool {
			return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED
		})
		if got := h.hubspot.Counts(); got.Creates != 1 {
			t.Fatalf("counts %+v", got)
		}
	})
}

// TestDeadLetterReplayDiscard: a CRM that keeps failing dead-letters the
// delivery after MaxAttempts with the reason; the operator lists dead
// letters, replays one (delivered once the CRM is back) and discards
// another (its payload deleted, never sent). A refusal no retry fixes
// (400) is dead at once.
func TestDeadLetterReplayDiscard(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		a, b := h.customer("sub_deadletter01", true), h.customer("sub_deadletter02", true)
		down := crmtest.Fault{Status: http.StatusBadGateway}
		h.hubspot.Fail(down, down, down, down)
		idA := byConnector(h.record(a, map[string]string{"last_name": a.tLast}))["hubspot"]
		h.until(time.Second, "dead-lettered", func() bool {
			return h.state(idA) == crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED
		})
		if d := h.delivery(idA); d.GetAttempts() != 4 || d.GetReason() != reasons.CRMUnavailable {
			t.Fatalf("dead letter %v", d)
		}
		h.hubspot.Fail(crmtest.Fault{Status: http.StatusBadRequest})
		idB := byConnector(h.record(b, map[string]string{"last_name": b.tLast}))["hubspot"]
		h.until(time.Second, "dead at once", func() bool {
			return h.state(idB) == crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED
		})
		if d := h.delivery(idB); d.GetAttempts() != 1 || d.GetReason() != reasons.CRMRejected {
			t.Fatalf("dead letter %v", d)
		}
		dead, err := h.operator.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{State: crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead.GetDeliveries()) != 1 || dead.GetNextPageToken() == "" {
			t.Fatalf("first page %v", dead)
		}
		next, err := h.operator.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{State: crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED,
			PageSize: 1, PageToken: dead.GetNextPageToken()})
		if err != nil {
			t.Fatal(err)
		}
		if len(next.GetDeliveries()) != 1 || next.GetNextPageToken() != "" ||
			next.GetDeliveries()[0].GetDeliveryId() == dead.GetDeliveries()[0].GetDeliveryId() {
			t.Fatalf("second page %v", next)
		}
		// A page token is for the query it came from.
		_, err = h.operator.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{PageSize: 1, PageToken: dead.GetNextPageToken()})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("page token of another query: %v", err)
		}

		if _, err := h.operator.DiscardDelivery(ctx, &crmsyncv1.DiscardDeliveryRequest{DeliveryId: idB}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.operator.ReplayDelivery(ctx, &crmsyncv1.ReplayDeliveryRequest{DeliveryId: idB}); reasonOf(err) != reasons.DeliveryNotReplayable {
			t.Fatalf("replaying a discarded delivery: %v", err)
		}
		r, err := h.operator.ReplayDelivery(ctx, &crmsyncv1.ReplayDeliveryRequest{DeliveryId: idA})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetDelivery().GetState() != crmsyncv1.DeliveryState_DELIVERY_STATE_QUEUED || r.GetDelivery().GetAttempts() != 0 {
			t.Fatalf("replayed %v", r.GetDelivery())
		}
		h.until(time.Second, "replayed and delivered", func() bool {
			return h.state(idA) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED
		})
		if _, ok := h.hubspot.Record(b.subject); ok {
			t.Fatal("the discarded delivery reached the CRM")
		}
		if got := h.hubspot.Counts(); got.Creates != 1 {
			t.Fatalf("counts %+v", got)
		}
		if _, err := h.operator.DiscardDelivery(ctx, &crmsyncv1.DiscardDeliveryRequest{DeliveryId: idA}); reasonOf(err) != reasons.DeliveryFinished {
			t.Fatalf("discarding a delivered delivery: %v", err)
		}
		if _, err := h.operator.ReplayDelivery(ctx, &crmsyncv1.ReplayDeliveryRequest{DeliveryId: "dlv_none"}); status.Code(err) != codes.NotFound {
			t.Fatalf("replaying an unknown delivery: %v", err)
		}
		for action, want := range map[string]int{"crmsync.dead_lettered": 2, "crmsync.replayed": 1, "crmsync.discarded": 1, "crmsync.delivered": 1} {
			if n := h.audited(action); n != want {
				t.Fatalf("%d %s audit events, want %d", n, action, want)
			}
		}
	}, func(c *config.Config) { c.MaxAttempts = 4 })
}

// TestPlaintextOnlyWhereThePolicyAllows: a mapping may name plaintext for
// crm_sync, but the token vault's shipped policy gives crmsync e-mail
// addresses and names only; a phone number's token mapped as plaintext is
// refused by it, and the delivery is dead-lettered with nothing sent.
func TestPlaintextOnlyWhereThePolicyAllows(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_plaintext01", true)
		// The e-mail field carries a phone token: the vault refuses it for crm_sync.
		id := byConnector(h.record(c, map[string]string{"email": c.tPhone}))["hubspot"]
		h.until(time.Second, "dead-lettered", func() bool {
			return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED
		})
		if r := h.delivery(id).GetReason(); r != reasons.PlaintextRefused {
			t.Fatalf("reason %q", r)
		}
		if h.hubspot.Counts().Requests != 0 {
			t.Fatal("something reached HubSpot")
		}
	})
}

// TestBadInput: values that are not tokens, a summary with personal data
// and malformed requests are InvalidArgument with a reason; nothing is
// queued.
func TestBadInput(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	c := h.customer("sub_badinput01", true)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		req    *crmsyncv1.RecordCustomerEventRequest
		reason string
	}{
		"a raw e-mail address as a field": {&crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(), Tenant: "shop", Subject: c.subject,
			Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED, Fields: map[string]string{"email": c.email}}, reasons.FieldsInvalid},
		"a summary with an e-mail address": {&crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(), Tenant: "shop", Subject: c.subject,
			Kind: crmsyncv1.EventKind_EVENT_KIND_CONVERSATION_SUMMARY, Summary: "Asked about order 42, write to " + c.email}, reasons.SummaryNotPseudonymised},
		"a bad tenant": {&crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(), Tenant: "Shop!", Subject: c.subject,
			Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED}, ""},
		"no kind": {&crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(), Tenant: "shop", Subject: c.subject}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.services.RecordCustomerEvent(ctx, tc.req)
			if status.Code(err) != codes.InvalidArgument || (tc.reason != "" && reasonOf(err) != tc.reason) {
				t.Fatalf("got %v (%s), want InvalidArgument %s", err, reasonOf(err), tc.reason)
			}
			if bytes.Contains([]byte(status.Convert(err).Message()), []byte(c.email)) {
				t.Fatal("the error quotes the value")
			}
		})
	}
	var n int
	if err := h.db.QueryRow(`SELECT COUNT(*) FROM crm_deliveries`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d deliveries queued (%v)", n, err)
	}
	// A summary of placeholders goes out as it is.
	resp, err := h.services.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(), Tenant: "shop",
		Subject: c.subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CONVERSATION_SUMMARY, Summary: "Asked where order [ORDER_1] is; answered by [PERSON_1]."})
	if err != nil || len(byConnector(resp)) != 1 {
		t.Fatalf("summary: %v %v", resp, err)
	}
}

// TestOperatorCallsAreTheCLIs: a workload without the grant cannot list,
// replay or discard, nor record events.
func TestOperatorCallsAreTheCLIs(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	ctx := context.Background()
	if _, err := h.gateway.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("gateway listing: %v", err)
	}
	if _, err := h.services.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("conversation listing: %v", err)
	}
	if _, err := h.operator.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("the CLI recording: %v", err)
	}
}

// TestEventRecordedOnce: the same event recorded twice is queued once and
// reaches the CRM once.
func TestEventRecordedOnce(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_eventonce01", true)
		req := &crmsyncv1.RecordCustomerEventRequest{EventId: newEventID(), Tenant: "shop", Subject: c.subject,
			Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED, Fields: map[string]string{"last_name": c.tLast}}
		first, err := h.services.RecordCustomerEvent(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		id := byConnector(first)["hubspot"]
		h.until(time.Second, "delivered", func() bool { return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED })
		again, err := h.services.RecordCustomerEvent(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if byConnector(again)["hubspot"] != id || len(again.GetDeliveries()) != 1 {
			t.Fatalf("second record %v, want the first's delivery %s", again, id)
		}
		for range 5 { // let a second job, had one been queued, run
			h.clock.Advance(time.Second)
			time.Sleep(10 * time.Millisecond)
		}
		if got := h.hubspot.Counts(); got.Creates != 1 || got.Updates != 0 {
			t.Fatalf("counts %+v", got)
		}
	})
}

// TestSwappedPayloadDoesNotOpen: a payload moved onto another delivery's
// row (someone with write access to the database redirecting a customer's
// data) does not decrypt there: the delivery is dead-lettered
// PAYLOAD_UNREADABLE and nothing is sent. Fails without the delivery id as
// associated data.
func TestSwappedPayloadDoesNotOpen(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		a, b := h.customer("sub_swap00001", true), h.customer("sub_swap00002", true)
		h.hubspot.Fail(crmtest.Fault{Status: http.StatusServiceUnavailable}, crmtest.Fault{Status: http.StatusServiceUnavailable})
		idA := byConnector(h.record(a, map[string]string{"last_name": a.tLast}))["hubspot"]
		idB := byConnector(h.record(b, map[string]string{"last_name": b.tLast}))["hubspot"]
		h.until(time.Millisecond, "both attempted", func() bool {
			return h.delivery(idA).GetAttempts() == 1 && h.delivery(idB).GetAttempts() == 1
		})
		// B's row gets A's payload and wrapped key.
		if _, err := h.db.Exec(`UPDATE crm_deliveries SET payload = (SELECT payload FROM crm_deliveries WHERE delivery_id = $1),
			wrapped_key = (SELECT wrapped_key FROM crm_deliveries WHERE delivery_id = $1) WHERE delivery_id = $2`, idA, idB); err != nil {
			t.Fatal(err)
		}
		h.until(time.Second, "B dead-lettered", func() bool {
			return h.state(idB) == crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED
		})
		if r := h.delivery(idB).GetReason(); r != reasons.PayloadUnreadable {
			t.Fatalf("reason %q", r)
		}
		h.until(time.Second, "A delivered", func() bool { return h.state(idA) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED })
		if got := h.hubspot.Counts(); got.Creates != 1 || len(h.hubspot.Seen(a.subject)) != 1 {
			t.Fatalf("counts %+v: A's data was sent twice", got)
		}
	})
}

// TestReconcileDeadJobs: a delivery whose job the queue dead-lettered on
// its own (its worker died during the last attempt: LEASE_EXPIRED, which
// the handler never sees) is listed as dead-lettered with that reason once
// the reconcile runs, and can be replayed.
func TestReconcileDeadJobs(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		c := h.customer("sub_reconcile1", true)
		h.hubspot.Fail(crmtest.Fault{Status: http.StatusServiceUnavailable})
		id := byConnector(h.record(c, map[string]string{"last_name": c.tLast}))["hubspot"]
		h.until(time.Millisecond, "attempted", func() bool { return h.delivery(id).GetAttempts() == 1 })
		var job int64
		if err := h.db.QueryRow(`SELECT job_id FROM crm_deliveries WHERE delivery_id = $1`, id).Scan(&job); err != nil {
			t.Fatal(err)
		}
		// What pkg/jobs leaves when a worker dies on a job's last attempt.
		if _, err := h.db.Exec(`UPDATE jobs SET state = 'dead', last_error_reason = 'LEASE_EXPIRED' WHERE id = $1`, job); err != nil {
			t.Fatal(err)
		}
		if err := h.jobs.Trigger(ctx, "crmsync.reconcile"); err != nil {
			t.Fatal(err)
		}
		h.until(time.Millisecond, "dead-lettered", func() bool {
			return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED
		})
		if r := h.delivery(id).GetReason(); r != "LEASE_EXPIRED" {
			t.Fatalf("reason %q", r)
		}
		if _, err := h.operator.ReplayDelivery(ctx, &crmsyncv1.ReplayDeliveryRequest{DeliveryId: id}); err != nil {
			t.Fatal(err)
		}
		h.until(time.Second, "delivered", func() bool { return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED })
		if got := h.hubspot.Counts(); got.Creates != 1 {
			t.Fatalf("counts %+v", got)
		}
	})
}

// TestShopRateLimit: the shop's Salesforce mapping allows one request a
// second. Three customers recorded at one instant of the runner's clock
// reach Salesforce in one request at that instant (a batch is one request:
// the others come as the clock moves; HubSpot, at its default rate, gets
// all three at once); none is counted as a failed attempt. Fails without
// the limiter.
func TestShopRateLimit(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		var ids []string
		for i := range 3 {
			c := h.customer(fmt.Sprintf("sub_ratelimit%02d", i), true)
			ids = append(ids, byConnector(h.record(c, map[string]string{"email": c.tEmail}))["salesforce"])
		}
		// The clock stands still: HubSpot gets all three, Salesforce one.
		deadline := time.Now().Add(30 * time.Second)
		for h.hubspot.Counts().Creates < 3 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		for h.sf.Counts().Creates < 1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		if got := h.sf.Counts().Requests - h.sf.TokensIssued(); got != 1 {
			t.Fatalf("salesforce got %d requests at one instant, want 1", got)
		}
		if got := h.hubspot.Counts().Creates; got != 3 {
			t.Fatalf("hubspot got %d records, want 3", got)
		}
		h.until(100*time.Millisecond, "all delivered", func() bool {
			for _, id := range ids {
				if h.state(id) != crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED {
					return false
				}
			}
			return true
		})
		for _, id := range ids {
			if a := h.delivery(id).GetAttempts(); a != 1 {
				t.Fatalf("delivery %s took %d attempts; waiting for the rate is not one", id, a)
			}
		}
	})
}

// TestConsentUnreachableHoldsDelivery: while the consent service cannot be
// asked, a queued delivery is held (retried, CONSENT_UNAVAILABLE), never
// sent; once it answers yes again, the delivery goes. Fails if a failed
// consent check counted as a yes.
func TestConsentUnreachableHoldsDelivery(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_consentdown", true)
		h.hubspot.Fail(crmtest.Fault{Status: http.StatusServiceUnavailable})
		id := byConnector(h.record(c, map[string]string{"last_name": c.tLast}))["hubspot"]
		h.until(time.Millisecond, "first attempt", func() bool { return h.delivery(id).GetAttempts() == 1 })
		h.consent.mu.Lock()
		h.consent.down = true
		h.consent.mu.Unlock()
		h.until(time.Second, "held by consent, or sent", func() bool {
			return h.delivery(id).GetReason() == reasons.ConsentUnavailable || h.hubspot.Counts().Creates > 0
		})
		if got := h.hubspot.Counts(); got.Creates != 0 {
			t.Fatalf("sent while consent could not be asked: %+v", got)
		}
		h.consent.mu.Lock()
		h.consent.down = false
		h.consent.mu.Unlock()
		h.until(time.Second, "delivered", func() bool { return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED })
	}, func(c *config.Config) { c.MaxAttempts = 10 })
}

// TestVaultUnableToCheckConsentIsRetried: the token vault refuses a value
// whose consent it could not check right now (CONSENT_UNAVAILABLE: the
// consent service down or shedding load for it, while it still answered
// crmsync's own check); that is retried like an unreachable vault, not
// dead-lettered as a refusal. Seen failing without it (dead-lettered
// PLAINTEXT_REFUSED on the first attempt).
func TestVaultUnableToCheckConsentIsRetried(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_vaultconsentdown", true)
		h.vault.mu.Lock()
		h.vault.refuseAll = "CONSENT_UNAVAILABLE"
		h.vault.mu.Unlock()
		id := byConnector(h.record(c, nil))["hubspot"] // its e-mail goes in plaintext
		h.until(time.Second, "an attempt refused by the vault", func() bool { return h.delivery(id).GetAttempts() >= 1 })
		if d := h.delivery(id); d.GetState() == crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED || d.GetReason() != reasons.TokenVaultUnavailable {
			t.Fatalf("after the vault could not check consent: %v %s, want a retry (%s)", d.GetState(), d.GetReason(), reasons.TokenVaultUnavailable)
		}
		h.vault.mu.Lock()
		h.vault.refuseAll = ""
		h.vault.mu.Unlock()
		h.until(time.Second, "delivered", func() bool { return h.state(id) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED })
	}, func(c *config.Config) { c.MaxAttempts = 10 })
}

// TestWithdrawalCancelsQueuedAtOnce: a withdrawal on consent's change feed
// cancels the customer's queued delivery for that purpose as soon as it
// arrives: the runner's clock never moves, so no attempt runs, and the
// delivery is cancelled anyway; the CRM never gets it. Another customer's
// queued delivery stays queued. A restart resumes from the kept cursor.
// Seen failing with the follower not started (the delivery stays queued).
func TestWithdrawalCancelsQueuedAtOnce(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_feed01", true)
		other := h.customer("sub_feed02", true)
		down := crmtest.Fault{Status: http.StatusServiceUnavailable}
		h.hubspot.Fail(down, down)
		id := byConnector(h.record(c, map[string]string{"last_name": c.tLast}))["hubspot"]
		otherID := byConnector(h.record(other, map[string]string{"last_name": other.tLast}))["hubspot"]
		h.until(time.Millisecond, "the first attempts failed", func() bool {
			return h.delivery(id).GetAttempts() == 1 && h.delivery(otherID).GetAttempts() == 1
		})
		h.follow()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if cur, err := h.app.Store.FeedCursor(context.Background()); err == nil && cur != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the follower never reached the feed")
			}
		}
		h.consent.set(c.subject, "crm_sync", false)
		for deadline := time.Now().Add(30 * time.Second); h.state(id) != crmsyncv1.DeliveryState_DELIVERY_STATE_CANCELLED; {
			if time.Now().After(deadline) {
				t.Fatalf("the queued delivery was not cancelled by the withdrawal: %v", h.delivery(id))
			}
			time.Sleep(10 * time.Millisecond)
		}
		if d := h.delivery(id); d.GetReason() != reasons.ConsentWithdrawn || d.GetAttempts() != 1 {
			t.Fatalf("cancelled delivery %v", d)
		}
		var payloads int
		if err := h.db.QueryRow(`SELECT COUNT(*) FROM crm_deliveries WHERE delivery_id = $1 AND payload IS NOT NULL`, id).Scan(&payloads); err != nil {
			t.Fatal(err)
		}
		if payloads != 0 {
			t.Fatal("the cancelled delivery keeps its payload")
		}
		h.until(time.Second, "the other customer's delivery went out", func() bool {
			return h.state(otherID) == crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED
		})
		if _, ok := h.hubspot.Record(c.subject); ok || len(h.hubspot.Seen(c.subject)) != 0 {
			t.Fatal("the CRM got the withdrawn customer's change")
		}
		// The kept position is after the withdrawal: a restart does not
		// act on it again, nor skip what came after.
		h.consent.mu.Lock()
		want := strconv.Itoa(len(h.consent.changes))
		h.consent.mu.Unlock()
		if cur, err := h.app.Store.FeedCursor(context.Background()); err != nil || cur != want {
			t.Fatalf("feed cursor %q %v, want %s", cur, err, want)
		}
	})
}

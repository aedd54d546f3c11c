package e2e

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/secrets"
)

// TestCRMConsentWithdrawalAndErasure runs the suite's binaries with
// crmsync sending to the HubSpot emulator (pkg/crmtest, HubSpot's CRM v3
// protocol over TLS, trusted through SOTTO_CRMSYNC_CA_FILE). A customer
// grants crm_sync (the real consent service); a change recorded by
// conversation's workload with real token vault tokens reaches HubSpot
// with exactly the mapped properties in the mapped forms (the e-mail
// address in plaintext, detokenised under tokenvault's policy; the first
// name as tokenvault's masked view; the last name as its token; the phone
// number, unmapped, nowhere). While HubSpot has asked for an hour's pause
// a second change waits in the queue; she withdraws, the change feed
// cancels it at once, and nothing more is sent, nor queued for a later
// change. She then asks for
// erasure: HubSpot no longer has her (its delete takes two reads to show,
// which crmsync waits out), crmsync's step in the request is done with its
// evidence, and the audit log holds crmsync's erase and the CRM's
// confirmation for the request.
func TestCRMConsentWithdrawalAndErasure(t *testing.T) {
	const token = "pat-na1-e2e-crm"
	hubspot := crmtest.NewHubSpot(t, token, "sotto_subject")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "hubspot-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hubspot.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	mappings := filepath.Join(dir, "mappings")
	if err := os.MkdirAll(filepath.Join(mappings, "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mappings, "default", "hubspot.yaml"), []byte(`fields:
  - {field: email, property: email, purpose: crm_sync, form: plaintext}
  - {field: first_name, property: firstname, purpose: crm_sync, form: masked}
  - {field: last_name, property: lastname, purpose: crm_sync}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings, "SOTTO_CRMSYNC_HUBSPOT_URL=" + hubspot.URL(),
		"SOTTO_CRMSYNC_CA_FILE=" + caFile, "SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32", "SOTTO_CRMSYNC_MAX_ATTEMPTS=100",
		"SOTTO_CRMSYNC_ERASURE_READ_BACK_WAIT=50ms"}, manyLogins...)
	s := startSuite(t, t.TempDir(), env...)
	s.waitNotDegraded("audit", "tokenvault", "consent", "conversation")
	ctx := context.Background()

	secretsFile := filepath.Join(s.State, "secrets.json")
	all := map[string]map[string]string{}
	if b, err := os.ReadFile(secretsFile); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
	}
	all["sotto/crm/default/hubspot"] = map[string]string{"private_app_token": token}
	if err := secrets.WriteFile(secretsFile, all); err != nil {
		t.Fatal(err)
	}

	alice := s.signUpCustomer("crmalice")
	tok := s.aal2Customer(alice)
	// Her sign-up, refused for want of crm_sync, is held until she grants
	// it (ADR 0015, "Held events"): wait for it to be recorded, and for the
	// grant to release it, so that the changes below are counted alone.
	for deadline := time.Now().Add(60 * time.Second); jobStates(t, s.State, "identity", "identity.crm_event")["completed"] < 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("identity never recorded her sign-up\n%s", s.Output())
		}
	}
	if r := s.post("/v1/consent/purposes/crm_sync:grant", tok, `{"notice":{"notice_id":"crm-sharing","version":1,"language":"en"},
		"channel":"CHANNEL_WEB","request_id":"crm-grant-alice"}`); r.code != http.StatusOK {
		t.Fatalf("grant crm_sync: %d %s", r.code, r.raw)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r, ok := hubspot.Record(alice.accountID); ok && r["email"] == alice.email && crmHeld(t, s.State) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("her grant never released her sign-up to HubSpot\n%s", s.Output())
		}
	}

	// Her details, as conversation holds them: token vault tokens.
	values := map[string]struct {
		value string
		typ   tokenvaultv1.DataType
	}{
		"email":      {alice.email, tokenvaultv1.DataType_DATA_TYPE_EMAIL},
		"first_name": {"Zebulonia", tokenvaultv1.DataType_DATA_TYPE_NAME},
		"last_name":  {"Kestrelworth", tokenvaultv1.DataType_DATA_TYPE_NAME},
		"phone":      {"+4915112345678", tokenvaultv1.DataType_DATA_TYPE_PHONE},
	}
	tv := s.tokenvaultClient("conversation")
	fields := map[string]string{}
	for name, v := range values {
		tr, err := tv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: "default", Subject: alice.accountID,
			Items: []*tokenvaultv1.TokenizeItem{{Value: v.value, DataType: v.typ}}})
		if err != nil || tr.GetResults()[0].GetToken() == "" {
			t.Fatalf("tokenize %s: %v %v", name, tr, err)
		}
		fields[name] = tr.GetResults()[0].GetToken()
	}
	masked, err := s.tokenvaultClient("crmsync").RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{fields["first_name"]}})
	if err != nil || masked.GetResults()[0].GetMasked() == "" {
		t.Fatalf("the first name's masked view: %v %v", masked, err)
	}

	crm := crmsyncv1.NewCrmSyncServiceClient(s.Dial("conversation", "crmsync", s.Info.Services["crmsync"].GRPC))
	record := func(eventID string) *crmsyncv1.RecordCustomerEventResponse {
		t.Helper()
		resp, err := crm.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: eventID, Tenant: "default",
			Subject: alice.accountID, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED, Fields: fields})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s\n%s", what, s.Output())
			}
		}
	}

	// 1. Consented: she appears in HubSpot with exactly the mapped
	// properties, in the mapped forms.
	if resp := record("evt_e2e_crm_alice1"); len(resp.GetDeliveries()) != 1 {
		t.Fatalf("with consent: %v", resp)
	}
	waitFor("HubSpot has the change", func() bool { r, _ := hubspot.Record(alice.accountID); return r["lastname"] == fields["last_name"] })
	got, _ := hubspot.Record(alice.accountID)
	want := map[string]string{"sotto_subject": alice.accountID, "email": alice.email, "firstname": masked.GetResults()[0].GetMasked(),
		"lastname": fields["last_name"]}
	if len(got) != len(want) {
		t.Fatalf("HubSpot holds %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("HubSpot %s = %q, want %q", k, got[k], v)
		}
	}
	for _, props := range hubspot.Seen(alice.accountID) {
		for _, v := range props {
			if v == values["phone"].value || v == fields["phone"] || v == values["first_name"].value {
				t.Fatal("an unmapped field, or a value mapped as masked, reached HubSpot")
			}
		}
	}
	sent := len(hubspot.Seen(alice.accountID))

	// 2. HubSpot asks crmsync to wait an hour (429, Retry-After); a change
	// waits for its retry. She withdraws: the change feed cancels it at
	// once (its next attempt, which would check consent again, is an hour
	// away), and nothing more reaches HubSpot.
	hubspot.Fail(crmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 3600})
	resp := record("evt_e2e_crm_alice2")
	if len(resp.GetDeliveries()) != 1 {
		t.Fatalf("second change: %v", resp)
	}
	queued := resp.GetDeliveries()[0].GetDeliveryId()
	operator := crmsyncv1.NewCrmSyncServiceClient(s.Dial("sotto-cli", "crmsync", s.Info.Services["crmsync"].GRPC))
	delivery := func() *crmsyncv1.Delivery {
		t.Helper()
		list, err := operator.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list.GetDeliveries() {
			if d.GetDeliveryId() == queued {
				return d
			}
		}
		t.Fatalf("delivery %s not listed", queued)
		return nil
	}
	waitFor("HubSpot asked the change to wait", func() bool { return delivery().GetAttempts() >= 1 })
	if d := delivery(); d.GetState() != crmsyncv1.DeliveryState_DELIVERY_STATE_QUEUED {
		t.Fatalf("the change is not waiting for a retry: %v", d)
	}
	if r := s.post("/v1/consent/purposes/crm_sync:withdraw", tok, `{"channel":"CHANNEL_WEB","request_id":"crm-withdraw-alice"}`); r.code != http.StatusOK {
		t.Fatalf("withdraw crm_sync: %d %s", r.code, r.raw)
	}
	waitFor("the withdrawal cancelled the queued change", func() bool {
		return delivery().GetState() == crmsyncv1.DeliveryState_DELIVERY_STATE_CANCELLED
	})
	if d := delivery(); d.GetReason() != "CONSENT_WITHDRAWN" {
		t.Fatalf("cancelled for %q", d.GetReason())
	}
	hubspot.Heal()
	if resp := record("evt_e2e_crm_alice3"); len(resp.GetDeliveries()) != 0 || len(resp.GetSkipped()) != 1 ||
		resp.GetSkipped()[0].GetReason() != "CONSENT_DENIED" {
		t.Fatalf("a change after the withdrawal: %v", resp)
	}
	if n := len(hubspot.Seen(alice.accountID)); n != sent {
		t.Fatalf("HubSpot got %d more changes after the withdrawal", n-sent)
	}

	// 3. Erasure: HubSpot's delete shows only after two reads.
	hubspot.DeleteLag(2)
	dpo := s.privacyOfficer()
	erasure := s.createDSR(tok, "REQUEST_TYPE_ERASURE", "crm-erase-alice")
	erasure = s.waitDSR(dpo, erasure.RequestID, completed)
	var step bool
	for _, st := range erasure.Steps {
		if st.Participant != "crmsync" {
			continue
		}
		step = true
		if st.State != "STEP_STATE_DONE" || st.Evidence.Outcome != "OUTCOME_DONE" || st.Evidence.Counts["crm_records_confirmed_gone"] != "1" {
			t.Fatalf("crmsync's step: %+v", st)
		}
	}
	if !step {
		t.Fatalf("no crmsync step in the request: %+v", erasure.Steps)
	}
	if _, ok := hubspot.Record(alice.accountID); ok {
		t.Fatal("HubSpot still has her after the erasure")
	}
	if n := len(hubspot.Seen(alice.accountID)); n != sent {
		t.Fatalf("HubSpot got %d more changes", n-sent)
	}
	op := s.OperatorToken()
	deadline := time.Now().Add(30 * time.Second)
	for _, action := range []string{"crmsync.privacy.erase", "crmsync.privacy.crm_erased", "crmsync.cancelled"} {
		for {
			ev := s.get("/v1/audit/events?action="+action, op)
			id := erasure.RequestID
			if action == "crmsync.cancelled" {
				id = queued
			}
			if ev.code == http.StatusOK && strings.Contains(ev.raw, id) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s event: %d %.500s", action, ev.code, ev.raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// crmsync's ledger forgot her: an export as the consent service finds
	// nothing.
	list, err := operator.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list.GetDeliveries() {
		if d.GetDeliveryId() == queued {
			t.Fatal("crmsync still lists her deliveries")
		}
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/secrets"
)

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestCRMDeadLetterThroughTheCLI runs crmsync's binary in the suite with a
// HubSpot mapping for the shop "default" and a HubSpot that cannot be
// reached. A customer who granted crm_sync (the real consent service) has
// a change recorded by conversation's workload (with a real tokenvault
// token); after its one allowed attempt the delivery is dead-lettered, and
// the operator lists it, replays it and discards it with `sotto crmsync`,
// each step audited (the real audit service accepted crmsync's events).
// A customer without consent is queued for nothing.
func TestCRMDeadLetterThroughTheCLI(t *testing.T) {
	mappings := t.TempDir()
	if err := os.MkdirAll(filepath.Join(mappings, "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mappings, "default", "hubspot.yaml"),
		[]byte("fields:\n  - {field: last_name, property: lastname, purpose: crm_sync}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSuite(t, t.TempDir(), "SOTTO_CRMSYNC_MAPPINGS_DIR="+mappings, "SOTTO_CRMSYNC_HUBSPOT_URL=https://"+closedPort(t),
		"SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32", "SOTTO_CRMSYNC_MAX_ATTEMPTS=1")
	s.waitNotDegraded("audit", "tokenvault", "consent")
	ctx := context.Background()
	sotto := func(args ...string) (string, error) {
		t.Helper()
		args = append([]string{"crmsync", args[0], "--state", s.State}, args[1:]...)
		out, err := exec.Command(filepath.Join(s.Bin, "sotto"), args...).CombinedOutput()
		return string(out), err
	}

	// The shop's HubSpot token, in the suite's local secrets file (dev up
	// points every service at it; crmsync reads it when it delivers).
	secretsFile := filepath.Join(s.State, "secrets.json")
	all := map[string]map[string]string{}
	if b, err := os.ReadFile(secretsFile); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
	}
	all["sotto/crm/default/hubspot"] = map[string]string{"private_app_token": "pat-na1-e2e"}
	if err := secrets.WriteFile(secretsFile, all); err != nil {
		t.Fatal(err)
	}

	consenting, refusing := s.signUpCustomer("crm"), s.signUpCustomer("nocrm")
	tok, _ := s.login(consenting, false)
	if r := s.post("/v1/consent/purposes/crm_sync:grant", tok, `{"notice":{"notice_id":"crm-sharing","version":1,"language":"en"},
		"channel":"CHANNEL_WEB","request_id":"crm-grant-1"}`); r.code != http.StatusOK {
		t.Fatalf("grant crm_sync: %d %s", r.code, r.raw)
	}
	tv := s.tokenvaultClient("conversation")
	crm := crmsyncv1.NewCrmSyncServiceClient(s.Dial("conversation", "crmsync", s.Info.Services["crmsync"].GRPC))
	record := func(subject, eventID string) *crmsyncv1.RecordCustomerEventResponse {
		t.Helper()
		tr, err := tv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: "default", Subject: subject,
			Items: []*tokenvaultv1.TokenizeItem{{Value: "Quaxley", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME}}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := crm.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: eventID, Tenant: "default",
			Subject: subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED,
			Fields: map[string]string{"last_name": tr.GetResults()[0].GetToken()}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := record(refusing.accountID, "evt_e2e_nocrm01"); len(resp.GetDeliveries()) != 0 ||
		len(resp.GetSkipped()) != 1 || resp.GetSkipped()[0].GetReason() != "CONSENT_DENIED" {
		t.Fatalf("without consent: %v", resp)
	}
	resp := record(consenting.accountID, "evt_e2e_crm0001")
	if len(resp.GetDeliveries()) != 1 {
		t.Fatalf("with consent: %v", resp)
	}
	id := resp.GetDeliveries()[0].GetDeliveryId()

	waitListed := func(state, reason string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := sotto("list", "--status", state)
			if err == nil && strings.Contains(out, id) && strings.Contains(out, reason) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("sotto crmsync list --status %s never showed %s with %s: %v\n%s", state, id, reason, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitListed("dead", "CRM_UNAVAILABLE")
	if out, err := sotto("replay", id); err != nil || !strings.Contains(out, id+" queued again") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	waitListed("dead", "CRM_UNAVAILABLE") // still unreachable: dead again after one attempt
	if out, err := sotto("discard", id); err != nil || !strings.Contains(out, id+" discarded") {
		t.Fatalf("discard: %v\n%s", err, out)
	}
	waitListed("discarded", "DISCARDED")
	if out, err := sotto("replay", id); err == nil || !strings.Contains(out, "DELIVERY_NOT_REPLAYABLE") {
		t.Fatalf("replaying a discarded delivery: %v\n%s", err, out)
	}
	if out, err := sotto("list", "--status", "sent"); err == nil {
		t.Fatalf("an unknown state was accepted:\n%s", out)
	}
	// Only the CLI operates deliveries.
	gw := crmsyncv1.NewCrmSyncServiceClient(s.Dial("gateway", "crmsync", s.Info.Services["crmsync"].GRPC))
	if _, err := gw.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("the gateway listing deliveries: %v", err)
	}
	op := s.OperatorToken()
	deadline := time.Now().Add(30 * time.Second)
	for _, action := range []string{"crmsync.dead_lettered", "crmsync.replayed", "crmsync.discarded"} {
		for {
			ev := s.get("/v1/audit/events?action="+action, op)
			if ev.code == http.StatusOK && strings.Contains(ev.raw, id) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s event for the delivery: %d %.500s", action, ev.code, ev.raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

package scale

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/wait"
	"github.com/sottohq/sotto/test/devsuite"
)

const hubSpotToken = "pat-na1-scale"

// hubSpotOptions starts the HubSpot emulator (pkg/crmtest, over TLS) and
// returns the settings that point crmsync at it: a mapping for the default
// shop (the e-mail address in plaintext, the last name as its token) and
// the shop's private-app token.
func hubSpotOptions(t *testing.T) (*crmtest.HubSpot, clusterOptions) {
	hub := crmtest.NewHubSpot(t, hubSpotToken, "sotto_subject")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "hubspot-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hub.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	mappings := filepath.Join(dir, "mappings")
	if err := os.MkdirAll(filepath.Join(mappings, "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mappings, "default", "hubspot.yaml"), []byte(`fields:
  - {field: email, property: email, purpose: crm_sync, form: plaintext}
  - {field: last_name, property: lastname, purpose: crm_sync}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return hub, clusterOptions{
		env: []string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings, "SOTTO_CRMSYNC_HUBSPOT_URL=" + hub.URL(),
			"SOTTO_CRMSYNC_CA_FILE=" + caFile, "SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32", "SOTTO_CRMSYNC_MAX_ATTEMPTS=100"},
		secrets: map[string]map[string]string{"sotto/crm/default/hubspot": {"private_app_token": hubSpotToken}},
	}
}

// mailboxCode is the verification code identity wrote for the one customer
// this test signs up. Each identity replica writes its dev mailbox in its
// own working directory, so both are read; the test signs up one customer
// only, which makes the one verify_email entry hers.
func mailboxCode(t *testing.T, c *cluster) string {
	t.Helper()
	var codes []string
	for _, p := range c.replicas["identity"] {
		f, err := os.Open(filepath.Join(p.cmd.Dir, "identity-mailbox.jsonl"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var e struct{ Kind, Code string }
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Kind == "verify_email" {
				codes = append(codes, e.Code)
			}
		}
		f.Close()
	}
	if len(codes) != 1 {
		t.Fatalf("%d verify_email codes in the identity replicas' mailboxes, want the one of the one sign-up", len(codes))
	}
	return codes[0]
}

// waitLong is eventually with room for crmsync's batch lease (a minute:
// the deliveries a killed replica had taken wait for it to end) and the
// job's retry after it. A poll, not a time assertion.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// consentAndCRMAcrossReplicas: a customer grants crm_sync; changes recorded
// through both crmsync replicas reach HubSpot each exactly once while both
// run; changes queued when one replica is killed -9 all reach HubSpot
// through the other; her withdrawal through one consent replica is refused
// through the other (Check) and by crmsync, whose consent cache follows the
// change feed. Every wait is a poll.
func consentAndCRMAcrossReplicas(t *testing.T, s *devsuite.Suite, c *cluster, hub *crmtest.HubSpot) {
	ctx := context.Background()
	gw := c.replicas["gateway"][0].http
	cs := c.replicas["consent"]
	if !cs[0].alive() { // killed under load above: back, so that both serve
		cs[0] = c.start("consent", cs[0].cmd.Env)
		waitUp(t, cs[0], "/readyz")
	}

	// A customer, signed in, grants crm_sync (through either consent
	// replica: the gateway balances).
	email, password := "scale-crm@example.com", "scale 5e1f0c9a7b Kestrel Heron Quill"
	if r := call(t, gw, http.MethodPost, "/v1/accounts:signUp", "", `{"tenant":"default","email":"`+email+`","password":"`+password+`"}`); r.code != http.StatusOK {
		t.Fatalf("sign-up: %d %v", r.code, r.body)
	}
	if r := call(t, gw, http.MethodPost, "/v1/accounts:verifyEmail", "", `{"code":"`+mailboxCode(t, c)+`"}`); r.code != http.StatusOK {
		t.Fatalf("verify e-mail: %d %v", r.code, r.body)
	}
	login := call(t, gw, http.MethodPost, "/v1/sessions:login", "", `{"tenant":"default","email":"`+email+`","password":"`+password+`"}`)
	tokens, _ := login.body["tokens"].(map[string]any)
	tok, _ := tokens["access_token"].(string)
	if login.code != http.StatusOK || tok == "" {
		t.Fatalf("login: %d %v", login.code, login.body)
	}
	acc := call(t, gw, http.MethodGet, "/v1/account", tok, "")
	account, _ := acc.body["account"].(map[string]any)
	subject, _ := account["account_id"].(string)
	if acc.code != http.StatusOK || subject == "" {
		t.Fatalf("account: %d %v", acc.code, acc.body)
	}
	// Retried with the same request id: the consent replica restarted
	// above may still be learning identity's keys.
	wait.For(t, "grant crm_sync", func() bool {
		return call(t, gw, http.MethodPost, "/v1/consent/purposes/crm_sync:grant", tok, `{"notice":{"notice_id":"crm-sharing","version":1,"language":"en"},
		"channel":"CHANNEL_WEB","request_id":"scale-crm-grant"}`).code == http.StatusOK
	})
	granted := time.Now()

	// Her details as conversation holds them: tokens. A last name per
	// change, so that HubSpot's log tells the changes apart.
	tv := tokenvaultv1.NewTokenVaultServiceClient(s.Dial("conversation", "tokenvault", c.addrs("tokenvault")))
	tokenize := func(value string, typ tokenvaultv1.DataType) string {
		t.Helper()
		var token string
		wait.For(t, "tokenise "+typ.String(), func() bool {
			tr, err := tv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: "default", Subject: subject,
				Items: []*tokenvaultv1.TokenizeItem{{Value: value, DataType: typ}}})
			if err != nil || len(tr.GetResults()) != 1 {
				return false
			}
			token = tr.GetResults()[0].GetToken()
			return token != ""
		})
		return token
	}
	emailToken := tokenize(email, tokenvaultv1.DataType_DATA_TYPE_EMAIL)

	crms := c.replicas["crmsync"]
	var recorders []crmsyncv1.CrmSyncServiceClient
	for _, p := range crms {
		recorders = append(recorders, crmsyncv1.NewCrmSyncServiceClient(s.Dial("conversation", "crmsync", p.grpc)))
	}
	operator := crmsyncv1.NewCrmSyncServiceClient(s.Dial("sotto-cli", "crmsync", c.addrs("crmsync")))
	// record queues change i through replica r; it returns the delivery id
	// and the last name's token that tells it apart.
	record := func(r, i int) (string, string) {
		t.Helper()
		last := tokenize(fmt.Sprintf("Kestrel%c%c", 'a'+i/26, 'a'+i%26), tokenvaultv1.DataType_DATA_TYPE_NAME)
		resp, err := recorders[r].RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: fmt.Sprintf("evt_scale_crm_%d", i),
			Tenant: "default", Subject: subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED,
			Fields: map[string]string{"email": emailToken, "last_name": last}})
		if err != nil || len(resp.GetDeliveries()) != 1 {
			t.Fatalf("record change %d through crmsync replica %d: %v %v", i, r, resp, err)
		}
		return resp.GetDeliveries()[0].GetDeliveryId(), last
	}
	states := func() map[string]crmsyncv1.DeliveryState {
		out := map[string]crmsyncv1.DeliveryState{}
		page := ""
		for {
			list, err := operator.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{PageSize: 100, PageToken: page})
			if err != nil {
				return nil
			}
			for _, d := range list.GetDeliveries() {
				out[d.GetDeliveryId()] = d.GetState()
			}
			if page = list.GetNextPageToken(); page == "" {
				return out
			}
		}
	}
	allDelivered := func(ids []string) func() bool {
		return func() bool {
			st := states()
			for _, id := range ids {
				if st[id] != crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED {
					return false
				}
			}
			return true
		}
	}
	sent := func() map[string]int { // last-name token → times HubSpot got it
		out := map[string]int{}
		for _, props := range hub.Seen(subject) {
			out[props["lastname"]]++
		}
		return out
	}

	// Each crmsync replica learns of the grant from consent's change feed, a
	// moment after the grant: until then it holds her changes (CONSENT_DENIED,
	// released later), which would leave step 1 without delivery ids. So
	// first a probe per replica until it queues one; a held probe is released
	// to HubSpot later under its own last name, which no step counts.
	for r := range recorders {
		probe := 0
		wait.For(t, fmt.Sprintf("crmsync replica %d sees the crm_sync grant", r), func() bool {
			probe++
			resp, err := recorders[r].RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{
				EventId: fmt.Sprintf("evt_scale_crm_probe_%d_%d", r, probe), Tenant: "default", Subject: subject,
				Kind:   crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED,
				Fields: map[string]string{"email": emailToken, "last_name": tokenize(fmt.Sprintf("Probe%c%c", 'a'+r, 'a'+probe%26), tokenvaultv1.DataType_DATA_TYPE_NAME)}})
			return err == nil && len(resp.GetDeliveries()) == 1
		})
		t.Logf("crmsync replica %d queued her change at probe %d, %s after the grant", r, probe, time.Since(granted).Round(time.Millisecond))
	}

	// 1. Both replicas run: each change reaches HubSpot exactly once, the
	// shared queue handing every delivery to one replica.
	var ids, lasts []string
	for i := range 10 {
		id, last := record(i%len(recorders), i)
		ids, lasts = append(ids, id), append(lasts, last)
	}
	waitLong(t, "every change recorded while both crmsync replicas run is delivered", allDelivered(ids))
	var attempts []string
	for _, p := range crms {
		attempts = append(attempts, fmt.Sprint(metricSum(p, "sotto_jobs_attempts_total")))
	}
	t.Logf("crmsync job attempts per replica with both running: %s", strings.Join(attempts, " / "))
	got := sent()
	for i, last := range lasts {
		if got[last] != 1 {
			t.Errorf("change %d reached HubSpot %d times with both crmsync replicas running, want once", i, got[last])
		}
	}

	// 2. kill -9 of one replica with changes queued: none is lost, the
	// survivor delivers them (a send the dead one had made and not yet
	// recorded may go twice: delivery is at least once across a crash).
	// HubSpot answers 503 meanwhile, so that the changes are still queued
	// (or being retried) when the replica dies.
	hub.Fail(crmtest.Fault{Status: http.StatusServiceUnavailable})
	ids, lasts = nil, nil
	for i := 10; i < 20; i++ {
		id, last := record(i%len(recorders), i)
		ids, lasts = append(ids, id), append(lasts, last)
	}
	crms[0].kill9(t)
	hub.Heal()
	waitLong(t, "every change queued before the kill is delivered by the surviving crmsync replica", allDelivered(ids))
	got = sent()
	twice := 0
	for i, last := range lasts {
		switch {
		case got[last] == 0:
			t.Errorf("change %d, acknowledged before the kill, never reached HubSpot", i+10)
		case got[last] > 1:
			twice++
		}
	}
	t.Logf("crmsync: 10 changes with both replicas up, each sent once; 10 queued across a kill -9, all delivered, %d of them twice", twice)

	// 3. She withdraws through consent replica 0 (as the gateway would
	// forward her request); replica 1 refuses the purpose, and crmsync's
	// cache, fed by the change feed of whichever replica it follows, skips
	// her next change.
	checker := consentv1.NewConsentServiceClient(s.Dial("crmsync", "consent", cs[1].grpc))
	allowed := func() (bool, error) {
		r, err := checker.Check(ctx, &consentv1.CheckRequest{Subject: subject, PurposeId: "crm_sync"})
		return r.GetResult().GetAllowed(), err
	}
	wait.For(t, "consent replica 1 allows crm_sync before the withdrawal", func() bool { ok, err := allowed(); return err == nil && ok })
	withdrawer := consentv1.NewConsentServiceClient(s.Dial("gateway", "consent", cs[0].grpc))
	asHer := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	// Retried (the same request id) while the restarted replica is still
	// learning identity's keys.
	wait.For(t, "withdraw crm_sync through consent replica 0", func() bool {
		_, err := withdrawer.WithdrawConsent(asHer, &consentv1.WithdrawConsentRequest{PurposeId: "crm_sync",
			Channel: consentv1.Channel_CHANNEL_WEB, RequestId: "scale-crm-withdraw"})
		return err == nil
	})
	wait.For(t, "consent replica 1 refuses crm_sync after the withdrawal through replica 0", func() bool {
		ok, err := allowed()
		return err == nil && !ok
	})
	before := len(hub.Seen(subject))
	n := 100
	wait.For(t, "crmsync skips her change after the withdrawal (CONSENT_DENIED)", func() bool {
		n++
		resp, err := recorders[1].RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: fmt.Sprintf("evt_scale_crm_%d", n),
			Tenant: "default", Subject: subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED,
			Fields: map[string]string{"email": emailToken, "last_name": lasts[0]}})
		return err == nil && len(resp.GetDeliveries()) == 0 && len(resp.GetSkipped()) == 1 && resp.GetSkipped()[0].GetReason() == "CONSENT_DENIED"
	})
	t.Logf("crmsync skipped her changes %d attempt(s) after consent replica 1 refused; HubSpot calls since: %d", n-100, len(hub.Seen(subject))-before)
}

// metricSum adds up every sample of a metric on p's /metrics (-1 when the
// replica does not answer).
func metricSum(p *proc, name string) int {
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			total += v
		}
	}
	return int(total)
}

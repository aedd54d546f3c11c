package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/integratorclient"
	"github.com/sottohq/sotto/pkg/secrets"
)

// TestCRMEditThroughTheGateway runs the suite's binaries with crmsync
// sending to the HubSpot emulator. A customer who granted crm_sync is in
// HubSpot with her e-mail address in plaintext; the shop's staff correct
// it in HubSpot, which posts its signed webhook (v3) to the gateway. The
// gateway verifies it and hands the change to crmsync, which tokenises the
// new address in the real token vault and queues it as her update: HubSpot
// gets the corrected address back, detokenised under the vault's policy.
// The same delivery again changes nothing more; a forged one is 401. The
// corrected address is in no log and not in crmsync's database files.
func TestCRMEditThroughTheGateway(t *testing.T) {
	const token = "pat-na1-e2e-crm-inbound"
	const clientSecret = "hubspot-app-client-secret-e2e-0123456789"
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
  - {field: last_name, property: lastname, purpose: crm_sync}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	env := append([]string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings, "SOTTO_CRMSYNC_HUBSPOT_URL=" + hubspot.URL(),
		"SOTTO_CRMSYNC_CA_FILE=" + caFile, "SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32"}, manyLogins...)
	s := startSuite(t, state, env...)
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
	all[secrets.ChannelPath("default", "hubspot")] = map[string]string{"client_secret": clientSecret, "portal_id": "62515"}
	if err := secrets.WriteFile(secretsFile, all); err != nil {
		t.Fatal(err)
	}

	bob := s.signUpCustomer("crmbob")
	tok := s.aal2Customer(bob)
	// His sign-up, held until he grants crm_sync (ADR 0015, "Held events"),
	// reaches HubSpot on the grant: waited out, so that the writes below
	// are counted alone.
	for deadline := time.Now().Add(60 * time.Second); jobStates(t, s.State, "identity", "identity.crm_event")["completed"] < 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("identity never recorded his sign-up\n%s", s.Output())
		}
	}
	if r := s.post("/v1/consent/purposes/crm_sync:grant", tok, `{"notice":{"notice_id":"crm-sharing","version":1,"language":"en"},
		"channel":"CHANNEL_WEB","request_id":"crm-grant-bob"}`); r.code != http.StatusOK {
		t.Fatalf("grant crm_sync: %d %s", r.code, r.raw)
	}
	for deadline := time.Now().Add(60 * time.Second); len(hubspot.Seen(bob.accountID)) < 1 || crmHeld(t, s.State) != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("his grant never released his sign-up to HubSpot\n%s", s.Output())
		}
	}
	tr, err := s.tokenvaultClient("conversation").Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: "default", Subject: bob.accountID,
		Items: []*tokenvaultv1.TokenizeItem{{Value: bob.email, DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL}}})
	if err != nil {
		t.Fatal(err)
	}
	crm := crmsyncv1.NewCrmSyncServiceClient(s.Dial("conversation", "crmsync", s.Info.Services["crmsync"].GRPC))
	if _, err := crm.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: "evt_e2e_crm_bob1", Tenant: "default",
		Subject: bob.accountID, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_CREATED,
		Fields: map[string]string{"email": tr.GetResults()[0].GetToken()}}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s\n%s", what, s.Output())
			}
		}
	}
	waitFor("HubSpot has him", func() bool {
		r, _ := hubspot.Record(bob.accountID)
		return r["email"] == bob.email && len(hubspot.Seen(bob.accountID)) == 2
	})

	// The staff correct his address in HubSpot; HubSpot posts the event,
	// signed over the https URL it calls (the gateway's, behind TLS).
	corrected := "crmbob-corrected-canary@example.org"
	ev, ok := hubspot.Edit(bob.accountID, "email", corrected, time.Now())
	if !ok {
		t.Fatal("HubSpot has no record of him")
	}
	hook := s.Info.GatewayURL + "/v1/crm/hubspot/default/webhook"
	u, err := url.Parse(hook)
	if err != nil {
		t.Fatal(err)
	}
	signedURL := "https://" + u.Host + u.RequestURI()
	body, err := json.Marshal([]crmtest.HubSpotEvent{ev})
	if err != nil {
		t.Fatal(err)
	}
	post := func(secret string) int {
		t.Helper()
		sig, ts := crmtest.SignHubSpotV3(secret, http.MethodPost, signedURL, body, time.Now())
		resp, err := crmtest.PostSigned(http.DefaultClient, hook, body, map[string]string{"X-HubSpot-Signature-v3": sig,
			"X-HubSpot-Request-Timestamp": ts})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	writes := len(hubspot.Seen(bob.accountID))
	if code := post("not-the-apps-client-secret-0000000000"); code != http.StatusUnauthorized {
		t.Fatalf("a forged delivery: %d, want 401", code)
	}
	if code := post(clientSecret); code != http.StatusOK {
		t.Fatalf("HubSpot's delivery: %d\n%s", code, s.Output())
	}
	waitFor("the correction came back to HubSpot as his update", func() bool { return len(hubspot.Seen(bob.accountID)) > writes })
	seen := hubspot.Seen(bob.accountID)
	if last := seen[len(seen)-1]; last["email"] != corrected {
		t.Fatalf("HubSpot's last write %v, want the corrected address", last)
	}
	writes = len(seen)
	if code := post(clientSecret); code != http.StatusOK {
		t.Fatalf("the same delivery again: %d", code)
	}
	time.Sleep(2 * time.Second)
	if n := len(hubspot.Seen(bob.accountID)); n != writes {
		t.Fatalf("the repeated delivery wrote %d more times to HubSpot", n-writes)
	}

	for _, f := range []string{"logs/gateway.log", "logs/crmsync.log", "data/crmsync.db", "data/crmsync.db-wal"} {
		b, err := os.ReadFile(filepath.Join(state, f))
		if err != nil && !(os.IsNotExist(err) && strings.HasSuffix(f, "-wal")) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(corrected)) {
			t.Errorf("%s holds the corrected address", f)
		}
	}
}

// TestCRMPlatformThroughTheEdge: a CRM platform with identity's integrator
// credentials (scopes crm.watch and crm.update) streams the shop's changes
// through the gateway's gRPC edge: a customer's change, consented, reaches
// it in the mapped forms (the e-mail address detokenised under the token
// vault's policy, the last name as its token); another shop's stream is
// refused at the edge; an edit pushed back is taken as a rectification and
// streamed back in its mapped form; the stream resumed from a cursor starts
// after it. The pushed value is in no log nor crmsync's database.
func TestCRMPlatformThroughTheEdge(t *testing.T) {
	dir := t.TempDir()
	mappings := filepath.Join(dir, "mappings")
	if err := os.MkdirAll(filepath.Join(mappings, "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mappings, "default", "platform.yaml"), []byte(`fields:
  - {field: email, property: email, purpose: crm_sync, form: plaintext}
  - {field: last_name, property: last_name, purpose: crm_sync}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	s := startSuite(t, state, append([]string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings}, manyLogins...)...)
	s.waitNotDegraded("audit", "tokenvault", "consent", "conversation")
	edgeAddr := s.Info.Services["gateway"].GRPC
	r := s.Request(http.MethodPost, "/v1/clients", s.OperatorToken(),
		`{"display_name":"CRM platform","scopes":["crm.watch","crm.update"],"tenant":"default"}`)
	clientID, _ := r.Body["client_id"].(string)
	secret, _ := r.Body["client_secret"].(string)
	if r.Code != http.StatusOK || clientID == "" || secret == "" {
		t.Fatalf("create the integrator client: %d %s", r.Code, r.Raw)
	}
	tlsConfig, err := integratorclient.PinnedTLS(edgeFingerprint(t, state))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := integratorclient.Dial(edgeAddr, tlsConfig, &integratorclient.ClientCredentials{TokenURL: s.Info.GatewayURL + "/v1/oauth/token",
		ClientID: clientID, ClientSecret: secret, Scopes: []string{"crm.watch", "crm.update"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	platform := crmsyncv1.NewCrmSyncServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	other, err := platform.WatchChanges(ctx, &crmsyncv1.WatchChangesRequest{Tenant: "othershop"})
	if err == nil {
		_, err = other.Recv()
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another shop's stream: %v, want PermissionDenied", err)
	}
	stream, err := platform.WatchChanges(ctx, &crmsyncv1.WatchChangesRequest{Tenant: "default"})
	if err != nil {
		t.Fatal(err)
	}
	next := func(st crmsyncv1.CrmSyncService_WatchChangesClient) *crmsyncv1.WatchChangesResponse {
		t.Helper()
		for {
			m, err := st.Recv()
			if err != nil {
				t.Fatalf("stream: %v\n%s", err, s.Output())
			}
			if m.GetSubject() != "" {
				return m
			}
		}
	}
	if first, err := stream.Recv(); err != nil || first.GetSubject() != "" || first.GetCursor() == "" {
		t.Fatalf("first message %v, %v; want a heartbeat with the starting cursor", first, err)
	}

	carol := s.signUpCustomer("crmcarol")
	if r := s.post("/v1/consent/purposes/crm_sync:grant", s.aal2Customer(carol), `{"notice":{"notice_id":"crm-sharing","version":1,"language":"en"},
		"channel":"CHANNEL_WEB","request_id":"crm-grant-carol"}`); r.code != http.StatusOK {
		t.Fatalf("grant crm_sync: %d %s", r.code, r.raw)
	}
	// Her sign-up, held until her grant (ADR 0015, "Held events"), comes
	// first: her address only.
	if m := next(stream); m.GetSubject() != carol.accountID || m.GetProperties()["email"] != carol.email || len(m.GetProperties()) != 1 {
		t.Fatalf("streamed %v, want her released sign-up: her e-mail address only", m)
	}
	tv := s.tokenvaultClient("conversation")
	fields := map[string]string{}
	for name, v := range map[string]struct {
		value string
		typ   tokenvaultv1.DataType
	}{"email": {carol.email, tokenvaultv1.DataType_DATA_TYPE_EMAIL}, "last_name": {"Quillfeather", tokenvaultv1.DataType_DATA_TYPE_NAME}} {
		tr, err := tv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: "default", Subject: carol.accountID,
			Items: []*tokenvaultv1.TokenizeItem{{Value: v.value, DataType: v.typ}}})
		if err != nil {
			t.Fatal(err)
		}
		fields[name] = tr.GetResults()[0].GetToken()
	}
	crm := crmsyncv1.NewCrmSyncServiceClient(s.Dial("conversation", "crmsync", s.Info.Services["crmsync"].GRPC))
	if _, err := crm.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: "evt_e2e_platform_carol1", Tenant: "default",
		Subject: carol.accountID, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_CREATED, Fields: fields}); err != nil {
		t.Fatal(err)
	}
	got := next(stream)
	if got.GetSubject() != carol.accountID || got.GetProperties()["email"] != carol.email ||
		got.GetProperties()["last_name"] != fields["last_name"] || len(got.GetProperties()) != 2 {
		t.Fatalf("streamed %v, want her e-mail address and her last name's token", got)
	}
	cursor := got.GetCursor()

	corrected := "crmcarol-pushed-canary@example.org"
	resp, err := platform.PushCrmChanges(ctx, &crmsyncv1.PushCrmChangesRequest{Tenant: "default", Changes: []*crmsyncv1.CrmChange{{
		EventId: "platform-edit-1", Subject: carol.accountID, Property: "email", Value: corrected, OccurTime: timestamppb.Now()}}})
	if err != nil || resp.GetResults()[0].GetOutcome() != crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_APPLIED {
		t.Fatalf("push: %v %v", resp, err)
	}
	if m := next(stream); m.GetProperties()["email"] != corrected {
		t.Fatalf("after the push the stream got %v", m)
	}
	resumed, err := platform.WatchChanges(ctx, &crmsyncv1.WatchChangesRequest{Tenant: "default", Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	if m := next(resumed); m.GetProperties()["email"] != corrected {
		t.Fatalf("resumed after the first change, the stream got %v, want the pushed one", m)
	}
	cancel()

	for _, f := range []string{"logs/gateway.log", "logs/crmsync.log", "data/crmsync.db", "data/crmsync.db-wal"} {
		b, err := os.ReadFile(filepath.Join(state, f))
		if err != nil && !(os.IsNotExist(err) && strings.HasSuffix(f, "-wal")) {
			t.Fatal(err)
		}
		for _, c := range []string{corrected, carol.email} {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s holds %q", f, c)
			}
		}
	}
}

// TestSalesforceEditThroughTheGateway: the Salesforce side of
// TestCRMEditThroughTheGateway. The shop's change-event trigger posts the
// CDC event of an e-mail address corrected in the org, signed with the
// shop's secret; the gateway checks it and hands it to crmsync, whose
// update goes back to the org with the corrected address (the Salesforce
// connector: OAuth client credentials, upsert by the external id). A
// delivery signed with another secret, or from another org, changes
// nothing.
func TestSalesforceEditThroughTheGateway(t *testing.T) {
	const clientID, clientSecret = "3MVG9e2e-connected-app", "connected-app-secret-e2e"
	const signingSecret = "salesforce-trigger-secret-e2e-0123456789"
	sf := crmtest.NewSalesforce(t, clientID, clientSecret, "v62.0", "Contact", "Sotto_Subject__c")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "sf-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sf.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	mappings := filepath.Join(dir, "mappings")
	if err := os.MkdirAll(filepath.Join(mappings, "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mappings, "default", "salesforce.yaml"), []byte(`salesforce: {url: '`+sf.URL()+`', external_id_field: Sotto_Subject__c}
fields:
  - {field: email, property: Email, purpose: crm_sync, form: plaintext}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	s := startSuite(t, state, append([]string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings, "SOTTO_CRMSYNC_CA_FILE=" + caFile,
		"SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32"}, manyLogins...)...)
	s.waitNotDegraded("audit", "tokenvault", "consent", "conversation")
	ctx := context.Background()
	secretsFile := filepath.Join(s.State, "secrets.json")
	all := map[string]map[string]string{}
	if b, err := os.ReadFile(secretsFile); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
	}
	all["sotto/crm/default/salesforce"] = map[string]string{"client_id": clientID, "client_secret": clientSecret}
	all[secrets.ChannelPath("default", "salesforce")] = map[string]string{"signing_secret": signingSecret, "org_id": crmtest.SalesforceOrgID}
	if err := secrets.WriteFile(secretsFile, all); err != nil {
		t.Fatal(err)
	}

	dana := s.signUpCustomer("crmdana")
	// Her sign-up, held until she grants crm_sync (ADR 0015, "Held
	// events"), reaches the org on the grant: waited out, so that the
	// writes below are counted alone.
	for deadline := time.Now().Add(60 * time.Second); jobStates(t, s.State, "identity", "identity.crm_event")["completed"] < 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("identity never recorded her sign-up\n%s", s.Output())
		}
	}
	if r := s.post("/v1/consent/purposes/crm_sync:grant", s.aal2Customer(dana), `{"notice":{"notice_id":"crm-sharing","version":1,"language":"en"},
		"channel":"CHANNEL_WEB","request_id":"crm-grant-dana"}`); r.code != http.StatusOK {
		t.Fatalf("grant crm_sync: %d %s", r.code, r.raw)
	}
	for deadline := time.Now().Add(60 * time.Second); len(sf.Seen(dana.accountID)) < 1 || crmHeld(t, s.State) != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("her grant never released her sign-up to the org\n%s", s.Output())
		}
	}
	tr, err := s.tokenvaultClient("conversation").Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: "default", Subject: dana.accountID,
		Items: []*tokenvaultv1.TokenizeItem{{Value: dana.email, DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL}}})
	if err != nil {
		t.Fatal(err)
	}
	crm := crmsyncv1.NewCrmSyncServiceClient(s.Dial("conversation", "crmsync", s.Info.Services["crmsync"].GRPC))
	if _, err := crm.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: "evt_e2e_sf_dana1", Tenant: "default",
		Subject: dana.accountID, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_CREATED,
		Fields: map[string]string{"email": tr.GetResults()[0].GetToken()}}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s\n%s", what, s.Output())
			}
		}
	}
	waitFor("the org has her", func() bool {
		r, _ := sf.Record(dana.accountID)
		return r["Email"] == dana.email && len(sf.Seen(dana.accountID)) == 2
	})

	corrected := "crmdana-corrected-canary@example.org"
	change, ok := sf.Edit(dana.accountID, "Email", corrected, time.Now())
	if !ok {
		t.Fatal("the org has no record of her")
	}
	hook := s.Info.GatewayURL + "/v1/crm/salesforce/default/webhook"
	post := func(secret, org string) int {
		t.Helper()
		resp, err := crmtest.PostSalesforceWebhook(http.DefaultClient, hook, secret, org, []crmtest.SalesforceChange{change}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	writes := len(sf.Seen(dana.accountID))
	if code := post("another-orgs-trigger-secret-000000000", crmtest.SalesforceOrgID); code != http.StatusUnauthorized {
		t.Fatalf("a delivery signed with another secret: %d, want 401", code)
	}
	if code := post(signingSecret, "00D000000000OTHERAA"); code != http.StatusOK {
		t.Fatalf("another org's delivery: %d, want 200 (skipped)", code)
	}
	time.Sleep(2 * time.Second)
	if n := len(sf.Seen(dana.accountID)); n != writes {
		t.Fatalf("a refused delivery wrote %d times to the org", n-writes)
	}
	if code := post(signingSecret, crmtest.SalesforceOrgID); code != http.StatusOK {
		t.Fatalf("the trigger's delivery: %d\n%s", code, s.Output())
	}
	waitFor("the correction came back to the org", func() bool { return len(sf.Seen(dana.accountID)) > writes })
	seen := sf.Seen(dana.accountID)
	if last := seen[len(seen)-1]; last["Email"] != corrected {
		t.Fatalf("the org's last write %v, want the corrected address", last)
	}
	for _, f := range []string{"logs/gateway.log", "logs/crmsync.log", "data/crmsync.db", "data/crmsync.db-wal"} {
		b, err := os.ReadFile(filepath.Join(state, f))
		if err != nil && !(os.IsNotExist(err) && strings.HasSuffix(f, "-wal")) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(corrected)) {
			t.Errorf("%s holds the corrected address", f)
		}
	}
}

package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/secrets"
)

// crmProxy stands between crmsync and the HubSpot emulator at a fixed
// address (TLS with the same test certificate as the emulator's), so the
// CRM can refuse connections (nothing listens), or take requests and never
// answer them (a CRM that hangs), and come back at the same URL.
type crmProxy struct {
	t    *testing.T
	addr string
	rp   *httputil.ReverseProxy

	mu   sync.Mutex
	srv  *httptest.Server
	hang bool
	hung int
	// gone is closed when the server stops: hanging requests end.
	gone chan struct{}
}

func newCRMProxy(t *testing.T, hubspot *crmtest.HubSpot) *crmProxy {
	target, err := url.Parse(hubspot.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: hubspot.RootCAs()}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &crmProxy{t: t, addr: ln.Addr().String(), rp: rp}
	ln.Close()
	p.listen(false)
	t.Cleanup(p.refuse)
	return p
}

func (p *crmProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	hang, gone := p.hang, p.gone
	if hang {
		p.hung++
	}
	p.mu.Unlock()
	if hang {
		// Never forwarded; the connection is dropped without an answer.
		select {
		case <-r.Context().Done():
		case <-gone:
		}
		panic(http.ErrAbortHandler)
	}
	p.rp.ServeHTTP(w, r)
}

// refuse stops listening and drops every connection: connections are refused.
func (p *crmProxy) refuse() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	if p.gone != nil {
		close(p.gone)
		p.gone = nil
	}
	p.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// listen serves again at the same address: forwarding, or (hang) holding
// each request without an answer.
func (p *crmProxy) listen(hang bool) {
	p.refuse()
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	srv.Listener.Close()
	srv.Listener = ln
	p.mu.Lock()
	p.hang, p.hung, p.srv, p.gone = hang, 0, srv, make(chan struct{})
	p.mu.Unlock()
	srv.StartTLS()
}

func (p *crmProxy) hanging() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hung
}

// crmFaults is the suite with crmsync sending to the HubSpot emulator
// through a crmProxy, for tenant "bulk" (a mapping under order_support,
// whose legal basis is the contract, so any customer id may be sent
// without a consent grant each) and tenant "default" (under crm_sync,
// consent).
type crmFaults struct {
	*suite
	hubspot *crmtest.HubSpot
	proxy   *crmProxy
	crm     crmsyncv1.CrmSyncServiceClient
	ops     crmsyncv1.CrmSyncServiceClient
	vault   tokenvaultv1.TokenVaultServiceClient
}

func startCRMFaults(t *testing.T) *crmFaults {
	const token = "pat-na1-e2e-crm-faults"
	hubspot := crmtest.NewHubSpot(t, token, "sotto_subject")
	proxy := newCRMProxy(t, hubspot)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "hubspot-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hubspot.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	mappings := filepath.Join(dir, "mappings")
	for tenant, purpose := range map[string]string{"bulk": "order_support", "default": "crm_sync"} {
		if err := os.MkdirAll(filepath.Join(mappings, tenant), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mappings, tenant, "hubspot.yaml"), []byte(`fields:
  - {field: last_name, property: lastname, purpose: `+purpose+`}
  - {field: email, property: email, purpose: `+purpose+`}
`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A short jobs lease, so a killed crmsync's running jobs are retaken
	// within seconds.
	env := append([]string{"SOTTO_CRMSYNC_MAPPINGS_DIR=" + mappings, "SOTTO_CRMSYNC_HUBSPOT_URL=https://" + proxy.addr,
		"SOTTO_CRMSYNC_CA_FILE=" + caFile, "SOTTO_CRMSYNC_PRIVATE_CIDRS=127.0.0.1/32", "SOTTO_CRMSYNC_MAX_ATTEMPTS=100",
		// Retries wait at most 4 s (10 min in production), so that a delivery
		// whose attempts failed while the CRM was away is not still waiting
		// out a backoff of minutes when the test looks for it.
		"SOTTO_CRMSYNC_RETRY_BACKOFF_MAX=4s",
		"SOTTO_JOBS_LEASE=2s", "SOTTO_JOBS_POLL_INTERVAL=100ms", "SOTTO_TOKENVAULT_TENANTS=default,bulk"}, manyLogins...)
	s := startSuite(t, t.TempDir(), env...)
	s.waitNotDegraded("audit", "tokenvault", "consent", "crmsync")
	secretsFile := filepath.Join(s.State, "secrets.json")
	all := map[string]map[string]string{}
	if b, err := os.ReadFile(secretsFile); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
	}
	all["sotto/crm/default/hubspot"] = map[string]string{"private_app_token": token}
	all["sotto/crm/bulk/hubspot"] = map[string]string{"private_app_token": token}
	if err := secrets.WriteFile(secretsFile, all); err != nil {
		t.Fatal(err)
	}
	addr := s.Info.Services["crmsync"].GRPC
	return &crmFaults{suite: s, hubspot: hubspot, proxy: proxy,
		crm: crmsyncv1.NewCrmSyncServiceClient(s.Dial("conversation", "crmsync", addr)),
		ops: crmsyncv1.NewCrmSyncServiceClient(s.Dial("sotto-cli", "crmsync", addr)), vault: s.tokenvaultClient("conversation")}
}

// tokens are real token vault tokens of a customer's last name and e-mail
// address (crmsync refuses a token the vault does not name as the event's
// customer's: ADR 0015, "Tokens belong to the event's customer").
func (f *crmFaults) tokens(tenant, subject string) (map[string]string, error) {
	tr, err := f.vault.Tokenize(context.Background(), &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: subject,
		Items: []*tokenvaultv1.TokenizeItem{{Value: "Bulkworth", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME},
			{Value: subject + "@example.test", DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL}}})
	if err == nil && (len(tr.GetResults()) != 2 || tr.GetResults()[0].GetToken() == "" || tr.GetResults()[1].GetToken() == "") {
		err = fmt.Errorf("tokenize answered %v", tr)
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"last_name": tr.GetResults()[0].GetToken(), "email": tr.GetResults()[1].GetToken()}, nil
}

// recordBulk records n customers of tenant bulk, eight callers at once,
// and returns their subjects.
func (f *crmFaults) recordBulk(prefix string, n int) []string {
	t := f.t
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sub := range work {
				fields, err := f.tokens("bulk", sub)
				if err == nil {
					_, err = f.crm.RecordCustomerEvent(context.Background(), &crmsyncv1.RecordCustomerEventRequest{EventId: "evt_" + sub,
						Tenant: "bulk", Subject: sub, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED, Fields: fields})
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, sub := range subjects {
		work <- sub
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("record: %v", err)
	}
	return subjects
}

// states lists tenant's deliveries: count by state, and state by subject
// is not in the listing, so by delivery id.
func (f *crmFaults) states(tenant string) map[crmsyncv1.DeliveryState]int {
	t := f.t
	out := map[crmsyncv1.DeliveryState]int{}
	page := ""
	for {
		resp, err := f.ops.ListDeliveries(context.Background(), &crmsyncv1.ListDeliveriesRequest{Tenant: tenant, PageSize: 100, PageToken: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDeliveries() {
			out[d.GetState()]++
		}
		if page = resp.GetNextPageToken(); page == "" {
			return out
		}
	}
}

func (f *crmFaults) waitFor(what string, within time.Duration, cond func() bool) {
	f.t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("never: %s (bulk deliveries %v)\n%s", what, f.states("bulk"), f.Output())
		}
	}
}

// sentOnce fails unless every subject reached HubSpot exactly once.
func (f *crmFaults) sentOnce(subjects []string) {
	f.t.Helper()
	for _, sub := range subjects {
		if n := len(f.hubspot.Seen(sub)); n != 1 {
			f.t.Fatalf("customer %s sent to HubSpot %d times", sub, n)
		}
	}
}

// TestCRMKill9WithAFullQueue: HubSpot takes requests and never answers
// while 300 changes are recorded, so crmsync's batch leaders are mid-send
// (the deliveries they took leased to them) and the rest wait in the
// queue; crmsync is killed with SIGKILL there, and the supervisor restarts
// it. HubSpot answering again: every change is delivered, each customer
// created once and sent once (the emulator counts per external id): the
// dead leaders' jobs are retaken after the jobs lease (2 s here) and take
// their leased deliveries again, and nothing the killed process had in
// flight reached the CRM. (The kill comes before egress's 15 s wait for an
// answer ends, so its circuit breaker never opens.)
func TestCRMKill9WithAFullQueue(t *testing.T) {
	f := startCRMFaults(t)
	f.proxy.listen(true)
	const n = 300
	subjects := f.recordBulk("sub_kill9_", n)
	f.waitFor("a batch in flight to the hanging CRM", 10*time.Second, func() bool { return f.proxy.hanging() > 0 })
	if got := f.states("bulk"); got[crmsyncv1.DeliveryState_DELIVERY_STATE_QUEUED] != n {
		t.Fatalf("the queue at the kill: %v", got)
	}
	old := childPID(t, f.PID(), "crmsync")
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got := f.hubspot.Counts().Creates; got != 0 {
		t.Fatalf("HubSpot created %d records before the kill; the kill was not with a full queue", got)
	}
	f.proxy.listen(false)
	f.waitFor("crmsync restarted", 30*time.Second, func() bool {
		pid, ok := findChild(f.PID(), "crmsync")
		return ok && pid != old
	})
	f.waitNotDegraded("crmsync")
	f.waitFor("every change delivered", 45*time.Second, func() bool {
		return f.states("bulk")[crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED] == n
	})
	if got := f.hubspot.Counts(); got.Creates != n || got.Updates != 0 {
		t.Fatalf("HubSpot counts %+v, want %d creates and no update", got, n)
	}
	f.sentOnce(subjects)
}

// TestCRMDownThenBack: HubSpot is down for 20 s (10 s answering 503, then
// 10 s refusing connections; the issue says minutes, kept short for the
// test's time: what is exercised is the backoff and the queue, not the
// clock) while 200 changes of tenant bulk and one change each of two real
// customers who granted crm_sync wait in the queue (their sign-ups, held
// until the grants, reached HubSpot before the outage). One of the two
// withdraws during the outage (the consent change feed cancels her change
// at once). HubSpot back: every other change is delivered, each bulk
// customer created once and sent once, the other customer updated once;
// nothing more of hers reaches HubSpot.
func TestCRMDownThenBack(t *testing.T) {
	f := startCRMFaults(t)
	ctx := context.Background()
	type customer struct {
		subject, token string
	}
	var people []customer
	for _, name := range []string{"crmdownalice", "crmdownbob"} {
		c := f.signUpCustomer(name)
		tok := f.aal2Customer(c)
		if r := f.post("/v1/consent/purposes/crm_sync:grant", tok, `{"notice":{"notice_id":"crm-sharing","version":1,"language":"en"},
			"channel":"CHANNEL_WEB","request_id":"crm-grant-`+name+`"}`); r.code != http.StatusOK {
			t.Fatalf("grant crm_sync: %d %s", r.code, r.raw)
		}
		people = append(people, customer{c.accountID, tok})
	}
	alice, bob := people[0], people[1]
	// Their sign-ups, held until the grants (ADR 0015, "Held events"), reach
	// HubSpot before the outage.
	f.waitFor("the sign-ups released to HubSpot", 60*time.Second, func() bool {
		return len(f.hubspot.Seen(alice.subject)) == 1 && len(f.hubspot.Seen(bob.subject)) == 1 && crmHeld(t, f.State) == 0
	})
	base := f.hubspot.Counts()

	start := time.Now()
	down := make([]crmtest.Fault, 100000)
	for i := range down {
		down[i] = crmtest.Fault{Status: http.StatusServiceUnavailable}
	}
	f.hubspot.Fail(down...)
	const n = 200
	subjects := f.recordBulk("sub_down_", n)
	var aliceDelivery string
	for _, c := range people {
		fields, err := f.tokens("default", c.subject)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.crm.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: "evt_down_" + c.subject, Tenant: "default",
			Subject: c.subject, Kind: crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_UPDATED, Fields: fields})
		if err != nil || len(resp.GetDeliveries()) != 1 {
			t.Fatalf("record a consented customer: %v %v", resp, err)
		}
		if c == alice {
			aliceDelivery = resp.GetDeliveries()[0].GetDeliveryId()
		}
	}
	if r := f.post("/v1/consent/purposes/crm_sync:withdraw", alice.token, `{"channel":"CHANNEL_WEB","request_id":"crm-withdraw-down"}`); r.code != http.StatusOK {
		t.Fatalf("withdraw crm_sync: %d %s", r.code, r.raw)
	}
	f.waitFor("the withdrawal cancelled her queued change", 20*time.Second, func() bool {
		resp, err := f.ops.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{Tenant: "default", PageSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDeliveries() {
			if d.GetDeliveryId() == aliceDelivery {
				return d.GetState() == crmsyncv1.DeliveryState_DELIVERY_STATE_CANCELLED
			}
		}
		return false
	})
	time.Sleep(time.Until(start.Add(10 * time.Second)))
	f.proxy.refuse()
	f.hubspot.Heal()
	time.Sleep(10 * time.Second)
	if got := f.hubspot.Counts().Creates; got != base.Creates {
		t.Fatalf("HubSpot created %d records while down", got-base.Creates)
	}
	if got := f.states("bulk"); got[crmsyncv1.DeliveryState_DELIVERY_STATE_QUEUED] != n {
		t.Fatalf("after the outage, before HubSpot is back: %v, want all %d queued (retrying)", got, n)
	}
	f.proxy.listen(false)
	// egress's circuit breaker, open since the first failures, lets a trial
	// through 30 s after it opened; the retries then wait out their backoff
	// (1 s doubling, with jitter, at most 4 s here). Before that cap, on a
	// loaded CI machine a delivery reached its 8th or 9th attempt, whose
	// backoff was up to 128 or 256 s.
	f.waitFor("every change delivered", 180*time.Second, func() bool {
		return f.states("bulk")[crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED] == n &&
			f.states("default")[crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED] == 3
	})
	if got := f.hubspot.Counts(); got.Creates != base.Creates+n || got.Updates != base.Updates+1 {
		t.Fatalf("HubSpot counts %+v (%+v before the outage), want %d more creates and one update", got, base, n)
	}
	f.sentOnce(subjects)
	if s := f.hubspot.Seen(bob.subject); len(s) != 2 {
		t.Fatalf("the consenting customer sent %d times, want his sign-up and his change", len(s))
	}
	if s := f.hubspot.Seen(alice.subject); len(s) != 1 {
		t.Fatal("a customer who withdrew during the outage reached HubSpot again")
	}
}

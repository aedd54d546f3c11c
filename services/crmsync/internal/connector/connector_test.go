package connector_test

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

type secretMap map[string]map[string]string

func (m secretMap) Get(_ context.Context, path string) (map[string]string, error) {
	if v, ok := m[path]; ok {
		return v, nil
	}
	return nil, errs.E(errs.NotFound, "SECRET_NOT_FOUND", "no secret at this path")
}

// client is a real egress client that reaches only the emulator; its own
// retries are off, as crmsync runs it (the durable queue retries).
func client(t *testing.T, host string, roots *x509.CertPool) *egress.Client {
	t.Helper()
	c, err := egress.New(egress.Config{AllowedHosts: []string{host}, AllowPrivateCIDRs: crmtest.Loopback(), RootCAs: roots,
		MaxRetries: -1}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hubspot(t *testing.T) (*crmtest.HubSpot, *connector.HubSpotClient) {
	t.Helper()
	api := crmtest.NewHubSpot(t, "pat-na1-test", "sotto_subject")
	c := connector.NewHubSpot(connector.HubSpotConfig{BaseURL: api.URL(), IDProperty: "sotto_subject", Tenant: "shop"},
		client(t, api.Host(), api.RootCAs()), secretMap{"sotto/crm/shop/hubspot": {"private_app_token": "pat-na1-test"}}, nil)
	return api, c
}

func salesforce(t *testing.T) (*crmtest.Salesforce, *connector.SalesforceClient) {
	t.Helper()
	org := crmtest.NewSalesforce(t, "3MVG9-client", "s3cret", "v62.0", "Contact", "Sotto_Subject__c")
	c := connector.NewSalesforce(connector.SalesforceConfig{URL: org.URL(), APIVersion: "v62.0", Object: "Contact",
		ExternalIDField: "Sotto_Subject__c", Tenant: "shop"}, client(t, org.Host(), org.RootCAs()),
		secretMap{"sotto/crm/shop/salesforce": {"client_id": "3MVG9-client", "client_secret": "s3cret"}}, nil)
	return org, c
}

type emulator interface {
	Counts() crmtest.Counts
	Record(string) (map[string]string, bool)
	Fail(...crmtest.Fault)
}

// TestConnectors: both CRMs, through their emulated protocols: a batch is
// created once, sent again it updates (no duplicate), read back, deleted,
// and then read back as not-found (erasure evidence).
func TestConnectors(t *testing.T) {
	ctx := context.Background()
	for name, mk := range map[string]func(*testing.T) (emulator, connector.Connector){
		"hubspot":    func(t *testing.T) (emulator, connector.Connector) { a, c := hubspot(t); return a, c },
		"salesforce": func(t *testing.T) (emulator, connector.Connector) { a, c := salesforce(t); return a, c },
	} {
		t.Run(name, func(t *testing.T) {
			api, c := mk(t)
			recs := []connector.Record{{ExternalID: "sub_a", Properties: map[string]string{"email": "tok_1"}},
				{ExternalID: "sub_b", Properties: map[string]string{"email": "tok_2"}}}
			for range 2 {
				if err := c.Upsert(ctx, recs); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Upsert(ctx, recs[:1]); err != nil {
				t.Fatal(err)
			}
			if got := api.Counts(); got.Creates != 2 || got.Updates != 3 {
				t.Fatalf("counts %+v: want 2 creates, 3 updates", got)
			}
			if r, ok := api.Record("sub_a"); !ok || r["email"] != "tok_1" {
				t.Fatalf("record sub_a = %v", r)
			}
			if ok, err := c.Exists(ctx, "sub_a"); err != nil || !ok {
				t.Fatalf("Exists before delete = %v, %v", ok, err)
			}
			if err := c.Delete(ctx, "sub_a"); err != nil {
				t.Fatal(err)
			}
			if err := c.Delete(ctx, "sub_a"); err != nil {
				t.Fatalf("deleting what is gone: %v", err)
			}
			if ok, err := c.Exists(ctx, "sub_a"); err != nil || ok {
				t.Fatalf("Exists after delete = %v, %v", ok, err)
			}
			if _, ok := api.Record("sub_a"); ok {
				t.Fatal("the CRM still holds sub_a")
			}
		})
	}
}

// TestConnectorErrors: 429 carries the Retry-After, 5xx is Unavailable,
// and neither quotes the CRM's body.
func TestConnectorErrors(t *testing.T) {
	ctx := context.Background()
	for name, mk := range map[string]func(*testing.T) (emulator, connector.Connector){
		"hubspot":    func(t *testing.T) (emulator, connector.Connector) { a, c := hubspot(t); return a, c },
		"salesforce": func(t *testing.T) (emulator, connector.Connector) { a, c := salesforce(t); return a, c },
	} {
		t.Run(name, func(t *testing.T) {
			api, c := mk(t)
			rec := []connector.Record{{ExternalID: "sub_a", Properties: map[string]string{"email": "tok_1"}}}
			if name == "salesforce" { // take a session first, so the fault hits the data call
				if _, err := c.Exists(ctx, "warm"); err != nil {
					t.Fatal(err)
				}
			}
			api.Fail(crmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7})
			err := c.Upsert(ctx, rec)
			if d, ok := connector.RetryAfter(err); !ok || d != 7*time.Second || errs.ReasonOf(err) != reasons.CRMRateLimited {
				t.Fatalf("429: %v (after %v, %v)", err, d, ok)
			}
			api.Fail(crmtest.Fault{Status: http.StatusServiceUnavailable})
			err = c.Upsert(ctx, rec)
			if !errs.Is(err, errs.Unavailable) || errs.ReasonOf(err) != reasons.CRMUnavailable {
				t.Fatalf("503: %v", err)
			}
			for _, body := range []string{"secondly limit", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "internal error", "Server unavailable"} {
				if strings.Contains(err.Error(), body) {
					t.Fatalf("the error quotes the CRM's body: %v", err)
				}
			}
			if api.Counts().Creates != 0 {
				t.Fatal("a refused request created a record")
			}
		})
	}
}

// TestHubSpotWrongToken: a token the portal does not know is
// CRM_AUTH_FAILED, not retried.
func TestHubSpotWrongToken(t *testing.T) {
	api := crmtest.NewHubSpot(t, "pat-na1-right", "sotto_subject")
	c := connector.NewHubSpot(connector.HubSpotConfig{BaseURL: api.URL(), IDProperty: "sotto_subject", Tenant: "shop"},
		client(t, api.Host(), api.RootCAs()), secretMap{"sotto/crm/shop/hubspot": {"private_app_token": "pat-na1-wrong"}}, nil)
	err := c.Upsert(context.Background(), []connector.Record{{ExternalID: "s", Properties: map[string]string{"a": "b"}}})
	if errs.ReasonOf(err) != reasons.CRMAuthFailed || errs.Is(err, errs.Unavailable) {
		t.Fatalf("got %v", err)
	}
}

// TestSalesforceTokenRefresh: an expired session is answered 401; the
// connector fetches a new token once and the change goes through.
func TestSalesforceTokenRefresh(t *testing.T) {
	ctx := context.Background()
	org, c := salesforce(t)
	rec := []connector.Record{{ExternalID: "sub_a", Properties: map[string]string{"Email": "tok_1"}}}
	if err := c.Upsert(ctx, rec); err != nil {
		t.Fatal(err)
	}
	org.ExpireSessions()
	if err := c.Upsert(ctx, rec); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := org.TokensIssued(); n != 2 {
		t.Fatalf("tokens issued %d, want 2 (one refresh)", n)
	}
	if got := org.Counts(); got.Creates != 1 || got.Updates != 1 {
		t.Fatalf("counts %+v", got)
	}
}

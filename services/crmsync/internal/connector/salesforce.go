package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// Secret keys of a shop's Salesforce connected app (client-credentials flow).
const (
	SalesforceClientIDKey     = "client_id"
	SalesforceClientSecretKey = "client_secret"
)

// salesforceBatchMax is sObject Collections' limit of records a request.
const salesforceBatchMax = 200

// SalesforceConfig is one shop's Salesforce org.
type SalesforceConfig struct {
	// URL is the org's My Domain (https://acme.my.salesforce.com): the
	// client-credentials token endpoint is there.
	URL string
	// APIVersion is the REST API version, "v62.0".
	APIVersion string
	// Object is the sObject customers are (Contact, Lead, a custom object).
	Object string
	// ExternalIDField is the object's external ID field that holds the
	// customer's subject (Sotto_Subject__c).
	ExternalIDField string
	// Tenant is the shop: its client id and secret are read from
	// SecretPath(tenant, "salesforce").
	Tenant string
}

// SalesforceClient speaks Salesforce's REST API: upsert by external ID
// (PATCH sobjects/<Object>/<ExternalIdField>/<id>; sObject Collections for
// batches), delete and read-back by external ID, with an OAuth 2.0
// client-credentials token that is fetched again once when a call answers
// 401 (expired or revoked session).
type SalesforceClient struct {
	cfg     SalesforceConfig
	http    Doer
	secrets Secrets
	now     func() time.Time

	mu          sync.Mutex
	token       string
	instanceURL string
}

// NewSalesforce returns the connector of one shop's org.
func NewSalesforce(cfg SalesforceConfig, client Doer, secrets Secrets, now func() time.Time) *SalesforceClient {
	if now == nil {
		now = time.Now
	}
	return &SalesforceClient{cfg: cfg, http: client, secrets: secrets, now: now}
}

var _ Connector = (*SalesforceClient)(nil)

// session returns the cached access token and instance URL, or fetches them.
func (s *SalesforceClient) session(ctx context.Context, fresh bool) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && !fresh {
		return s.token, s.instanceURL, nil
	}
	s.token = ""
	sec, err := s.secrets.Get(ctx, SecretPath(s.cfg.Tenant, Salesforce))
	if err != nil {
		return "", "", err
	}
	if sec[SalesforceClientIDKey] == "" || sec[SalesforceClientSecretKey] == "" {
		return "", "", notConfigured(Salesforce, "the shop's secret has no client_id or client_secret")
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sec[SalesforceClientIDKey]},
		"client_secret": {sec[SalesforceClientSecretKey]}}
	req, err := http.NewRequestWithContext(egress.WithPathTemplate(ctx, "/services/oauth2/token"), http.MethodPost,
		s.cfg.URL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", notConfigured(Salesforce, "the org URL is not a URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return "", "", sendErr(Salesforce, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// 400 invalid_client / invalid_grant: the app's credentials.
		if resp.StatusCode == http.StatusBadRequest {
			resp.StatusCode = http.StatusUnauthorized
		}
		return "", "", statusError(Salesforce, resp, s.now())
	}
	var out struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := decode(Salesforce, resp, &out); err != nil {
		return "", "", err
	}
	if out.AccessToken == "" {
		return "", "", errs.E(errs.Unavailable, reasons.CRMResponseInvalid, "salesforce sent no access token")
	}
	// The data calls go to the org's own URL, which the egress allow-list
	// names; an instance_url elsewhere would be refused by it anyway.
	s.token, s.instanceURL = out.AccessToken, s.cfg.URL
	return s.token, s.instanceURL, nil
}

// call sends one data API request, fetching a new token and sending it once
// more on a 401.
func (s *SalesforceClient) call(ctx context.Context, method, template, path string, body any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	for try := 0; ; try++ {
		tok, base, err := s.session(ctx, try > 0)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(egress.WithPathTemplate(ctx, template), method, base+path, bytes.NewReader(payload))
		if err != nil {
			return nil, notConfigured(Salesforce, "the org URL is not a URL")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := s.http.Do(req)
		if err != nil {
			return nil, sendErr(Salesforce, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && try == 0 {
			resp.Body.Close()
			continue
		}
		return resp, nil
	}
}

func (s *SalesforceClient) dataPath() string { return "/services/data/" + s.cfg.APIVersion }

func (s *SalesforceClient) recordPath(externalID string) string {
	return s.dataPath() + "/sobjects/" + s.cfg.Object + "/" + s.cfg.ExternalIDField + "/" + url.PathEscape(externalID)
}

const sfRecordTemplate = "/services/data/{version}/sobjects/{object}/{externalIdField}/{id}"

// Upsert implements Connector. One record: PATCH on its external ID (201
// created, 200/204 updated). More: sObject Collections' upsert, PATCH
// composite/sobjects/<Object>/<ExternalIdField>, 200 records a request,
// all or none.
func (s *SalesforceClient) Upsert(ctx context.Context, records []Record) error {
	if len(records) == 1 {
		resp, err := s.call(ctx, http.MethodPatch, sfRecordTemplate, s.recordPath(records[0].ExternalID), records[0].Properties)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusCreated, http.StatusNoContent:
			return nil
		}
		return statusError(Salesforce, resp, s.now())
	}
	for start := 0; start < len(records); start += salesforceBatchMax {
		end := min(start+salesforceBatchMax, len(records))
		body := struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}{AllOrNone: true}
		for _, r := range records[start:end] {
			rec := map[string]any{"attributes": map[string]string{"type": s.cfg.Object}, s.cfg.ExternalIDField: r.ExternalID}
			for k, v := range r.Properties {
				rec[k] = v
			}
			body.Records = append(body.Records, rec)
		}
		path := s.dataPath() + "/composite/sobjects/" + s.cfg.Object + "/" + s.cfg.ExternalIDField
		resp, err := s.call(ctx, http.MethodPatch, "/services/data/{version}/composite/sobjects/{object}/{externalIdField}", path, body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			defer resp.Body.Close()
			return statusError(Salesforce, resp, s.now())
		}
		var results []struct {
			Success bool `json:"success"`
		}
		err = decode(Salesforce, resp, &results)
		resp.Body.Close()
		if err != nil {
			return err
		}
		for _, r := range results {
			if !r.Success {
				return errs.E(errs.FailedPrecondition, reasons.CRMRejected, "salesforce refused a record of the batch")
			}
		}
	}
	return nil
}

// Delete implements Connector: DELETE on the external ID.
func (s *SalesforceClient) Delete(ctx context.Context, externalID string) error {
	resp, err := s.call(ctx, http.MethodDelete, sfRecordTemplate, s.recordPath(externalID), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent, http.StatusNotFound:
		return nil
	}
	return statusError(Salesforce, resp, s.now())
}

// Exists implements Connector: GET on the external ID.
func (s *SalesforceClient) Exists(ctx context.Context, externalID string) (bool, error) {
	resp, err := s.call(ctx, http.MethodGet, sfRecordTemplate, s.recordPath(externalID), nil)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, statusError(Salesforce, resp, s.now())
}

// upsertOne PATCHes one record on its external ID and returns the record
// Id Salesforce answers (201 created or, from API 46.0, 200 updated, with
// {"id", "success", "created"}); an older API's 204 names none, and the
// record is then not bound for inbound changes.
func (s *SalesforceClient) upsertOne(ctx context.Context, r Record) (string, error) {
	resp, err := s.call(ctx, http.MethodPatch, sfRecordTemplate, s.recordPath(r.ExternalID), r.Properties)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
		var out struct {
			ID string `json:"id"`
		}
		if err := decode(Salesforce, resp, &out); err != nil {
			return "", err
		}
		return out.ID, nil
	case http.StatusNoContent:
		return "", nil
	}
	return "", statusError(Salesforce, resp, s.now())
}

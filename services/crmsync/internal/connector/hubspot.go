package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/sottohq/sotto/pkg/egress"
)

// HubSpotTokenKey is the secret key of a shop's private-app access token.
const HubSpotTokenKey = "private_app_token"

// hubSpotBatchMax is the batch upsert endpoint's limit of inputs.
const hubSpotBatchMax = 100

// HubSpotConfig is one shop's HubSpot portal.
type HubSpotConfig struct {
	// BaseURL is the API's root: https://api.hubapi.com.
	BaseURL string
	// IDProperty is the contact property that holds the external ID; it
	// must be a unique-value property in the portal (HubSpot upserts by it).
	IDProperty string
	// Tenant is the shop: its token is read from SecretPath(tenant, "hubspot").
	Tenant string
}

// HubSpotClient speaks HubSpot's CRM v3 objects API for contacts with a
// private app's bearer token.
type HubSpotClient struct {
	cfg     HubSpotConfig
	http    Doer
	secrets Secrets
	now     func() time.Time
}

// NewHubSpot returns the connector of one shop's portal.
func NewHubSpot(cfg HubSpotConfig, client Doer, secrets Secrets, now func() time.Time) *HubSpotClient {
	if now == nil {
		now = time.Now
	}
	return &HubSpotClient{cfg: cfg, http: client, secrets: secrets, now: now}
}

var _ Connector = (*HubSpotClient)(nil)

func (h *HubSpotClient) token(ctx context.Context) (string, error) {
	s, err := h.secrets.Get(ctx, SecretPath(h.cfg.Tenant, HubSpot))
	if err != nil {
		return "", err
	}
	if s[HubSpotTokenKey] == "" {
		return "", notConfigured(HubSpot, "the shop's secret has no private_app_token")
	}
	return s[HubSpotTokenKey], nil
}

func (h *HubSpotClient) do(ctx context.Context, method, template, path string, body any) (*http.Response, error) {
	tok, err := h.token(ctx)
	if err != nil {
		return nil, err
	}
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(egress.WithPathTemplate(ctx, template), method, h.cfg.BaseURL+path, rd)
	if err != nil {
		return nil, notConfigured(HubSpot, "the base URL is not a URL")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return nil, sendErr(HubSpot, err)
	}
	return resp, nil
}

type hubSpotInput struct {
	IDProperty string            `json:"idProperty"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// Upsert implements Connector: POST /crm/v3/objects/contacts/batch/upsert,
// up to 100 inputs a call, each matched on IDProperty.
func (h *HubSpotClient) Upsert(ctx context.Context, records []Record) error {
	for start := 0; start < len(records); start += hubSpotBatchMax {
		end := min(start+hubSpotBatchMax, len(records))
		in := struct {
			Inputs []hubSpotInput `json:"inputs"`
		}{}
		for _, r := range records[start:end] {
			props := make(map[string]string, len(r.Properties)+1)
			for k, v := range r.Properties {
				props[k] = v
			}
			props[h.cfg.IDProperty] = r.ExternalID
			in.Inputs = append(in.Inputs, hubSpotInput{IDProperty: h.cfg.IDProperty, ID: r.ExternalID, Properties: props})
		}
		resp, err := h.do(ctx, http.MethodPost, "/crm/v3/objects/contacts/batch/upsert", "/crm/v3/objects/contacts/batch/upsert", in)
		if err != nil {
			return err
		}
		// 200 COMPLETE. 207 (some inputs refused, for their values) and any
		// other answer fail the batch; statusError says whether a retry may
		// help (upserts by unique property make one harmless).
		if resp.StatusCode != http.StatusOK {
			defer resp.Body.Close()
			return statusError(HubSpot, resp, h.now())
		}
		var out struct {
			Status string `json:"status"`
		}
		err = decode(HubSpot, resp, &out)
		resp.Body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Delete implements Connector with HubSpot's GDPR delete, which removes the
// contact and blocks its e-mail address from being tracked again:
// POST /crm/v3/objects/contacts/gdpr-delete.
func (h *HubSpotClient) Delete(ctx context.Context, externalID string) error {
	body := map[string]string{"objectId": externalID, "idProperty": h.cfg.IDProperty}
	resp, err := h.do(ctx, http.MethodPost, "/crm/v3/objects/contacts/gdpr-delete", "/crm/v3/objects/contacts/gdpr-delete", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK, http.StatusNotFound:
		return nil
	}
	return statusError(HubSpot, resp, h.now())
}

// Exists implements Connector: GET /crm/v3/objects/contacts/{id}?idProperty=.
func (h *HubSpotClient) Exists(ctx context.Context, externalID string) (bool, error) {
	path := "/crm/v3/objects/contacts/" + url.PathEscape(externalID) + "?idProperty=" + url.QueryEscape(h.cfg.IDProperty)
	resp, err := h.do(ctx, http.MethodGet, "/crm/v3/objects/contacts/{contactId}", path, nil)
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
	return false, statusError(HubSpot, resp, h.now())
}

package inbound

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
)

// HubSpotRecords reads a contact's subject from HubSpot by its object id
// (a webhook event names the object, not the unique property crmsync set):
// GET /crm/v3/objects/contacts/{objectId}?properties=<id property>, with
// the shop's private app token, over the connectors' egress client.
type HubSpotRecords struct {
	BaseURL string
	HTTP    connector.Doer
	Secrets connector.Secrets
}

var _ Records = (*HubSpotRecords)(nil)

// Subject implements Records.
func (h *HubSpotRecords) Subject(ctx context.Context, m mapping.Mapping, recordID string) (string, error) {
	sec, err := h.Secrets.Get(ctx, connector.SecretPath(m.Tenant, connector.HubSpot))
	if err != nil {
		return "", err
	}
	tok := sec[connector.HubSpotTokenKey]
	if tok == "" {
		return "", errs.E(errs.FailedPrecondition, ReasonCRMNotConfigured, "the shop's HubSpot secret has no private_app_token")
	}
	u := h.BaseURL + "/crm/v3/objects/contacts/" + url.PathEscape(recordID) + "?properties=" + url.QueryEscape(m.HubSpot.IDProperty)
	req, err := http.NewRequestWithContext(egress.WithPathTemplate(ctx, "/crm/v3/objects/contacts/{id}"), http.MethodGet, u, nil)
	if err != nil {
		return "", errs.E(errs.FailedPrecondition, ReasonCRMNotConfigured, "the HubSpot base URL is not a URL")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := h.HTTP.Do(req)
	if err != nil {
		return "", errs.E(errs.Unavailable, ReasonCRMUnavailable, "HubSpot could not be reached")
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", ErrNoSubject
	case resp.StatusCode != http.StatusOK:
		// HubSpot's error bodies may echo values: never quoted.
		return "", errs.E(errs.Unavailable, ReasonCRMUnavailable, "HubSpot answered %d", resp.StatusCode)
	}
	var out struct {
		Properties map[string]*string `json:"properties"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", errs.E(errs.Unavailable, ReasonCRMUnavailable, "HubSpot's answer is not a contact")
	}
	if v := out.Properties[m.HubSpot.IDProperty]; v != nil && *v != "" {
		return *v, nil
	}
	return "", ErrNoSubject
}

package connector

import (
	"context"
	"net/http"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// Batcher is a Connector that sends many records in one request and says
// which of them the CRM took: deliveries due for the same shop and CRM go
// out together, and each is finished on its own outcome.
type Batcher interface {
	// BatchSize is the most records one call of UpsertEach sends in one
	// request (HubSpot 100, Salesforce 200).
	BatchSize() int
	// UpsertEach upserts records (at most BatchSize, external IDs unique)
	// in one request. err fails them all (nothing is known to have been
	// applied: retry, or not, by its code); otherwise each[i] is records[i]'s
	// outcome, nil when the CRM applied it.
	UpsertEach(ctx context.Context, records []Record) (each []error, err error)
}

// BatchSize is how many records c takes in one request (1 if it does not
// batch).
func BatchSize(c Connector) int {
	if b, ok := c.(Batcher); ok && b.BatchSize() > 0 {
		return b.BatchSize()
	}
	return 1
}

// UpsertEach sends records through c's batch call, or through Upsert one
// at a time if c does not batch.
func UpsertEach(ctx context.Context, c Connector, records []Record) ([]error, error) {
	if b, ok := c.(Batcher); ok {
		return b.UpsertEach(ctx, records)
	}
	each := make([]error, len(records))
	for i, r := range records {
		each[i] = c.Upsert(ctx, []Record{r})
	}
	return each, nil
}

// rejected is a record the CRM refused on its own (its values), which no
// retry fixes.
func rejected(crm string) error {
	return errs.E(errs.FailedPrecondition, reasons.CRMRejected, "%s refused the record", crm)
}

// split sends each record of a batch the CRM refused as a whole on its
// own, so one record at fault does not take the others down with it. An
// error that is not the records' (rate, outage, credentials) stops it.
func split(ctx context.Context, records []Record, one func(context.Context, Record) (string, error)) ([]error, []string, error) {
	each, ids := make([]error, len(records)), make([]string, len(records))
	for i, r := range records {
		id, err := one(ctx, r)
		if err != nil && errs.ReasonOf(err) != reasons.CRMRejected {
			return nil, nil, err
		}
		each[i], ids[i] = err, id
	}
	return each, ids, nil
}

// BatchSize implements Batcher: the batch upsert endpoint's 100 inputs.
func (h *HubSpotClient) BatchSize() int { return hubSpotBatchMax }

// UpsertEach implements Batcher with one POST
// /crm/v3/objects/contacts/batch/upsert. 200 applied every input; a 207
// names the inputs it refused in its errors' context.ids; a 400 or 422
// refuses the batch as a whole (HubSpot validates a batch before it
// applies any of it), so each record is then sent alone.
func (h *HubSpotClient) UpsertEach(ctx context.Context, records []Record) ([]error, error) {
	each, _, err := h.UpsertEachIDs(ctx, records)
	return each, err
}

// UpsertEachIDs implements RecordIDer: UpsertEach, with the contact ids
// HubSpot answers in its results (matched by the id property, as HubSpot
// does not promise the inputs' order).
func (h *HubSpotClient) UpsertEachIDs(ctx context.Context, records []Record) ([]error, []string, error) {
	if len(records) == 0 {
		return nil, nil, nil
	}
	if len(records) > hubSpotBatchMax {
		return nil, nil, errs.E(errs.Internal, reasons.CRMRejected, "hubspot: more than %d records in one batch", hubSpotBatchMax)
	}
	in := struct {
		Inputs []hubSpotInput `json:"inputs"`
	}{}
	for _, r := range records {
		props := make(map[string]string, len(r.Properties)+1)
		for k, v := range r.Properties {
			props[k] = v
		}
		props[h.cfg.IDProperty] = r.ExternalID
		in.Inputs = append(in.Inputs, hubSpotInput{IDProperty: h.cfg.IDProperty, ID: r.ExternalID, Properties: props})
	}
	const path = "/crm/v3/objects/contacts/batch/upsert"
	resp, err := h.do(ctx, http.MethodPost, path, path, in)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			ID         string             `json:"id"`
			Properties map[string]*string `json:"properties"`
		} `json:"results"`
		Errors []struct {
			Context map[string][]string `json:"context"`
		} `json:"errors"`
	}
	ids := func() []string {
		byExt := map[string]string{}
		for _, r := range out.Results {
			if v := r.Properties[h.cfg.IDProperty]; v != nil {
				byExt[*v] = r.ID
			}
		}
		ids := make([]string, len(records))
		for i, r := range records {
			ids[i] = byExt[r.ExternalID]
		}
		return ids
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := decode(HubSpot, resp, &out); err != nil {
			return nil, nil, err
		}
		return make([]error, len(records)), ids(), nil
	case http.StatusMultiStatus:
		if err := decode(HubSpot, resp, &out); err != nil {
			return nil, nil, err
		}
		refused := map[string]bool{}
		for _, e := range out.Errors {
			for _, id := range e.Context["ids"] {
				refused[id] = true
			}
		}
		if len(refused) == 0 {
			// Refusals it does not tie to inputs: which were applied is
			// unknown, and each alone says.
			return split(ctx, records, h.upsertOne)
		}
		each, idx := make([]error, len(records)), ids()
		for i, r := range records {
			if refused[r.ExternalID] {
				each[i], idx[i] = rejected(HubSpot), ""
			}
		}
		return each, idx, nil
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusConflict:
		err := statusError(HubSpot, resp, h.now())
		if len(records) == 1 {
			return []error{err}, []string{""}, nil
		}
		return split(ctx, records, h.upsertOne)
	}
	return nil, nil, statusError(HubSpot, resp, h.now())
}

func (h *HubSpotClient) upsertOne(ctx context.Context, r Record) (string, error) {
	each, ids, err := h.UpsertEachIDs(ctx, []Record{r})
	if err != nil {
		return "", err
	}
	return ids[0], each[0]
}

// BatchSize implements Batcher: sObject Collections' 200 records.
func (s *SalesforceClient) BatchSize() int { return salesforceBatchMax }

// sfRetryable are the per-record status codes of a collection that a
// later attempt may get through.
var sfRetryable = map[string]bool{"UNABLE_TO_LOCK_ROW": true, "SERVER_UNAVAILABLE": true, "REQUEST_RUNNING_TOO_LONG": true}

// UpsertEach implements Batcher. One record: PATCH on its external ID. More:
// sObject Collections' upsert with allOrNone false, whose answer has one
// result per record, in order (success, or errors with a statusCode).
func (s *SalesforceClient) UpsertEach(ctx context.Context, records []Record) ([]error, error) {
	each, _, err := s.UpsertEachIDs(ctx, records)
	return each, err
}

// UpsertEachIDs implements RecordIDer: UpsertEach, with the record Ids
// Salesforce answers (one result per record, in order).
func (s *SalesforceClient) UpsertEachIDs(ctx context.Context, records []Record) ([]error, []string, error) {
	if len(records) == 0 {
		return nil, nil, nil
	}
	if len(records) == 1 {
		id, err := s.upsertOne(ctx, records[0])
		if err != nil && errs.ReasonOf(err) == reasons.CRMRejected {
			return []error{err}, []string{""}, nil
		}
		if err != nil {
			return nil, nil, err
		}
		return []error{nil}, []string{id}, nil
	}
	if len(records) > salesforceBatchMax {
		return nil, nil, errs.E(errs.Internal, reasons.CRMRejected, "salesforce: more than %d records in one batch", salesforceBatchMax)
	}
	body := struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}{AllOrNone: false}
	for _, r := range records {
		rec := map[string]any{"attributes": map[string]string{"type": s.cfg.Object}, s.cfg.ExternalIDField: r.ExternalID}
		for k, v := range r.Properties {
			rec[k] = v
		}
		body.Records = append(body.Records, rec)
	}
	path := s.dataPath() + "/composite/sobjects/" + s.cfg.Object + "/" + s.cfg.ExternalIDField
	resp, err := s.call(ctx, http.MethodPatch, "/services/data/{version}/composite/sobjects/{object}/{externalIdField}", path, body)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest {
		// The request as a whole (a malformed record): each alone says
		// which.
		_ = statusError(Salesforce, resp, s.now())
		return split(ctx, records, s.upsertOne)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, statusError(Salesforce, resp, s.now())
	}
	var results []struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []struct {
			StatusCode string `json:"statusCode"`
		} `json:"errors"`
	}
	if err := decode(Salesforce, resp, &results); err != nil {
		return nil, nil, err
	}
	if len(results) != len(records) {
		return nil, nil, errs.E(errs.Unavailable, reasons.CRMResponseInvalid, "salesforce answered for %d records of %d", len(results), len(records))
	}
	each, ids := make([]error, len(records)), make([]string, len(records))
	for i, r := range results {
		if r.Success {
			ids[i] = r.ID
			continue
		}
		each[i] = rejected(Salesforce)
		for _, e := range r.Errors {
			if sfRetryable[e.StatusCode] {
				each[i] = errs.E(errs.Unavailable, reasons.CRMUnavailable, "salesforce could not apply the record now")
			}
		}
	}
	return each, ids, nil
}

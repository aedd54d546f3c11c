// Package connector sends customer records to CRMs. A Connector upserts a
// batch of records keyed by an external ID (the customer's pseudonymous
// subject, so sending the same record twice updates it rather than creating
// a second one), deletes a record, and reads one back (erasure evidence:
// the CRM answering not-found). HubSpot and Salesforce speak their real
// REST protocols through pkg/egress.
//
// Errors are *errs.Error values whose text never quotes a CRM's response
// body (CRMs echo the values they refuse): Unavailable for what a retry may
// fix (5xx, no answer, 429 as *RateLimited with the CRM's Retry-After),
// FailedPrecondition for what it cannot.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// Names of the connectors, as mappings and deliveries name them.
const (
	HubSpot    = "hubspot"
	Salesforce = "salesforce"
)

// Record is one customer as a CRM gets it.
type Record struct {
	// ExternalID is the customer's subject: the CRM's unique key for them.
	ExternalID string
	// Properties are CRM property names and the values to set, already in
	// their mapped form (token, masked or plaintext).
	Properties map[string]string
}

// Connector is one CRM of one shop.
type Connector interface {
	// Upsert creates or updates records by their external IDs, all or
	// nothing as far as the caller knows: on an error it sends them all again.
	Upsert(ctx context.Context, records []Record) error
	// Delete removes the record (HubSpot: its GDPR delete). A record
	// already gone is not an error.
	Delete(ctx context.Context, externalID string) error
	// Exists reads the record back: false once the CRM answers not-found.
	Exists(ctx context.Context, externalID string) (bool, error)
}

// Secrets reads the shops' CRM credentials (pkg/secrets: Vault KV v2 or
// the local file).
type Secrets interface {
	Get(ctx context.Context, path string) (map[string]string, error)
}

// SecretPath is where a shop's credentials for a connector live:
// sotto/crm/<tenant>/<connector> (KV v2 API path
// secret/data/sotto/crm/<tenant>/<connector>).
func SecretPath(tenant, connector string) string { return "sotto/crm/" + tenant + "/" + connector }

// Doer sends HTTP requests: *egress.Client.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// RateLimited is a 429: the CRM asked to wait After before trying again.
type RateLimited struct {
	After time.Duration
	err   *errs.Error
}

func (e *RateLimited) Error() string { return e.err.Error() }

// Unwrap gives errs the reason (CRM_RATE_LIMITED, Unavailable).
func (e *RateLimited) Unwrap() error { return e.err }

// RetryAfter returns the wait a 429 asked for, if err is one.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *RateLimited
	if errors.As(err, &rl) {
		return rl.After, true
	}
	return 0, false
}

// DefaultRetryAfter is the wait after a 429 without a readable Retry-After.
const DefaultRetryAfter = 10 * time.Second

// statusError classifies a response the caller did not expect. The body is
// drained, never quoted.
func statusError(crm string, resp *http.Response, now time.Time) error {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		after := DefaultRetryAfter
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			after = d
		}
		return &RateLimited{After: after, err: errs.E(errs.Unavailable, reasons.CRMRateLimited, "%s asked to slow down", crm)}
	case code >= 500:
		return errs.E(errs.Unavailable, reasons.CRMUnavailable, "%s answered %d", crm, code)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return errs.E(errs.FailedPrecondition, reasons.CRMAuthFailed, "%s refused the credentials (%d)", crm, code)
	default:
		return errs.E(errs.FailedPrecondition, reasons.CRMRejected, "%s refused the request (%d)", crm, code)
	}
}

// parseRetryAfter reads delay-seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// sendErr turns a transport error into Unavailable (egress's errors are
// already *errs.Error without URLs; a context error stays as it is).
func sendErr(crm string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errs.Wrap(err, errs.Unavailable, reasons.CRMUnavailable, "%s could not be reached", crm)
}

// decode reads a JSON answer, never quoting it in the error.
func decode(crm string, resp *http.Response, v any) error {
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(v); err != nil {
		return errs.E(errs.Unavailable, reasons.CRMResponseInvalid, "%s sent an answer that is not the expected JSON", crm)
	}
	return nil
}

func notConfigured(crm, what string) error {
	return errs.E(errs.FailedPrecondition, reasons.CRMNotConfigured, "%s: %s", crm, what)
}

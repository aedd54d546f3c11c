package engine_test

import (
	"context"
	"testing"

	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// failingConsent is a client that cannot reach the consent service.
type failingConsent struct{}

func (failingConsent) BatchCheck(context.Context, []consentclient.Pair) ([]consentclient.Decision, error) {
	return nil, errs.E(errs.Unavailable, consentclient.ReasonUnavailable, "consent cannot be checked right now")
}

var crmsync = engine.Caller{Workload: "crmsync", ID: "spiffe://sotto.test/crmsync"}

// TestConsentFailsClosed: a rule with requires_consent reveals nothing
// when the vault has no consent client (SOTTO_CONSENT_ADDR unset), nor
// when the client cannot answer. (A consent service that hangs is bounded
// by the client itself: pkg/consentclient TestHangingServiceFailsClosed.)
func TestConsentFailsClosed(t *testing.T) {
	for name, c := range map[string]engine.Consent{
		"no consent client":   nil,
		"consent unavailable": failingConsent{},
	} {
		t.Run(name, func(t *testing.T) {
			f := newEpochFixture(t, storetest.SQLite(t, migrations.FS), newLocalKeys(t), engine.Options{Consent: c})
			tok := f.tokenize(t, "cus_1", engine.Item{Value: "carla@example.com", Type: tokens.Email})[0]
			res, err := f.eng.Detokenize(context.Background(), crmsync, "crm_sync", []string{tok})
			if err != nil {
				t.Fatal(err)
			}
			if d := res[0].Decision; d.Allowed || d.Reason != reasons.ConsentUnavailable || res[0].Value != "" {
				t.Fatalf("crm_sync: %+v (value %q); want refused %s", d, res[0].Value, reasons.ConsentUnavailable)
			}
			// A rule without the condition never asks.
			res, err = f.eng.Detokenize(context.Background(), conversation, "order_support", []string{tok})
			if err != nil || !res[0].Decision.Allowed {
				t.Fatalf("order_support: %+v %v", res[0].Decision, err)
			}
		})
	}
}

package engine_test

import (
	"context"
	"testing"

	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// hangingConsent never answers: a consent service that accepted the
// connection and went silent. It reports whether it was given a deadline
// (without one it gives up at once, so that the test reports the missing
// bound instead of hanging).
type hangingConsent struct{ deadline chan bool }

func (h hangingConsent) BatchCheck(ctx context.Context, _ []consentclient.Pair) ([]consentclient.Decision, error) {
	_, ok := ctx.Deadline()
	h.deadline <- ok
	if !ok {
		// Hanging here would hang the test; the missing bound is reported.
		return nil, context.Canceled
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

var crmsync = engine.Caller{Workload: "crmsync", ID: "spiffe://sotto.test/crmsync"}

// TestConsentFailsClosed: a rule with requires_consent reveals nothing
// when the vault has no consent client (SOTTO_CONSENT_ADDR unset), nor
// when consent hangs: the question is bounded, and then refused as
// unreachable, not left to the caller's deadline.
func TestConsentFailsClosed(t *testing.T) {
	for name, c := range map[string]engine.Consent{
		"no consent client": nil,
		"consent hangs":     hangingConsent{deadline: make(chan bool, 1)},
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
			if h, ok := c.(hangingConsent); ok && !<-h.deadline {
				t.Error("the consent question had no deadline")
			}
			// A rule without the condition never asks.
			res, err = f.eng.Detokenize(context.Background(), conversation, "order_support", []string{tok})
			if err != nil || !res[0].Decision.Allowed {
				t.Fatalf("order_support: %+v %v", res[0].Decision, err)
			}
		})
	}
}

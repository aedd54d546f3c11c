package assistant

import (
	"context"

	"github.com/sottohq/sotto/pkg/consentclient"
)

// Purposes of the consent catalogue (services/consent/catalogue.yaml) the
// assistant's uses of a customer's data fall under.
const (
	// PurposeOrderSupport: looking up the customer's own orders and
	// starting a return for them. It rests on the contract of sale, which
	// the customer's say-so does not change, so it is not asked about.
	PurposeOrderSupport = "order_support"
	// PurposePersonalisation: suggesting products from the customer's
	// order history. It rests on consent and is asked about every time.
	PurposePersonalisation = "personalisation"
)

// Purposes answers whether a customer's data may be used for a purpose
// now. Implementations fail closed: an error means no.
type Purposes interface {
	Allowed(ctx context.Context, subject, purpose string) (bool, error)
}

// NoConsent is Purposes where the consent service is not wired in: every
// purpose that needs asking is refused.
type NoConsent struct{}

// Allowed implements Purposes: never.
func (NoConsent) Allowed(context.Context, string, string) (bool, error) { return false, nil }

// Consent asks the consent service through pkg/consentclient, whose cache
// the change feed keeps current (a withdrawal stops personalisation within
// the feed's latency) and which refuses a consent-based purpose when the
// service cannot be reached.
type Consent struct {
	Client *consentclient.Client
}

// Allowed implements Purposes.
func (c Consent) Allowed(ctx context.Context, subject, purpose string) (bool, error) {
	d, err := c.Client.Check(ctx, subject, purpose)
	if err != nil {
		return false, err
	}
	return d.Allowed, nil
}

// PurposesFunc is a function as Purposes (the conversation domain's
// ConsentChecker has this shape).
type PurposesFunc func(ctx context.Context, subject, purpose string) (bool, error)

// Allowed implements Purposes.
func (f PurposesFunc) Allowed(ctx context.Context, subject, purpose string) (bool, error) {
	return f(ctx, subject, purpose)
}

package assistant

import (
	"errors"
	"time"
)

// The tools' refusals. Each is what the assistant tells the customer, not
// a failure of the service.
var (
	// ErrLoginRequired: the caller is a visitor or a channel user not yet
	// linked to an account, and orders belong to accounts.
	ErrLoginRequired = errors.New("login required")
	// ErrStepUpRequired: the request needs a second factor (aal2).
	ErrStepUpRequired = errors.New("step-up required")
	// ErrOrderNotFound: no order of that number belongs to the caller in
	// the caller's shop. Another customer's order is not found either, so
	// order numbers cannot be probed.
	ErrOrderNotFound = errors.New("order not found")
	// ErrNotReturnable: the order has not been delivered (or was
	// cancelled).
	ErrNotReturnable = errors.New("order not returnable")
)

// Tools are what the assistant (built-in or model) may do, always as the
// end user: an order is found only when it belongs to the caller's subject
// in the caller's shop. The service's own authority is never used to look
// one up.
type Tools struct {
	fixtures *Fixtures
}

// NewTools returns the tools over a shop's fixtures.
func NewTools(f *Fixtures) Tools { return Tools{fixtures: f} }

// account checks that c speaks for an account: a customer signed in, or a
// channel user linked to one.
func account(c Caller) error {
	if !c.Linked || c.Subject == "" {
		return ErrLoginRequired
	}
	return nil
}

// LookupOrder returns the caller's order of that number in their shop.
func (t Tools) LookupOrder(c Caller, number string) (Order, error) {
	if err := account(c); err != nil {
		return Order{}, err
	}
	shop, ok := t.fixtures.Shop(c.Tenant)
	if !ok {
		return Order{}, ErrOrderNotFound
	}
	for _, o := range shop.Orders {
		if o.Number == number && o.Customer == c.Subject {
			return o, nil
		}
	}
	return Order{}, ErrOrderNotFound
}

// StartedReturn is a started return.
type StartedReturn struct {
	Order string
	// Number is the return's number, which the customer quotes on the
	// parcel.
	Number string
	// Already: the return had been started before.
	Already bool
}

// StartReturn starts a return of the caller's delivered order.
func (t Tools) StartReturn(c Caller, number string) (StartedReturn, error) {
	o, err := t.LookupOrder(c, number)
	if err != nil {
		return StartedReturn{}, err
	}
	if o.Status != StatusDelivered {
		return StartedReturn{}, ErrNotReturnable
	}
	shop, _ := t.fixtures.Shop(c.Tenant)
	shop.mu.Lock()
	defer shop.mu.Unlock()
	r := StartedReturn{Order: o.Number, Number: "R-" + o.Number, Already: shop.returns[o.Number]}
	shop.returns[o.Number] = true
	return r, nil
}

// DefaultStepUpMaxAge is how recent the aal2 authentication behind a
// sensitive request must be: identity's RecentAuth, which its own
// sensitive calls (a factor removed, an account deleted) require.
const DefaultStepUpMaxAge = 15 * time.Minute

// sensitive checks that c may ask for a delivery address or a refund: an
// account, at aal2, authenticated within maxAge of now (0: any age).
func sensitive(c Caller, now time.Time, maxAge time.Duration) error {
	if err := account(c); err != nil {
		return err
	}
	if c.AAL < 2 {
		return ErrStepUpRequired
	}
	if maxAge > 0 && (c.AuthTime.IsZero() || now.Sub(c.AuthTime) > maxAge) {
		return ErrStepUpRequired
	}
	return nil
}

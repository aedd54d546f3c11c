// Package assistant is the conversation service's shop assistant. It reads
// and writes placeholder text only ("[EMAIL_1]"); the values stay in the
// token vault.
//
// Builtin is deterministic (intents and slots, no model) and answers order
// status, returns, delivery address changes, refunds, opening hours and
// product questions from per-tenant fixtures (catalogue, orders, opening
// hours) in en, de, fr, es, nl and it, word for word the same each time.
// Model (model.go) asks an OpenAI-compatible chat-completions server and
// falls back to Builtin when it fails or its circuit breaker is open.
//
// Both act as the end user (Tools): an order is found only when it belongs
// to the caller's account in the caller's shop; a visitor or a channel
// user not linked to an account is asked to sign in; a delivery address
// or a refund needs aal2, and below it the assistant asks for step-up
// instead of answering. No fixture holds an address, so none can be shown.
package assistant

import (
	"context"
	"strings"
	"time"
)

// Caller is whom the assistant acts for: the conversation's customer as
// their access token (or linked channel) says.
type Caller struct {
	// Tenant is the caller's shop ("" is "default").
	Tenant string
	// Kind is the token's kind ("customer", "visitor", …).
	Kind string
	// Subject is the account id; empty for a visitor.
	Subject string
	// AAL is the token's assurance level.
	AAL int
	// AuthTime is when the authentication that set AAL happened.
	AuthTime time.Time
	// Linked: Subject is an account the caller proved to hold (a signed-in
	// customer, or a channel user linked by a one-time code). Orders are
	// looked up only for linked callers.
	Linked bool
}

// Turn is one earlier message of the conversation, as placeholder text.
type Turn struct {
	// Customer: written by the customer (else by the assistant or an
	// agent).
	Customer bool
	Text     string
}

// Request is one message to answer.
type Request struct {
	Caller Caller
	// Language is the message's language (en, de, fr, es, nl, it; else en).
	Language string
	// Text is the customer's message as placeholder text.
	Text string
	// History is the conversation's recent messages before Text, oldest
	// first. When it is nil, LoadHistory (if set) reads them on first use:
	// the built-in assistant needs them only for a message that does not
	// say what it is about, and reading them for every message was 5 % of
	// the chat path's CPU (docs/benchmarks.md).
	History     []Turn
	LoadHistory func() []Turn
	// InspectToolOutput, when set, checks a tool's output before a model
	// sees it (prompt injection in shop data); true withholds it, and the
	// built-in assistant answers instead.
	InspectToolOutput func(ctx context.Context, output string) (withhold bool)
	// Shopping, when set, is the shop's record of the customer's browsing
	// and orders (shopper.go), read only under personalisation consent.
	Shopping ShopperHistory
}

// Turns is the request's history: History, or what LoadHistory reads.
func (r Request) Turns() []Turn {
	if r.History == nil && r.LoadHistory != nil {
		return r.LoadHistory()
	}
	return r.History
}

// Action is what the reply asks of the conversation or the customer.
type Action string

// Actions.
const (
	ActionNone Action = ""
	// ActionHandOff: a support agent should take over.
	ActionHandOff Action = "hand_off"
	// ActionLogin: the customer should sign in or link their channel.
	ActionLogin Action = "login"
	// ActionStepUp: the customer should authenticate with a second factor.
	ActionStepUp Action = "step_up"
)

// Reply is the assistant's answer, as placeholder text.
type Reply struct {
	Text   string
	Action Action
	// Intent is what the built-in assistant understood (for metrics and
	// tests; the model adapter leaves it Unknown unless it fell back).
	Intent Intent
	// Fallback: the model could not answer and the built-in assistant
	// did.
	Fallback bool
}

// Assistant answers a message. It never fails: what it cannot do, it says.
type Assistant interface {
	Reply(ctx context.Context, req Request) Reply
}

// Builtin is the deterministic assistant over fixtures.
type Builtin struct {
	tools    Tools
	fixtures *Fixtures
	purposes Purposes
	// now and stepUpMaxAge decide whether an aal2 authentication is
	// recent enough for a sensitive request.
	now          func() time.Time
	stepUpMaxAge time.Duration
}

var _ Assistant = (*Builtin)(nil)

// NewBuiltin returns the built-in assistant. purposes answers the
// personalisation purpose (nil refuses it).
func NewBuiltin(f *Fixtures, purposes Purposes) *Builtin {
	if purposes == nil {
		purposes = NoConsent{}
	}
	return &Builtin{tools: NewTools(f), fixtures: f, purposes: purposes, now: time.Now, stepUpMaxAge: DefaultStepUpMaxAge}
}

// WithStepUp sets how recent an aal2 authentication must be for a
// sensitive request (0: any age) and the clock it is measured with (the
// domain's; nil: time.Now). It returns b.
func (b *Builtin) WithStepUp(maxAge time.Duration, now func() time.Time) *Builtin {
	if now == nil {
		now = time.Now
	}
	b.stepUpMaxAge, b.now = maxAge, now
	return b
}

// sensitive checks c for a delivery address or refund request.
func (b *Builtin) sensitive(c Caller) error { return sensitive(c, b.now(), b.stepUpMaxAge) }

// Tools returns the tools the built-in assistant acts with (for the model
// adapter).
func (b *Builtin) Tools() Tools { return b.tools }

// Reply implements Assistant.
func (b *Builtin) Reply(ctx context.Context, req Request) Reply {
	l := lang(req.Language)
	intent, number := b.understand(req)
	c := req.Caller
	if (intent == Unknown || intent == Greeting) && b.isProductText(c, req.Text) {
		intent = ProductQuestion
	}
	r := Reply{Intent: intent}
	switch intent {
	case HandOff:
		r.Text, r.Action = say(l, msgHandOff), ActionHandOff
	case OrderStatus:
		if account(c) == nil && number == "" {
			if contact := contactRE.FindString(req.Text); contact != "" {
				r.Text = say(l, msgAskOrderContact, contact)
				return r
			}
		}
		r.Text, r.Action = b.orderStatus(l, c, number)
	case Return:
		r.Text, r.Action = b.startReturn(l, c, number)
	case Refund:
		r.Text, r.Action = b.refund(l, c, number)
	case DeliveryAddress:
		r.Text, r.Action = b.address(l, c, number, addressRE.FindString(req.Text))
	case Recommend:
		r.Text, r.Action = b.recommend(ctx, l, c, req.Shopping)
	case ProductQuestion:
		r.Text, r.Action = b.product(l, c, req.Text)
	case OpeningHours:
		shop, ok := b.fixtures.Shop(c.Tenant)
		if !ok {
			r.Text, r.Action = say(l, msgHandOff), ActionHandOff
			break
		}
		r.Text = say(l, msgHours, hours(l, shop.Hours))
	case Greeting:
		r.Text = say(l, msgGreeting)
	default:
		r.Text = say(l, msgHelp)
	}
	return r
}

// understand is the message's intent and order number, filled in from the
// conversation: a bare order number (or new address) answers the last
// question about an order, and an order question without a number is about
// the order named last.
func (b *Builtin) understand(req Request) (Intent, string) {
	intent, number := Classify(req.Text), orderNumber(req.Text)
	var history []Turn
	loaded := false
	turns := func() []Turn { // read only when the message needs them
		if !loaded {
			history, loaded = req.Turns(), true
		}
		return history
	}
	if intent == Unknown || (intent == Greeting && number != "") {
		h := turns()
		for i := len(h) - 1; i >= 0; i-- {
			if t := h[i]; t.Customer {
				if prev := Classify(t.Text); needsOrder(prev) {
					intent = prev
					break
				}
			}
		}
		if !needsOrder(intent) && number != "" {
			intent = OrderStatus
		}
	}
	if needsOrder(intent) && number == "" {
		h := turns()
		for i := len(h) - 1; i >= 0 && number == ""; i-- {
			if h[i].Customer {
				number = orderNumber(h[i].Text)
			}
		}
	}
	return intent, number
}

// refusal is what the assistant says for a tool's refusal.
func refusal(l int, err error, number string) (string, Action) {
	switch err {
	case ErrLoginRequired:
		return say(l, msgLogin), ActionLogin
	case ErrStepUpRequired:
		return say(l, msgStepUp), ActionStepUp
	case ErrNotReturnable:
		return say(l, msgNotReturnable, number), ActionNone
	default:
		return say(l, msgNotFound, number), ActionNone
	}
}

func (b *Builtin) orderStatus(l int, c Caller, number string) (string, Action) {
	if err := account(c); err != nil {
		return refusal(l, err, number)
	}
	if number == "" {
		return say(l, msgAskOrder), ActionNone
	}
	o, err := b.tools.LookupOrder(c, number)
	if err != nil {
		return refusal(l, err, number)
	}
	switch o.Status {
	case StatusShipped:
		return say(l, msgShipped, o.Number, o.Carrier, o.ShippedOn), ActionNone
	case StatusDelivered:
		return say(l, msgDelivered, o.Number, o.DeliveredOn), ActionNone
	case StatusCancelled:
		return say(l, msgCancelled, o.Number), ActionNone
	default:
		return say(l, msgProcessing, o.Number), ActionNone
	}
}

func (b *Builtin) startReturn(l int, c Caller, number string) (string, Action) {
	if err := account(c); err != nil {
		return refusal(l, err, number)
	}
	if number == "" {
		return say(l, msgAskReturnOrder), ActionNone
	}
	ret, err := b.tools.StartReturn(c, number)
	if err != nil {
		return refusal(l, err, number)
	}
	if ret.Already {
		return say(l, msgReturnAlready, ret.Order, ret.Number), ActionNone
	}
	return say(l, msgReturnStarted, ret.Order, ret.Number), ActionNone
}

func (b *Builtin) refund(l int, c Caller, number string) (string, Action) {
	if err := b.sensitive(c); err != nil {
		return refusal(l, err, number)
	}
	if number == "" {
		return say(l, msgAskOrder), ActionNone
	}
	if _, err := b.tools.LookupOrder(c, number); err != nil {
		return refusal(l, err, number)
	}
	return say(l, msgRefund, number), ActionHandOff
}

// address handles a delivery address request: never shown (the assistant
// has none), changed by staff when the customer gave the new one (as a
// placeholder) at aal2 for an order not yet shipped.
func (b *Builtin) address(l int, c Caller, number, newAddress string) (string, Action) {
	if err := b.sensitive(c); err != nil {
		return refusal(l, err, number)
	}
	if number == "" {
		return say(l, msgAskOrder), ActionNone
	}
	o, err := b.tools.LookupOrder(c, number)
	if err != nil {
		return refusal(l, err, number)
	}
	if o.Status != StatusProcessing {
		return say(l, msgAddressShipped, number), ActionNone
	}
	if newAddress == "" {
		return say(l, msgAddressAsk, number), ActionNone
	}
	return say(l, msgAddressChange, number, newAddress), ActionHandOff
}

// recommend suggests a product: from what the customer looked at (the
// shop's events) or their order history only under the personalisation
// purpose with consent (asked each time, failing closed), else the shop's
// featured product. A refusal also has the shop's events deleted.
func (b *Builtin) recommend(ctx context.Context, l int, c Caller, shopping ShopperHistory) (string, Action) {
	shop, ok := b.fixtures.Shop(c.Tenant)
	if !ok {
		return say(l, msgHandOff), ActionHandOff
	}
	if account(c) == nil {
		consented, err := b.purposes.Allowed(ctx, c.Subject, PurposePersonalisation)
		switch {
		case err == nil && consented:
			if p, ok := fromShopping(ctx, shop, shopping); ok {
				return say(l, msgSuggestViewed, p.Name), ActionNone
			}
			if p, ok := personalised(shop, c.Subject); ok {
				return say(l, msgSuggestPersonal, p.Name), ActionNone
			}
		case err == nil && shopping != nil:
			// No consent (withdrawn or never given): nothing kept for it.
			shopping.Refused(ctx)
		}
	}
	if p, ok := shop.product(shop.Catalogue.Featured); ok {
		return say(l, msgSuggestGeneric, p.Name), ActionNone
	}
	return say(l, msgHelp), ActionNone
}

// personalised is the first product in stock, in the catalogue's order,
// of a category the customer bought from but not bought itself.
func personalised(shop *Shop, subject string) (Product, bool) {
	bought, categories := map[string]bool{}, map[string]bool{}
	for _, o := range shop.Orders {
		if o.Customer != subject {
			continue
		}
		for _, sku := range o.Items {
			bought[sku] = true
			if p, ok := shop.product(sku); ok {
				categories[p.Category] = true
			}
		}
	}
	for _, p := range shop.Catalogue.Products {
		if categories[p.Category] && !bought[p.SKU] && p.Stock > 0 {
			return p, true
		}
	}
	return Product{}, false
}

func (b *Builtin) product(l int, c Caller, text string) (string, Action) {
	shop, ok := b.fixtures.Shop(c.Tenant)
	if !ok {
		return say(l, msgHandOff), ActionHandOff
	}
	if p, ok := findProduct(shop, text); ok {
		m := msgInStock
		if p.Stock <= 0 {
			m = msgOutOfStock
		}
		return say(l, m, p.Name, price(l, p.PriceCents, shop.Catalogue.Currency)), ActionNone
	}
	names := make([]string, len(shop.Catalogue.Products))
	for i, p := range shop.Catalogue.Products {
		names[i] = p.Name
	}
	return say(l, msgProductUnknown, strings.Join(names, ", ")), ActionNone
}

// findProduct is the product whose name or a keyword the text names (the
// longest match wins: "trail runner 2" over "trail runner").
func findProduct(shop *Shop, text string) (Product, bool) {
	t := normalise(text)
	var best Product
	bestLen := 0
	for _, p := range shop.Catalogue.Products {
		for _, k := range append([]string{p.Name}, p.Keywords...) {
			if n := normalise(k); len(n) > bestLen && strings.Contains(t, n) {
				best, bestLen = p, len(n)
			}
		}
	}
	return best, bestLen > 0
}

// isProductText reports whether text names a product of the caller's shop
// (a product question without a cue word).
func (b *Builtin) isProductText(c Caller, text string) bool {
	shop, ok := b.fixtures.Shop(c.Tenant)
	if !ok {
		return false
	}
	_, found := findProduct(shop, text)
	return found
}

// policy is the built-in answer to a request whose answer is policy, not
// wording, and so is never the model's: a person asked for, a delivery
// address or a refund (sensitive; they end with staff), and anything about
// an order from a caller who must sign in first. ok is false when the
// model may answer. It has no side effect (it starts no return).
func (b *Builtin) policy(ctx context.Context, req Request) (Reply, bool) {
	intent, _ := b.understand(req)
	switch intent {
	case HandOff, Refund, DeliveryAddress:
		return b.Reply(ctx, req), true
	case OrderStatus, Return:
		if err := account(req.Caller); err != nil {
			text, action := refusal(lang(req.Language), err, "")
			return Reply{Text: text, Action: action, Intent: intent}, true
		}
	}
	return Reply{}, false
}

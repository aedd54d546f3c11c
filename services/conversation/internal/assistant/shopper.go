package assistant

import "context"

// ShopperEvent is one event of the customer's shopping the shop recorded:
// a product looked at or put in the basket, or ordered.
type ShopperEvent struct {
	// Ordered: the customer ordered it (else viewed or put in the basket).
	Ordered bool
	// SKU is the product, as in the shop's catalogue.
	SKU string
}

// ShopperHistory is the shop's record of one customer's shopping, kept
// only under the personalisation purpose (the conversation domain's
// shopper events). The assistant asks the consent service before every
// read.
type ShopperHistory interface {
	// Recent returns the newest events first.
	Recent(ctx context.Context) ([]ShopperEvent, error)
	// Refused says the consent service answered no: the events are to be
	// deleted.
	Refused(ctx context.Context)
}

// fromShopping is the product of the customer's newest event that is
// in the catalogue, in stock and not ordered since: what they looked at
// and may still want. A history that cannot be read gives nothing.
func fromShopping(ctx context.Context, shop *Shop, h ShopperHistory) (Product, bool) {
	if h == nil {
		return Product{}, false
	}
	evs, err := h.Recent(ctx)
	if err != nil {
		return Product{}, false
	}
	ordered := map[string]bool{}
	for _, e := range evs {
		if e.Ordered {
			ordered[e.SKU] = true
		}
	}
	for _, e := range evs {
		if e.Ordered || ordered[e.SKU] {
			continue
		}
		if p, ok := shop.product(e.SKU); ok && p.Stock > 0 {
			return p, true
		}
	}
	return Product{}, false
}

package reasons

// Reasons of RecordShopperEvent (ADR 0014, "Shopper events").
const (
	// ShopperEventsScopeRequired: RecordShopperEvent takes an integrator
	// client with the conversation.events scope or an administrator.
	ShopperEventsScopeRequired = "SHOPPER_EVENTS_SCOPE_REQUIRED"
	// ShopperEventInvalid: the event lacks an id, customer, kind, SKU or
	// time, or its time is too far in the future.
	ShopperEventInvalid = "SHOPPER_EVENT_INVALID"
	// ShopperEventsOff: the service was built without shopper events (no
	// digest key).
	ShopperEventsOff = "SHOPPER_EVENTS_OFF"
)

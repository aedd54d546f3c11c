package crmtest

// Reject makes the portal refuse the inputs of these external IDs, as a
// property's validation does: a batch upsert applies the others and
// answers 207 Multi-Status, naming each refused input in its error's
// context.ids.
func (h *HubSpot) Reject(externalIDs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rejects == nil {
		h.rejects = map[string]bool{}
	}
	for _, id := range externalIDs {
		h.rejects[id] = true
	}
}

package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
)

// ConsentChanged sends a change of a customer's consent to the CRMs that
// map its purpose (a mapping's consents: a marketing withdrawal sets the
// CRM's opt-out property) and already have the customer: a consent change
// alone does not create a CRM record. The update is queued like any other
// change, under the purpose the mapping sends it under (crm_sync): checked
// when queued and again at delivery, so a customer who withdrew crm_sync
// gets nothing more sent. recordID is consent's record of the decision:
// the event id derives from it, so the feed's redelivery after a crash
// queues nothing twice. It returns the deliveries queued.
//
// A grant also releases the customer's held events (held.go) in the shops
// that send fields under purpose; each release counts as one.
func (s *Service) ConsentChanged(ctx context.Context, subject, purpose string, granted bool, recordID string) (int, error) {
	released := 0
	if granted {
		var err error
		if released, err = s.granted(ctx, subject, purpose, recordID); err != nil {
			return 0, err
		}
	}
	n, err := s.consentChanged(ctx, subject, purpose, granted, recordID)
	return released + n, err
}

func (s *Service) consentChanged(ctx context.Context, subject, purpose string, granted bool, recordID string) (int, error) {
	sent, err := s.d.Store.SentTo(ctx, s.d.Store.DB(), subject)
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256([]byte("crmsync/consent-change\x00" + recordID + "\x00" + purpose))
	id := "cst_" + hex.EncodeToString(sum[:20])
	n := 0
	for tenant, conns := range sent {
		ev := Event{ID: id, Tenant: tenant, Subject: subject, Kind: updatedKind}
		mapped := false
		for _, m := range s.d.Mappings.For(tenant) {
			if _, ok := m.ConsentItem(purpose, granted); ok && slices.Contains(conns, m.Connector) {
				mapped = true
			}
		}
		if !mapped {
			continue
		}
		if prev, err := s.d.Store.ByEvent(ctx, s.d.Store.DB(), tenant, id); err != nil {
			return n, err
		} else if len(prev) > 0 {
			continue // queued before a crash, redelivered by the feed
		}
		ds, _, err := s.queue(ctx, ev, func(m mapping.Mapping) []mapping.Item {
			it, ok := m.ConsentItem(purpose, granted)
			if !ok || !slices.Contains(conns, m.Connector) {
				return nil
			}
			return []mapping.Item{it}
		})
		if err != nil {
			return n, err
		}
		n += len(ds)
	}
	return n, nil
}

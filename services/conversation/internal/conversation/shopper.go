package conversation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/sottohq/sotto/pkg/consentclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/assistant"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// PurposePersonalisation is the consent catalogue's purpose under which a
// shop's events of a customer's shopping are kept and used
// (services/consent/catalogue.yaml).
const PurposePersonalisation = assistant.PurposePersonalisation

const (
	// ShopperEventsKept bounds the events kept per customer: the most
	// recent ones, by event time.
	ShopperEventsKept = 200
	// shopperEventsShown is how many of the newest a recommendation reads.
	shopperEventsShown = 20
	// ShopperEventMaxAge is how long an event is kept at most (the
	// catalogue's retention_days of personalisation); the sweep deletes
	// older ones.
	ShopperEventMaxAge = 365 * 24 * time.Hour
	// shopperEventMaxSkew is how far in the future an event's time may
	// be (clocks of the shop's systems).
	shopperEventMaxSkew = time.Hour
)

// Shopper event kinds: the proto's ShopperEventKind numbers.
const (
	ShopperViewed        int32 = 1
	ShopperAddedToBasket int32 = 2
	ShopperOrdered       int32 = 3
)

// ShopperEvent is one event a shop posts of a customer's shopping.
type ShopperEvent struct {
	// EventID is the shop's id of the event (idempotency).
	EventID string
	// CustomerSubject is the customer's account id: its consent decides,
	// and it is stored only as the keyed digest of (tenant, subject).
	CustomerSubject string
	Kind            int32
	SKU             string
	Time            time.Time
}

// shopperDeps are what shopper events need (EnableShopperEvents).
type shopperDeps struct {
	key     []byte
	consent ConsentChecker
}

// EnableShopperEvents turns RecordShopperEvent and the assistant's use of
// the events on. key (at least MinKeyLen bytes, derived for this use
// alone) keys the pseudonymous shopper ids and event digests; consent
// answers the personalisation purpose (nil: every event is refused
// Unavailable, so nothing is kept without an answer).
func (s *Service) EnableShopperEvents(key []byte, consent ConsentChecker) error {
	if len(key) < MinKeyLen {
		return errs.E(errs.Internal, reasons.DigestKeyMissing, "the shopper-event key is not configured")
	}
	s.shopper = &shopperDeps{key: key, consent: consent}
	return nil
}

// digest is the hex HMAC of the length-prefixed parts.
func (d *shopperDeps) digest(parts ...string) string {
	m := hmac.New(sha256.New, d.key)
	for _, p := range parts {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// shopperID is the pseudonymous id of a shop's customer: the same for the
// same (tenant, subject), unlinkable across shops and without the key.
func (d *shopperDeps) shopperID(tenant, subject string) string {
	return d.digest("shopper", tenant, subject)
}

// ShopperID is the stored id of a tenant's customer (for tests and the
// privacy participant); "" when shopper events are off.
func (s *Service) ShopperID(tenant, subject string) string {
	if s.shopper == nil {
		return ""
	}
	return s.shopper.shopperID(tenant, subject)
}

// personalisation asks, now, whether the customer allows personalisation.
// An error (the consent service unreachable, or not wired) is Unavailable:
// the caller keeps and uses nothing.
func (d *shopperDeps) personalisation(ctx context.Context, subject string) (bool, error) {
	if d.consent == nil {
		return false, errs.E(errs.Unavailable, consentclient.ReasonUnavailable, "the consent service is not configured")
	}
	ok, err := d.consent(ctx, subject, PurposePersonalisation)
	if err != nil {
		return false, errs.E(errs.Unavailable, consentclient.ReasonUnavailable, "the consent service could not say whether the customer consents to personalisation")
	}
	return ok, nil
}

// RecordShopperEvent keeps a shop's event of its customer's shopping,
// in the caller's tenant, only while the customer consents to
// personalisation: asked now, failing closed (Unavailable, nothing kept).
// Without consent nothing is kept, the customer's earlier events are
// deleted, and it returns false. A repeated event id is kept once. The
// server checks who may call (an integrator with conversation.events, an
// administrator).
func (s *Service) RecordShopperEvent(ctx context.Context, c Caller, ev ShopperEvent) (bool, error) {
	if s.shopper == nil {
		return false, errs.E(errs.FailedPrecondition, reasons.ShopperEventsOff, "shopper events are not enabled")
	}
	now := s.now()
	switch {
	case ev.EventID == "" || ev.CustomerSubject == "" || ev.SKU == "" || ev.Time.IsZero():
		return false, errs.E(errs.InvalidArgument, reasons.ShopperEventInvalid, "an event needs an id, a customer, a SKU and a time")
	case ev.Kind < ShopperViewed || ev.Kind > ShopperOrdered:
		return false, errs.E(errs.InvalidArgument, reasons.ShopperEventInvalid, "the event kind is unknown")
	case ev.Time.After(now.Add(shopperEventMaxSkew)):
		return false, errs.E(errs.InvalidArgument, reasons.ShopperEventInvalid, "the event time is in the future")
	}
	tenant := tenantOf(c)
	d := s.shopper
	sid := d.shopperID(tenant, ev.CustomerSubject)
	ok, err := d.personalisation(ctx, ev.CustomerSubject)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "shopper event not kept: consent unknown", "reason", errs.ReasonOf(err))
		return false, err
	}
	if !ok {
		// A withdrawal reaches what was kept before it, too.
		if n, err := s.d.Store.DeleteShopperEvents(ctx, s.d.Store.DB(), sid); err != nil {
			return false, err
		} else if n > 0 {
			s.d.Logger.InfoContext(ctx, "shopper events deleted: no personalisation consent", "deleted", n)
		}
		return false, nil
	}
	_, err = s.d.Store.RecordShopperEvent(ctx, storage.ShopperEvent{EventDigest: d.digest("event", tenant, ev.EventID),
		ShopperID: sid, Kind: ev.Kind, SKU: ev.SKU, EventTime: ev.Time.UTC().Truncate(time.Microsecond), RecordTime: now}, ShopperEventsKept)
	if err != nil {
		return false, err
	}
	return true, nil
}

// shopperHistory is assistant.ShopperHistory over the stored events of
// one customer of one shop.
type shopperHistory struct {
	s   *Service
	sid string
}

// Recent implements assistant.ShopperHistory: the newest events first.
func (h shopperHistory) Recent(ctx context.Context) ([]assistant.ShopperEvent, error) {
	evs, err := h.s.d.Store.ShopperEvents(ctx, h.s.d.Store.DB(), h.sid, shopperEventsShown)
	if err != nil {
		return nil, err
	}
	out := make([]assistant.ShopperEvent, len(evs))
	for i, e := range evs {
		out[i] = assistant.ShopperEvent{Ordered: e.Kind == ShopperOrdered, SKU: e.SKU}
	}
	return out, nil
}

// Refused implements assistant.ShopperHistory: the consent service said
// no, so the events are deleted now (a failure is logged; the next check
// tries again).
func (h shopperHistory) Refused(ctx context.Context) {
	if n, err := h.s.d.Store.DeleteShopperEvents(ctx, h.s.d.Store.DB(), h.sid); err != nil {
		h.s.d.Logger.WarnContext(ctx, "shopper events of a withdrawn consent not deleted", "reason", errs.ReasonOf(err))
	} else if n > 0 {
		h.s.d.Logger.InfoContext(ctx, "shopper events deleted: no personalisation consent", "deleted", n)
	}
}

// shopperHistoryOf is the history the assistant may read for a linked
// customer of the conversation's shop; nil when shopper events are off or
// the caller is not the customer.
func (s *Service) shopperHistoryOf(conv storage.Conversation, c assistant.Caller) assistant.ShopperHistory {
	if s.shopper == nil || !c.Linked || c.Subject == "" {
		return nil
	}
	return shopperHistory{s: s, sid: s.shopper.shopperID(conv.Tenant, c.Subject)}
}

// SweepShopperEvents deletes events recorded more than ShopperEventMaxAge
// before now (the retention job; withdrawals are handled when consent is
// next asked, as the stored ids cannot be asked about).
func (s *Service) SweepShopperEvents(ctx context.Context, now time.Time) (int64, error) {
	if s.shopper == nil {
		return 0, nil
	}
	return s.d.Store.DeleteShopperEventsBefore(ctx, now.Add(-ShopperEventMaxAge))
}

// shopperPrivacy: the subject's events for export, and their deletion for
// erasure (privacy.go).
func (s *Service) shopperExport(ctx context.Context, subj Subject) ([]ExportItem, error) {
	if s.shopper == nil {
		return nil, nil
	}
	evs, err := s.d.Store.ShopperEvents(ctx, s.d.Store.DB(), s.shopper.shopperID(subj.tenant(), subj.AccountID), ShopperEventsKept)
	if err != nil {
		return nil, err
	}
	out := make([]ExportItem, len(evs))
	for i, e := range evs {
		out[i] = ExportItem{Category: CategoryShopperEvent, ID: e.EventDigest, Fields: []ExportField{
			{Name: "kind", Value: shopperKindNames[e.Kind]}, {Name: "sku", Value: e.SKU},
			{Name: "event_time", Value: rfc3339(e.EventTime)}, {Name: "record_time", Value: rfc3339(e.RecordTime)}}}
	}
	return out, nil
}

// CategoryShopperEvent is the export category of shopper events.
const CategoryShopperEvent = "conversation.shopper_event"

var shopperKindNames = map[int32]string{ShopperViewed: "viewed", ShopperAddedToBasket: "added_to_basket", ShopperOrdered: "ordered"}

// shopperErase deletes the subject's events (inside the erasure's
// transaction).
func (s *Service) shopperErase(ctx context.Context, q storage.Q, subj Subject) (int64, error) {
	if s.shopper == nil {
		return 0, nil
	}
	return s.d.Store.DeleteShopperEvents(ctx, q, s.shopper.shopperID(subj.tenant(), subj.AccountID))
}

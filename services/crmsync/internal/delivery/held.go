package delivery

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
)

// A customer who signs up before allowing crm_sync would otherwise reach
// the CRMs only with their next change: identity sends the sign-up once,
// and crmsync refuses it. So crmsync holds the customer's last customer
// event that queued nothing for want of consent (ADR 0015, "Held events"):
// only its id, kind and the tokens of mapped fields, sealed like a
// delivery's payload. A grant of a purpose the shop's mappings send fields
// under releases it into the queue (checked there and at delivery as any
// event); a withdrawal of such a purpose, or the customer's erasure,
// deletes it; a newer refused event replaces it field by field, so the
// release leaves the CRM as delivering both in turn would have.

// ReleaseKind is the pkg/jobs kind that releases a held event.
const ReleaseKind = "crmsync.release"

// releaseAttempts bounds a release's attempts: the grant that started it
// may not yet be in the consent client's view (its own connection to the
// feed), and is retried with pkg/jobs' backoff until it is.
const releaseAttempts = 8

// createdKind is EVENT_KIND_CUSTOMER_CREATED.
const createdKind = 1

// heldEvent is what a held event's sealed payload holds.
type heldEvent struct {
	ID     string            `json:"id"`
	Kind   int               `json:"k"`
	Fields map[string]string `json:"f"`
}

// heldAAD binds a held event to its shop and customer: one copied onto
// another customer's row does not open.
func heldAAD(tenant, subject string) []byte {
	return []byte("crmsync-held:" + tenant + "\x00" + subject)
}

type releaseArgs struct {
	Tenant  string `json:"t"`
	Subject string `json:"s"`
}

// hold keeps ev as its customer's held event, replacing the one held
// before (a partial event of crmsync's own is merged over it, newer values
// winning). Summaries are not held, nor unmapped fields.
func (s *Service) hold(ctx context.Context, ev Event) error {
	if ev.Summary != "" || (ev.Kind != createdKind && ev.Kind != updatedKind) {
		return nil
	}
	fields := map[string]string{}
	for _, m := range s.d.Mappings.For(ev.Tenant) {
		for _, f := range m.Fields {
			if v := ev.Fields[f.Field]; v != "" {
				fields[f.Field] = v
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	he := heldEvent{ID: ev.ID, Kind: ev.Kind, Fields: fields}
	db := s.d.Store.DB()
	prev, ok, err := s.d.Store.HeldEvent(ctx, db, ev.Tenant, ev.Subject)
	if err != nil {
		return err
	}
	if ok {
		var old heldEvent
		dek, err := openWith(ctx, s.d.Keys, s.d.QueueKey, prev.WrappedKey, prev.Payload, heldAAD(ev.Tenant, ev.Subject), &old)
		clear(dek)
		switch {
		case errs.Is(err, errs.Unavailable):
			return err
		case err == nil:
			// A caller's event is the customer's whole state and replaces
			// the held one: a field the customer removed meanwhile (a phone
			// number deleted) must not reach the CRM on a later grant,
			// where it was never delivered. A partial event of crmsync's
			// own adds to what is held.
			if ev.Partial {
				for k, v := range old.Fields {
					if _, newer := he.Fields[k]; !newer {
						he.Fields[k] = v
					}
				}
			}
			if old.Kind == createdKind {
				he.Kind = createdKind
			}
		}
		// One that does not open is replaced.
	}
	wrapped, sealed, err := sealWith(ctx, s.d.Keys, s.d.QueueKey, heldAAD(ev.Tenant, ev.Subject), he)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		// queue looked at the customer's restrictions before consent
		// refused; an erasure's marker (or a restriction) placed since then
		// means nothing is kept for them. (An erasure also drops held events
		// again in its last transaction, for a hold that slips past this.)
		if restricted, err := s.d.Store.Restricted(ctx, tx, ev.Tenant, ev.Subject); err != nil || restricted {
			return err
		}
		return s.d.Store.Hold(ctx, tx, storage.Held{Tenant: ev.Tenant, Subject: ev.Subject, EventID: ev.ID, WrappedKey: wrapped,
			Payload: sealed, UpdateTime: s.d.Now()})
	})
}

// fieldPurpose says whether tenant's mappings send a field under purpose.
func (s *Service) fieldPurpose(tenant, purpose string) bool {
	return slices.ContainsFunc(s.d.Mappings.For(tenant), func(m mapping.Mapping) bool { return m.FieldPurpose(purpose) })
}

// granted starts the release of the customer's held events, in each shop
// that sends fields under purpose, as a job (retried while the grant is
// not yet visible to the consent check). recordID keys it: the feed's
// redelivery of the same grant starts nothing more.
func (s *Service) granted(ctx context.Context, subject, purpose, recordID string) (int, error) {
	tenants, err := s.d.Store.HeldTenants(ctx, s.d.Store.DB(), subject)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, tenant := range tenants {
		if !s.fieldPurpose(tenant, purpose) {
			continue
		}
		args, _ := json.Marshal(releaseArgs{Tenant: tenant, Subject: subject})
		sum := sha256.Sum256([]byte(tenant + "\x00" + subject + "\x00" + purpose + "\x00" + recordID))
		if _, err := s.d.Jobs.Enqueue(ctx, ReleaseKind, args, jobs.EnqueueOptions{UniqueKey: hex.EncodeToString(sum[:20])}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// unhold deletes the customer's held events in each shop that sends fields
// under purpose, which the customer withdrew.
func (s *Service) unhold(ctx context.Context, subject, purpose string) error {
	tenants, err := s.d.Store.HeldTenants(ctx, s.d.Store.DB(), subject)
	if err != nil {
		return err
	}
	for _, tenant := range tenants {
		if s.fieldPurpose(tenant, purpose) {
			if _, err := s.d.Store.Unhold(ctx, s.d.Store.DB(), tenant, subject, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseHeld queues a held event through Record's path (consent checked when
// queued and at delivery). Still refused for want of consent: retried, as
// the consent check may not see the grant yet; a withdrawal meanwhile
// deletes the held event, which ends the retries. A restricted customer's
// event stays held.
func (s *Service) releaseHeld(ctx context.Context, job jobs.Job) error {
	var a releaseArgs
	if err := json.Unmarshal(job.Args, &a); err != nil || a.Tenant == "" || a.Subject == "" {
		return jobs.Permanent(errs.E(errs.Internal, reasons.HeldEventUnreadable, "malformed release job"))
	}
	db := s.d.Store.DB()
	h, ok, err := s.d.Store.HeldEvent(ctx, db, a.Tenant, a.Subject)
	if err != nil || !ok {
		return err
	}
	var he heldEvent
	dek, err := openWith(ctx, s.d.Keys, s.d.QueueKey, h.WrappedKey, h.Payload, heldAAD(a.Tenant, a.Subject), &he)
	clear(dek)
	if errs.Is(err, errs.Unavailable) {
		return err
	}
	if err != nil {
		if _, err := s.d.Store.Unhold(ctx, db, a.Tenant, a.Subject, h.EventID); err != nil {
			return err
		}
		return jobs.Permanent(errs.E(errs.FailedPrecondition, reasons.HeldEventUnreadable, "a held event does not decrypt"))
	}
	ds, skipped, err := s.recordEvent(ctx, Event{ID: he.ID, Tenant: a.Tenant, Subject: a.Subject, Kind: he.Kind, Fields: he.Fields}, false)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		for _, sk := range skipped {
			switch sk.Reason {
			case reasons.ConsentDenied:
				return errs.E(errs.Unavailable, reasons.ConsentDenied, "the held event's purposes are not allowed (yet)")
			case reasons.SubjectRestricted, reasons.SubjectErased:
				return nil
			}
		}
	}
	// Queued (now or by an earlier run), or nothing of it is mapped any
	// more: no longer held, unless a newer event replaced it meanwhile.
	if _, err := s.d.Store.Unhold(ctx, db, a.Tenant, a.Subject, he.ID); err != nil {
		return err
	}
	s.d.Logger.LogAttrs(ctx, slog.LevelInfo, "a held customer event released", slog.Int("deliveries", len(ds)))
	return nil
}

// dropHeld deletes the customer's held event in tx (erasure).
func (s *Service) dropHeld(ctx context.Context, tx *sql.Tx, subj Subject) (bool, error) {
	return s.d.Store.Unhold(ctx, tx, subj.Tenant, subj.ID, "")
}

package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
)

// The participant's categories (sotto.privacy.v1).
const (
	// CategoryDelivery is the ledger: each change queued for a CRM, and
	// what it sent.
	CategoryDelivery = "crmsync.delivery"
	// CategoryRecord is the customer's record in the shop's CRMs: a
	// correction of a mapped field is sent to them again.
	CategoryRecord = "crmsync.record"
	// categoryAccount is identity's: a corrected e-mail address or name
	// reaches the CRMs that were sent the old one.
	categoryAccount = "identity.account"
)

// Audit actions of data-subject requests (<service>.privacy.<op>).
const (
	ActionPrivacyExport   auditclient.Action = "crmsync.privacy.export"
	ActionPrivacyErase    auditclient.Action = "crmsync.privacy.erase"
	ActionPrivacyRectify  auditclient.Action = "crmsync.privacy.rectify"
	ActionPrivacyRestrict auditclient.Action = "crmsync.privacy.restrict"
	// ActionCRMErased: one CRM answered not-found for the record after its
	// delete (the resource id names the request, the CRM and the digest).
	ActionCRMErased auditclient.Action = "crmsync.privacy.crm_erased"
	// ActionRefused: an event for a restricted customer was not queued.
	ActionRefused auditclient.Action = "crmsync.refused"
)

const resourceDSR = "data_subject_request"

// Subject is one customer of one shop.
type Subject struct{ Tenant, ID string }

// digest is a keyed HMAC of parts, hex: evidence that names a customer or
// a CRM record without their id.
func (s *Service) digest(parts ...string) string {
	m := hmac.New(sha256.New, s.d.DigestKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) subjectDigest(subj Subject) string {
	return s.digest("subject", subj.Tenant, subj.ID)
}

// answered returns the recorded answer to (request, op) into out, if any;
// a request id answered for someone else is refused.
func (s *Service) answered(ctx context.Context, subj Subject, requestID string, op privacyv1.Operation, out proto.Message) (bool, error) {
	o, ok, err := s.d.Store.PrivacyOp(ctx, s.d.Store.DB(), requestID, int(op))
	if err != nil || !ok {
		return false, err
	}
	if !hmac.Equal([]byte(o.SubjectDigest), []byte(s.subjectDigest(subj))) {
		return false, errs.E(errs.InvalidArgument, reasons.RequestIDReused, "the request id was answered for another customer")
	}
	if err := protojson.Unmarshal([]byte(o.Evidence), out); err != nil {
		return false, errs.E(errs.Internal, reasons.PayloadUnreadable, "a recorded answer does not decode")
	}
	return true, nil
}

// record keeps the answer to (request, op) in tx, with its audit event.
func (s *Service) record(ctx context.Context, tx *sql.Tx, subj Subject, requestID string, op privacyv1.Operation, answer proto.Message,
	action auditclient.Action) error {
	b, err := protojson.Marshal(answer)
	if err != nil {
		return err
	}
	if err := s.d.Store.PutPrivacyOp(ctx, tx, requestID, int(op), storage.Op{SubjectDigest: s.subjectDigest(subj), Evidence: string(b),
		Done: s.d.Now()}); err != nil {
		return err
	}
	return s.auditDSR(ctx, tx, subj, action, requestID, "")
}

func (s *Service) auditDSR(ctx context.Context, tx *sql.Tx, subj Subject, action auditclient.Action, resource, reason string) error {
	if s.d.Audit == nil {
		return nil
	}
	ev := auditclient.New(ctx, action, auditclient.Success)
	ev.Subject = subj.ID
	ev.ResourceType = resourceDSR
	ev.ResourceID = resource
	ev.Reason = reason
	return s.d.Audit.Enqueue(ctx, tx, ev)
}

func (s *Service) notifyAudit() {
	if s.d.Audit != nil {
		s.d.Audit.Notify()
	}
}

// ExportField is one field of an exported delivery.
type ExportField struct{ Name, Value, Token string }

// ExportItem is one delivery as the customer's export shows it.
type ExportItem struct {
	ID     string
	Fields []ExportField
}

var stateNames = map[int]string{storage.Queued: "queued", storage.Delivered: "delivered", storage.DeadLettered: "dead_lettered",
	storage.Cancelled: "cancelled", storage.Discarded: "discarded"}

// PrivacyExport is what crmsync sent, or was to send, to each CRM about
// the customer, from its ledger, oldest first: per delivery its CRM, state
// and purposes, and, once delivered, each property in the form sent (the
// token or masked view as the CRM got it; a plaintext value as its token,
// which the export fills in from the token vault's own).
func (s *Service) PrivacyExport(ctx context.Context, subj Subject, requestID string) ([]ExportItem, error) {
	db := s.d.Store.DB()
	ds, err := s.d.Store.OfSubject(ctx, db, subj.Tenant, subj.ID)
	if err != nil {
		return nil, err
	}
	var out []ExportItem
	for _, d := range ds {
		it := ExportItem{ID: d.ID, Fields: []ExportField{
			{Name: "connector", Value: d.Connector},
			{Name: "state", Value: stateNames[d.State]},
			{Name: "purposes", Value: strings.Join(d.Purposes, ",")},
			{Name: "properties", Value: strings.Join(d.Properties, ",")},
			{Name: "create_time", Value: d.CreateTime.UTC().Format(time.RFC3339)},
			{Name: "update_time", Value: d.UpdateTime.UTC().Format(time.RFC3339)},
		}}
		if d.Reason != "" {
			it.Fields = append(it.Fields, ExportField{Name: "reason", Value: d.Reason})
		}
		if d.State == storage.Delivered {
			key, sealed, err := s.d.Store.Sent(ctx, db, d.ID)
			if err != nil {
				return nil, err
			}
			if len(sealed) > 0 {
				sent, err := openSent(ctx, s.d.Keys, s.d.QueueKey, d.ID, key, sealed)
				if err != nil {
					return nil, err
				}
				for _, p := range sent {
					it.Fields = append(it.Fields, ExportField{Name: "property." + p.Property, Value: p.Value, Token: p.Token},
						ExportField{Name: "form." + p.Property, Value: string(p.Form)})
				}
			}
		}
		out = append(out, it)
	}
	// A held event (held.go) is data about the customer crmsync keeps: its
	// fields as tokens, as a delivery's ledger shows them.
	if h, ok, err := s.d.Store.HeldEvent(ctx, db, subj.Tenant, subj.ID); err != nil {
		return nil, err
	} else if ok {
		var he heldEvent
		dek, err := openWith(ctx, s.d.Keys, s.d.QueueKey, h.WrappedKey, h.Payload, heldAAD(subj.Tenant, subj.ID), &he)
		clear(dek)
		if err != nil {
			return nil, err
		}
		it := ExportItem{ID: "held_" + he.ID, Fields: []ExportField{{Name: "state", Value: "held"}, {Name: "reason", Value: reasons.ConsentDenied},
			{Name: "update_time", Value: h.UpdateTime.UTC().Format(time.RFC3339)}}}
		names := make([]string, 0, len(he.Fields))
		for k := range he.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			it.Fields = append(it.Fields, ExportField{Name: "field." + k, Token: he.Fields[k]})
		}
		out = append(out, it)
	}
	if requestID != "" {
		err := db.InTx(ctx, func(tx *sql.Tx) error { return s.auditDSR(ctx, tx, subj, ActionPrivacyExport, requestID, "") })
		if err != nil {
			return nil, err
		}
		s.notifyAudit()
	}
	return out, nil
}

// cancelFor cancels the customer's deliveries in from (their payloads
// deleted), audited, in tx.
func (s *Service) cancelFor(ctx context.Context, tx *sql.Tx, subj Subject, from []int, reason string) (int64, error) {
	ds, err := s.d.Store.OfSubject(ctx, tx, subj.Tenant, subj.ID)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, d := range ds {
		if !slices.Contains(from, d.State) {
			continue
		}
		err := s.d.Store.Finish(ctx, tx, d.ID, from, storage.Cancelled, d.Attempts, reason, s.d.Now())
		if errors.Is(err, storage.ErrNotQueued) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if err := s.audit(ctx, tx, d, ActionCancelled, auditclient.Success, reason); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// PrivacyErase erases the customer from every CRM crmsync sent them to,
// and then from its own ledger. Queued and dead-lettered deliveries are
// cancelled first, so nothing sends them again. Each CRM gets the
// connector's delete and is then read back until it answers not-found;
// that answer (CRM, a digest of the external id, its time) is the
// evidence, recorded and audited. A CRM that still has the record after
// the read-backs fails the call (CRM_ERASURE_UNCONFIRMED): the consent
// service's orchestrator retries the step, and it is never reported done.
// A repeated call with the request id answers with the first evidence,
// marked already done.
func (s *Service) PrivacyErase(ctx context.Context, subj Subject, requestID string) (*privacyv1.Evidence, error) {
	var prev privacyv1.EraseResponse
	if ok, err := s.answered(ctx, subj, requestID, privacyv1.Operation_OPERATION_ERASE, &prev); err != nil || ok {
		if ok {
			prev.Evidence.AlreadyDone = true
		}
		return prev.GetEvidence(), err
	}
	db := s.d.Store.DB()
	heldErased := false
	// The erasure marker first, with the cancellations: a batch checks it
	// before it prepares a delivery and again right before its upsert, and
	// no event is queued for the customer while it is there.
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.d.Store.Restrict(ctx, tx, subj.Tenant, subj.ID, erasureMarker+requestID, s.d.Now()); err != nil {
			return err
		}
		var err error
		if heldErased, err = s.dropHeld(ctx, tx, subj); err != nil {
			return err
		}
		_, err = s.cancelFor(ctx, tx, subj, []int{storage.Queued, storage.DeadLettered}, reasons.SubjectErased)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notifyAudit()
	// From here on the database file has lost the held event and the
	// cancelled payloads (secure_delete), but the write-ahead log keeps
	// their page images, and later ones those of the erased deliveries:
	// the log is emptied when the erasure ends, done or failed (a CRM that
	// never confirms must not leave the customer's pages in it).
	defer func() {
		if err := s.wal.Scrub(ctx); err != nil {
			s.d.Logger.WarnContext(ctx, "the write-ahead log still holds pages from before an erasure; retrying later", "reason", errs.ReasonOf(err))
		}
	}()
	// A send that passed those checks before the marker may still be on
	// its way to a CRM: deleting there before it lands would be undone by
	// it. Its lease says so; the delete waits for every lease to end.
	if err := s.awaitLeases(ctx, subj); err != nil {
		return nil, err
	}
	ds, err := s.d.Store.OfSubject(ctx, db, subj.Tenant, subj.ID)
	if err != nil {
		return nil, err
	}
	done, err := s.d.Store.Erasures(ctx, db, requestID)
	if err != nil {
		return nil, err
	}
	confirmed := map[string]bool{}
	for _, e := range done {
		confirmed[e.Connector] = true
	}
	// Every CRM the customer has a delivery for: one not yet delivered may
	// have reached it (an answer lost after the CRM acted), and a delete
	// of a record that is not there is harmless.
	var crms []string
	for _, d := range ds {
		if !slices.Contains(crms, d.Connector) && !confirmed[d.Connector] {
			crms = append(crms, d.Connector)
		}
	}
	sort.Strings(crms)
	for _, name := range crms {
		e, err := s.eraseIn(ctx, subj, name)
		if err != nil {
			return nil, err
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.d.Store.PutErasure(ctx, tx, requestID, subj.Tenant, e); err != nil {
				return err
			}
			return s.auditDSR(ctx, tx, subj, ActionCRMErased, requestID+"/"+name+"/"+e.ExternalIDDigest, "")
		})
		if err != nil {
			return nil, err
		}
		s.notifyAudit()
	}
	var ev *privacyv1.Evidence
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		ds, err := s.d.Store.OfSubject(ctx, tx, subj.Tenant, subj.ID)
		if err != nil {
			return err
		}
		var cancelled int64
		for _, d := range ds {
			if d.State == storage.Cancelled && d.Reason == reasons.SubjectErased {
				cancelled++
			}
		}
		// A marker lifted meanwhile (a restriction's lift) may have let a
		// send through after the leases were looked at: not done.
		marked, err := s.d.Store.Restricted(ctx, tx, subj.Tenant, subj.ID)
		if err != nil {
			return err
		}
		if !marked {
			return errs.E(errs.Unavailable, reasons.ErasurePendingSend, "the erasure marker was lifted during the erasure")
		}
		erased, err := s.d.Store.DeleteSubject(ctx, tx, subj.Tenant, subj.ID)
		if err != nil {
			return err
		}
		// A refused event held while the marker was being placed.
		late, err := s.dropHeld(ctx, tx, subj)
		if err != nil {
			return err
		}
		heldErased = heldErased || late
		// The marker goes with the deliveries it guarded (it names the
		// customer); a restriction the customer asked for stays.
		if _, err := tx.ExecContext(ctx, `DELETE FROM crm_restrictions WHERE tenant = $1 AND subject = $2 AND request_id = $3`,
			subj.Tenant, subj.ID, erasureMarker+requestID); err != nil {
			return err
		}
		all, err := s.d.Store.Erasures(ctx, tx, requestID)
		if err != nil {
			return err
		}
		ev = &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_NO_DATA, DoneTime: timestamppb.New(s.d.Now()),
			Counts:  map[string]int64{"deliveries_erased": erased, "deliveries_cancelled": cancelled, "crm_records_confirmed_gone": int64(len(all))},
			Details: map[string]string{}}
		if heldErased {
			ev.Counts["held_events_erased"] = 1
		}
		if erased > 0 || len(all) > 0 || heldErased {
			ev.Outcome = privacyv1.Outcome_OUTCOME_DONE
		}
		for _, e := range all {
			ev.Details[e.Connector+"_external_id_digest"] = e.ExternalIDDigest
			ev.Details[e.Connector+"_not_found_time"] = e.NotFound.UTC().Format(time.RFC3339Nano)
		}
		return s.record(ctx, tx, subj, requestID, privacyv1.Operation_OPERATION_ERASE, &privacyv1.EraseResponse{Evidence: ev}, ActionPrivacyErase)
	})
	if store.IsUniqueViolation(err) {
		// The same request, erased concurrently: its answer.
		return s.PrivacyErase(ctx, subj, requestID)
	}
	if err != nil {
		return nil, err
	}
	s.notifyAudit()
	return ev, nil
}

// erasureMarker prefixes the request id of the crm_restrictions row an
// erasure holds while it runs: the row stops every send of the customer
// as a restriction does, and its request id tells the two apart.
const erasureMarker = "erase:"

// erasureLeaseWait bounds an erasure's wait for the leases on the
// customer's deliveries: a send is bounded at sendTimeout inside its lease.
const erasureLeaseWait = sendTimeout + 5*time.Second

// awaitLeases waits until no batch holds a lease on any of the customer's
// deliveries (given back, or past its end), within erasureLeaseWait.
func (s *Service) awaitLeases(ctx context.Context, subj Subject) error {
	t := time.NewTimer(erasureLeaseWait)
	defer t.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		err := s.d.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_deliveries
			WHERE tenant = $1 AND subject = $2 AND lease_job <> 0 AND lease_until > $3`,
			subj.Tenant, subj.ID, store.Micros(s.d.Now())).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return errs.E(errs.Unavailable, reasons.ErasurePendingSend, "a send of the customer is still in flight")
		case <-tick.C:
		}
	}
}

// eraseIn deletes the customer's record in one CRM and reads it back until
// the CRM answers not-found, within ErasureReadBacks reads.
func (s *Service) eraseIn(ctx context.Context, subj Subject, name string) (storage.Erasure, error) {
	conn, err := s.d.Connectors(subj.Tenant, name)
	if err != nil {
		return storage.Erasure{}, err
	}
	if err := conn.Delete(ctx, subj.ID); err != nil {
		return storage.Erasure{}, err
	}
	reads, wait := s.d.ErasureReadBacks, s.d.ErasureReadBackWait
	if reads <= 0 {
		reads = 6
	}
	for i := range reads {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return storage.Erasure{}, ctx.Err()
			case <-t.C:
			}
			wait *= 2
		}
		exists, err := conn.Exists(ctx, subj.ID)
		if err != nil {
			return storage.Erasure{}, err
		}
		if !exists {
			return storage.Erasure{Connector: name, ExternalIDDigest: s.digest("external_id", subj.Tenant, name, subj.ID),
				NotFound: s.d.Now()}, nil
		}
	}
	return storage.Erasure{}, errs.E(errs.Unavailable, reasons.ErasureUnconfirmed, "%s still has the customer's record after its delete", name)
}

// PrivacyRestrict stops syncing the customer: a restriction every event and
// delivery attempt checks, and their queued deliveries cancelled. lift ends
// it. Idempotent by request id.
func (s *Service) PrivacyRestrict(ctx context.Context, subj Subject, requestID string, lift bool) (*privacyv1.Evidence, error) {
	var prev privacyv1.RestrictResponse
	if ok, err := s.answered(ctx, subj, requestID, privacyv1.Operation_OPERATION_RESTRICT, &prev); err != nil || ok {
		if ok {
			prev.Evidence.AlreadyDone = true
		}
		return prev.GetEvidence(), err
	}
	var ev *privacyv1.Evidence
	err := s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
		ev = &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_DONE, DoneTime: timestamppb.New(s.d.Now()), Counts: map[string]int64{},
			Details: map[string]string{}}
		if lift {
			ok, err := s.d.Store.Lift(ctx, tx, subj.Tenant, subj.ID)
			if err != nil {
				return err
			}
			if !ok {
				ev.Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
			}
			ev.Details["restriction"] = "lifted"
		} else {
			placed, err := s.d.Store.Restrict(ctx, tx, subj.Tenant, subj.ID, requestID, s.d.Now())
			if err != nil {
				return err
			}
			n, err := s.cancelFor(ctx, tx, subj, []int{storage.Queued}, reasons.SubjectRestricted)
			if err != nil {
				return err
			}
			ev.Counts["deliveries_cancelled"] = n
			ev.Details["restriction"] = "placed"
			if !placed {
				ev.Details["restriction"] = "already_placed"
			}
		}
		return s.record(ctx, tx, subj, requestID, privacyv1.Operation_OPERATION_RESTRICT, &privacyv1.RestrictResponse{Evidence: ev},
			ActionPrivacyRestrict)
	})
	if store.IsUniqueViolation(err) {
		return s.PrivacyRestrict(ctx, subj, requestID, lift)
	}
	if err != nil {
		return nil, err
	}
	s.notifyAudit()
	return ev, nil
}

// refuseRestricted answers an event for a restricted customer: nothing
// queued, each mapped connector skipped, the refusal audited.
func (s *Service) refuseRestricted(ctx context.Context, ev Event) []Skipped {
	var out []Skipped
	for _, m := range s.d.Mappings.For(ev.Tenant) {
		out = append(out, Skipped{m.Connector, reasons.SubjectRestricted})
	}
	if s.d.Audit != nil {
		err := s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
			a := auditclient.New(ctx, ActionRefused, auditclient.Denied)
			a.Subject = ev.Subject
			a.ResourceType = "crm_event"
			a.ResourceID = ev.ID
			a.Reason = reasons.SubjectRestricted
			return s.d.Audit.Enqueue(ctx, tx, a)
		})
		if err != nil {
			s.d.Logger.WarnContext(ctx, "a refused event could not be audited", "reason", errs.ReasonOf(err))
		}
		s.notifyAudit()
	}
	return out
}

// Correction is one change a customer asked for.
type Correction struct{ Category, Field, Value string }

// CorrectionResult is what became of one correction.
type CorrectionResult struct {
	Outcome privacyv1.Outcome
	Refused string
}

// RectifiableFields are the fields a shop's mappings send (the summary
// excepted: it is not the customer's data to correct).
func (s *Service) RectifiableFields() []string {
	var out []string
	for _, m := range s.d.Mappings.All() {
		for _, f := range m.Fields {
			if f.Field != mapping.SummaryField && !slices.Contains(out, f.Field) {
				out = append(out, f.Field)
			}
		}
	}
	sort.Strings(out)
	return out
}

func mappedIn(ms []mapping.Mapping, field string) bool {
	for _, m := range ms {
		for _, f := range m.Fields {
			if f.Field == field && field != mapping.SummaryField {
				return true
			}
		}
	}
	return false
}

// dataTypeOf is the token vault's data type of a corrected field, by its
// name as the mappings use it.
func dataTypeOf(field string) tokenvaultv1.DataType {
	switch {
	case field == "email":
		return tokenvaultv1.DataType_DATA_TYPE_EMAIL
	case field == "phone" || strings.HasSuffix(field, "_phone"):
		return tokenvaultv1.DataType_DATA_TYPE_PHONE
	case field == "name" || strings.HasSuffix(field, "_name"):
		return tokenvaultv1.DataType_DATA_TYPE_NAME
	case strings.Contains(field, "address"):
		return tokenvaultv1.DataType_DATA_TYPE_POSTAL_ADDRESS
	case field == "date_of_birth":
		return tokenvaultv1.DataType_DATA_TYPE_DATE_OF_BIRTH
	}
	return tokenvaultv1.DataType_DATA_TYPE_FREE_TEXT
}

// PrivacyRectify sends the corrected values of mapped fields to the CRMs
// the customer was sent to: tokenised by the token vault, then queued as a
// customer update (consent, mapping, forms and restriction as for any
// event). Corrections of crmsync.record, and of identity.account fields a
// mapping sends, apply; others are not applicable. Idempotent by request
// id (the update's event id derives from it).
func (s *Service) PrivacyRectify(ctx context.Context, subj Subject, requestID string, cs []Correction) (*privacyv1.RectifyResponse, error) {
	var prev privacyv1.RectifyResponse
	if ok, err := s.answered(ctx, subj, requestID, privacyv1.Operation_OPERATION_RECTIFY, &prev); err != nil || ok {
		if ok && prev.Evidence != nil {
			prev.Evidence.AlreadyDone = true
		}
		return &prev, err
	}
	ms := s.d.Mappings.For(subj.Tenant)
	results := make([]CorrectionResult, len(cs))
	var apply []int
	for i, c := range cs {
		results[i].Outcome = privacyv1.Outcome_OUTCOME_NOT_APPLICABLE
		switch {
		case c.Category != CategoryRecord && c.Category != categoryAccount:
		case !mappedIn(ms, c.Field):
			if c.Category == CategoryRecord {
				results[i].Refused = reasons.FieldNotRectifiable
			}
		default:
			apply = append(apply, i)
		}
	}
	ds, err := s.d.Store.OfSubject(ctx, s.d.Store.DB(), subj.Tenant, subj.ID)
	if err != nil {
		return nil, err
	}
	sent := slices.ContainsFunc(ds, func(d storage.Delivery) bool { return d.State == storage.Delivered })
	var applied int64
	if len(apply) > 0 && !sent {
		for _, i := range apply {
			results[i].Outcome = privacyv1.Outcome_OUTCOME_NO_DATA
		}
	} else if len(apply) > 0 {
		req := &tokenvaultv1.TokenizeRequest{Tenant: subj.Tenant, Subject: subj.ID}
		for _, i := range apply {
			req.Items = append(req.Items, &tokenvaultv1.TokenizeItem{Value: cs[i].Value, DataType: dataTypeOf(cs[i].Field)})
		}
		resp, err := s.d.Vault.Tokenize(ctx, req)
		if err != nil {
			return nil, vaultErr(err, reasons.ValueInvalid)
		}
		if len(resp.GetResults()) != len(apply) {
			return nil, errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault answered for other values")
		}
		fields := map[string]string{}
		for k, r := range resp.GetResults() {
			i := apply[k]
			if r.GetToken() == "" {
				results[i].Outcome, results[i].Refused = privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, reasons.ValueInvalid
				continue
			}
			fields[cs[i].Field] = r.GetToken()
		}
		if len(fields) > 0 {
			sum := sha256.Sum256([]byte(requestID))
			queued, skipped, err := s.Record(ctx, Event{ID: "dsr_" + hex.EncodeToString(sum[:])[:40], Tenant: subj.Tenant, Subject: subj.ID,
				Kind: updatedKind, Fields: fields, Partial: true})
			if err != nil {
				return nil, err
			}
			refused := ""
			if len(queued) == 0 && len(skipped) > 0 {
				refused = skipped[0].Reason
			}
			for _, i := range apply {
				if _, ok := fields[cs[i].Field]; !ok {
					continue
				}
				if refused != "" {
					results[i].Outcome, results[i].Refused = privacyv1.Outcome_OUTCOME_NOT_APPLICABLE, refused
					continue
				}
				results[i].Outcome = privacyv1.Outcome_OUTCOME_DONE
				applied++
			}
		}
	}
	out := &privacyv1.RectifyResponse{Evidence: &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_NOT_APPLICABLE,
		DoneTime: timestamppb.New(s.d.Now()), Counts: map[string]int64{"corrections_queued": applied}}}
	if applied > 0 {
		out.Evidence.Outcome = privacyv1.Outcome_OUTCOME_DONE
	}
	for i, r := range results {
		out.Results = append(out.Results, &privacyv1.CorrectionResult{Index: int32(i), Outcome: r.Outcome, RefusedReason: r.Refused})
	}
	err = s.d.Store.DB().InTx(ctx, func(tx *sql.Tx) error {
		return s.record(ctx, tx, subj, requestID, privacyv1.Operation_OPERATION_RECTIFY, out, ActionPrivacyRectify)
	})
	if store.IsUniqueViolation(err) {
		return s.PrivacyRectify(ctx, subj, requestID, cs)
	}
	if err != nil {
		return nil, err
	}
	s.notifyAudit()
	return out, nil
}

// updatedKind is EVENT_KIND_CUSTOMER_UPDATED.
const updatedKind = 2

// Withdrawn acts on a withdrawal from consent's change feed at once: each
// queued delivery of the customer under purpose whose other purposes are
// not allowed either is cancelled (CONSENT_WITHDRAWN, its payload deleted,
// audited), rather than at its next attempt. One that keeps an allowed
// purpose stays queued, and its attempt drops the withdrawn fields. An
// opt-out stays queued too: it is sent before the withdrawal stops the rest
// (ADR 0015, "Opt-outs first"). The customer's held events in the shops
// that send fields under purpose are deleted.
func (s *Service) Withdrawn(ctx context.Context, subject, purpose string) (int, error) {
	if err := s.unhold(ctx, subject, purpose); err != nil {
		return 0, err
	}
	ds, err := s.d.Store.QueuedFor(ctx, subject)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		if !slices.Contains(d.Purposes, purpose) || d.OptOut {
			continue
		}
		allowed := false
		for _, p := range d.Purposes {
			if p == purpose {
				continue
			}
			ok, err := s.d.Consent(ctx, d.Subject, p)
			if err != nil {
				return n, err
			}
			allowed = allowed || ok
		}
		if allowed {
			continue
		}
		err := s.finish(ctx, d, storage.Cancelled, d.Attempts, reasons.ConsentWithdrawn, ActionCancelled, auditclient.Success, nil)
		if err != nil && !errors.Is(err, errCancelled) {
			return n, err
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}

package consent

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sottohq/sotto/pkg/auditclient"
	creceipt "github.com/sottohq/sotto/pkg/consentclient/receipt"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// NoticeRef names the notice text a subject was shown.
type NoticeRef struct {
	ID       string
	Version  int64
	Language string
	// TextSHA256 is the hash the client says it showed; empty to take the
	// stored text's.
	TextSHA256 string
}

// DecisionInput is a grant or a withdrawal.
type DecisionInput struct {
	Caller Caller
	// Subject is the subject the caller names ("" for a customer's own).
	Subject      string
	Purpose      string
	Notice       NoticeRef // grants only
	Channel      catalogue.Channel
	Jurisdiction string
	RequestID    string
}

// Outcome is what a decision recorded: its records (one per purpose) and
// the receipt covering them. Replayed: an earlier request with the same id.
type Outcome struct {
	Records  []storage.Record
	Receipt  storage.Receipt
	Replayed bool
}

// DecisionChange is the payload of a TopicDecision event.
type DecisionChange struct {
	Subject  string             `json:"subject"`
	Purpose  string             `json:"purpose"`
	Decision catalogue.Decision `json:"decision"`
	Method   catalogue.Method   `json:"method"`
	RecordID string             `json:"record_id"`
	Time     time.Time          `json:"time"`
}

// Grant records that the subject consents to a purpose after being shown a
// notice version.
func (s *Service) Grant(ctx context.Context, in DecisionInput) (Outcome, error) {
	return s.decide(ctx, catalogue.DecisionGranted, in)
}

// Withdraw records that the subject withdraws consent to (objects to, opts
// out of) a purpose. No notice is needed: withdrawing is as easy as
// granting.
func (s *Service) Withdraw(ctx context.Context, in DecisionInput) (Outcome, error) {
	in.Notice = NoticeRef{}
	return s.decide(ctx, catalogue.DecisionWithdrawn, in)
}

func (s *Service) decide(ctx context.Context, d catalogue.Decision, in DecisionInput) (Outcome, error) {
	subject, err := s.subjectFor(ctx, in.Caller, in.Subject)
	if err != nil {
		return Outcome{}, err
	}
	if !in.Channel.Valid() || !catalogue.ValidJurisdiction(in.Jurisdiction) || in.RequestID == "" {
		return Outcome{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "a decision needs a channel, a request id and at most a jurisdiction code")
	}
	p, err := s.store.Purpose(ctx, s.store.DB(), in.Purpose)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Outcome{}, errs.E(errs.InvalidArgument, reasons.PurposeUnknown, "the catalogue has no such purpose")
		}
		return Outcome{}, err
	}
	switch {
	case !p.Basis.Withdrawable():
		return Outcome{}, errs.E(errs.FailedPrecondition, reasons.NotConsentBased,
			"the purpose rests on a %s, which no decision of the subject changes", strings.ReplaceAll(p.Basis.String(), "_", " "))
	case p.Retired && d == catalogue.DecisionGranted:
		return Outcome{}, errs.E(errs.FailedPrecondition, reasons.PurposeRetired, "the purpose is retired")
	}
	var notice *NoticeRef
	if d == catalogue.DecisionGranted {
		ref, err := s.checkNotice(ctx, in.Notice, p.ID)
		if err != nil {
			return Outcome{}, err
		}
		notice = &ref
	}
	method := catalogue.MethodExplicitOptIn
	if d == catalogue.DecisionWithdrawn {
		method = catalogue.MethodOptOut
	}
	if in.Caller.IsStaff() {
		method = catalogue.MethodStaffOnBehalf
	}
	fp := fingerprint(d, subject, p.ID, notice, in.Channel, in.Jurisdiction)
	digest, err := s.requestDigest(subject, in.RequestID)
	if err != nil {
		return Outcome{}, err
	}
	// A retry is answered before anything is signed; the insert in the
	// transaction below is what settles a race between two retries.
	if out, ok, err := s.replay(ctx, subject, digest, fp); ok || err != nil {
		return out, err
	}
	now := s.clock()
	rec := storage.Record{
		ID: newID(), Subject: subject, Purpose: p.ID, Decision: d, Method: method, Channel: in.Channel,
		PurposeRevision: p.Revision, Jurisdiction: in.Jurisdiction, Actor: in.Caller.Subject, ByStaff: in.Caller.IsStaff(), Time: now,
	}
	if notice != nil {
		rec.NoticeID, rec.NoticeVersion, rec.NoticeLanguage, rec.TextSHA256 = notice.ID, notice.Version, notice.Language, notice.TextSHA256
	}
	out, err := s.record(ctx, subject, []storage.Record{rec}, map[string]catalogue.Purpose{p.ID: p}, in.Jurisdiction,
		&storage.Request{Subject: subject, Digest: digest, Fingerprint: fp, Created: now}, nil)
	if errs.Is(err, errs.AlreadyExists) {
		// Another request with the same id won the race.
		if out, ok, err := s.replay(ctx, subject, digest, fp); ok || err != nil {
			return out, err
		}
	}
	return out, err
}

// checkNotice resolves the notice a grant names: the version must exist,
// ask for the purpose and have a text in the language, whose hash must be
// the one the client gives (when it gives one).
func (s *Service) checkNotice(ctx context.Context, ref NoticeRef, purpose string) (NoticeRef, error) {
	if ref.ID == "" || ref.Version < 1 {
		return ref, errs.E(errs.InvalidArgument, reasons.NoticeVersionUnknown, "a grant names the notice version shown")
	}
	n, err := s.store.Notice(ctx, s.store.DB(), ref.ID, ref.Version)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return ref, errs.E(errs.InvalidArgument, reasons.NoticeVersionUnknown, "no such notice version")
		}
		return ref, err
	}
	if !n.Asks(purpose) {
		return ref, errs.E(errs.InvalidArgument, reasons.NoticeNotForPurpose, "the notice version does not ask for this purpose")
	}
	t, ok := n.Text(ref.Language)
	if !ok {
		return ref, errs.E(errs.InvalidArgument, reasons.NoticeLanguageUnknown, "the notice version has no text in that language")
	}
	if ref.TextSHA256 != "" && ref.TextSHA256 != t.SHA256 {
		return ref, errs.E(errs.InvalidArgument, reasons.NoticeTextMismatch, "the text shown is not this notice version's text")
	}
	ref.TextSHA256 = t.SHA256
	return ref, nil
}

// fingerprint identifies a request's content, so that a request id reused
// for something else is refused.
func fingerprint(d catalogue.Decision, subject, purpose string, n *NoticeRef, ch catalogue.Channel, jurisdiction string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\x00%s\x00%s\x00%d\x00%s", d, subject, purpose, ch, jurisdiction)
	if n != nil {
		fmt.Fprintf(&b, "\x00%s\x00%d\x00%s\x00%s", n.ID, n.Version, n.Language, n.TextSHA256)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// replay answers a request id the subject used before (found by its
// digest): the first answer for the same content, InvalidArgument
// REQUEST_ID_REUSED for other content; ok is false when the id is new.
func (s *Service) replay(ctx context.Context, subject, digest, fp string) (Outcome, bool, error) {
	req, err := s.store.RequestByDigest(ctx, s.store.DB(), subject, digest)
	if errs.Is(err, errs.NotFound) {
		return Outcome{}, false, nil
	}
	if err != nil {
		return Outcome{}, false, err
	}
	if req.Fingerprint != fp {
		return Outcome{}, true, errs.E(errs.InvalidArgument, reasons.RequestIDReused, "the request id was used for another request")
	}
	rc, err := s.store.Receipt(ctx, s.store.DB(), req.ReceiptID)
	if err != nil {
		return Outcome{}, true, err
	}
	recs, err := s.store.RecordsByReceipt(ctx, s.store.DB(), req.ReceiptID)
	if err != nil {
		return Outcome{}, true, err
	}
	if len(recs) == 0 {
		return Outcome{}, true, errInvariant("a request's receipt covers no record")
	}
	return Outcome{Records: recs, Receipt: rc, Replayed: true}, true, nil
}

func errInvariant(msg string) error { return errs.E(errs.Internal, reasons.StoreInvariant, "%s", msg) }

// newID is a record or receipt id: a UUIDv7 (time-ordered).
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// record signs a receipt for recs and writes, in one transaction, the
// request id (if any), the records with the state they set, the receipt,
// their audit events (one per record and the receipt's hash, which anchors
// it in the audit log) and their change-feed events; extra, if set, writes
// the caller's own rows in the same transaction.
func (s *Service) record(ctx context.Context, subject string, recs []storage.Record, purposes map[string]catalogue.Purpose,
	jurisdiction string, req *storage.Request, extra func(*sql.Tx) error) (Outcome, error) {
	receiptID := newID()
	anchor := auditclient.New(ctx, ActionReceipt, auditclient.Success)
	for i := range recs {
		recs[i].ReceiptID = receiptID
	}
	body := s.receiptBody(receiptID, subject, recs, purposes, jurisdiction, anchor.ID)
	signed, err := s.receipts.Sign(ctx, body)
	if err != nil {
		return Outcome{}, err
	}
	rc := storage.Receipt{ID: receiptID, Subject: subject, JWS: signed.JWS, SHA256: signed.SHA256, KeyID: signed.KeyID,
		AuditEventID: anchor.ID, Issued: recs[0].Time}
	anchor.Subject, anchor.ResourceType, anchor.ResourceID = subject, resourceReceipt, "sha256:"+signed.SHA256
	audits := []auditclient.Event{anchor}
	evs := make([]events.Event, 0, len(recs))
	for _, r := range recs {
		action := ActionGrant
		if r.Decision == catalogue.DecisionWithdrawn {
			action = ActionWithdraw
		}
		ev := auditclient.New(ctx, action, auditclient.Success)
		ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, resourceConsent, r.ID, r.Purpose
		audits = append(audits, ev)
		b, _ := json.Marshal(DecisionChange{Subject: subject, Purpose: r.Purpose, Decision: r.Decision, Method: r.Method, RecordID: r.ID, Time: r.Time})
		evs = append(evs, events.Event{Topic: TopicDecision, Key: subject + "/" + r.Purpose, Payload: b})
	}
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		if req != nil {
			req.ReceiptID = receiptID
			if err := s.store.InsertRequest(ctx, tx, *req); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if err := s.store.InsertRecord(ctx, tx, r); err != nil {
				return err
			}
		}
		if err := s.store.InsertReceipt(ctx, tx, rc); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if err := s.audit.Enqueue(ctx, tx, audits...); err != nil {
			return err
		}
		return s.events.Publish(ctx, tx, evs...)
	})
	if err != nil {
		return Outcome{}, err
	}
	s.notify()
	return Outcome{Records: recs, Receipt: rc}, nil
}

// receiptBody is the Kantara Consent Receipt v1.1 of recs.
func (s *Service) receiptBody(id, subject string, recs []storage.Record, purposes map[string]catalogue.Purpose, jurisdiction, auditID string) creceipt.Receipt {
	c := s.receipts.Controller()
	if jurisdiction == "" {
		jurisdiction = c.Jurisdiction
	}
	first := recs[0]
	r := creceipt.Receipt{
		Version: creceipt.ReceiptVersion, Jurisdiction: jurisdiction, ConsentTimestamp: first.Time.Unix(),
		CollectionMethod: collectionMethod(first.Method, first.Channel), ConsentReceiptID: id, Language: first.NoticeLanguage,
		PIIPrincipalID: subject, PIIControllers: s.receipts.Controllers(), PolicyURL: c.PolicyURL,
		Services: []creceipt.ReceiptService{{Service: c.Name}}, SPICat: []string{},
		Sotto: creceipt.ReceiptExtension{Method: first.Method.String(), Channel: first.Channel.String(),
			RecordedByStaff: first.ByStaff, AuditEventID: auditID},
	}
	if first.NoticeID != "" {
		r.Sotto.Notice = &creceipt.ReceiptNotice{NoticeID: first.NoticeID, Version: first.NoticeVersion,
			Language: first.NoticeLanguage, TextSHA256: first.TextSHA256}
	}
	termination := "Withdraw at any time in your account or by writing to " + c.Email + "."
	for _, rec := range recs {
		p := purposes[rec.Purpose]
		r.Services[0].Purposes = append(r.Services[0].Purposes, creceipt.ReceiptPurpose{
			Purpose: p.DisplayName, PurposeCategory: []string{p.ID}, ConsentType: "EXPLICIT", PIICategory: []string{},
			PrimaryPurpose: false, Termination: termination, ThirdPartyDisclosure: p.SaleOrShare,
			PurposeID: p.ID, LegalBasis: p.Basis.String(), PurposeRevision: rec.PurposeRevision,
			Decision: rec.Decision.String(), RecordID: rec.ID,
		})
	}
	return r
}

func collectionMethod(m catalogue.Method, ch catalogue.Channel) string {
	via := " via " + strings.ReplaceAll(ch.String(), "_", " ")
	switch m {
	case catalogue.MethodExplicitOptIn:
		return "explicit opt-in" + via
	case catalogue.MethodOptOut:
		return "withdrawal or opt-out" + via
	case catalogue.MethodGPC:
		return "Global Privacy Control signal" + via
	case catalogue.MethodStaffOnBehalf:
		return "recorded by a privacy officer on the subject's behalf" + via
	case catalogue.MethodDataSubjectRequest:
		return "the subject's data-subject request" + via
	}
	return "unspecified" + via
}

// GPCInput is a Global Privacy Control signal of a customer.
type GPCInput struct {
	Caller       Caller
	Channel      catalogue.Channel
	Jurisdiction string
}

// RecordGPC opts the calling customer out (method gpc) of every purpose
// that is a sale or sharing under the CCPA and that they have not opted out
// of already. When there is none, nothing is recorded and the Outcome is
// empty, so a browser sending the signal with every request costs one read.
// (The end-user table admits customers only: the signal is their own.)
func (s *Service) RecordGPC(ctx context.Context, in GPCInput) (Outcome, error) {
	if !in.Channel.Valid() || !catalogue.ValidJurisdiction(in.Jurisdiction) {
		return Outcome{}, errs.E(errs.InvalidArgument, reasons.RequestInvalid, "a signal needs a channel and at most a jurisdiction code")
	}
	subject := in.Caller.Subject
	ps, err := s.store.Purposes(ctx, s.store.DB())
	if err != nil {
		return Outcome{}, err
	}
	states, err := s.store.States(ctx, s.store.DB(), []string{subject})
	if err != nil {
		return Outcome{}, err
	}
	now := s.clock()
	purposes := map[string]catalogue.Purpose{}
	var recs []storage.Record
	for _, p := range ps {
		if !p.SaleOrShare || p.Retired {
			continue
		}
		if st, ok := states[subject][p.ID]; ok && st.Decision == catalogue.DecisionWithdrawn {
			continue
		}
		purposes[p.ID] = p
		recs = append(recs, storage.Record{ID: newID(), Subject: subject, Purpose: p.ID, Decision: catalogue.DecisionWithdrawn,
			Method: catalogue.MethodGPC, Channel: in.Channel, PurposeRevision: p.Revision, Jurisdiction: in.Jurisdiction,
			Actor: subject, Time: now})
	}
	if len(recs) == 0 {
		return Outcome{}, nil
	}
	return s.record(ctx, subject, recs, purposes, in.Jurisdiction, nil, nil)
}

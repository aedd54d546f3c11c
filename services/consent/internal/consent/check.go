package consent

import (
	"context"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/receipt"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// Reason says why a check allowed or denied (the API's enum numbers).
type Reason int

// Reasons.
const (
	ReasonConsentGranted     Reason = 1
	ReasonConsentMissing     Reason = 2
	ReasonConsentWithdrawn   Reason = 3
	ReasonContract           Reason = 4
	ReasonLegalObligation    Reason = 5
	ReasonLegitimateInterest Reason = 6
	ReasonOptedOut           Reason = 7
	ReasonPurposeRetired     Reason = 8
	// ReasonRestricted: the subject asked for restriction of processing
	// (GDPR Art. 18); only legal obligations are allowed.
	ReasonRestricted Reason = 9
)

// restrict applies a restriction of processing to a decision: everything
// but a legal obligation is denied (storing the data is not a purpose).
func restrict(r Result) Result {
	if r.Basis == catalogue.BasisLegalObligation {
		return r
	}
	r.Allowed, r.Reason = false, ReasonRestricted
	return r
}

// Result is a decision and why.
type Result struct {
	Subject         string
	Purpose         string
	Allowed         bool
	Reason          Reason
	Basis           catalogue.LegalBasis
	RecordID        string
	RecordTime      time.Time
	PurposeRevision int64
}

// Decide is the rule: a retired purpose is denied; a contract or a legal
// obligation allows whatever the subject said; consent allows only when the
// latest decision is a grant (no record: denied, the default); a legitimate
// interest allows until the latest decision is a withdrawal (objection,
// opt-out, GPC). st is the subject's latest decision about p, if any.
func Decide(p catalogue.Purpose, subject string, st storage.State, has bool) Result {
	r := Result{Subject: subject, Purpose: p.ID, Basis: p.Basis, PurposeRevision: p.Revision}
	if has {
		r.RecordID, r.RecordTime = st.RecordID, st.Time
	}
	withdrawn := has && st.Decision == catalogue.DecisionWithdrawn
	granted := has && st.Decision == catalogue.DecisionGranted
	switch {
	case p.Retired:
		r.Reason = ReasonPurposeRetired
	case p.Basis == catalogue.BasisContract:
		r.Allowed, r.Reason = true, ReasonContract
	case p.Basis == catalogue.BasisLegalObligation:
		r.Allowed, r.Reason = true, ReasonLegalObligation
	case p.Basis == catalogue.BasisLegitimateInterest && withdrawn:
		r.Reason = ReasonOptedOut
	case p.Basis == catalogue.BasisLegitimateInterest:
		r.Allowed, r.Reason = true, ReasonLegitimateInterest
	case p.Basis == catalogue.BasisConsent && granted:
		r.Allowed, r.Reason = true, ReasonConsentGranted
	case p.Basis == catalogue.BasisConsent && withdrawn:
		r.Reason = ReasonConsentWithdrawn
	default:
		// Consent never given, or a basis this code does not know: deny.
		r.Reason = ReasonConsentMissing
	}
	if r.Reason == ReasonContract || r.Reason == ReasonLegalObligation || r.Reason == ReasonPurposeRetired {
		// The decision does not rest on the subject's record.
		r.RecordID, r.RecordTime = "", time.Time{}
	}
	return r
}

// CheckPair is one (subject, purpose) to check.
type CheckPair struct{ Subject, Purpose string }

// Check decides whether a purpose may be used for a subject now. An unknown
// purpose is InvalidArgument PURPOSE_UNKNOWN (a caller's bug: it must not
// read as a plain "no").
func (s *Service) Check(ctx context.Context, subject, purpose string) (Result, error) {
	rs, err := s.BatchCheck(ctx, []CheckPair{{subject, purpose}})
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// BatchCheck is Check for many pairs, in order; one unknown purpose fails
// the batch, naming its position.
func (s *Service) BatchCheck(ctx context.Context, pairs []CheckPair) ([]Result, error) {
	ps, err := s.store.Purposes(ctx, s.store.DB())
	if err != nil {
		return nil, err
	}
	byID := make(map[string]catalogue.Purpose, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	seen := map[string]bool{}
	var subjects []string
	for i, c := range pairs {
		if _, ok := byID[c.Purpose]; !ok {
			return nil, errs.E(errs.InvalidArgument, reasons.PurposeUnknown, "check %d names a purpose the catalogue does not have", i+1)
		}
		if !seen[c.Subject] {
			seen[c.Subject] = true
			subjects = append(subjects, c.Subject)
		}
	}
	states, err := s.store.States(ctx, s.store.DB(), subjects)
	if err != nil {
		return nil, err
	}
	restricted, err := s.store.Restricted(ctx, s.store.DB(), subjects)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(pairs))
	for i, c := range pairs {
		st, has := states[c.Subject][c.Purpose]
		out[i] = Decide(byID[c.Purpose], c.Subject, st, has)
		if restricted[c.Subject] {
			out[i] = restrict(out[i])
		}
	}
	return out, nil
}

// Consent is a subject's current state for one purpose.
type Consent struct {
	Purpose catalogue.Purpose
	// Latest is the latest record; zero when there is none.
	Latest storage.Record
	Check  Result
}

// Consents returns the subject's state for every purpose in the catalogue
// (retired ones left out), by purpose id.
func (s *Service) Consents(ctx context.Context, c Caller, named string) (string, []Consent, error) {
	subject, err := s.subjectFor(ctx, c, named)
	if err != nil {
		return "", nil, err
	}
	ps, err := s.Purposes(ctx, false)
	if err != nil {
		return "", nil, err
	}
	states, err := s.store.States(ctx, s.store.DB(), []string{subject})
	if err != nil {
		return "", nil, err
	}
	out := make([]Consent, 0, len(ps))
	for _, p := range ps {
		st, has := states[subject][p.ID]
		item := Consent{Purpose: p, Check: Decide(p, subject, st, has)}
		if has {
			if item.Latest, err = s.store.Record(ctx, s.store.DB(), st.RecordID); err != nil {
				return "", nil, err
			}
		}
		out = append(out, item)
	}
	return subject, out, nil
}

// DefaultPageSize and MaxPageSize bound a page of records.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// Records returns a page of the subject's history, newest first (of one
// purpose, if set), and whether more follow.
func (s *Service) Records(ctx context.Context, c Caller, named, purpose string, page storage.Page, size int) (string, []storage.Record, bool, error) {
	subject, err := s.subjectFor(ctx, c, named)
	if err != nil {
		return "", nil, false, err
	}
	if size <= 0 || size > MaxPageSize {
		size = DefaultPageSize
	}
	recs, err := s.store.Records(ctx, s.store.DB(), subject, purpose, page, size+1)
	if err != nil {
		return "", nil, false, err
	}
	more := len(recs) > size
	if more {
		recs = recs[:size]
	}
	return subject, recs, more, nil
}

// Receipt returns one of the subject's receipts. A receipt of someone else
// is NotFound, as if it did not exist.
func (s *Service) Receipt(ctx context.Context, c Caller, id string) (storage.Receipt, error) {
	rc, err := s.store.Receipt(ctx, s.store.DB(), id)
	if err != nil {
		return rc, err
	}
	named := ""
	if c.IsStaff() {
		named = rc.Subject
	}
	subject, err := s.subjectFor(ctx, c, named)
	if err != nil {
		return storage.Receipt{}, err
	}
	if subject != rc.Subject {
		return storage.Receipt{}, errs.E(errs.NotFound, reasons.ReceiptNotFound, "receipt not found")
	}
	return rc, nil
}

// ReceiptKeys returns the public keys receipts are signed with, latest
// first.
func (s *Service) ReceiptKeys(ctx context.Context) ([]receipt.Key, error) {
	return s.receipts.Keys(ctx)
}

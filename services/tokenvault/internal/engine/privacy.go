package engine

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// tokenvault's part in data-subject requests (sotto.privacy.v1, carried out
// by the consent service): the values it holds are the only raw personal
// data of the suite, so its export is where values leave, its erasure the
// crypto-shredding of ADR 0004/0007, its rectification a re-sealed value and
// its restriction a flag read with every token.

// CategoryValue is tokenvault's one category of personal data: the values
// behind tokens. FieldValue is its one rectifiable field.
const (
	CategoryValue = "tokenvault.value"
	FieldValue    = "value"
)

// Now is the engine's clock, in UTC.
func (e *Engine) Now() time.Time { return e.opts.Now().UTC() }

// Outcome is what a privacy operation did (sotto.privacy.v1's Outcome).
type Outcome int

// Outcomes.
const (
	OutcomeDone Outcome = iota + 1
	OutcomeNoData
	OutcomeNotApplicable
)

// noData reports whether err means the vault holds nothing of the subject:
// a tenant it does not serve, a subject it never saw, or one it erased.
func noData(err error) bool {
	switch errs.ReasonOf(err) {
	case reasons.UnknownTenant, reasons.SubjectNotFound, reasons.SubjectErased:
		return true
	}
	return false
}

// recordNoData records, through the outbox, that a request reached the
// vault and found nothing to act on (nothing was revealed or changed, so
// the record need not come first).
func (e *Engine) recordNoData(ctx context.Context, caller Caller, action auditclient.Action, resource, purpose, subject, requestID string) error {
	ev := caller.event(ctx, action, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, resource, requestID, purpose
	return e.enqueue(ctx, ev)
}

// ExportPage is one page of a subject's export.
type ExportPage struct {
	Values []Exported
	// Next is the token to continue after ("" on the last page).
	Next string
	// NoData: the vault holds no value of the subject.
	NoData bool
}

// PrivacyExport is ExportSubject for a data-subject request: a subject the
// vault does not know, or erased, has no data (rather than an error), and
// each page is recorded as tokenvault.privacy.export, before anything is
// returned.
func (e *Engine) PrivacyExport(ctx context.Context, caller Caller, tenant, subject, requestID, after string, limit int) (ExportPage, error) {
	values, next, err := e.exportSubject(ctx, caller, ActionPrivacyExport, tenant, subject, requestID, after, limit)
	if noData(err) {
		return ExportPage{NoData: true}, e.recordNoData(ctx, caller, ActionPrivacyExport, ResourceAccessRequest, auditclient.PurposeDSRAccess, subject, requestID)
	}
	if err != nil {
		return ExportPage{}, err
	}
	return ExportPage{Values: values, Next: next, NoData: after == "" && len(values) == 0}, nil
}

// PrivacyErase is EraseSubject for a data-subject request, recorded as
// tokenvault.privacy.erase. Idempotent: a subject already erased (by this
// request or an earlier one) answers with the first erasure's state
// (AlreadyErased); one the vault never held, NoData.
func (e *Engine) PrivacyErase(ctx context.Context, caller Caller, tenant, subject, requestID string) (ev Evidence, none bool, err error) {
	ev, err = e.eraseSubject(ctx, caller, ActionPrivacyErase, tenant, subject, requestID)
	if errs.ReasonOf(err) == reasons.UnknownTenant || errs.ReasonOf(err) == reasons.SubjectNotFound {
		return Evidence{}, true, e.recordNoData(ctx, caller, ActionPrivacyErase, ResourceErasureRequest, auditclient.PurposeDSRErasure, subject, requestID)
	}
	// As stored, so that a repeated request is answered with the same time.
	ev.Erased = ev.Erased.Truncate(time.Microsecond)
	return ev, false, err
}

// Correction is one change a data subject asked for.
type Correction struct {
	Category, ItemID, Field string
	// Value is the corrected value: personal data, never logged, audited or
	// quoted.
	Value string
}

// CorrectionResult is what happened to one correction.
type CorrectionResult struct {
	Outcome Outcome
	// Refused is the reason it was not applied (FIELD_NOT_RECTIFIABLE,
	// VALUE_INVALID), or "".
	Refused string
	// Unchanged: the value was already the corrected one (a repeated request).
	Unchanged bool
}

// Rectification is what Rectify did.
type Rectification struct {
	Results []CorrectionResult
	// Corrected counts the values changed now; Unchanged those that already
	// held the corrected value.
	Corrected, Unchanged int
	// DEKVersion is the subject's new data key version, when values were
	// corrected (0 otherwise).
	DEKVersion int
	Done       time.Time
}

// pendingCorrection is a correction that changes a value.
type pendingCorrection struct {
	row  storage.Token
	norm string
}

// Rectify applies the corrections addressed to tokenvault.value: the value
// behind one of the subject's random tokens is replaced, under the same
// token, by the corrected one (normalised and validated as its data type).
// Other tokens' values cannot change in place (FIELD_NOT_RECTIFIABLE: a
// deterministic token is a keyed hash of its value, card and
// format-preserving tokens are made from it); other categories are
// NOT_APPLICABLE; a token that is not the subject's is NO_DATA, whoever's
// it is.
//
// The old value must not survive in copies either, so the subject gets a
// new data key first and the corrected values are sealed under it: the
// re-encryption job then moves the subject's other values and destroys the
// old key version, and with it every copy of the old ciphertext (SQLite's
// WAL, PostgreSQL's dead tuples, backups), whose wrapped key dies at the
// next KEK epoch (ADR 0007). Recorded synchronously before anything changes.
func (e *Engine) Rectify(ctx context.Context, caller Caller, tenant, subject, requestID string, corrections []Correction) (Rectification, error) {
	out := Rectification{Results: make([]CorrectionResult, len(corrections)), Done: e.opts.Now().UTC()}
	ours := false
	for i, c := range corrections {
		switch {
		case c.Category != CategoryValue:
			out.Results[i].Outcome = OutcomeNotApplicable
		case c.Field != FieldValue:
			out.Results[i] = CorrectionResult{Outcome: OutcomeNotApplicable, Refused: reasons.FieldNotRectifiable}
		default:
			ours = true
		}
	}
	if !ours {
		return out, e.recordNoData(ctx, caller, ActionPrivacyRectify, ResourceRectificationRequest, PurposeDSRRectification, subject, requestID)
	}
	tenant, err := e.tenant(tenant)
	var rec storage.Subject
	if err == nil {
		rec, err = e.store.GetSubject(ctx, tenant, subject)
		if err == nil && !rec.Erased.IsZero() {
			err = errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
		}
	}
	if noData(err) {
		for i := range out.Results {
			if out.Results[i].Outcome == 0 {
				out.Results[i].Outcome = OutcomeNoData
			}
		}
		return out, e.recordNoData(ctx, caller, ActionPrivacyRectify, ResourceRectificationRequest, PurposeDSRRectification, subject, requestID)
	}
	if err != nil {
		return Rectification{}, err
	}

	var ids []string
	for i, c := range corrections {
		if out.Results[i].Outcome == 0 && tokenShape.MatchString(c.ItemID) {
			ids = append(ids, c.ItemID)
		}
	}
	found, err := e.store.FindTokens(ctx, ids)
	if err != nil {
		return Rectification{}, err
	}
	// Corrections of the same token are one change: the last decides, and
	// every one of them answers with its result.
	pending := map[string]*pendingCorrection{}
	indices := map[string][]int{}
	var order []string
	for i, c := range corrections {
		if out.Results[i].Outcome != 0 {
			continue
		}
		res, p, err := e.checkCorrection(ctx, tenant, subject, c, found[c.ItemID])
		if err != nil {
			return Rectification{}, err
		}
		if _, seen := indices[c.ItemID]; !seen {
			order = append(order, c.ItemID)
		}
		indices[c.ItemID] = append(indices[c.ItemID], i)
		for _, j := range indices[c.ItemID] {
			out.Results[j] = res
		}
		pending[c.ItemID] = p
	}
	var changes []*pendingCorrection
	for _, tok := range order {
		if p := pending[tok]; p != nil {
			changes = append(changes, p)
		}
	}
	for _, r := range out.Results {
		if r.Unchanged {
			out.Unchanged++
		}
	}

	ev := caller.event(ctx, ActionPrivacyRectify, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, ResourceRectificationRequest, requestID, PurposeDSRRectification
	if err := e.audit.Record(ctx, ev); err != nil {
		return Rectification{}, errs.Wrap(err, errs.Unavailable, reasons.AuditUnavailable, "the audit log did not record the rectification; nothing was changed")
	}
	if len(changes) == 0 {
		return out, nil
	}
	version, err := e.replaceValues(ctx, rec, changes)
	if err != nil {
		e.recordFailure(ctx, ev, err)
		return Rectification{}, err
	}
	out.Corrected, out.DEKVersion = len(changes), version
	// Committed: what follows must happen even if the caller has gone.
	e.truncateWAL(context.WithoutCancel(ctx))
	e.poke()
	return out, nil
}

// checkCorrection decides one correction addressed to tokenvault.value:
// its result, and what to change when it changes a value.
func (e *Engine) checkCorrection(ctx context.Context, tenant, subject string, c Correction, rows []storage.Token) (CorrectionResult, *pendingCorrection, error) {
	var row *storage.Token
	for _, r := range rows {
		if r.Tenant == tenant && r.Subject == subject && !r.SubjectErased && (r.Expires.IsZero() || e.opts.Now().Before(r.Expires)) {
			row = &r
			break
		}
	}
	if row == nil {
		return CorrectionResult{Outcome: OutcomeNoData}, nil, nil
	}
	if tokens.Format(row.Format) != tokens.FormatRandom {
		return CorrectionResult{Outcome: OutcomeNotApplicable, Refused: reasons.FieldNotRectifiable}, nil, nil
	}
	t := tokens.DataType(row.DataType)
	norm, err := tokens.Normalize(t, c.Value)
	if err != nil {
		return CorrectionResult{Outcome: OutcomeNotApplicable, Refused: reasons.ValueInvalid}, nil, nil
	}
	dek, _, err := e.dek(ctx, tenant, subject, row.DEKVersion, false)
	if err != nil {
		return CorrectionResult{}, nil, err
	}
	old, err := open(dek, row.Ciphertext, valueAAD(row.Token, tenant, subject, t))
	if err != nil {
		return CorrectionResult{}, nil, errs.Wrap(err, errs.Internal, reasons.ValueUnreadable, "the stored value cannot be decrypted")
	}
	defer clear(old)
	if subtle.ConstantTimeCompare(old, []byte(norm)) == 1 {
		return CorrectionResult{Outcome: OutcomeDone, Unchanged: true}, nil, nil
	}
	return CorrectionResult{Outcome: OutcomeDone}, &pendingCorrection{row: *row, norm: norm}, nil
}

// replaceValues gives the subject a new data key version and seals the
// corrected values under it, and returns the version.
func (e *Engine) replaceValues(ctx context.Context, rec storage.Subject, changes []*pendingCorrection) (int, error) {
	tenant, subject := rec.Tenant, rec.Subject
	version := rec.CurrentVersion + 1
	sk, key, err := e.newDEK(ctx, tenant, subject, version)
	if err != nil {
		return 0, err
	}
	defer clear(key)
	if err := e.store.AddSubjectKey(ctx, sk, rec.CurrentVersion, e.opts.Now()); err != nil {
		return 0, err
	}
	e.deks.Remove(subjectKey(tenant, subject, 0)) // the current version moved
	gcm, err := newGCM(key)
	if err != nil {
		return 0, err
	}
	for _, p := range changes {
		ct, err := sealWith(gcm, []byte(p.norm), valueAAD(p.row.Token, tenant, subject, tokens.DataType(p.row.DataType)))
		if err != nil {
			return 0, errs.Wrap(err, errs.Internal, reasons.EncryptFailed, "cannot encrypt value")
		}
		if err := e.store.ReplaceValue(ctx, p.row, ct, version); err != nil {
			if errors.Is(err, storage.ErrSubjectChanged) {
				// Rotated or erased meanwhile; the request is retried, and
				// what was replaced already answers as unchanged.
				return 0, errs.E(errs.Aborted, reasons.SubjectChanged, "the subject changed concurrently; retry")
			}
			return 0, err
		}
	}
	return version, nil
}

// Restriction is a subject's restriction state after Restrict.
type Restriction struct {
	storage.Restriction
	NoData bool
}

// Restrict restricts a subject's processing (GDPR Art. 18), or lifts the
// restriction: while it holds, Detokenize and RevealMasked refuse the
// subject's values to every workload and staff member
// (FailedPrecondition SUBJECT_RESTRICTED), LookupToken does not find them,
// and only the customer reads their own. A subject the vault holds no value
// of yet is restricted too (DONE, not NO_DATA): the values tokenised later
// are theirs. The change and its audit event commit together (outbox).
// Idempotent: a subject already in the state asked for is left as it is
// (Changed false).
func (e *Engine) Restrict(ctx context.Context, caller Caller, tenant, subject, requestID string, lift bool) (Restriction, error) {
	ev := caller.event(ctx, ActionPrivacyRestrict, auditclient.Success)
	ev.Subject, ev.ResourceType, ev.ResourceID, ev.Purpose = subject, ResourceRestrictionRequest, requestID, PurposeDSRRestriction
	t, err := e.tenant(tenant)
	var out Restriction
	if err == nil {
		err = e.store.DB().InTx(ctx, func(tx *sql.Tx) error {
			var err error
			if out.Restriction, err = e.store.SetRestricted(ctx, tx, t, subject, requestID, !lift, e.opts.Now().UTC()); err != nil {
				return err
			}
			return e.outbox.Enqueue(ctx, tx, ev)
		})
	}
	if noData(err) {
		return Restriction{NoData: true}, e.recordNoData(ctx, caller, ActionPrivacyRestrict, ResourceRestrictionRequest, PurposeDSRRestriction, subject, requestID)
	}
	if err != nil {
		return Restriction{}, err
	}
	e.outbox.Notify()
	return out, nil
}

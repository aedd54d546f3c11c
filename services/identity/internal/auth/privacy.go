package auth

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/identity/internal/contacts"
	"github.com/sottohq/sotto/services/identity/internal/emailaddr"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// What identity holds about a person, as the data-subject request protocol
// (sotto.privacy.v1) names it.
const (
	CategoryAccount = "identity.account"
	CategoryFactor  = "identity.factor"
	CategorySession = "identity.session"
)

// Rectifiable fields of CategoryAccount. Both are held only as token-vault
// tokens: a correction tokenises the new value and replaces the token.
const (
	FieldEmail = "email"
	FieldPhone = "phone"
)

// Outcome is what a data-subject operation did (sotto.privacy.v1's Outcome,
// without the proto).
type Outcome int

// Outcomes.
const (
	OutcomeDone Outcome = iota + 1
	OutcomeNoData
	OutcomeNotApplicable
)

// Subject is a data subject: the account id in its shop ("" for staff).
type Subject struct {
	Tenant    string
	AccountID string
}

// Evidence is what an operation did: counts and reason codes, never
// values.
type Evidence struct {
	Outcome     Outcome
	Counts      map[string]int64
	Details     map[string]string
	Done        time.Time
	AlreadyDone bool
}

// Field is one named value of an exported item; Token is set instead of
// Value when identity holds the value only in the token vault.
type Field struct {
	Name, Value, Token string
}

// Item is one exported record.
type Item struct {
	Category string
	ID       string
	Fields   []Field
}

// Correction is one change a subject asked for. Value is personal data:
// never logged, audited or quoted in an error.
type Correction struct {
	Category, ItemID, Field, Value string
}

// CorrectionResult is what happened to one correction; Refused is a
// reason from the catalogue when it was not applied.
type CorrectionResult struct {
	Outcome Outcome
	Refused string
}

// subjectAccount is the subject's account, or false when identity holds
// none: gone, never existed, or in another shop (a subject names one shop's
// account, never another's). "" and "default" are one shop, as in the
// vault.
func (s *Service) subjectAccount(ctx context.Context, q storage.Q, subj Subject) (storage.Account, bool, error) {
	a, err := s.Store.Account(ctx, q, subj.AccountID)
	if errs.Is(err, errs.NotFound) {
		return storage.Account{}, false, nil
	}
	if err != nil {
		return storage.Account{}, false, err
	}
	if vaultName(a.Tenant) != vaultName(subj.Tenant) {
		return storage.Account{}, false, nil
	}
	return a, true, nil
}

// vaultName is a tenant as the token vault names it: identity's "" (staff)
// is its default tenant, and the protocol's Subject spells the default
// tenant either way.
func vaultName(tenant string) string {
	if tenant == "" {
		return "default"
	}
	return tenant
}

// privacyEvent is the audit event of a data-subject operation: about the
// subject, the request as its resource.
func (s *Service) privacyEvent(ctx context.Context, action auditclient.Action, outcome auditclient.Outcome, subj Subject, requestID, reason string) auditclient.Event {
	return s.event(ctx, action, outcome, subj.AccountID, ResourcePrivacyRequest, requestID, reason)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// PrivacyExport returns everything identity holds about the subject, in a
// stable order (account, factors by id, sessions by id): the account's
// contact details as their tokens (the orchestrator fills in the values
// from the token vault's own export), no password hash, secret, credential,
// code or refresh token. The call is audited.
func (s *Service) PrivacyExport(ctx context.Context, subj Subject, requestID string) ([]Item, error) {
	q := s.Store.DB()
	var items []Item
	a, ok, err := s.subjectAccount(ctx, q, subj)
	if err != nil {
		return nil, err
	}
	if ok {
		items = append(items, accountItem(a))
		factors, err := s.Store.Factors(ctx, q, a.ID, "", "")
		if err != nil {
			return nil, err
		}
		slices.SortFunc(factors, func(x, y storage.Factor) int { return strings.Compare(x.ID, y.ID) })
		for _, f := range factors {
			items = append(items, factorItem(f))
		}
		sessions, err := s.Store.SessionsOf(ctx, q, a.ID)
		if err != nil {
			return nil, err
		}
		// Byte order, whatever the database's collation: Export's page
		// tokens compare ids as bytes.
		slices.SortFunc(sessions, func(x, y storage.Session) int { return strings.Compare(x.ID, y.ID) })
		for _, x := range sessions {
			items = append(items, sessionItem(x))
		}
	}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		return s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyExport, auditclient.Success, subj, requestID, ""))
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

func accountItem(a storage.Account) Item {
	f := []Field{
		{Name: "account_id", Value: a.ID},
		{Name: "kind", Value: a.Kind},
		{Name: "tenant", Value: a.Tenant},
		{Name: "created_time", Value: rfc3339(a.Created)},
		{Name: "email_verified", Value: strconv.FormatBool(a.EmailVerified)},
	}
	// The random token is the account's own (a deterministic one may be
	// shared by subjects), so it is the one the vault's export names.
	email := a.EmailMaskToken
	if email == "" {
		email = a.EmailToken
	}
	f = append(f, Field{Name: FieldEmail, Token: email})
	if a.PendingEmailToken != "" {
		// A corrected address waiting for its code is held too.
		pending := a.PendingEmailMaskToken
		if pending == "" {
			pending = a.PendingEmailToken
		}
		f = append(f, Field{Name: "pending_email", Token: pending})
	}
	if a.PhoneToken != "" {
		f = append(f, Field{Name: FieldPhone, Token: a.PhoneToken})
	}
	if len(a.Roles) > 0 {
		f = append(f, Field{Name: "roles", Value: strings.Join(a.Roles, " ")})
	}
	return Item{Category: CategoryAccount, ID: a.ID, Fields: f}
}

func factorItem(x storage.Factor) Item {
	f := []Field{
		{Name: "type", Value: x.Type},
		{Name: "status", Value: x.Status},
		{Name: "name", Value: x.DisplayName},
		{Name: "created_time", Value: rfc3339(x.Created)},
	}
	if !x.LastUsed.IsZero() {
		f = append(f, Field{Name: "last_used_time", Value: rfc3339(x.LastUsed)})
	}
	return Item{Category: CategoryFactor, ID: x.ID, Fields: f}
}

func sessionItem(x storage.Session) Item {
	f := []Field{
		{Name: "created_time", Value: rfc3339(x.Created)},
		{Name: "last_used_time", Value: rfc3339(x.LastUsed)},
		{Name: "expire_time", Value: rfc3339(x.Expires)},
		{Name: "aal", Value: strconv.Itoa(x.AAL)},
		{Name: "authentication_methods", Value: strings.Join(x.AMR, " ")},
	}
	if !x.Revoked.IsZero() {
		f = append(f, Field{Name: "revoke_time", Value: rfc3339(x.Revoked)})
	}
	if x.UserAgent != "" {
		f = append(f, Field{Name: "user_agent", Value: x.UserAgent})
	}
	return Item{Category: CategorySession, ID: x.ID, Fields: f}
}

// PrivacyErase deletes the subject's account as DeleteAccount does, for the
// system rather than the account's owner (no session or step-up to
// check): its sessions are revoked and announced on the revocation feed,
// and the account, its factors, recovery codes, codes, ceremonies and
// sessions are deleted, in one transaction with the audit event.
// Integrator clients belong to the shop, not to a person, and stay. The
// contact details in the token vault are erased by the vault's own step.
//
// When identity holds no account for the subject (a repeated request, an
// earlier deletion), the answer is NO_DATA and already done: nothing to
// harm twice.
func (s *Service) PrivacyErase(ctx context.Context, subj Subject, requestID string) (Evidence, error) {
	now := s.now()
	ev := Evidence{Done: now, Counts: map[string]int64{"accounts_deleted": 0, "sessions_revoked": 0, "factors_deleted": 0,
		"recovery_codes_deleted": 0}}
	revoked := false
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		a, ok, err := s.subjectAccount(ctx, tx, subj)
		if err != nil {
			return err
		}
		if !ok {
			ev.Outcome, ev.AlreadyDone = OutcomeNoData, true
			return s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyErase, auditclient.Success, subj, requestID, ""))
		}
		// Held for the rest of tx: a login or enrolment racing the erasure
		// waits, then finds no account.
		if err := s.Store.LockAccount(ctx, tx, a.ID); err != nil {
			return err
		}
		factors, err := s.Store.Factors(ctx, tx, a.ID, "", "")
		if err != nil {
			return err
		}
		codes, err := s.Store.RecoveryCodes(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		ids, err := s.Store.RevokeAccountSessions(ctx, tx, a.ID, "", now)
		if err != nil {
			return err
		}
		if err := s.Store.DeleteAccount(ctx, tx, a.ID); err != nil {
			return err
		}
		ev.Outcome = OutcomeDone
		ev.Counts["accounts_deleted"] = 1
		ev.Counts["sessions_revoked"] = int64(len(ids))
		ev.Counts["factors_deleted"] = int64(len(factors))
		ev.Counts["recovery_codes_deleted"] = int64(len(codes))
		if err := s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyErase, auditclient.Success, subj, requestID, "")); err != nil {
			return err
		}
		revoked = len(ids) > 0
		return s.revoke(ctx, tx, storage.RevokedSession, ids, now)
	})
	if err != nil {
		return Evidence{}, err
	}
	if revoked {
		s.notify()
	}
	if ev.Outcome == OutcomeDone {
		s.truncateWAL(ctx)
	}
	return ev, nil
}

// walTruncateTimeout bounds how long an erasure waits for readers to let go
// of SQLite's WAL; the prune loop tries again later (RetryWAL).
const walTruncateTimeout = 10 * time.Second

// truncateWAL empties SQLite's WAL after an erasure committed: until then
// it holds the erased rows' page images (the account with its e-mail token
// and password hash, sessions, factors), which secure_delete does not
// reach. The erasure is done whatever happens here (the caller may have
// gone); when readers hold the log too long, RetryWAL finishes the job.
func (s *Service) truncateWAL(ctx context.Context) {
	if err := s.wal.Scrub(ctx); err != nil {
		s.Logger.Warn("the WAL still holds pages from before an erasure; retrying later", logging.Err(err))
	}
}

// RetryWAL truncates the WAL if an erasure could not (the prune loop calls
// it).
func (s *Service) RetryWAL(ctx context.Context) {
	if err := s.wal.Retry(ctx); err != nil {
		s.Logger.Warn("the WAL still holds pages from before an erasure; retrying later", logging.Err(err))
	}
}

// PrivacyRestrict answers that a restriction does not apply to identity's
// data: the account is how the subject is authenticated, which serving them
// (and their exercising of their rights, this request included) needs, and
// identity processes it for nothing else. Audited, changes nothing.
func (s *Service) PrivacyRestrict(ctx context.Context, subj Subject, requestID string, lift bool) (Evidence, error) {
	now := s.now()
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		return s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyRestrict, auditclient.Success, subj, requestID, ""))
	})
	if err != nil {
		return Evidence{}, err
	}
	return Evidence{Outcome: OutcomeNotApplicable, Done: now, Details: map[string]string{
		"not_applicable_because": reasons.NeededToAuthenticate,
		"explanation": "identity holds the account that authenticates the subject and processes it only to authenticate them; " +
			"restricting it would stop serving them and exercising their rights, so nothing is restricted here",
	}}, nil
}

// PrivacyRectify applies the corrections addressed to identity: the
// account's e-mail address and phone number (only held as tokens: the new
// value is tokenised under the subject). A phone number is replaced at
// once. A corrected e-mail address is not: it is the login name, and a
// mistyped one (or one an attacker holding the session chose) would lock
// the owner out. It waits as the account's pending address; a code goes to
// it and a notice without code or new address to the current one; login
// keeps the current address until the code is used (VerifyEmail), and a
// newer correction replaces the pending one and cancels its code. An
// address another account of the shop holds is refused EMAIL_NOT_AVAILABLE
// without touching that account (and again when the code is used, if it
// was taken meanwhile). Corrections of other participants' categories are
// NOT_APPLICABLE; other fields FIELD_NOT_RECTIFIABLE. A correction already
// in place, or already pending, is done, and nothing is sent again (a
// repeated request is harmless).
func (s *Service) PrivacyRectify(ctx context.Context, subj Subject, requestID string, cs []Correction) (Evidence, []CorrectionResult, error) {
	now := s.now()
	ev := Evidence{Done: now, Counts: map[string]int64{"corrections_applied": 0, "corrections_refused": 0, "verification_codes_sent": 0,
		"email_change_pending": 0, "email_change_notices_sent": 0, "email_change_cancelled": 0}}
	out := make([]CorrectionResult, len(cs))
	applied, already, noData := 0, 0, 0
	firstRefusal := ""
	for i, c := range cs {
		r, change, err := s.rectifyOne(ctx, subj, requestID, c)
		if err != nil {
			return Evidence{}, nil, err
		}
		out[i] = r
		switch {
		case r.Refused != "":
			ev.Counts["corrections_refused"]++
			if firstRefusal == "" {
				firstRefusal = r.Refused
			}
		case r.Outcome == OutcomeDone:
			applied++
			switch change {
			case noChange:
				already++
			case changePending:
				// The address itself changes once its code is used.
				ev.Counts["email_change_pending"] = 1
				ev.Counts["verification_codes_sent"]++
				ev.Counts["email_change_notices_sent"]++
			case changeCancelled:
				ev.Counts["email_change_pending"] = 0
				ev.Counts["email_change_cancelled"]++
			}
		case r.Outcome == OutcomeNoData:
			noData++
		}
	}
	ev.Counts["corrections_applied"] = int64(applied - already)
	switch {
	case applied > 0:
		ev.Outcome, ev.AlreadyDone = OutcomeDone, applied == already
	case noData > 0:
		ev.Outcome = OutcomeNoData
	default:
		ev.Outcome = OutcomeNotApplicable
	}
	if applied == already {
		// No change was committed (each is audited with its change): the
		// call itself is recorded, refused or not.
		outcome, reason := auditclient.Success, ""
		if firstRefusal != "" {
			outcome, reason = auditclient.Denied, firstRefusal
		}
		err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
			return s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyRectify, outcome, subj, requestID, reason))
		})
		if err != nil {
			return Evidence{}, nil, err
		}
	}
	return ev, out, nil
}

// refused is a correction identity does not apply, and why.
func refused(reason string) CorrectionResult {
	return CorrectionResult{Outcome: OutcomeNotApplicable, Refused: reason}
}

// rectifyOne applies one correction and says what it changed (noChange
// when the value was already in place).
func (s *Service) rectifyOne(ctx context.Context, subj Subject, requestID string, c Correction) (CorrectionResult, emailChange, error) {
	switch c.Category {
	case CategoryAccount:
	case CategoryFactor, CategorySession:
		return refused(reasons.FieldNotRectifiable), noChange, nil
	default:
		return CorrectionResult{Outcome: OutcomeNotApplicable}, noChange, nil
	}
	a, ok, err := s.subjectAccount(ctx, s.Store.DB(), subj)
	if err != nil {
		return CorrectionResult{}, noChange, err
	}
	if !ok || (c.ItemID != "" && c.ItemID != a.ID) {
		return CorrectionResult{Outcome: OutcomeNoData}, noChange, nil
	}
	switch c.Field {
	case FieldEmail:
		return s.rectifyEmail(ctx, a, subj, requestID, c.Value)
	case FieldPhone:
		return s.rectifyPhone(ctx, a, subj, requestID, c.Value)
	}
	return refused(reasons.FieldNotRectifiable), noChange, nil
}

// rectifyEmail records a corrected address as pending (see PrivacyRectify).
func (s *Service) rectifyEmail(ctx context.Context, a storage.Account, subj Subject, requestID, value string) (CorrectionResult, emailChange, error) {
	email, err := emailaddr.Canonical(value)
	if errs.KindOf(err) == errs.InvalidArgument {
		return refused(reasons.ValueInvalid), noChange, nil
	}
	if err != nil {
		return CorrectionResult{}, noChange, err
	}
	// The purpose sign-up states for the same question: does an account
	// of this shop have this login name?
	loginToken, err := s.Contacts.LookupEmail(ctx, vaultTenant(a.Tenant), email, contacts.PurposeAuthentication)
	if errs.KindOf(err) == errs.InvalidArgument {
		return refused(reasons.ValueInvalid), noChange, nil
	}
	if err != nil {
		return CorrectionResult{}, noChange, err
	}
	now := s.now()
	switch loginToken {
	case a.EmailToken:
		if a.PendingEmailToken == "" {
			return CorrectionResult{Outcome: OutcomeDone}, noChange, nil
		}
		// The subject says the current address is right: a change asked
		// for earlier (a typo, or not theirs) is withdrawn, its code with it.
		err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.Store.InvalidateCodes(ctx, tx, a.ID, storage.CodeChangeEmail, now); err != nil {
				return err
			}
			if _, err := s.Store.ClearPendingEmail(ctx, tx, a.ID, now); err != nil {
				return err
			}
			return s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyRectify, auditclient.Success, subj, requestID, ""))
		})
		if err != nil {
			return CorrectionResult{}, noChange, err
		}
		return CorrectionResult{Outcome: OutcomeDone}, changeCancelled, nil
	case a.PendingEmailToken:
		// Asked for already (a repeated request): its code is on its way.
		return CorrectionResult{Outcome: OutcomeDone}, noChange, nil
	}
	if _, err := s.Store.AccountByLogin(ctx, s.Store.DB(), a.Kind, a.Tenant, loginToken); err == nil {
		return refused(reasons.EmailNotAvailable), noChange, nil
	} else if !errs.Is(err, errs.NotFound) {
		return CorrectionResult{}, noChange, err
	}
	toks, err := s.Contacts.Tokenize(ctx, vaultTenant(a.Tenant), a.ID, email, "")
	if errs.KindOf(err) == errs.InvalidArgument {
		return refused(reasons.ValueInvalid), noChange, nil
	}
	if err != nil {
		return CorrectionResult{}, noChange, err
	}
	code, err := newSecret()
	if err != nil {
		return CorrectionResult{}, noChange, err
	}
	// The current address is told, by its token (identity never reads an
	// address back): the owner learns of a change they did not ask for
	// before it can take effect. Nothing of the new address goes there.
	current := a.EmailMaskToken
	if current == "" {
		current = a.EmailToken
	}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		// Codes first, as VerifyEmail takes them: a verification racing
		// this change either finds its code spent or completes before the
		// new address is recorded. An older pending change's code proves
		// nothing from here on.
		if err := s.Store.InvalidateCodes(ctx, tx, a.ID, storage.CodeChangeEmail, now); err != nil {
			return err
		}
		if err := s.Store.InsertCode(ctx, tx, storage.Code{Hash: hashSecret(code), AccountID: a.ID, Purpose: storage.CodeChangeEmail,
			Expires: now.Add(s.cfg.VerifyCodeLifetime), Created: now}); err != nil {
			return err
		}
		if err := s.Store.SetPendingEmail(ctx, tx, a.ID, toks.Email, toks.EmailMask, hashSecret(code), now); err != nil {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyRectify, auditclient.Success, subj, requestID, "")); err != nil {
			return err
		}
		// Inside the transaction, as at sign-up: no change is recorded
		// that its code or its notice could not be handed over for.
		if err := s.Notifier.Notify(ctx, notify.Message{Kind: notify.KindVerifyEmail, AccountID: a.ID, To: email, Code: code}); err != nil {
			return err
		}
		return s.Notifier.Notify(ctx, notify.Message{Kind: notify.KindEmailChangeRequested, AccountID: a.ID, ToToken: current})
	})
	if errs.ReasonOf(err) == reasons.AccountNotFound {
		return CorrectionResult{Outcome: OutcomeNoData}, noChange, nil // erased meanwhile
	}
	if err != nil {
		return CorrectionResult{}, noChange, err
	}
	return CorrectionResult{Outcome: OutcomeDone}, changePending, nil
}

// emailChange is what a correction of the address did.
type emailChange int

const (
	noChange        emailChange = iota // nothing: refused, or already so
	changePending                      // a corrected address waits for its code
	changeCancelled                    // a pending change was withdrawn
	changeApplied                      // another field was changed at once
)

func (s *Service) rectifyPhone(ctx context.Context, a storage.Account, subj Subject, requestID, value string) (CorrectionResult, emailChange, error) {
	token := ""
	if strings.TrimSpace(value) != "" {
		var err error
		token, err = s.Contacts.TokenizePhone(ctx, vaultTenant(a.Tenant), a.ID, value)
		if errs.KindOf(err) == errs.InvalidArgument {
			return refused(reasons.ValueInvalid), noChange, nil
		}
		if err != nil {
			return CorrectionResult{}, noChange, err
		}
	}
	// An empty value removes a number the subject says is wrong.
	if token == a.PhoneToken {
		return CorrectionResult{Outcome: OutcomeDone}, noChange, nil
	}
	now := s.now()
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.SetPhoneToken(ctx, tx, a.ID, token, now); err != nil {
			return err
		}
		if err := s.customerChanged(ctx, tx, a.ID, false); err != nil {
			return err
		}
		return s.Audit.Enqueue(ctx, tx, s.privacyEvent(ctx, ActionPrivacyRectify, auditclient.Success, subj, requestID, ""))
	})
	if errs.ReasonOf(err) == reasons.AccountNotFound {
		return CorrectionResult{Outcome: OutcomeNoData}, noChange, nil // erased meanwhile
	}
	if err != nil {
		return CorrectionResult{}, noChange, err
	}
	return CorrectionResult{Outcome: OutcomeDone}, changeApplied, nil
}

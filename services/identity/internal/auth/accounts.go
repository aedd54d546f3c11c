package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/identity/internal/contacts"
	"github.com/sottohq/sotto/services/identity/internal/emailaddr"
	"github.com/sottohq/sotto/services/identity/internal/mfa"
	"github.com/sottohq/sotto/services/identity/internal/notify"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// SignUpInput is a customer's sign-up.
type SignUpInput struct {
	Tenant, Email, Password, Phone, Language string
	Origin                                   Origin
}

// SignUp creates a customer account and e-mails a verification code. The
// answer is the same whether or not the address has an account in the
// tenant; its owner gets a notice instead of a second account. Both paths
// compute one password hash, so they take comparable time.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) error {
	if err := s.throttle(in.Origin); err != nil {
		return err
	}
	if err := requireTenant(in.Tenant, "a customer's sign-up"); err != nil {
		return err
	}
	email, err := emailaddr.Canonical(in.Email)
	if err != nil {
		return err
	}
	in.Email = email
	// The password is checked before anything is looked up: a refusal says
	// nothing about the address.
	if err := s.Policy.Check(in.Password, false, []string{in.Email, in.Tenant}); err != nil {
		return err
	}
	loginToken, err := s.Contacts.LookupEmail(ctx, vaultTenant(in.Tenant), in.Email, contacts.PurposeAuthentication)
	if contacts.IsUnknownTenant(err) {
		// Shops are public (their sign-up pages name them), so an unknown
		// one is said plainly: it tells nothing about any address.
		return errs.E(errs.InvalidArgument, reasons.TenantUnknown, "there is no such shop (tenant)")
	}
	if err != nil {
		return err
	}
	if existing, err := s.Store.AccountByLogin(ctx, s.Store.DB(), storage.KindCustomer, in.Tenant, loginToken); err == nil {
		return s.signUpExisting(ctx, existing, in)
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	id, err := newID("acc")
	if err != nil {
		return err
	}
	toks, err := s.Contacts.Tokenize(ctx, vaultTenant(in.Tenant), id, in.Email, in.Phone)
	if err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	code, err := newSecret()
	if err != nil {
		return err
	}
	now := s.now()
	a := storage.Account{
		ID: id, Kind: storage.KindCustomer, Tenant: in.Tenant, EmailToken: toks.Email, EmailMaskToken: toks.EmailMask,
		PhoneToken: toks.Phone, PasswordHash: hash, Created: now,
	}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.InsertAccount(ctx, tx, a); err != nil {
			return err
		}
		if err := s.Store.InsertCode(ctx, tx, storage.Code{Hash: hashSecret(code), AccountID: id, Purpose: storage.CodeVerifyEmail,
			Expires: now.Add(s.cfg.VerifyCodeLifetime), Created: now}); err != nil {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionSignUp, auditclient.Success, id, ResourceAccount, id, "")); err != nil {
			return err
		}
		if err := s.customerChanged(ctx, tx, id, true); err != nil {
			return err
		}
		// Inside the transaction: if the message cannot be handed over,
		// no account exists that the user cannot verify.
		return s.Notifier.Notify(ctx, notify.Message{Kind: notify.KindVerifyEmail, AccountID: id, To: in.Email, Code: code, Language: in.Language})
	})
	if errs.ReasonOf(err) == reasons.AccountExists {
		// A parallel sign-up with the same address won.
		existing, gerr := s.Store.AccountByLogin(ctx, s.Store.DB(), storage.KindCustomer, in.Tenant, toks.Email)
		if gerr != nil {
			return gerr
		}
		return s.notifyExisting(ctx, existing, in)
	}
	return err
}

func (s *Service) signUpExisting(ctx context.Context, existing storage.Account, in SignUpInput) error {
	// The hash a new account would have cost.
	if _, err := s.Hasher.Hash(ctx, in.Password); err != nil {
		return err
	}
	return s.notifyExisting(ctx, existing, in)
}

func (s *Service) notifyExisting(ctx context.Context, existing storage.Account, in SignUpInput) error {
	return s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionAccountExisting, auditclient.Denied, existing.ID,
			ResourceAccount, existing.ID, reasons.AccountExists)); err != nil {
			return err
		}
		return s.Notifier.Notify(ctx, notify.Message{Kind: notify.KindAccountExists, AccountID: existing.ID, To: in.Email, Language: in.Language})
	})
}

// VerifyEmail confirms an address with the code from its message: the
// account's own address (sign-up), or a corrected one waiting for its code
// (PrivacyRectify), which then becomes the login name, unless another
// account of the shop took it meanwhile (FailedPrecondition
// EMAIL_NOT_AVAILABLE; the change is dropped, the code spent). The first
// verification of an account also clears everything that was attached to
// it before anyone had proved the address (clearUnproven): whoever signed
// up with it may not have been its owner. A later one keeps the sessions.
func (s *Service) VerifyEmail(ctx context.Context, code string, o Origin) error {
	if err := s.throttle(o); err != nil {
		return err
	}
	now := s.now()
	hash := hashSecret(code)
	var revoked, taken bool
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		action := ActionVerifyEmail
		accountID, err := s.Store.UseCode(ctx, tx, hash, storage.CodeVerifyEmail, now)
		if errs.ReasonOf(err) == reasons.CodeInvalid {
			action = ActionEmailChange
			if accountID, err = s.Store.UseCode(ctx, tx, hash, storage.CodeChangeEmail, now); err != nil {
				return err
			}
			if taken, err = s.changeEmail(ctx, tx, accountID, hash, now); err != nil || taken {
				return err
			}
		}
		if err != nil {
			return err
		}
		first, err := s.Store.SetEmailVerified(ctx, tx, accountID, now)
		if err != nil {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, action, auditclient.Success, accountID, ResourceAccount, accountID, "")); err != nil {
			return err
		}
		if action == ActionEmailChange {
			// The corrected address is the account's now.
			if err := s.customerChanged(ctx, tx, accountID, false); err != nil {
				return err
			}
		}
		if !first {
			return nil
		}
		revoked = true
		return s.clearUnproven(ctx, tx, accountID, now)
	})
	if err == nil && revoked {
		s.notify()
	}
	if err == nil && taken {
		return errEmailNotAvailable()
	}
	return err
}

func errEmailNotAvailable() error {
	return errs.E(errs.FailedPrecondition, reasons.EmailNotAvailable, "the new address belongs to another account now")
}

// changeEmail makes the account's pending address its login name, in tx,
// for the code with hash (already spent). An address another account of
// the shop holds by now is refused (taken): the change is dropped and the
// refusal audited, for the caller to commit and then report.
func (s *Service) changeEmail(ctx context.Context, tx *sql.Tx, accountID, hash string, now time.Time) (bool, error) {
	a, err := s.Store.Account(ctx, tx, accountID)
	if err != nil {
		return false, errCodeInvalid()
	}
	if a.PendingEmailToken != "" {
		other, err := s.Store.AccountByLogin(ctx, tx, a.Kind, a.Tenant, a.PendingEmailToken)
		if err == nil && other.ID != a.ID {
			if _, err := s.Store.ClearPendingEmail(ctx, tx, a.ID, now); err != nil {
				return false, err
			}
			if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionEmailChange, auditclient.Denied, a.ID, ResourceAccount, a.ID,
				reasons.EmailNotAvailable)); err != nil {
				return false, err
			}
			return true, nil
		}
		if err != nil && !errs.Is(err, errs.NotFound) {
			return false, err
		}
	}
	ok, err := s.Store.ConfirmEmail(ctx, tx, a.ID, hash, now)
	if errs.ReasonOf(err) == reasons.AccountExists {
		// Taken between the check and the update: nothing is committed
		// (the code stays usable, and the next use is refused above).
		return false, errEmailNotAvailable()
	}
	if err != nil {
		return false, err
	}
	if !ok {
		// The change this code was mailed for is no longer pending.
		return false, errCodeInvalid()
	}
	return false, nil
}

func errCodeInvalid() error {
	return errs.E(errs.Unauthenticated, reasons.CodeInvalid, "the code is not valid (unknown, used or expired)")
}

// clearUnproven deletes the account's second factors, recovery codes,
// WebAuthn ceremonies and user handle, and revokes every session, in tx
// (last: it publishes revocations). It runs when an address is verified
// for the first time and when a password reset completes: both prove
// control of the mailbox, neither proves that the factors on the account
// belong to the mailbox's owner (an attacker who signed up first with the
// victim's address, or who once had the password, could have added them).
func (s *Service) clearUnproven(ctx context.Context, tx *sql.Tx, accountID string, now time.Time) error {
	if err := s.Store.DeleteFactorsOf(ctx, tx, accountID); err != nil {
		return err
	}
	ids, err := s.Store.RevokeAccountSessions(ctx, tx, accountID, "", now)
	if err != nil {
		return err
	}
	return s.revoke(ctx, tx, storage.RevokedSession, ids, now)
}

// LoginInput is a password login.
type LoginInput struct {
	Tenant, Email, Password string
	Origin                  Origin
}

// LoginResult is a successful login.
type LoginResult struct {
	Tokens Tokens
	// SecondFactorAvailable: the account has an active second factor.
	SecondFactorAvailable bool
	// EnrollmentRequired: a staff member without a second factor, who can
	// do nothing but enrol one.
	EnrollmentRequired bool
}

// Login checks a password and starts a session at aal1.
//
// Unknown accounts, wrong passwords, locked accounts and accounts without
// a password get one answer, Unauthenticated LOGIN_FAILED, after one
// argon2id computation each (the dummy hash for the first, third and
// fourth), so neither the answer nor its time says whether the address has
// an account. The attempt is reserved in the database before the password
// is evaluated (storage.ReserveLogin): parallel guesses cannot slip past the
// lockout. A hash slot is taken before the reservation, so an overloaded
// service answers ResourceExhausted without counting an attempt.
func (s *Service) Login(ctx context.Context, in LoginInput) (LoginResult, error) {
	if err := s.throttle(in.Origin); err != nil {
		return LoginResult{}, err
	}
	kind := loginKind(in.Tenant)
	email, err := emailaddr.Canonical(in.Email)
	if err != nil {
		return LoginResult{}, err
	}
	loginToken, a, known, err := s.findLogin(ctx, kind, in.Tenant, email, contacts.PurposeAuthentication)
	if err != nil {
		return LoginResult{}, err
	}
	slot, err := s.Hasher.Acquire(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	defer slot.Release()
	now := s.now()
	fail := func(subject, reason string) (LoginResult, error) {
		s.Metrics.Logins.WithLabelValues("failed").Inc()
		s.failed(in.Origin, loginToken)
		s.record(ctx, s.event(ctx, ActionLogin, auditclient.Denied, subject, ResourceAccount, subject, reason))
		return LoginResult{}, errLoginFailed()
	}
	if !known {
		if err := slot.VerifyDummy(in.Password); err != nil {
			return LoginResult{}, err
		}
		return fail("", reasons.LoginFailed)
	}
	n, ok, err := s.Store.ReserveLogin(ctx, s.Store.DB(), a.ID, s.cfg.Login, now)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok {
		if err := slot.VerifyDummy(in.Password); err != nil {
			return LoginResult{}, err
		}
		return fail(a.ID, reasons.AccountLocked)
	}
	res, err := slot.Verify(in.Password, a.PasswordHash)
	if err != nil {
		return LoginResult{}, err
	}
	if !res.OK {
		if n == s.cfg.Login.Free || n == s.cfg.Login.Cap {
			s.Metrics.Locks.Inc()
			s.record(ctx, s.event(ctx, ActionLock, auditclient.Success, a.ID, ResourceAccount, a.ID, reasons.AccountLocked))
		}
		return fail(a.ID, reasons.LoginFailed)
	}
	upgraded := ""
	if res.Rehash {
		// Upgrade on login: the parameters changed since this hash was made.
		if upgraded, err = slot.Hash(in.Password); err != nil {
			return LoginResult{}, err
		}
	}
	slot.Release()
	if unproven(a) {
		// Only now, after the right password: the answer tells the caller
		// nothing the password did not. The counter is cleared (the
		// password was right) and nothing else happens.
		s.Metrics.Logins.WithLabelValues("unverified").Inc()
		err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.Store.ResetLogin(ctx, tx, a.ID, now); err != nil {
				return err
			}
			return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionLogin, auditclient.Denied, a.ID, ResourceAccount, a.ID, reasons.EmailNotVerified))
		})
		if err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, errEmailNotVerified()
	}
	factors, err := s.Store.CountActiveFactors(ctx, s.Store.DB(), a.ID)
	if err != nil {
		return LoginResult{}, err
	}
	var out LoginResult
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.ResetLogin(ctx, tx, a.ID, now); err != nil {
			return err
		}
		if upgraded != "" {
			if _, err := s.Store.UpgradePasswordHash(ctx, tx, a.ID, a.PasswordHash, upgraded, now); err != nil {
				return err
			}
		}
		toks, sess, err := s.startSession(ctx, tx, a, accesstoken.AAL1, []string{mfa.AMRPassword}, in.Origin, now)
		if err != nil {
			return err
		}
		out = LoginResult{Tokens: toks, SecondFactorAvailable: factors > 0,
			EnrollmentRequired: a.Kind == storage.KindStaff && factors == 0}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionLogin, auditclient.Success, a.ID, ResourceSession, sess.ID, ""))
	})
	if err != nil {
		return LoginResult{}, err
	}
	s.Metrics.Logins.WithLabelValues("ok").Inc()
	return out, nil
}

// requireEnrolled refuses a staff member without an active second factor:
// staff must enrol MFA before anything but enrolment, their account and
// logout works.
func (s *Service) requireEnrolled(ctx context.Context, c Caller) error {
	if c.Kind != accesstoken.KindStaff {
		return nil
	}
	n, err := s.Store.CountActiveFactors(ctx, s.Store.DB(), c.AccountID)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.FailedPrecondition, reasons.MFAEnrollmentRequired, "staff must enrol a second factor first")
	}
	return nil
}

// requireRecent refuses a caller whose authentication is not recent (and,
// when the account has a second factor, not at aal2): sensitive changes to
// one's own account need a fresh proof.
func (s *Service) requireRecent(c Caller, hasFactor bool) error {
	aal := accesstoken.AAL1
	if hasFactor {
		aal = accesstoken.AAL2
	}
	if c.AAL < aal || s.now().Sub(c.AuthTime) > s.cfg.RecentAuth {
		return &StepUpRequired{AAL: aal, MaxAge: s.cfg.RecentAuth}
	}
	return nil
}

// StepUpRequired is FailedPrecondition STEP_UP_REQUIRED with the level and
// age to reach in the ErrorInfo metadata, as pkg/enduser's step-up error
// carries them (required_aal, max_age_seconds).
type StepUpRequired struct {
	AAL    int
	MaxAge time.Duration
}

func (e *StepUpRequired) Error() string {
	return "a recent authentication is needed (" + reasons.StepUpRequired + "): FailedPrecondition"
}

// GRPCStatus is the status with its ErrorInfo.
func (e *StepUpRequired) GRPCStatus() *status.Status {
	return statusWithInfo(codes.FailedPrecondition, "this needs a recent authentication; step up", reasons.StepUpRequired,
		map[string]string{"required_aal": strconv.Itoa(e.AAL), "max_age_seconds": strconv.Itoa(int(e.MaxAge / time.Second))})
}

// ChangePassword replaces the caller's password; the current one is
// checked (an attempt on the account's lockout counter, like a login) and
// the account's other sessions are revoked.
func (s *Service) ChangePassword(ctx context.Context, c Caller, current, next string) error {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return err
	}
	factors, err := s.Store.CountActiveFactors(ctx, s.Store.DB(), a.ID)
	if err != nil {
		return err
	}
	if err := s.Policy.Check(next, factors > 0, []string{a.Tenant}); err != nil {
		return err
	}
	slot, err := s.Hasher.Acquire(ctx)
	if err != nil {
		return err
	}
	defer slot.Release()
	now := s.now()
	_, ok, err := s.Store.ReserveLogin(ctx, s.Store.DB(), a.ID, s.cfg.Login, now)
	if err != nil {
		return err
	}
	wrong := func() error {
		s.record(ctx, s.event(ctx, ActionPasswordChange, auditclient.Denied, a.ID, ResourceAccount, a.ID, reasons.CurrentPasswordWrong))
		return errs.E(errs.PermissionDenied, reasons.CurrentPasswordWrong, "the current password is wrong")
	}
	if !ok {
		if err := slot.VerifyDummy(current); err != nil {
			return err
		}
		return wrong()
	}
	res, err := slot.Verify(current, a.PasswordHash)
	if err != nil {
		return err
	}
	if !res.OK {
		return wrong()
	}
	hash, err := slot.Hash(next)
	if err != nil {
		return err
	}
	slot.Release()
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.SetPassword(ctx, tx, a.ID, hash, now); err != nil {
			return err
		}
		if err := s.Store.InvalidateCodes(ctx, tx, a.ID, storage.CodeResetPassword, now); err != nil {
			return err
		}
		ids, err := s.Store.RevokeAccountSessions(ctx, tx, a.ID, c.SessionID, now)
		if err != nil {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionPasswordChange, auditclient.Success, a.ID, ResourceAccount, a.ID, "")); err != nil {
			return err
		}
		return s.revoke(ctx, tx, storage.RevokedSession, ids, now)
	})
	if err == nil {
		s.notify()
	}
	return err
}

// RequestPasswordReset e-mails a reset code if the address has an account;
// the answer is the same either way, and so is the work before it: both
// paths canonicalise the address, look it up in the vault, read the account
// table and commit one transaction with one audit event (the known path
// also stores the code). The message itself is handed to the notifier after
// the commit, off the request (deliverLater), so a slow mail system does
// not tell known addresses from unknown ones.
func (s *Service) RequestPasswordReset(ctx context.Context, tenant, email, language string, o Origin) error {
	if err := s.throttle(o); err != nil {
		return err
	}
	email, err := emailaddr.Canonical(email)
	if err != nil {
		return err
	}
	loginToken, a, known, err := s.findLogin(ctx, loginKind(tenant), tenant, email, contacts.PurposeAccountRecovery)
	if err != nil {
		return err
	}
	code, err := newSecret()
	if err != nil {
		return err
	}
	now := s.now()
	if !known {
		s.failed(o, loginToken)
		// The work the known path does, minus the code: the cap's count (for
		// no account) and an audit event without a subject (requests for
		// unknown addresses are worth seeing anyway).
		return s.Store.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := s.Store.CountCodesSince(ctx, tx, "", storage.CodeResetPassword, now.Add(-time.Hour)); err != nil {
				return err
			}
			return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionResetRequest, auditclient.Denied, "", ResourceAccount, "", reasons.AccountNotFound))
		})
	}
	capped := false
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		n, err := s.Store.CountCodesSince(ctx, tx, a.ID, storage.CodeResetPassword, now.Add(-time.Hour))
		if err != nil {
			return err
		}
		if capped = n >= s.cfg.ResetMailsPerHour; capped {
			// The same answer as a mailed code (the caller learns nothing),
			// no code, no mail; the refusal is audited.
			return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionResetRequest, auditclient.Denied, a.ID, ResourceAccount, a.ID, reasons.ResetMailsCapped))
		}
		if err := s.Store.InsertCode(ctx, tx, storage.Code{Hash: hashSecret(code), AccountID: a.ID, Purpose: storage.CodeResetPassword,
			Expires: now.Add(s.cfg.ResetCodeLifetime), Created: now}); err != nil {
			return err
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionResetRequest, auditclient.Success, a.ID, ResourceAccount, a.ID, ""))
	})
	if err != nil || capped {
		return err
	}
	// To the canonical address the lookup used, never the typed one.
	s.deliverLater(ctx, notify.Message{Kind: notify.KindResetPassword, AccountID: a.ID, To: email, Code: code, Language: language})
	return nil
}

// deliverLater hands a message to the notifier after the caller's commit,
// in the background (Wait waits for it). A failed delivery is logged
// without the address; the user can ask again.
func (s *Service) deliverLater(ctx context.Context, m notify.Message) {
	ctx = context.WithoutCancel(ctx)
	s.sends.Go(func() {
		if err := s.Notifier.Notify(ctx, m); err != nil {
			s.Logger.Error("cannot deliver a message", slog.String("kind", m.Kind), slog.String("account_id", m.AccountID), logging.Err(err))
		}
	})
}

// Wait waits for the messages handed to the notifier in the background.
func (s *Service) Wait() { s.sends.Wait() }

// ResetPassword sets a new password with a reset code (or a new staff
// member's password-set code). The new password is checked before the code
// is spent; every session of the account is revoked, and the password
// lockout cleared (the code proved control of the mailbox).
func (s *Service) ResetPassword(ctx context.Context, code, next string, o Origin) error {
	if err := s.throttle(o); err != nil {
		return err
	}
	now := s.now()
	hash := hashSecret(code)
	purpose := storage.CodeResetPassword
	accountID, err := s.Store.PeekCode(ctx, s.Store.DB(), hash, purpose, now)
	if errs.ReasonOf(err) == reasons.CodeInvalid {
		purpose = storage.CodeSetPassword
		accountID, err = s.Store.PeekCode(ctx, s.Store.DB(), hash, purpose, now)
	}
	if err != nil {
		return err
	}
	a, err := s.Store.Account(ctx, s.Store.DB(), accountID)
	if err != nil {
		return errs.E(errs.Unauthenticated, reasons.CodeInvalid, "the code is not valid (unknown, used or expired)")
	}
	// A reset may remove the account's factors (a first verification:
	// clearUnproven), so the new password must be able to stand alone.
	if err := s.Policy.Check(next, false, []string{a.Tenant}); err != nil {
		return err
	}
	newHash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.Store.UseCode(ctx, tx, hash, purpose, now); err != nil {
			return err
		}
		if err := s.Store.SetPassword(ctx, tx, a.ID, newHash, now); err != nil {
			return err
		}
		if err := s.Store.InvalidateCodes(ctx, tx, a.ID, purpose, now); err != nil {
			return err
		}
		// The code came through the mailbox: the address is proved.
		first, err := s.Store.SetEmailVerified(ctx, tx, a.ID, now)
		if err != nil {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionPasswordReset, auditclient.Success, a.ID, ResourceAccount, a.ID, "")); err != nil {
			return err
		}
		if first {
			// Nobody had proved the mailbox before: whatever was enrolled
			// was enrolled by whoever signed up, maybe not its owner (a
			// pre-registered account's planted passkey).
			return s.clearUnproven(ctx, tx, a.ID, now)
		}
		// A verified account keeps its factors: a reset proves the mailbox,
		// not the second factor, so someone who took over the mailbox still
		// needs the factor for anything at aal2. Its sessions end.
		ids, err := s.Store.RevokeAccountSessions(ctx, tx, a.ID, "", now)
		if err != nil {
			return err
		}
		return s.revoke(ctx, tx, storage.RevokedSession, ids, now)
	})
	if err == nil {
		s.notify()
	}
	return err
}

// DeleteAccount deletes the caller's account after a recent authentication
// (at aal2 when it has a second factor); its sessions are revoked first, in
// the same transaction. Its contact details stay in the token vault until
// the data-subject erasure (the consent service's EraseSubject), which
// identity may not call.
func (s *Service) DeleteAccount(ctx context.Context, c Caller) error {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return err
	}
	factors, err := s.Store.CountActiveFactors(ctx, s.Store.DB(), a.ID)
	if err != nil {
		return err
	}
	if err := s.requireRecent(c, factors > 0); err != nil {
		return err
	}
	now := s.now()
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		ids, err := s.Store.RevokeAccountSessions(ctx, tx, a.ID, "", now)
		if err != nil {
			return err
		}
		if err := s.Store.DeleteAccount(ctx, tx, a.ID); err != nil {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionDeleteAccount, auditclient.Success, a.ID, ResourceAccount, a.ID, "")); err != nil {
			return err
		}
		return s.revoke(ctx, tx, storage.RevokedSession, ids, now)
	})
	if err == nil {
		s.notify()
	}
	return err
}

// AccountView is an account as GetAccount shows it.
type AccountView struct {
	storage.Account
	EmailMasked string
}

// GetAccount describes the caller's account with its masked address.
func (s *Service) GetAccount(ctx context.Context, c Caller) (AccountView, error) {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return AccountView{}, err
	}
	masked, err := s.Contacts.MaskEmail(ctx, vaultTenant(a.Tenant), a.EmailMaskToken)
	if err != nil {
		return AccountView{}, err
	}
	return AccountView{Account: a, EmailMasked: masked}, nil
}

// StaffRoles are the roles a staff account may have.
var StaffRoles = []string{accesstoken.RoleSupportAgent, accesstoken.RolePrivacyOfficer, accesstoken.RoleAdmin}

// CreateStaffAccount creates a staff member with roles (an admin at aal2).
// The new member gets a password-set code by e-mail and must enrol MFA at
// their first login. requestID makes retries safe: the same request returns
// the same account; the id with other content is REQUEST_ID_REUSED.
func (s *Service) CreateStaffAccount(ctx context.Context, c Caller, email string, roles []string, requestID string) (string, error) {
	if _, _, err := s.callerAccount(ctx, c); err != nil {
		return "", err
	}
	if c.Kind != accesstoken.KindStaff || !c.HasRole(accesstoken.RoleAdmin) || c.AAL < accesstoken.AAL2 {
		return "", errs.E(errs.PermissionDenied, reasons.RoleRequired, "creating staff needs the admin role at aal2")
	}
	for _, r := range roles {
		if !slices.Contains(StaffRoles, r) {
			return "", errs.E(errs.InvalidArgument, reasons.RoleInvalid, "unknown staff role")
		}
	}
	email, err := emailaddr.Canonical(email)
	if err != nil {
		return "", err
	}
	roles = slices.Clone(roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	if prior, err := s.Store.AccountByRequestID(ctx, s.Store.DB(), requestID); err == nil {
		token, lerr := s.Contacts.LookupEmail(ctx, vaultTenant(""), email, contacts.PurposeAuthentication)
		if lerr != nil {
			return "", lerr
		}
		if prior.EmailToken == token && slices.Equal(prior.Roles, roles) {
			return prior.ID, nil
		}
		return "", errs.E(errs.AlreadyExists, reasons.RequestIDReused, "request_id was used for another staff account")
	} else if !errs.Is(err, errs.NotFound) {
		return "", err
	}
	id, err := newID("acc")
	if err != nil {
		return "", err
	}
	toks, err := s.Contacts.Tokenize(ctx, vaultTenant(""), id, email, "")
	if err != nil {
		return "", err
	}
	code, err := newSecret()
	if err != nil {
		return "", err
	}
	now := s.now()
	a := storage.Account{ID: id, Kind: storage.KindStaff, EmailToken: toks.Email, EmailMaskToken: toks.EmailMask,
		Roles: roles, RequestID: requestID, Created: now}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.InsertAccount(ctx, tx, a); err != nil {
			return err
		}
		if err := s.Store.InsertCode(ctx, tx, storage.Code{Hash: hashSecret(code), AccountID: id, Purpose: storage.CodeSetPassword,
			Expires: now.Add(s.cfg.SetPasswordCodeLifetime), Created: now}); err != nil {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionStaffCreate, auditclient.Success, id, ResourceAccount, id, "")); err != nil {
			return err
		}
		return s.Notifier.Notify(ctx, notify.Message{Kind: notify.KindSetPassword, AccountID: id, To: email, Code: code})
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// initialPasswordAlphabet is Crockford's base32: no look-alike characters
// for a password an operator copies by hand.
const initialPasswordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// initialPassword is 24 random symbols (120 bits), grouped for reading.
func initialPassword() (string, error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", errs.Wrap(err, errs.Internal, reasons.RandomFailed, "random source failed")
	}
	var b strings.Builder
	for i, x := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(initialPasswordAlphabet[x&31])
	}
	return b.String(), nil
}

// BootstrapAdmin creates the first admin when there is none (the operator
// CLI's workload only; the server's authorisation says so) and returns its
// one-time password. The admin must enrol MFA at first login. Once an
// admin was bootstrapped, this fails with FailedPrecondition ADMIN_EXISTS,
// even under parallel calls (one row that can be written once).
func (s *Service) BootstrapAdmin(ctx context.Context, email string) (string, string, error) {
	email, err := emailaddr.Canonical(email)
	if err != nil {
		return "", "", err
	}
	var admins int
	if err := s.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM bootstrap`).Scan(&admins); err != nil {
		return "", "", errs.Wrap(err, errs.Unavailable, reasons.Internal, "cannot read the store")
	}
	if admins > 0 {
		// Checked first so that a refused call stores nothing in the vault.
		return "", "", errs.E(errs.FailedPrecondition, reasons.AdminExists, "the first admin was created before")
	}
	id, err := newID("acc")
	if err != nil {
		return "", "", err
	}
	toks, err := s.Contacts.Tokenize(ctx, vaultTenant(""), id, email, "")
	if err != nil {
		return "", "", err
	}
	pw, err := initialPassword()
	if err != nil {
		return "", "", err
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return "", "", err
	}
	now := s.now()
	a := storage.Account{ID: id, Kind: storage.KindStaff, EmailToken: toks.Email, EmailMaskToken: toks.EmailMask,
		Roles: []string{accesstoken.RoleAdmin}, PasswordHash: hash, Created: now}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.ClaimBootstrap(ctx, tx, id, now); err != nil {
			return err
		}
		if err := s.Store.InsertAccount(ctx, tx, a); err != nil {
			return err
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionBootstrapAdmin, auditclient.Success, id, ResourceAccount, id, ""))
	})
	if err != nil {
		return "", "", err
	}
	s.Logger.Info("first admin created", slog.String("account_id", id))
	return id, pw, nil
}

// findLogin finds the account of a canonical address in tenant: its login
// name (the vault's deterministic token) and the account, if one exists. A
// shop the vault does not serve has no accounts: it answers as an unknown
// address does (known false), so login and reset requests answer an unknown
// shop as they answer an unknown address, after the same work, instead of
// an outage. Its login name is then a digest of the shop and address, a
// stable key for the throttle's count of names a source tried.
func (s *Service) findLogin(ctx context.Context, kind, tenant, email, purpose string) (string, storage.Account, bool, error) {
	loginToken, err := s.Contacts.LookupEmail(ctx, vaultTenant(tenant), email, purpose)
	if contacts.IsUnknownTenant(err) {
		return "unknown-tenant:" + hashSecret(tenant+"\x00"+email), storage.Account{}, false, nil
	}
	if err != nil {
		return "", storage.Account{}, false, err
	}
	a, err := s.Store.AccountByLogin(ctx, s.Store.DB(), kind, tenant, loginToken)
	if errs.Is(err, errs.NotFound) {
		return loginToken, storage.Account{}, false, nil
	}
	if err != nil {
		return "", storage.Account{}, false, err
	}
	return loginToken, a, true, nil
}

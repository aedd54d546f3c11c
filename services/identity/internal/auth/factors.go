package auth

import (
	"context"
	"database/sql"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/mfa"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// TotpEnrolment is what BeginTotp returns: the URI and QR code are shown
// once and never stored.
type TotpEnrolment struct {
	FactorID  string
	URI       string
	QRCodePNG []byte
}

// canAddFactor: the first factor needs only the session; another one needs
// a recent aal2 authentication (a stolen password must not add the
// thief's authenticator). It is checked when an enrolment begins and again
// in the transaction that finishes it (q, after lockForFactors), because
// the account may have gained a factor in between.
func (s *Service) canAddFactor(ctx context.Context, q storage.Q, c Caller, accountID string) error {
	n, err := s.Store.CountActiveFactors(ctx, q, accountID)
	if err != nil {
		return err
	}
	if n >= s.cfg.MaxFactors {
		return errs.E(errs.FailedPrecondition, reasons.TooManyFactors, "the account has as many second factors as allowed")
	}
	if n > 0 {
		return s.requireRecent(c, true)
	}
	return nil
}

// BeginTotp starts a TOTP enrolment: a pending factor with a wrapped
// secret, and the otpauth URI and QR code for the app. The authenticator
// app's label is the account kind, never an address.
func (s *Service) BeginTotp(ctx context.Context, c Caller) (TotpEnrolment, error) {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return TotpEnrolment{}, err
	}
	if err := s.canAddFactor(ctx, s.Store.DB(), c, a.ID); err != nil {
		return TotpEnrolment{}, err
	}
	now := s.now()
	if err := s.Store.DeleteExpiredPending(ctx, s.Store.DB(), a.ID, now); err != nil {
		return TotpEnrolment{}, err
	}
	id, err := newID("fac")
	if err != nil {
		return TotpEnrolment{}, err
	}
	e, err := s.TOTP.Enrol(ctx, mfa.FactorRef{AccountID: a.ID, FactorID: id}, a.Kind, now)
	if err != nil {
		return TotpEnrolment{}, err
	}
	if err := s.Store.InsertFactor(ctx, s.Store.DB(), storage.Factor{ID: id, AccountID: a.ID, Type: storage.FactorTOTP,
		Status: storage.FactorPending, DisplayName: "authenticator app", Secret: e.WrappedSecret, PendingExpires: e.ExpiresAt, Created: now}); err != nil {
		return TotpEnrolment{}, err
	}
	return TotpEnrolment{FactorID: id, URI: e.URI, QRCodePNG: e.QRCodePNG}, nil
}

// reserveMFA reserves one second-factor attempt of the account; a locked
// counter is ResourceExhausted MFA_LOCKED (the caller already proved the
// password, so saying so tells an attacker nothing new).
func (s *Service) reserveMFA(ctx context.Context, accountID string, now time.Time) error {
	n, ok, err := s.Store.ReserveMFA(ctx, s.Store.DB(), accountID, s.cfg.MFA, now)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E(errs.ResourceExhausted, reasons.MFALocked, "too many wrong codes; wait before trying again")
	}
	if n == s.cfg.MFA.Free || n == s.cfg.MFA.Cap {
		s.Metrics.Locks.Inc()
		s.record(ctx, s.event(ctx, ActionMFALock, auditclient.Success, accountID, ResourceAccount, accountID, reasons.MFALocked))
	}
	return nil
}

func (s *Service) checked() {
	if s.OnSecondFactorCheck != nil {
		s.OnSecondFactorCheck()
	}
}

// ConfirmTotp activates a pending TOTP factor with its first code (an
// attempt on the account's second-factor counter); the account's first
// factor also yields recovery codes, returned once. The session is not
// raised: enrolling needs only the password (for a first factor), so the
// client steps up with the new factor afterwards (StepUp, a later code or
// a recovery code) to reach aal2.
func (s *Service) ConfirmTotp(ctx context.Context, c Caller, factorID, code string) ([]string, error) {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return nil, err
	}
	f, err := s.Store.Factor(ctx, s.Store.DB(), a.ID, factorID)
	if err != nil {
		return nil, err
	}
	if f.Type != storage.FactorTOTP || f.Status != storage.FactorPending {
		return nil, errs.E(errs.FailedPrecondition, reasons.FactorNotPending, "the factor is not a pending TOTP enrolment")
	}
	now := s.now()
	if err := s.reserveMFA(ctx, a.ID, now); err != nil {
		return nil, err
	}
	ref := mfa.FactorRef{AccountID: a.ID, FactorID: f.ID}
	step, err := s.TOTP.Confirm(ctx, ref, f.Secret, f.PendingExpires, code, now)
	s.checked()
	if err != nil {
		s.record(ctx, s.event(ctx, ActionMFAEnrol, auditclient.Denied, a.ID, ResourceFactor, f.ID, errs.ReasonOf(err)))
		return nil, err
	}
	var codes []string
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		first, err := s.lockForFactors(ctx, tx, c, a.ID)
		if err != nil {
			return err
		}
		if err := s.Store.ActivateTOTP(ctx, tx, a.ID, f.ID, step, now); err != nil {
			return err
		}
		if err := s.Store.ResetMFA(ctx, tx, a.ID, now); err != nil {
			return err
		}
		if first {
			if codes, err = s.newRecoveryCodes(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionMFAEnrol, auditclient.Success, a.ID, ResourceFactor, f.ID, ""))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// lockForFactors takes the account's row lock in tx (a no-op update: a
// row lock on PostgreSQL, the write lock on SQLite), so that parallel
// enrolments of one account are serialised, then re-checks canAddFactor.
// It reports whether the new factor is the account's first.
func (s *Service) lockForFactors(ctx context.Context, tx *sql.Tx, c Caller, accountID string) (bool, error) {
	if err := s.Store.LockAccount(ctx, tx, accountID); err != nil {
		return false, err
	}
	if err := s.canAddFactor(ctx, tx, c, accountID); err != nil {
		return false, err
	}
	n, err := s.Store.CountActiveFactors(ctx, tx, accountID)
	return n == 0, err
}

// newRecoveryCodes replaces the account's recovery codes in tx.
func (s *Service) newRecoveryCodes(ctx context.Context, tx *sql.Tx, accountID string) ([]string, error) {
	codes, hashes, err := s.Recovery.Generate(ctx, accountID)
	if err != nil {
		return nil, err
	}
	rows := make([]storage.RecoveryCode, len(hashes))
	for i, h := range hashes {
		rows[i] = storage.RecoveryCode{Index: i, KeyVersion: h.KeyVersion, MAC: h.MAC}
	}
	if err := s.Store.ReplaceRecoveryCodes(ctx, tx, accountID, rows); err != nil {
		return nil, err
	}
	return codes, nil
}

// elevate raises the caller's session to what a second factor proved, with
// auth_time now, and signs its access token. The refresh token is not
// rotated: refreshing later keeps the level and auth_time of the session,
// and every step-up rule measures the age of auth_time, so the elevation
// expires per call.
func (s *Service) elevate(ctx context.Context, tx *sql.Tx, c Caller, a storage.Account, as mfa.Assurance, now time.Time) (Tokens, error) {
	amr := append([]string{mfa.AMRPassword}, as.AMR...)
	amr = append(amr, mfa.AMRMultiFactor)
	if err := s.Store.ElevateSession(ctx, tx, c.SessionID, accesstoken.AAL2, amr, now); err != nil {
		return Tokens{}, err
	}
	sess, err := s.Store.Session(ctx, tx, c.SessionID)
	if err != nil {
		return Tokens{}, err
	}
	access, exp, err := s.issue(ctx, a, sess)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, AccessExpires: exp, SessionExpires: sess.Expires, SessionID: sess.ID, AAL: sess.AAL}, nil
}

// Proof is a step-up's second factor: a TOTP code or a recovery code.
type Proof struct {
	TOTP, RecoveryCode string
}

// StepUp raises the caller's session to aal2 with a TOTP code or a recovery
// code. Each attempt is reserved on the account's second-factor counter
// before the code is compared, so parallel guesses are bounded; a TOTP step
// and a recovery code are each accepted once (compare-and-set).
func (s *Service) StepUp(ctx context.Context, c Caller, p Proof) (Tokens, error) {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return Tokens{}, err
	}
	factors, err := s.Store.Factors(ctx, s.Store.DB(), a.ID, "", storage.FactorActive)
	if err != nil {
		return Tokens{}, err
	}
	if len(factors) == 0 {
		return Tokens{}, errs.E(errs.FailedPrecondition, reasons.SecondFactorRequired, "the account has no second factor; enrol one")
	}
	now := s.now()
	if err := s.reserveMFA(ctx, a.ID, now); err != nil {
		s.record(ctx, s.event(ctx, ActionStepUp, auditclient.Denied, a.ID, ResourceSession, c.SessionID, reasons.MFALocked))
		return Tokens{}, err
	}
	var as mfa.Assurance
	var factorID string
	if p.TOTP != "" {
		as, factorID, err = s.checkTOTP(ctx, a.ID, factors, p.TOTP, now)
	} else {
		as, err = s.checkRecoveryCode(ctx, a.ID, p.RecoveryCode)
		factorID = "recovery_code"
	}
	if err != nil {
		s.record(ctx, s.event(ctx, ActionStepUp, auditclient.Denied, a.ID, ResourceSession, c.SessionID, errs.ReasonOf(err)))
		return Tokens{}, err
	}
	var toks Tokens
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.ResetMFA(ctx, tx, a.ID, now); err != nil {
			return err
		}
		if toks, err = s.elevate(ctx, tx, c, a, as, now); err != nil {
			return err
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionStepUp, auditclient.Success, a.ID, ResourceFactor, factorID, ""))
	})
	return toks, err
}

// checkTOTP compares code with the account's TOTP factors and spends the
// step it matched (compare-and-set on the factor's last step).
func (s *Service) checkTOTP(ctx context.Context, accountID string, factors []storage.Factor, code string, now time.Time) (mfa.Assurance, string, error) {
	var last error = errs.E(errs.Unauthenticated, mfa.ReasonTOTPCodeInvalid, "the TOTP code is not valid")
	for _, f := range factors {
		if f.Type != storage.FactorTOTP {
			continue
		}
		step, err := s.TOTP.Verify(ctx, mfa.FactorRef{AccountID: accountID, FactorID: f.ID}, f.Secret, code, f.LastUsedStep, now)
		s.checked()
		if err != nil {
			if errs.KindOf(err) != errs.Unauthenticated {
				return mfa.Assurance{}, "", err
			}
			last = err
			continue
		}
		ok, err := s.Store.AdvanceTOTPStep(ctx, s.Store.DB(), f.ID, f.LastUsedStep, step, now)
		if err != nil {
			return mfa.Assurance{}, "", err
		}
		if !ok {
			// Another request spent this step (or a later one) first.
			return mfa.Assurance{}, "", errs.E(errs.Unauthenticated, mfa.ReasonTOTPCodeReplayed, "this TOTP code was already used; wait for the next one")
		}
		return mfa.TOTPAssurance(), f.ID, nil
	}
	return mfa.Assurance{}, "", last
}

// checkRecoveryCode spends a matching unused recovery code, once.
func (s *Service) checkRecoveryCode(ctx context.Context, accountID, code string) (mfa.Assurance, error) {
	rows, err := s.Store.RecoveryCodes(ctx, s.Store.DB(), accountID)
	if err != nil {
		return mfa.Assurance{}, err
	}
	hashes := make([]mfa.RecoveryHash, len(rows))
	for i, r := range rows {
		hashes[i] = mfa.RecoveryHash{KeyVersion: r.KeyVersion, MAC: r.MAC, Used: r.Used}
	}
	i, err := s.Recovery.Verify(ctx, accountID, code, hashes)
	s.checked()
	if err != nil {
		return mfa.Assurance{}, err
	}
	ok, err := s.Store.UseRecoveryCode(ctx, s.Store.DB(), accountID, rows[i].Index)
	if err != nil {
		return mfa.Assurance{}, err
	}
	if !ok {
		return mfa.Assurance{}, errs.E(errs.Unauthenticated, mfa.ReasonRecoveryCodeInvalid, "the recovery code is not valid")
	}
	return mfa.RecoveryCodeAssurance(), nil
}

// FactorList is the caller's factors.
type FactorList struct {
	Factors           []storage.Factor
	RecoveryRemaining int
}

// ListFactors lists the caller's active factors and unused recovery codes.
func (s *Service) ListFactors(ctx context.Context, c Caller) (FactorList, error) {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return FactorList{}, err
	}
	fs, err := s.Store.Factors(ctx, s.Store.DB(), a.ID, "", storage.FactorActive)
	if err != nil {
		return FactorList{}, err
	}
	codes, err := s.Store.RecoveryCodes(ctx, s.Store.DB(), a.ID)
	if err != nil {
		return FactorList{}, err
	}
	out := FactorList{Factors: fs}
	for _, rc := range codes {
		if !rc.Used {
			out.RecoveryRemaining++
		}
	}
	return out, nil
}

// DeleteFactor removes one of the caller's factors (recent aal2); removing
// the last one also removes the recovery codes.
func (s *Service) DeleteFactor(ctx context.Context, c Caller, factorID string) error {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return err
	}
	if err := s.requireRecent(c, true); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.DeleteFactor(ctx, tx, a.ID, factorID); err != nil {
			return err
		}
		left, err := s.Store.CountActiveFactors(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if left == 0 {
			if err := s.Store.ReplaceRecoveryCodes(ctx, tx, a.ID, nil); err != nil {
				return err
			}
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionMFARemove, auditclient.Success, a.ID, ResourceFactor, factorID, ""))
	})
}

// RegenerateRecoveryCodes replaces the caller's recovery codes (recent
// aal2, and an active factor to recover).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, c Caller) ([]string, error) {
	_, a, err := s.callerAccount(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.requireRecent(c, true); err != nil {
		return nil, err
	}
	n, err := s.Store.CountActiveFactors(ctx, s.Store.DB(), a.ID)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errs.E(errs.FailedPrecondition, reasons.SecondFactorRequired, "recovery codes need a second factor")
	}
	var codes []string
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if codes, err = s.newRecoveryCodes(ctx, tx, a.ID); err != nil {
			return err
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionRecoveryCodes, auditclient.Success, a.ID, ResourceAccount, a.ID, ""))
	})
	return codes, err
}

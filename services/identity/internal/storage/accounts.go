package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Account kinds as stored.
const (
	KindCustomer = "customer"
	KindStaff    = "staff"
)

// Account is one account row.
type Account struct {
	ID         string
	Kind       string
	Tenant     string // "" for staff
	EmailToken string
	// EmailMaskToken is a random token of the address, unique to this
	// account, for its masked view (a deterministic token can be shared).
	EmailMaskToken string
	PhoneToken     string
	EmailVerified  bool
	// PendingEmailToken and PendingEmailMaskToken are the tokens of a
	// corrected address waiting for its code (SetPendingEmail), or "".
	PendingEmailToken     string
	PendingEmailMaskToken string
	Roles                 []string
	// PasswordHash is an argon2id PHC string, or "" when no password is set
	// (a staff member who has not used the password-set code yet).
	PasswordHash string
	FailedLogins int
	LockedUntil  time.Time
	MFAFailures  int
	MFALocked    time.Time
	// RequestID is CreateStaffAccount's idempotency key; "" otherwise.
	RequestID string
	// WebAuthnHandle is the account's WebAuthn user handle, or nil.
	WebAuthnHandle []byte
	Created        time.Time
	Updated        time.Time
}

const accountColumns = `account_id, kind, tenant, email_token, email_mask_token, phone_token, email_verified, roles,
	password_hash, failed_logins, locked_until_us, mfa_failures, mfa_locked_until_us, COALESCE(request_id, ''),
	webauthn_handle, created_us, updated_us, pending_email_token, pending_email_mask_token`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var verified int
	var roles string
	var locked, mfaLocked, created, updated int64
	err := row.Scan(&a.ID, &a.Kind, &a.Tenant, &a.EmailToken, &a.EmailMaskToken, &a.PhoneToken, &verified, &roles,
		&a.PasswordHash, &a.FailedLogins, &locked, &a.MFAFailures, &mfaLocked, &a.RequestID, &a.WebAuthnHandle, &created, &updated,
		&a.PendingEmailToken, &a.PendingEmailMaskToken)
	if err != nil {
		return Account{}, err
	}
	a.EmailVerified = verified != 0
	a.Roles = splitList(roles)
	a.LockedUntil, a.MFALocked = fromUS(locked), fromUS(mfaLocked)
	a.Created, a.Updated = fromUS(created), fromUS(updated)
	return a, nil
}

// InsertAccount adds an account. Another account with the same login name
// (kind, tenant, e-mail token) is AlreadyExists ACCOUNT_EXISTS; a reused
// request_id is AlreadyExists REQUEST_ID_REUSED.
func (s *Store) InsertAccount(ctx context.Context, q Q, a Account) error {
	if a.ID == "" || a.Kind == "" || a.EmailToken == "" || a.Created.IsZero() {
		return errInternal("account without id, kind, e-mail token or creation time")
	}
	var requestID any
	if a.RequestID != "" {
		requestID = a.RequestID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO accounts (account_id, kind, tenant, email_token, email_mask_token, phone_token,
		email_verified, email_proven, roles, password_hash, request_id, webauthn_handle, created_us, updated_us)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $12)`,
		a.ID, a.Kind, a.Tenant, a.EmailToken, a.EmailMaskToken, a.PhoneToken, boolInt(a.EmailVerified), joinList(a.Roles),
		a.PasswordHash, requestID, nilIfEmpty(a.WebAuthnHandle), us(a.Created))
	if store.IsUniqueViolation(err) {
		// Which constraint: the request id is checked first by callers that
		// set one, so a violation with a request id names it.
		if a.RequestID != "" {
			if _, gerr := s.AccountByRequestID(ctx, q, a.RequestID); gerr == nil {
				return errs.Wrap(err, errs.AlreadyExists, reasons.RequestIDReused, "request_id was used before")
			}
		}
		return errs.Wrap(err, errs.AlreadyExists, reasons.AccountExists, "an account with this login exists")
	}
	return store.MapError(err)
}

// Account returns the account with id; NotFound ACCOUNT_NOT_FOUND.
func (s *Store) Account(ctx context.Context, q Q, id string) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE account_id = $1`, id))
	if err != nil {
		return Account{}, notFound(err, reasons.AccountNotFound, "account")
	}
	return a, nil
}

// AccountByLogin finds an account by its login name.
func (s *Store) AccountByLogin(ctx context.Context, q Q, kind, tenant, emailToken string) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE kind = $1 AND tenant = $2 AND email_token = $3`, kind, tenant, emailToken))
	if err != nil {
		return Account{}, notFound(err, reasons.AccountNotFound, "account")
	}
	return a, nil
}

// AccountByRequestID finds the account CreateStaffAccount made for a
// request_id.
func (s *Store) AccountByRequestID(ctx context.Context, q Q, requestID string) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE request_id = $1`, requestID))
	if err != nil {
		return Account{}, notFound(err, reasons.AccountNotFound, "account")
	}
	return a, nil
}

// Lockout is the attempt schedule of a password or second-factor counter:
// Free consecutive failures cost nothing, then each further attempt locks
// the counter for Base·2^(n−Free), at most Max; after Cap consecutive
// failures (NIST SP 800-63B: at most 100) nothing is evaluated until the
// counter is reset (a successful reset, or an operator).
type Lockout struct {
	Free int
	Cap  int
	Base time.Duration
	Max  time.Duration
}

// Delay is the lock that the reservation of the n-th consecutive attempt
// sets (the SQL of reserve computes the same).
func (l Lockout) Delay(n int) time.Duration {
	if n < l.Free {
		return 0
	}
	d := l.Base
	for i := 0; i < n-l.Free; i++ {
		d *= 2
		if d >= l.Max {
			return l.Max
		}
	}
	return min(d, l.Max)
}

// steps is the smallest s with Base·2^s ≥ Max: the exponent beyond which
// the SQL uses Max (and never shifts out of range).
func (l Lockout) steps() int {
	s := 0
	for d := l.Base; d < l.Max && s < 62; d *= 2 {
		s++
	}
	return s
}

// counter names the two attempt counters of an account.
type counter struct{ failures, lockedUntil string }

var (
	passwordCounter = counter{"failed_logins", "locked_until_us"}
	mfaCounter      = counter{"mfa_failures", "mfa_locked_until_us"}
)

// ReserveLogin reserves one password attempt for the account before the
// password is evaluated: atomically, it counts the attempt as a failure and
// sets the lock the next attempt must wait for, as if this one will fail. It
// returns false (and changes nothing) when the account is locked or at its
// cap, or does not exist. ResetLogin clears both once the password was
// right. Because the lock is set at reservation, parallel requests cannot
// slip past it: at most Free attempts run before the first lock, then one
// per expired lock.
func (s *Store) ReserveLogin(ctx context.Context, q Q, accountID string, l Lockout, now time.Time) (int, bool, error) {
	return s.reserve(ctx, q, passwordCounter, accountID, l, now)
}

// ResetLogin clears the password counter after a right password.
func (s *Store) ResetLogin(ctx context.Context, q Q, accountID string, now time.Time) error {
	return s.reset(ctx, q, passwordCounter, accountID, now)
}

// ReserveMFA is ReserveLogin for second-factor codes (TOTP and recovery
// codes share one counter per account).
func (s *Store) ReserveMFA(ctx context.Context, q Q, accountID string, l Lockout, now time.Time) (int, bool, error) {
	return s.reserve(ctx, q, mfaCounter, accountID, l, now)
}

// ResetMFA clears the second-factor counter after a right code.
func (s *Store) ResetMFA(ctx context.Context, q Q, accountID string, now time.Time) error {
	return s.reset(ctx, q, mfaCounter, accountID, now)
}

func (s *Store) reserve(ctx context.Context, q Q, c counter, accountID string, l Lockout, now time.Time) (int, bool, error) {
	if l.Free < 1 || l.Cap < l.Free || l.Cap > 100 || l.Base <= 0 || l.Max < l.Base {
		return 0, false, errInternal("invalid lockout schedule")
	}
	// n = the attempt's number among the consecutive failures. The CASE is
	// Lockout.Delay; the shift is bounded by steps so it cannot overflow.
	query := fmt.Sprintf(`UPDATE accounts SET
		%[1]s = %[1]s + 1,
		%[2]s = CASE
			WHEN %[1]s + 1 < $3 THEN 0
			WHEN %[1]s + 1 - $3 >= $4 THEN CAST($2 AS BIGINT) + CAST($6 AS BIGINT)
			ELSE CAST($2 AS BIGINT) + (CAST($5 AS BIGINT) << (%[1]s + 1 - $3)) END,
		updated_us = $2
		WHERE account_id = $1 AND %[1]s < $7 AND %[2]s <= $2
		RETURNING %[1]s`, c.failures, c.lockedUntil)
	var n int
	err := q.QueryRowContext(ctx, query, accountID, us(now), l.Free, l.steps(),
		l.Base.Microseconds(), l.Max.Microseconds(), l.Cap).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, store.MapError(err)
	}
	return n, true, nil
}

func (s *Store) reset(ctx context.Context, q Q, c counter, accountID string, now time.Time) error {
	_, err := q.ExecContext(ctx, fmt.Sprintf(`UPDATE accounts SET %s = 0, %s = 0, updated_us = $2 WHERE account_id = $1`,
		c.failures, c.lockedUntil), accountID, us(now))
	return store.MapError(err)
}

// SetPassword replaces the account's password hash and clears its password
// lockout (a reset proves control of the mailbox).
func (s *Store) SetPassword(ctx context.Context, q Q, accountID, hash string, now time.Time) error {
	ok, err := affected(q.ExecContext(ctx, `UPDATE accounts SET password_hash = $2, failed_logins = 0, locked_until_us = 0,
		updated_us = $3 WHERE account_id = $1`, accountID, hash, us(now)))
	if err == nil && !ok {
		err = errs.E(errs.NotFound, reasons.AccountNotFound, "account not found")
	}
	return err
}

// UpgradePasswordHash replaces a hash made with older parameters by one made
// with the current ones, only if the stored hash is still old (a password
// change in between wins).
func (s *Store) UpgradePasswordHash(ctx context.Context, q Q, accountID, old, hash string, now time.Time) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE accounts SET password_hash = $3, updated_us = $4
		WHERE account_id = $1 AND password_hash = $2`, accountID, old, hash, us(now)))
}

// SetWebAuthnHandle gives the account its WebAuthn user handle, once: an
// account that has one keeps it (false).
func (s *Store) SetWebAuthnHandle(ctx context.Context, q Q, accountID string, handle []byte) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE accounts SET webauthn_handle = $2 WHERE account_id = $1 AND webauthn_handle IS NULL`,
		accountID, handle))
}

// AccountByWebAuthnHandle finds the account of a passkey's user handle.
func (s *Store) AccountByWebAuthnHandle(ctx context.Context, q Q, handle []byte) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE webauthn_handle = $1`, handle))
	if err != nil {
		return Account{}, notFound(err, reasons.AccountNotFound, "account")
	}
	return a, nil
}

// SetEmailVerified marks the account's current e-mail address as verified;
// true when no address of the account was ever proved before (the first
// verification), which one compare-and-set decides even under parallel
// calls. Proving an address the proved owner changed to (ConfirmEmail) is
// not a first verification.
func (s *Store) SetEmailVerified(ctx context.Context, q Q, accountID string, now time.Time) (bool, error) {
	first, err := affected(q.ExecContext(ctx, `UPDATE accounts SET email_verified = 1, email_proven = 1, updated_us = $2
		WHERE account_id = $1 AND email_proven = 0`, accountID, us(now)))
	if err != nil || first {
		return first, err
	}
	_, err = q.ExecContext(ctx, `UPDATE accounts SET email_verified = 1, updated_us = $2 WHERE account_id = $1 AND email_verified = 0`,
		accountID, us(now))
	return false, store.MapError(err)
}

// SetPendingEmail records a corrected address (its deterministic and
// random tokens) and the hash of the code that proves it, replacing any
// change pending before. The login name does not change; ConfirmEmail
// makes the address current. A missing account is NotFound
// ACCOUNT_NOT_FOUND.
func (s *Store) SetPendingEmail(ctx context.Context, q Q, accountID, emailToken, maskToken, codeHash string, now time.Time) error {
	if emailToken == "" || codeHash == "" {
		return errInternal("pending address without a token or a code")
	}
	ok, err := affected(q.ExecContext(ctx, `UPDATE accounts SET pending_email_token = $2, pending_email_mask_token = $3,
		pending_email_code = $4, updated_us = $5 WHERE account_id = $1`, accountID, emailToken, maskToken, codeHash, us(now)))
	if err == nil && !ok {
		err = errs.E(errs.NotFound, reasons.AccountNotFound, "account not found")
	}
	return err
}

// ClearPendingEmail forgets the account's pending address, if any.
func (s *Store) ClearPendingEmail(ctx context.Context, q Q, accountID string, now time.Time) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE accounts SET pending_email_token = '', pending_email_mask_token = '',
		pending_email_code = '', updated_us = $2 WHERE account_id = $1 AND pending_email_token <> ''`, accountID, us(now)))
}

// ConfirmEmail makes the pending address the account's login name, if the
// code with codeHash is the one mailed to it (false otherwise: no change
// pending, or a newer one replaced it). The address is unverified until
// SetEmailVerified, in the same transaction. An address another account
// of the same kind and tenant holds is AlreadyExists ACCOUNT_EXISTS (the
// unique login name).
func (s *Store) ConfirmEmail(ctx context.Context, q Q, accountID, codeHash string, now time.Time) (bool, error) {
	ok, err := affected(q.ExecContext(ctx, `UPDATE accounts SET email_token = pending_email_token,
		email_mask_token = pending_email_mask_token, email_verified = 0, pending_email_token = '',
		pending_email_mask_token = '', pending_email_code = '', updated_us = $3
		WHERE account_id = $1 AND pending_email_code = $2 AND pending_email_token <> ''`, accountID, codeHash, us(now)))
	if store.IsUniqueViolation(err) {
		return false, errs.Wrap(err, errs.AlreadyExists, reasons.AccountExists, "an account with this login exists")
	}
	return ok, err
}

// SetPhoneToken replaces the account's phone token ("" removes it).
func (s *Store) SetPhoneToken(ctx context.Context, q Q, accountID, phoneToken string, now time.Time) error {
	ok, err := affected(q.ExecContext(ctx, `UPDATE accounts SET phone_token = $2, updated_us = $3 WHERE account_id = $1`,
		accountID, phoneToken, us(now)))
	if err == nil && !ok {
		err = errs.E(errs.NotFound, reasons.AccountNotFound, "account not found")
	}
	return err
}

// LockAccount takes the account's row for the rest of tx (a no-op update:
// a row lock on PostgreSQL, the database's write lock on SQLite);
// NotFound when it is gone.
func (s *Store) LockAccount(ctx context.Context, q Q, accountID string) error {
	ok, err := affected(q.ExecContext(ctx, `UPDATE accounts SET updated_us = updated_us WHERE account_id = $1`, accountID))
	if err == nil && !ok {
		err = errs.E(errs.NotFound, reasons.AccountNotFound, "account not found")
	}
	return err
}

// DeleteFactorsOf deletes every second factor (active or pending), recovery
// code and WebAuthn ceremony of the account, and its WebAuthn user handle
// (a passkey made for the old handle then finds no account).
func (s *Store) DeleteFactorsOf(ctx context.Context, q Q, accountID string) error {
	for _, stmt := range []string{
		`DELETE FROM factors WHERE account_id = $1`,
		`DELETE FROM recovery_codes WHERE account_id = $1`,
		`DELETE FROM webauthn_ceremonies WHERE account_id = $1`,
		`UPDATE accounts SET webauthn_handle = NULL WHERE account_id = $1`,
	} {
		if _, err := q.ExecContext(ctx, stmt, accountID); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// DeleteAccount deletes the account and everything that hangs off it except
// its sessions' revocations (the caller revokes the sessions first, in the
// same transaction, so their tokens are refused everywhere).
func (s *Store) DeleteAccount(ctx context.Context, q Q, accountID string) error {
	for _, stmt := range []string{
		`DELETE FROM refresh_tokens WHERE session_id IN (SELECT session_id FROM sessions WHERE account_id = $1)`,
		`DELETE FROM sessions WHERE account_id = $1`,
		`DELETE FROM codes WHERE account_id = $1`,
		`DELETE FROM factors WHERE account_id = $1`,
		`DELETE FROM recovery_codes WHERE account_id = $1`,
		`DELETE FROM webauthn_ceremonies WHERE account_id = $1`,
	} {
		if _, err := q.ExecContext(ctx, stmt, accountID); err != nil {
			return store.MapError(err)
		}
	}
	ok, err := affected(q.ExecContext(ctx, `DELETE FROM accounts WHERE account_id = $1`, accountID))
	if err == nil && !ok {
		err = errs.E(errs.NotFound, reasons.AccountNotFound, "account not found")
	}
	return err
}

// ClaimBootstrap records the first admin; a second claim, ever, is
// FailedPrecondition ADMIN_EXISTS. It also refuses when any admin exists
// (one created otherwise, e.g. restored from a backup).
func (s *Store) ClaimBootstrap(ctx context.Context, q Q, accountID string, now time.Time) error {
	var admins int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE kind = $1 AND (' ' || roles || ' ') LIKE '% admin %'`,
		KindStaff).Scan(&admins); err != nil {
		return store.MapError(err)
	}
	if admins > 0 {
		return errs.E(errs.FailedPrecondition, reasons.AdminExists, "an admin exists")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO bootstrap (singleton, account_id, created_us) VALUES (1, $1, $2)`, accountID, us(now))
	if store.IsUniqueViolation(err) {
		return errs.Wrap(err, errs.FailedPrecondition, reasons.AdminExists, "the first admin was created before")
	}
	return store.MapError(err)
}

// Code purposes.
const (
	CodeVerifyEmail   = "verify_email"
	CodeResetPassword = "reset_password"
	// CodeSetPassword is a new staff member's first password.
	CodeSetPassword = "set_password"
	// CodeChangeEmail proves a corrected address (SetPendingEmail).
	CodeChangeEmail = "change_email"
)

// Code is a single-use code, stored by the SHA-256 of its value.
type Code struct {
	Hash      string
	AccountID string
	Purpose   string
	Expires   time.Time
	Created   time.Time
}

// InsertCode stores a code. Codes of the same purpose issued before stay
// valid until they expire or one of them is used (InvalidateCodes).
func (s *Store) InsertCode(ctx context.Context, q Q, c Code) error {
	_, err := q.ExecContext(ctx, `INSERT INTO codes (code_hash, account_id, purpose, expires_us, created_us) VALUES ($1, $2, $3, $4, $5)`,
		c.Hash, c.AccountID, c.Purpose, us(c.Expires), us(c.Created))
	return store.MapError(err)
}

// CountCodesSince counts the codes of purpose made for the account since
// then (a cap on e-mails to one inbox).
func (s *Store) CountCodesSince(ctx context.Context, q Q, accountID, purpose string, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM codes WHERE account_id = $1 AND purpose = $2 AND created_us >= $3`,
		accountID, purpose, us(since)).Scan(&n)
	return n, store.MapError(err)
}

// PeekCode returns the account of an unused, unexpired code without
// spending it (to check a new password before the code is used up);
// Unauthenticated CODE_INVALID otherwise.
func (s *Store) PeekCode(ctx context.Context, q Q, hash, purpose string, now time.Time) (string, error) {
	var accountID string
	err := q.QueryRowContext(ctx, `SELECT account_id FROM codes WHERE code_hash = $1 AND purpose = $2 AND used_us = 0 AND expires_us > $3`,
		hash, purpose, us(now)).Scan(&accountID)
	if err == sql.ErrNoRows {
		return "", errs.E(errs.Unauthenticated, reasons.CodeInvalid, "the code is not valid (unknown, used or expired)")
	}
	return accountID, store.MapError(err)
}

// UseCode spends the code with hash for purpose: once, before it expires.
// Anything else (unknown, used, expired, another purpose) is
// Unauthenticated CODE_INVALID.
func (s *Store) UseCode(ctx context.Context, q Q, hash, purpose string, now time.Time) (string, error) {
	var accountID string
	err := q.QueryRowContext(ctx, `UPDATE codes SET used_us = $3
		WHERE code_hash = $1 AND purpose = $2 AND used_us = 0 AND expires_us > $3 RETURNING account_id`,
		hash, purpose, us(now)).Scan(&accountID)
	if err == sql.ErrNoRows {
		return "", errs.E(errs.Unauthenticated, reasons.CodeInvalid, "the code is not valid (unknown, used or expired)")
	}
	return accountID, store.MapError(err)
}

// InvalidateCodes spends every unused code of the account for purpose (a
// used reset code retires the others; a new password retires old resets).
func (s *Store) InvalidateCodes(ctx context.Context, q Q, accountID, purpose string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE codes SET used_us = $3 WHERE account_id = $1 AND purpose = $2 AND used_us = 0`,
		accountID, purpose, us(now))
	return store.MapError(err)
}

// PruneCodes deletes codes that expired before `before`.
func (s *Store) PruneCodes(ctx context.Context, q Q, before time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM codes WHERE expires_us < $1`, us(before))
	if err != nil {
		return 0, store.MapError(err)
	}
	return res.RowsAffected()
}

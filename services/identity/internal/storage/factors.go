package storage

import (
	"context"
	"database/sql"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Factor types and states as stored.
const (
	FactorTOTP     = "totp"
	FactorWebAuthn = "webauthn"

	FactorPending = "pending"
	FactorActive  = "active"
)

// Factor is one second factor.
type Factor struct {
	ID          string
	AccountID   string
	Type        string
	Status      string
	DisplayName string
	// Secret is a TOTP secret wrapped by the KeyManager.
	Secret       []byte
	LastUsedStep int64
	// CredentialID and Credential are a WebAuthn credential (its id, and
	// the credential as the MFA package serialises it).
	CredentialID   []byte
	Credential     []byte
	PendingExpires time.Time
	Created        time.Time
	LastUsed       time.Time
}

const factorColumns = `factor_id, account_id, type, status, display_name, secret, last_used_step, credential_id, credential,
	pending_expires_us, created_us, last_used_us`

func scanFactor(row interface{ Scan(...any) error }) (Factor, error) {
	var f Factor
	var pending, created, lastUsed int64
	if err := row.Scan(&f.ID, &f.AccountID, &f.Type, &f.Status, &f.DisplayName, &f.Secret, &f.LastUsedStep,
		&f.CredentialID, &f.Credential, &pending, &created, &lastUsed); err != nil {
		return Factor{}, err
	}
	f.PendingExpires, f.Created, f.LastUsed = fromUS(pending), fromUS(created), fromUS(lastUsed)
	return f, nil
}

// nilIfEmpty stores an absent blob as NULL (the credential id's unique
// index then ignores TOTP rows).
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// InsertFactor adds a factor (a pending TOTP, or an active WebAuthn
// credential). A credential id registered before is AlreadyExists.
func (s *Store) InsertFactor(ctx context.Context, q Q, f Factor) error {
	if f.ID == "" || f.AccountID == "" || f.Type == "" || f.Status == "" {
		return errInternal("factor without id, account, type or status")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO factors (factor_id, account_id, type, status, display_name, secret, last_used_step,
		credential_id, credential, pending_expires_us, created_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		f.ID, f.AccountID, f.Type, f.Status, f.DisplayName, nilIfEmpty(f.Secret), f.LastUsedStep,
		nilIfEmpty(f.CredentialID), nilIfEmpty(f.Credential), us(f.PendingExpires), us(f.Created))
	return store.MapError(err)
}

// Factor returns a factor of the account; NotFound FACTOR_NOT_FOUND.
func (s *Store) Factor(ctx context.Context, q Q, accountID, factorID string) (Factor, error) {
	f, err := scanFactor(q.QueryRowContext(ctx, `SELECT `+factorColumns+` FROM factors WHERE factor_id = $1 AND account_id = $2`,
		factorID, accountID))
	if err != nil {
		return Factor{}, notFound(err, reasons.FactorNotFound, "factor")
	}
	return f, nil
}

// Factors returns the account's factors of a type ("" for all) in a
// status ("" for all), oldest first.
func (s *Store) Factors(ctx context.Context, q Q, accountID, typ, status string) ([]Factor, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+factorColumns+` FROM factors WHERE account_id = $1
		AND ($2 = '' OR type = $2) AND ($3 = '' OR status = $3) ORDER BY created_us, factor_id`, accountID, typ, status)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Factor
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, f)
	}
	return out, store.MapError(rows.Err())
}

// CountActiveFactors counts the account's active second factors.
func (s *Store) CountActiveFactors(ctx context.Context, q Q, accountID string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM factors WHERE account_id = $1 AND status = $2`, accountID, FactorActive).Scan(&n)
	return n, store.MapError(err)
}

// ActivateTOTP turns a pending TOTP factor active with the step of its
// first code, only while it is pending and unexpired: one compare-and-set,
// so a factor is never half-enrolled and a confirmation code is used once.
func (s *Store) ActivateTOTP(ctx context.Context, q Q, accountID, factorID string, step int64, now time.Time) error {
	ok, err := affected(q.ExecContext(ctx, `UPDATE factors SET status = $3, last_used_step = $4, last_used_us = $5, pending_expires_us = 0
		WHERE factor_id = $1 AND account_id = $2 AND type = $6 AND status = $7 AND pending_expires_us > $5`,
		factorID, accountID, FactorActive, step, us(now), FactorTOTP, FactorPending))
	if err == nil && !ok {
		err = errs.E(errs.FailedPrecondition, reasons.FactorNotPending, "the factor is not a pending TOTP enrolment")
	}
	return err
}

// AdvanceTOTPStep stores the step a code matched, only if the factor's last
// step is still old and the step moves forward: a code (or a step) is
// accepted once even under parallel requests (the MFA package's
// compare-and-set).
func (s *Store) AdvanceTOTPStep(ctx context.Context, q Q, factorID string, old, step int64, now time.Time) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE factors SET last_used_step = $3, last_used_us = $4
		WHERE factor_id = $1 AND status = $5 AND last_used_step = $2 AND $3 > $2`, factorID, old, step, us(now), FactorActive))
}

// UpdateWebAuthnCredential stores a credential after an assertion (its
// signature counter and flags moved), only if it is unchanged since it was
// read (old), so parallel assertions cannot both pass a counter check.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, q Q, factorID string, old, credential []byte, now time.Time) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE factors SET credential = $3, last_used_us = $4 WHERE factor_id = $1 AND credential = $2`,
		factorID, old, credential, us(now)))
}

// FactorByCredentialID finds an active WebAuthn factor by credential id.
func (s *Store) FactorByCredentialID(ctx context.Context, q Q, credentialID []byte) (Factor, error) {
	f, err := scanFactor(q.QueryRowContext(ctx, `SELECT `+factorColumns+` FROM factors WHERE credential_id = $1 AND status = $2`,
		credentialID, FactorActive))
	if err != nil {
		return Factor{}, notFound(err, reasons.FactorNotFound, "factor")
	}
	return f, nil
}

// DeleteFactor removes one of the account's factors.
func (s *Store) DeleteFactor(ctx context.Context, q Q, accountID, factorID string) error {
	ok, err := affected(q.ExecContext(ctx, `DELETE FROM factors WHERE factor_id = $1 AND account_id = $2`, factorID, accountID))
	if err == nil && !ok {
		err = errs.E(errs.NotFound, reasons.FactorNotFound, "factor not found")
	}
	return err
}

// DeleteExpiredPending removes the account's pending enrolments that
// expired (a new one replaces them).
func (s *Store) DeleteExpiredPending(ctx context.Context, q Q, accountID string, now time.Time) error {
	_, err := q.ExecContext(ctx, `DELETE FROM factors WHERE account_id = $1 AND status = $2 AND pending_expires_us <= $3`,
		accountID, FactorPending, us(now))
	return store.MapError(err)
}

// RecoveryCode is one stored recovery code.
type RecoveryCode struct {
	Index      int
	KeyVersion int
	MAC        []byte
	Used       bool
}

// ReplaceRecoveryCodes replaces the account's recovery codes with codes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, q Q, accountID string, codes []RecoveryCode) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
		return store.MapError(err)
	}
	for _, c := range codes {
		if _, err := q.ExecContext(ctx, `INSERT INTO recovery_codes (account_id, idx, key_version, mac, used) VALUES ($1, $2, $3, $4, $5)`,
			accountID, c.Index, c.KeyVersion, c.MAC, boolInt(c.Used)); err != nil {
			return store.MapError(err)
		}
	}
	return nil
}

// RecoveryCodes returns the account's recovery codes by index.
func (s *Store) RecoveryCodes(ctx context.Context, q Q, accountID string) ([]RecoveryCode, error) {
	rows, err := q.QueryContext(ctx, `SELECT idx, key_version, mac, used FROM recovery_codes WHERE account_id = $1 ORDER BY idx`, accountID)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []RecoveryCode
	for rows.Next() {
		var c RecoveryCode
		var used int
		if err := rows.Scan(&c.Index, &c.KeyVersion, &c.MAC, &used); err != nil {
			return nil, store.MapError(err)
		}
		c.Used = used != 0
		out = append(out, c)
	}
	return out, store.MapError(rows.Err())
}

// UseRecoveryCode spends one code, once (compare-and-set on used).
func (s *Store) UseRecoveryCode(ctx context.Context, q Q, accountID string, index int) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE recovery_codes SET used = 1 WHERE account_id = $1 AND idx = $2 AND used = 0`,
		accountID, index))
}

// Ceremony kinds.
const (
	CeremonyRegistration = "registration"
	CeremonyLogin        = "login"
)

// Ceremony is the server side of a WebAuthn ceremony.
type Ceremony struct {
	ID          string
	Kind        string
	AccountID   string // "" for a passwordless login
	SessionID   string // the session a step-up elevates; "" otherwise
	Tenant      string
	DisplayName string
	Data        []byte
	Expires     time.Time
}

// InsertCeremony stores a ceremony.
func (s *Store) InsertCeremony(ctx context.Context, q Q, c Ceremony) error {
	_, err := q.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (ceremony_id, kind, account_id, session_id, tenant, display_name,
		data, expires_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.Kind, c.AccountID, c.SessionID, c.Tenant, c.DisplayName, c.Data, us(c.Expires))
	return store.MapError(err)
}

// TakeCeremony returns a ceremony of kind and deletes it, so it is finished
// at most once; unknown, expired or another kind is NotFound
// WEBAUTHN_CEREMONY_NOT_FOUND.
func (s *Store) TakeCeremony(ctx context.Context, q Q, id, kind string, now time.Time) (Ceremony, error) {
	var c Ceremony
	var expires int64
	err := q.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE ceremony_id = $1 AND kind = $2
		RETURNING ceremony_id, kind, account_id, session_id, tenant, display_name, data, expires_us`, id, kind).
		Scan(&c.ID, &c.Kind, &c.AccountID, &c.SessionID, &c.Tenant, &c.DisplayName, &c.Data, &expires)
	if err == nil && expires <= us(now) {
		err = sql.ErrNoRows
	}
	if err != nil {
		return Ceremony{}, notFound(err, reasons.CeremonyNotFound, "WebAuthn ceremony")
	}
	c.Expires = fromUS(expires)
	return c, nil
}

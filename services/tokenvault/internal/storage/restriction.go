package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
)

// Restriction is a subject's restriction state after SetRestricted.
type Restriction struct {
	// Changed is false when the subject was already in the state asked for
	// (a repeated request, or an earlier one): nothing was written.
	Changed bool
	// Since is when the current restriction began (zero once lifted).
	Since time.Time
	// Tokens counts the subject's stored values, which the state governs.
	Tokens int64
}

// SetRestricted restricts a live subject's processing (restrict), or lifts
// the restriction, in tx, so that the caller's audit event commits with it.
// The restriction is read with every token row (tokenSelect), so it holds on
// every replica from the commit on. NotFound for an unknown subject,
// FailedPrecondition SUBJECT_ERASED for an erased one (nothing left to
// restrict).
func (s *Store) SetRestricted(ctx context.Context, tx *sql.Tx, tenant, subject, request string, restrict bool, at time.Time) (Restriction, error) {
	var r Restriction
	var res sql.Result
	var err error
	if restrict {
		res, err = tx.ExecContext(ctx, `UPDATE subjects SET restricted_us = $1, restrict_request = $2
			WHERE tenant = $3 AND subject = $4 AND erased_us IS NULL AND restricted_us IS NULL`, at.UnixMicro(), request, tenant, subject)
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE subjects SET restricted_us = NULL, restrict_request = NULL
			WHERE tenant = $1 AND subject = $2 AND erased_us IS NULL AND restricted_us IS NOT NULL`, tenant, subject)
	}
	if err != nil {
		return r, store.MapError(err)
	}
	n, _ := res.RowsAffected()
	r.Changed = n == 1
	var erased, since sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT erased_us, restricted_us FROM subjects WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&erased, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.E(errs.NotFound, reasons.SubjectNotFound, "subject not found")
	}
	if err != nil {
		return r, store.MapError(err)
	}
	if erased.Valid {
		return r, errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
	}
	r.Since = fromUS(since)
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&r.Tokens)
	return r, store.MapError(err)
}

// ReplaceValue replaces a token's ciphertext with one sealed under the
// subject's data key version (a rectification), in one transaction that
// first checks, under the subject row's lock, that version is current and
// the subject not erased. Unlike Reseal it does not compare the old
// version: a re-encryption that moved the old value meanwhile must not win
// over the correction. NotFound if the token is gone (purged).
func (s *Store) ReplaceValue(ctx context.Context, t Token, ciphertext []byte, version int) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CheckSubject(ctx, tx, t.Tenant, t.Subject, version); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET ciphertext = $1, dek_version = $2 WHERE token = $3 AND tenant = $4 AND subject = $5`,
			ciphertext, version, t.Token, t.Tenant, t.Subject)
		if err != nil {
			return store.MapError(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.NotFound, reasons.UnknownToken, "no such token")
		}
		return nil
	})
}

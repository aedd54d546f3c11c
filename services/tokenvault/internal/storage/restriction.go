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

// SetRestricted restricts a subject's processing (restrict), or lifts the
// restriction, in tx, so that the caller's audit event commits with it. The
// restriction is kept by (tenant, subject), not on the subject's row: one
// placed before the vault holds any value of the subject governs the values
// tokenised later. It is read with every token row (tokenSelect), so it
// holds on every replica from the commit on. FailedPrecondition
// SUBJECT_ERASED for an erased subject (nothing left to restrict, and
// nothing can be stored for it again).
func (s *Store) SetRestricted(ctx context.Context, tx *sql.Tx, tenant, subject, request string, restrict bool, at time.Time) (Restriction, error) {
	var r Restriction
	var erased sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT erased_us FROM subjects WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&erased)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, store.MapError(err)
	}
	if erased.Valid {
		return r, errs.E(errs.FailedPrecondition, reasons.SubjectErased, "the subject was erased")
	}
	var res sql.Result
	if restrict {
		res, err = tx.ExecContext(ctx, `INSERT INTO subject_restrictions (tenant, subject, restricted_us, restrict_request) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant, subject) DO NOTHING`, tenant, subject, at.UnixMicro(), request)
	} else {
		res, err = tx.ExecContext(ctx, `DELETE FROM subject_restrictions WHERE tenant = $1 AND subject = $2`, tenant, subject)
	}
	if err != nil {
		return r, store.MapError(err)
	}
	n, _ := res.RowsAffected()
	r.Changed = n == 1
	if restrict {
		var since int64
		if err := tx.QueryRowContext(ctx, `SELECT restricted_us FROM subject_restrictions WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&since); err != nil {
			return r, store.MapError(err)
		}
		r.Since = time.UnixMicro(since).UTC()
	}
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

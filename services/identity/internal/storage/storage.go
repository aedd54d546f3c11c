// Package storage is identity's database: accounts, codes, sessions and
// their refresh tokens, revocations, second factors, recovery codes,
// WebAuthn ceremonies and integrator clients, in SQLite or PostgreSQL
// through the same SQL.
//
// Every method takes a Q: the *sql.DB for a statement on its own, or the
// *sql.Tx of a change that writes several rows, so that what belongs
// together commits together (an account with its verification code and its
// audit event; a revocation with its event). Check-and-set operations (a
// lockout reservation, a code's single use, a refresh token's rotation, a
// TOTP step) are one conditional UPDATE each, so parallel requests cannot
// both win, on either database.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Q is what the methods run their statements on: *sql.DB or *sql.Tx.
type Q interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is identity's storage.
type Store struct {
	db *store.DB
}

// New wraps an opened, migrated database.
func New(db *store.DB) *Store { return &Store{db: db} }

// DB is the database, for statements outside a transaction.
func (s *Store) DB() *sql.DB { return s.db.DB }

// InTx runs fn in one read-write transaction (see store.DB.InTx).
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.db.InTx(ctx, fn)
}

// us is t in microseconds since the epoch; the zero time is 0 ("never").
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromUS reverses us.
func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// notFound maps sql.ErrNoRows to NotFound with reason; other errors through
// store.MapError.
func notFound(err error, reason, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Wrap(err, errs.NotFound, reason, "%s not found", what)
	}
	return store.MapError(err)
}

// affected reports whether res changed at least one row.
func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, store.MapError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, store.MapError(err)
	}
	return n > 0, nil
}

// joinList and splitList store short lists of identifiers (roles, amr,
// scopes) as one space-separated column: none of their values has a space.
func joinList(v []string) string { return strings.Join(v, " ") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// errInternal is a store invariant that does not hold (a row without what
// every row has).
func errInternal(msg string) error {
	return errs.E(errs.Internal, reasons.StoreInvariant, "%s", msg)
}

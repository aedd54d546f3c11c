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
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Q is what the methods run their statements on: *sql.DB or *sql.Tx.
type Q = store.Q

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

// WALScrubber empties SQLite's write-ahead log (store.Scrubber): after an
// erasure it still holds the page images of the erased rows. A no-op on
// PostgreSQL.
func (s *Store) WALScrubber(timeout time.Duration) *store.Scrubber {
	return store.NewScrubber(s.db, timeout)
}

// us and fromUS store times as microseconds since the epoch, the zero
// time as 0 ("never").
var (
	us     = store.Micros
	fromUS = store.FromMicros
)

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// notFound maps sql.ErrNoRows to NotFound with reason.
var notFound = store.NotFound

// affected reports whether an Exec changed at least one row.
var affected = store.Affected

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

// Package storage is the consent service's database: the catalogue
// (purposes with every revision, notice versions with their texts), the
// consent records (every decision, never changed), the current state per
// subject and purpose (for Check), the signed receipts and the idempotency
// keys of requests, in SQLite or PostgreSQL through the same SQL.
//
// Every method takes a Q: the *sql.DB for a statement on its own, or the
// *sql.Tx of a change that writes several rows, so that what belongs
// together commits together (records, state, receipt, audit events and the
// change-feed event of one decision).
package storage

import (
	"context"
	"database/sql"
	"strings"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// Q is what the methods run their statements on: *sql.DB or *sql.Tx.
type Q = store.Q

// Store is the consent service's storage.
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

// joinList and splitList store short lists of identifiers (jurisdictions,
// purpose ids) as one space-separated column: none has a space.
func joinList(v []string) string { return strings.Join(v, " ") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// notFound maps sql.ErrNoRows to NotFound with reason.
var notFound = store.NotFound

func errInternal(msg string) error {
	return errs.E(errs.Internal, reasons.StoreInvariant, "%s", msg)
}

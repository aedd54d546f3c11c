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
	"errors"
	"strings"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// Q is what the methods run their statements on: *sql.DB or *sql.Tx.
type Q interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

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

// us is t in microseconds since the epoch.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

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

// joinList and splitList store short lists of identifiers (jurisdictions,
// purpose ids) as one space-separated column: none has a space.
func joinList(v []string) string { return strings.Join(v, " ") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// notFound maps sql.ErrNoRows to NotFound with reason; other errors go
// through store.MapError.
func notFound(err error, reason, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Wrap(err, errs.NotFound, reason, "%s not found", what)
	}
	return store.MapError(err)
}

func errInternal(msg string) error {
	return errs.E(errs.Internal, reasons.StoreInvariant, "%s", msg)
}

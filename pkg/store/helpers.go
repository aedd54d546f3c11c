package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// Q is what a service's storage methods run their statements on: the
// *sql.DB for a statement on its own, or the *sql.Tx of a change that
// writes several rows together.
type Q interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Micros is t as an integer column: microseconds since the epoch, the zero
// time as 0 ("never"). SQLite and PostgreSQL store it alike.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros reverses Micros (in UTC).
func FromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// NotFound maps sql.ErrNoRows to NotFound with reason ("<what> not found");
// other errors go through MapError.
func NotFound(err error, reason, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Wrap(err, errs.NotFound, reason, "%s not found", what)
	}
	return MapError(err)
}

// Affected reports whether an Exec's result changed at least one row (the
// outcome of a compare-and-set), mapping errors with MapError.
func Affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, MapError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, MapError(err)
	}
	return n > 0, nil
}

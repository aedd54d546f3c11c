package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sottohq/sotto/pkg/errs"
)

// Reasons of the errors MapError returns.
const (
	ReasonAlreadyExists = "ALREADY_EXISTS"
	ReasonNotFound      = "NOT_FOUND"
	ReasonUnavailable   = "STORE_UNAVAILABLE"
	ReasonInternal      = "STORE_ERROR"
)

// PostgreSQL SQLSTATE codes MapError looks at.
const (
	pgUniqueViolation    = "23505"
	pgTooManyConnections = "53300"
	pgAdminShutdown      = "57P01"
	pgCrashShutdown      = "57P02"
	pgCannotConnectNow   = "57P03"
	pgConnectionClass    = "08" // connection_exception and its subclasses
)

// MapError turns a database error into a client-safe *errs.Error:
//
//   - unique or primary key violation: AlreadyExists (ALREADY_EXISTS)
//   - sql.ErrNoRows: NotFound (NOT_FOUND)
//   - database unreachable, overloaded, shutting down or locked (SQLite busy):
//     Unavailable (STORE_UNAVAILABLE), which clients may retry
//   - anything else: Internal (STORE_ERROR)
//
// The message is generic: driver messages quote SQL and the values that
// violated a constraint (PostgreSQL's "Key (email)=(...) already exists"), so
// the driver error is kept only as the private cause. nil, *errs.Error values
// and context cancellation or deadline errors are returned unchanged, so
// MapError can be applied more than once. Services usually wrap the result
// again with a domain reason (errs.Wrap(err, errs.AlreadyExists, "SUBJECT_EXISTS", ...)).
func MapError(err error) error {
	var e *errs.Error
	switch {
	case err == nil, errors.As(err, &e), isContextErr(err):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return errs.Wrap(err, errs.NotFound, ReasonNotFound, "not found")
	case IsUniqueViolation(err):
		return errs.Wrap(err, errs.AlreadyExists, ReasonAlreadyExists, "already exists")
	case isUnavailable(err):
		return errs.Wrap(err, errs.Unavailable, ReasonUnavailable, "storage temporarily unavailable")
	}
	return errs.Wrap(err, errs.Internal, ReasonInternal, "internal storage error")
}

// IsUniqueViolation reports whether err (or its cause) is a unique or primary
// key constraint violation on either database.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		// Extended result codes are on in modernc.org/sqlite, so the code
		// tells a unique violation from, say, a NOT NULL one.
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isUnavailable reports errors that say nothing about the request but that
// the database cannot serve it right now.
func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgTooManyConnections, pgAdminShutdown, pgCrashShutdown, pgCannotConnectNow:
			return true
		}
		return strings.HasPrefix(pgErr.Code, pgConnectionClass)
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		// The primary code (low byte) covers the extended variants such as
		// SQLITE_BUSY_SNAPSHOT. BUSY outlasted busy_timeout; CANTOPEN is a
		// missing directory or wrong permissions.
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, driver.ErrBadConn) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}

// isBusy reports SQLite's "database is busy or locked" (any variant).
func isBusy(err error) bool {
	var sqErr *sqlite.Error
	if !errors.As(err, &sqErr) {
		return false
	}
	switch sqErr.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

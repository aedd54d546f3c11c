// Package store opens a service's database from a single DSN setting and
// migrates it, so that every service uses SQLite (the embedded default) and
// PostgreSQL (production) the same way.
//
// # DSNs
//
//	sqlite:///abs/path/svc.db    SQLite file at an absolute path
//	sqlite://relative/svc.db     SQLite file relative to the working directory
//	sqlite::memory:              private in-memory SQLite database (tests)
//	postgres://user:pw@host:5432/db?sslmode=verify-full
//	postgresql://...             the same
//
// # SQL
//
// Services write one SQL dialect for placeholders: $1, $2, ... work on both
// databases (SQLite treats $N as a parameter named "$N", and the driver binds
// it to the N-th argument, so a placeholder may be reused and may appear out of
// order). Everything else that differs (types, upsert syntax, RETURNING) lives
// in the service's per-dialect SQL or migrations; DB.Dialect tells which.
//
// # SQLite concurrency and durability
//
// SQLite allows any number of concurrent readers but one writer at a time. The
// pool therefore holds several connections (readers never wait for each
// other in WAL mode), and writers are serialised by SQLite itself:
//
//   - Every read-write transaction starts with BEGIN IMMEDIATE (_txlock), which
//     takes the write lock up front. A deferred transaction that reads first
//     and writes later could fail with SQLITE_BUSY without waiting, because
//     its snapshot may already be stale; an immediate one cannot.
//   - busy_timeout makes a writer that finds the lock taken wait (up to 10s) for
//     it instead of failing at once.
//
// journal_mode=WAL with synchronous=NORMAL means a committed transaction
// survives a crash of the process (the WAL is in the OS page cache), while a
// power loss or OS crash may roll back the last few transactions; the database
// is never corrupted. That is the usual trade-off for an embedded
// single-machine default; production uses PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sottohq/sotto/pkg/errs"
)

// Dialect names the SQL database behind a DB. Its values are also the names of
// the migration directories.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a migrated database handle of a known dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
	stmts   *stmtCache // Prepared's statements: SQLite with a pool only (prepared.go)
}

// Connection pool sizing. The cap keeps a busy service from exhausting
// PostgreSQL's max_connections (which then fails every service on the server),
// and an equal idle limit stops database/sql from closing and reopening
// connections under load, which for SQLite would re-run the per-connection
// PRAGMAs each time.
const (
	maxOpenConns    = 16
	connMaxIdleTime = 5 * time.Minute
)

// Open opens the database named by dsn (see the package documentation) and
// applies the service's migrations with goose.
//
// migrations must hold two directories at its root, "sqlite" and "postgres",
// each with goose SQL files (NNNN_name.sql); the one matching the dialect is
// applied. A nil migrations applies none. On PostgreSQL, migrations run under a
// session advisory lock, so replicas starting together migrate once.
//
// Errors are *errs.Error: InvalidArgument for a bad DSN, Unavailable when the
// database cannot be reached, Internal otherwise. None of them contains the
// DSN's password.
func Open(ctx context.Context, dsn string, migrations fs.FS) (*DB, error) {
	db, err := open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, MapError(err)
	}
	if migrations != nil {
		if err := db.Migrate(ctx, "", migrations); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch cfg.dialect {
	case SQLite:
		if err := createPrivate(cfg.path); err != nil {
			return nil, err
		}
		sdb, err := sql.Open("sqlite", cfg.sqliteName())
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, "STORE_ERROR", "cannot open SQLite database")
		}
		if cfg.path == memoryPath {
			// Every connection to ":memory:" gets its own empty database, so
			// the pool must keep exactly one, forever. Code inside InTx must
			// then use only the *sql.Tx, or it waits for itself.
			sdb.SetMaxOpenConns(1)
		} else {
			sdb.SetMaxOpenConns(maxOpenConns)
			sdb.SetMaxIdleConns(maxOpenConns)
			sdb.SetConnMaxIdleTime(connMaxIdleTime)
		}
		d := &DB{DB: sdb, Dialect: SQLite}
		if cfg.path != memoryPath {
			d.stmts = &stmtCache{}
		}
		return d, nil
	case Postgres:
		pcfg, err := pgx.ParseConfig(cfg.pgDSN)
		if err != nil {
			// pgx masks passwords in its error text only on a best-effort
			// basis (and the wrapped url.Error does not at all), so the
			// cause is dropped rather than kept.
			return nil, errInvalidDSN("invalid PostgreSQL DSN: expected postgres://user[:password]@host[:port]/dbname[?params]")
		}
		// OpenDB takes the parsed config, so the DSN (and its password) is not
		// kept in pgx's global registry of connection strings.
		sdb := stdlib.OpenDB(*pcfg)
		sdb.SetMaxOpenConns(maxOpenConns)
		sdb.SetMaxIdleConns(maxOpenConns)
		sdb.SetConnMaxIdleTime(connMaxIdleTime)
		return &DB{DB: sdb, Dialect: Postgres}, nil
	}
	return nil, errs.E(errs.Internal, "STORE_ERROR", "unknown dialect %q", cfg.dialect)
}

// createPrivate creates a missing SQLite database file readable by its owner
// only; SQLite would create it with the umask's (often world-readable) mode,
// and its -wal and -shm files copy the database file's mode.
func createPrivate(path string) error {
	if path == memoryPath {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case errors.Is(err, fs.ErrExist):
		return nil
	default:
		return errs.Wrap(err, errs.Unavailable, "STORE_UNAVAILABLE", "cannot create SQLite database file")
	}
}

// Migrate applies one set of migrations (laid out as for Open) with a goose
// Provider, which keeps no global state (unlike goose.Up and friends).
// Each set keeps its version in its own table, so the platform's tables
// (pkg/migrations, applied by pkg/service) and a service's own schema evolve
// independently; "" is goose's default table, the service's own.
func (db *DB) Migrate(ctx context.Context, versionTable string, migrations fs.FS) error {
	dir, err := fs.Sub(migrations, string(db.Dialect))
	if err != nil {
		return errs.Wrap(err, errs.Internal, "STORE_MIGRATION_FAILED", "cannot read %s migrations", db.Dialect)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if versionTable != "" {
		opts = append(opts, goose.WithTableName(versionTable))
	}
	gooseDialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return errs.Wrap(err, errs.Internal, "STORE_MIGRATION_FAILED", "cannot create migration lock")
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	// The provider is deliberately not closed: Provider.Close closes db.
	p, err := goose.NewProvider(gooseDialect, db.DB, dir, opts...)
	if err != nil {
		return errs.Wrap(err, errs.Internal, "STORE_MIGRATION_FAILED", "cannot load %s migrations", db.Dialect)
	}
	if _, err := p.Up(ctx); err != nil {
		if mapped := MapError(err); errs.KindOf(mapped) == errs.Unavailable || isContextErr(mapped) {
			return mapped
		}
		return errs.Wrap(err, errs.Internal, "STORE_MIGRATION_FAILED", "cannot apply %s migrations", db.Dialect)
	}
	return nil
}

// InTx runs fn in a read-write transaction and commits it if fn returns nil.
// If fn returns an error or panics, the transaction is rolled back and the
// error is returned unchanged (so fn's typed errors reach the caller) or the
// panic continues. Errors from BEGIN and COMMIT go through MapError.
//
// fn must use only tx: on a database with a single connection (SQLite
// in-memory) a query on db would wait for the connection tx holds.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return MapError(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		// A rollback error adds nothing the caller can act on: the transaction
		// is gone either way (a failed ROLLBACK ends it too).
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return MapError(err)
	}
	return nil
}

// Package storetest gives tests fresh, migrated databases of both dialects, so
// that each service runs one store contract suite against SQLite and
// PostgreSQL.
//
// PostgreSQL tests need a server: SOTTO_TEST_POSTGRES_DSN names it (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), with a role
// that may create databases. Each test gets its own database, dropped when the
// test ends, so tests may run in parallel. Without a reachable server the
// PostgreSQL tests are skipped, except when CI=true: CI must never pass
// because it silently skipped them.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	platform "github.com/sottohq/sotto/pkg/migrations"
	"github.com/sottohq/sotto/pkg/store"
)

// DefaultPostgresDSN is the server used when SOTTO_TEST_POSTGRES_DSN is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ForEachDialect runs fn as subtests "sqlite" and "postgres", each with a
// fresh, migrated, empty database.
func ForEachDialect(t *testing.T, migrations fs.FS, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run(string(store.SQLite), func(t *testing.T) { fn(t, SQLite(t, migrations)) })
	t.Run(string(store.Postgres), func(t *testing.T) { fn(t, Postgres(t, migrations)) })
}

// SQLite opens a migrated SQLite database in a file in a temporary directory
// (a file, not ":memory:", so the pool and locking behave as in production).
// It is closed when the test ends.
func SQLite(t testing.TB, migrations fs.FS) *store.DB {
	t.Helper()
	// Not t.TempDir: code under test may still be opening a pool connection
	// as the test ends (tokenvault prepares statements in the background),
	// and SQLite creates the -wal and -shm files again while the directory
	// is being removed ("directory not empty"). This directory is removed
	// after the database is closed, retrying briefly.
	dir, err := os.MkdirTemp("", "storetest-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("storetest: remove %s: %v", dir, err)
	})
	return open(t, "sqlite://"+filepath.Join(dir, "store.db"), migrations)
}

// Postgres opens a migrated database created for this test on the test
// PostgreSQL server. It is closed and dropped when the test ends.
func Postgres(t testing.TB, migrations fs.FS) *store.DB {
	t.Helper()
	return open(t, PostgresDSN(t), migrations)
}

// PostgresDSN creates an empty database for this test on the test PostgreSQL
// server and returns its DSN, for tests that start binaries. The database is
// dropped when the test ends, after disconnecting any client still using it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	adminDSN := os.Getenv("SOTTO_TEST_POSTGRES_DSN")
	if adminDSN == "" {
		adminDSN = DefaultPostgresDSN
	}
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Do not print adminDSN: it may hold a password.
		t.Fatalf("storetest: SOTTO_TEST_POSTGRES_DSN must be a postgres:// URL")
	}

	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer admin.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pingCtx, pingCancel := context.WithTimeout(ctx, 5*time.Second)
	defer pingCancel()
	if err := admin.PingContext(pingCtx); err != nil {
		// pgx connection errors name the user and database, not the password.
		msg := fmt.Sprintf("storetest: PostgreSQL at %s is unreachable (%v); start it or set SOTTO_TEST_POSTGRES_DSN",
			store.RedactDSN(adminDSN), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	name := "sotto_test_" + randomHex(t)
	// Identifiers cannot be bound as parameters; name is [a-z0-9_] only.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, adminDSN, name) })

	u.Path = "/" + name
	return u.String()
}

func dropDatabase(t testing.TB, adminDSN, name string) {
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Errorf("storetest: %v", err)
		return
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// FORCE disconnects sessions a test (or a binary it started) left open,
	// which would otherwise make the drop fail and leak the database.
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("storetest: drop database %s: %v", name, err)
	}
}

// open opens dsn as pkg/service does: the platform schema (pkg/migrations),
// then the service's own migrations (nil for none).
func open(t testing.TB, dsn string, own fs.FS) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn, nil)
	if err == nil {
		err = db.Migrate(t.Context(), platform.VersionTable, platform.FS)
		if err == nil && own != nil {
			err = db.Migrate(t.Context(), "", own)
		}
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		t.Fatalf("storetest: open %s: %v", store.RedactDSN(dsn), err)
	}
	// Registered after any drop of the database, so it runs before it.
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("storetest: close %s: %v", store.RedactDSN(dsn), err)
		}
	})
	return db
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return hex.EncodeToString(b)
}

// SQLitePath is the file of a SQLite db (its write-ahead log is beside it,
// with "-wal" appended).
func SQLitePath(t testing.TB, db *store.DB) string {
	t.Helper()
	var seq int
	var name, path string
	if err := db.QueryRowContext(context.Background(), `PRAGMA database_list`).Scan(&seq, &name, &path); err != nil || path == "" {
		t.Fatalf("database file: %q, %v", path, err)
	}
	return path
}

// HoldReader opens a read transaction on a connection of its own and reads
// table, so that SQLite must keep its write-ahead log for the reader (a
// truncation waits for it); the returned func ends the transaction.
func HoldReader(t testing.TB, db *store.DB, table string) (release func()) {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// BEGIN DEFERRED on this connection alone: BeginTx would take the write
	// lock (_txlock=immediate).
	if _, err := conn.ExecContext(context.Background(), "BEGIN DEFERRED"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
}

// WALSize is the size of a SQLite db's write-ahead log (0 once truncated).
func WALSize(t testing.TB, db *store.DB) int64 {
	t.Helper()
	fi, err := os.Stat(SQLitePath(t, db) + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// StoredBytes is what db keeps on disk, for tests that search it for values
// that must not be there: SQLite's file and write-ahead log (a fresh write
// may sit in either), or, after a CHECKPOINT has written every dirty page,
// the files of every table, index and TOAST relation of PostgreSQL's public
// schema (read with pg_read_binary_file, which needs the superuser role the
// test server gives). PostgreSQL's own WAL is out of the application's
// reach.
func StoredBytes(t testing.TB, db *store.DB) []byte {
	t.Helper()
	ctx := context.Background()
	if db.Dialect == store.SQLite {
		path := SQLitePath(t, db)
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		t.Fatalf("checkpoint (the test role must be a superuser): %v", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT pg_relation_filepath(c.oid) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'i', 't') AND n.nspname IN ('public', 'pg_toast') AND pg_relation_filepath(c.oid) IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, p := range paths {
		var b []byte
		// A relation never written has no file yet.
		if err := db.QueryRowContext(ctx, `SELECT pg_read_binary_file($1, 0, 104857600, true)`, p).Scan(&b); err != nil {
			t.Fatalf("reading %s (the test role must be a superuser): %v", p, err)
		}
		all = append(all, b...)
	}
	return all
}

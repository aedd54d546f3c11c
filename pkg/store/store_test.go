package store_test

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

//go:embed testdata/migrations
var migrationsRoot embed.FS

// migrations holds testdata/migrations/{sqlite,postgres}: table items (unique
// email) and notes (foreign key to items).
var migrations = must(fs.Sub(migrationsRoot, "testdata/migrations"))

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

const wantVersion = 2 // the highest migration in testdata

func dbVersion(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var v int64
	if err := db.QueryRowContext(t.Context(), "SELECT MAX(version_id) FROM goose_db_version").Scan(&v); err != nil {
		t.Fatalf("read goose version: %v", err)
	}
	return v
}

func insertItem(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, email string) error {
	_, err := q.ExecContext(ctx, "INSERT INTO items (email) VALUES ($1)", email)
	return err
}

func countItems(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
		t.Fatalf("count items: %v", err)
	}
	return n
}

func TestOpenAppliesMigrations(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, migrations, func(t *testing.T, db *store.DB) {
		if got := dbVersion(t, db); got != wantVersion {
			t.Errorf("migration version = %d, want %d", got, wantVersion)
		}
		if n := countItems(t, db); n != 0 {
			t.Errorf("fresh database has %d items, want 0", n)
		}
		// The foreign key of migration 2 is enforced (SQLite: foreign_keys=on).
		_, err := db.ExecContext(t.Context(), "INSERT INTO notes (item_id) VALUES ($1)", 42)
		if err == nil {
			t.Error("insert violating a foreign key succeeded")
		}
	})
}

// TestReopenIsIdempotent opens the same database twice: the second Open finds
// every migration applied and keeps the data.
func TestReopenIsIdempotent(t *testing.T) {
	t.Parallel()
	dsns := map[store.Dialect]func(t *testing.T) string{
		store.SQLite:   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "x.db") },
		store.Postgres: func(t *testing.T) string { return storetest.PostgresDSN(t) },
	}
	for dialect, dsn := range dsns {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			dsn := dsn(t)
			db1, err := store.Open(t.Context(), dsn, migrations)
			if err != nil {
				t.Fatalf("first Open: %v", err)
			}
			if db1.Dialect != dialect {
				t.Errorf("Dialect = %q, want %q", db1.Dialect, dialect)
			}
			if err := insertItem(t.Context(), db1, "kept@example.com"); err != nil {
				t.Fatal(err)
			}
			db1.Close()

			db2, err := store.Open(t.Context(), dsn, migrations)
			if err != nil {
				t.Fatalf("second Open: %v", err)
			}
			defer db2.Close()
			if got := dbVersion(t, db2); got != wantVersion {
				t.Errorf("migration version = %d, want %d", got, wantVersion)
			}
			if n := countItems(t, db2); n != 1 {
				t.Errorf("after reopen: %d items, want 1", n)
			}
		})
	}
}

func TestInTx(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, migrations, func(t *testing.T, db *store.DB) {
		ctx := t.Context()

		// Commit on nil.
		err := db.InTx(ctx, func(tx *sql.Tx) error { return insertItem(ctx, tx, "commit@example.com") })
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}

		// Roll back on error, which is returned unchanged.
		errBoom := errs.E(errs.FailedPrecondition, "BOOM", "boom")
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if err := insertItem(ctx, tx, "error@example.com"); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Errorf("InTx error = %v, want %v", err, errBoom)
		}

		// Roll back on panic, and re-panic.
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v, want the panic of fn", p)
				}
			}()
			_ = db.InTx(ctx, func(tx *sql.Tx) error {
				if err := insertItem(ctx, tx, "panic@example.com"); err != nil {
					t.Error(err)
				}
				panic("boom")
			})
		}()

		rows, err := db.QueryContext(ctx, "SELECT email FROM items ORDER BY email")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"commit@example.com"}, got); diff != "" {
			t.Errorf("items after InTx (-want +got):\n%s", diff)
		}
	})
}

// TestUniqueViolation checks that both unique and primary key violations map
// to AlreadyExists and that nothing of the statement or its values reaches
// the client-visible message.
func TestUniqueViolation(t *testing.T) {
	t.Parallel()
	const secret = "jane.doe@example.com"
	storetest.ForEachDialect(t, migrations, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if _, err := db.ExecContext(ctx, "INSERT INTO items (id, email) VALUES ($1, $2)", 7, secret); err != nil {
			t.Fatal(err)
		}
		for name, q := range map[string]string{
			"unique":      "INSERT INTO items (id, email) VALUES (8, $1)",
			"primary key": "INSERT INTO items (id, email) VALUES (7, $1 || '.other')",
		} {
			t.Run(name, func(t *testing.T) {
				_, raw := db.ExecContext(ctx, q, secret)
				if raw == nil {
					t.Fatal("duplicate insert succeeded")
				}
				if !store.IsUniqueViolation(raw) {
					t.Errorf("IsUniqueViolation(%v) = false", raw)
				}
				err := store.MapError(raw)
				if !errs.Is(err, errs.AlreadyExists) || errs.ReasonOf(err) != store.ReasonAlreadyExists {
					t.Errorf("MapError = %v, want AlreadyExists/%s", err, store.ReasonAlreadyExists)
				}
				if !store.IsUniqueViolation(err) {
					t.Error("IsUniqueViolation(MapError(err)) = false, want the cause to be found")
				}
				if !errors.Is(err, raw) {
					t.Error("mapped error does not keep the driver error as its cause")
				}
				msg := errs.ToStatus(err).Message()
				for _, leak := range []string{secret, "jane", "INSERT", "items", "email", "constraint", "23505", "UNIQUE"} {
					if strings.Contains(strings.ToLower(msg), strings.ToLower(leak)) {
						t.Errorf("client message %q contains %q", msg, leak)
					}
				}
			})
		}
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, migrations, func(t *testing.T, db *store.DB) {
		var id int64
		err := db.QueryRowContext(t.Context(), "SELECT id FROM items WHERE email = $1", "nobody@example.com").Scan(&id)
		err = store.MapError(err)
		if !errs.Is(err, errs.NotFound) || errs.ReasonOf(err) != store.ReasonNotFound {
			t.Errorf("MapError(no rows) = %v, want NotFound/%s", err, store.ReasonNotFound)
		}
	})
}

// TestPlaceholders shows that services can write $N placeholders for both
// dialects: modernc.org/sqlite binds "$N" to the N-th argument, also when a
// placeholder is reused or the placeholders appear out of order.
func TestPlaceholders(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, migrations, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		for _, r := range []struct{ email, a, b string }{
			{"1@example.com", "x", "y"},
			{"2@example.com", "y", "x"},
			{"3@example.com", "z", "z"},
		} {
			if _, err := db.ExecContext(ctx, "INSERT INTO items (email, a, b) VALUES ($1, $2, $3)", r.email, r.a, r.b); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name  string
			query string
			args  []any
			want  []string
		}{
			{"reused", "SELECT email FROM items WHERE a = $1 OR b = $1 ORDER BY email", []any{"x"}, []string{"1@example.com", "2@example.com"}},
			{"out of order", "SELECT email FROM items WHERE b = $2 AND a = $1", []any{"y", "x"}, []string{"2@example.com"}},
			{"reused and out of order", "SELECT email FROM items WHERE a = $2 AND b = $2 AND email <> $1", []any{"1@example.com", "z"}, []string{"3@example.com"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rows, err := db.QueryContext(ctx, tt.query, tt.args...)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var got []string
				for rows.Next() {
					var e string
					if err := rows.Scan(&e); err != nil {
						t.Fatal(err)
					}
					got = append(got, e)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tt.query, diff)
				}
			})
		}
	})
}

// TestSQLiteConcurrentWriters hammers one SQLite file from several goroutines,
// with readers alongside: BEGIN IMMEDIATE and busy_timeout must serialise the
// writers without any SQLITE_BUSY reaching a caller.
func TestSQLiteConcurrentWriters(t *testing.T) {
	t.Parallel()
	const writers, perWriter, readers = 8, 200, 2
	db := storetest.SQLite(t, migrations)
	ctx := t.Context()

	errc := make(chan error, writers+readers)
	var writing, reading sync.WaitGroup
	for w := range writers {
		writing.Go(func() {
			for i := range perWriter {
				err := db.InTx(ctx, func(tx *sql.Tx) error {
					// Read, then write: in a deferred transaction this is
					// where SQLITE_BUSY would appear.
					var n int
					if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
						return err
					}
					return insertItem(ctx, tx, fmt.Sprintf("w%d-%d@example.com", w, i))
				})
				if err != nil {
					errc <- fmt.Errorf("writer %d insert %d: %w", w, i, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	for range readers {
		reading.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				var n int
				if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
					errc <- fmt.Errorf("reader: %w", err)
					return
				}
			}
		})
	}
	writing.Wait()
	close(done)
	reading.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if n := countItems(t, db); n != writers*perWriter {
		t.Errorf("%d items, want %d", n, writers*perWriter)
	}
}

func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t, migrations)
	for pragma, want := range map[string]string{
		"journal_mode":  "wal",
		"synchronous":   "1", // NORMAL
		"foreign_keys":  "1",
		"busy_timeout":  "10000",
		"secure_delete": "1", // erased rows do not linger in free pages
		// the -wal file shrinks to 16 MiB once reset (TestWALSizeIsBounded)
		"journal_size_limit": "16777216",
	} {
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

// TestSQLiteFilesArePrivate: the database holds personal data (encrypted or
// not), so its files are readable by the service's user only, whatever the
// umask.
func TestSQLiteFilesArePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "private.db")
	db, err := store.Open(t.Context(), "sqlite://"+path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{path, path + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group or others", filepath.Base(name), fi.Mode().Perm())
		}
	}
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	db, err := store.Open(t.Context(), "sqlite::memory:", migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The migrated schema is visible to later statements: the pool keeps the
	// one connection that holds the in-memory database.
	err = db.InTx(t.Context(), func(tx *sql.Tx) error { return insertItem(t.Context(), tx, "m@example.com") })
	if err != nil {
		t.Fatal(err)
	}
	if n := countItems(t, db); n != 1 {
		t.Errorf("%d items, want 1", n)
	}
}

func TestOpenBadDSN(t *testing.T) {
	t.Parallel()
	const password = "s3cretPassw0rd"
	tests := []struct {
		name string
		dsn  string
		kind errs.Kind
	}{
		{"empty", "", errs.InvalidArgument},
		{"unknown scheme", "mysql://u:" + password + "@h/db", errs.InvalidArgument},
		{"keyword/value", "host=h user=u password=" + password, errs.InvalidArgument},
		{"bad port", "postgres://u:" + password + "@h:notaport/db", errs.InvalidArgument},
		{"bad escape", "postgres://u:" + password + "%zz@h/db", errs.InvalidArgument},
		{"sqlite no path", "sqlite://", errs.InvalidArgument},
		{"sqlite params", "sqlite:///tmp/x.db?_pragma=foreign_keys(0)", errs.InvalidArgument},
		{"sqlite uri", "sqlite://file:x.db", errs.InvalidArgument},
		{"sqlite missing dir", "sqlite://" + filepath.Join(t.TempDir(), "no", "such", "x.db"), errs.Unavailable},
		{"postgres unreachable", "postgres://u:" + password + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", errs.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := store.Open(t.Context(), tt.dsn, migrations)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if got := errs.KindOf(err); got != tt.kind {
				t.Errorf("kind = %v, want %v (err: %v)", got, tt.kind, err)
			}
			// Error() includes the private cause, which is what gets logged.
			if strings.Contains(err.Error(), password) {
				t.Errorf("error echoes the password: %v", err)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	tests := []struct{ dsn, want string }{
		{"postgres://u:pw@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db"},
		{"postgres://u@h/db?password=pw", "postgres://u@h/db?password=xxxxx"},
		{"postgres://u:pw%zz@h/db", "postgres://[REDACTED]"},
		{"sqlite:///var/lib/sotto/audit.db", "sqlite:///var/lib/sotto/audit.db"},
		{"sqlite::memory:", "sqlite::memory:"},
		{"host=h password=pw", "[REDACTED]"},
	}
	for _, tt := range tests {
		if got := store.RedactDSN(tt.dsn); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestMapError(t *testing.T) {
	t.Parallel()
	typed := errs.E(errs.PermissionDenied, "NOPE", "nope")
	canceled := fmt.Errorf("query: %w", context.Canceled)
	tests := []struct {
		name       string
		err        error
		kind       errs.Kind
		reason     string
		unchanged  bool
		wantNilErr bool
	}{
		{name: "nil", err: nil, wantNilErr: true},
		{name: "typed", err: typed, unchanged: true},
		{name: "canceled", err: canceled, unchanged: true},
		{name: "deadline", err: context.DeadlineExceeded, unchanged: true},
		{name: "no rows", err: fmt.Errorf("get: %w", sql.ErrNoRows), kind: errs.NotFound, reason: store.ReasonNotFound},
		{name: "other", err: errors.New(`syntax error at or near "SELEKT" value 'jane@example.com'`), kind: errs.Internal, reason: store.ReasonInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.MapError(tt.err)
			switch {
			case tt.wantNilErr:
				if got != nil {
					t.Errorf("MapError(nil) = %v", got)
				}
				return
			case tt.unchanged:
				if got != tt.err {
					t.Errorf("MapError(%v) = %v, want it unchanged", tt.err, got)
				}
				return
			}
			if errs.KindOf(got) != tt.kind || errs.ReasonOf(got) != tt.reason {
				t.Errorf("MapError(%v) = %v, want %v/%s", tt.err, got, tt.kind, tt.reason)
			}
			if msg := errs.ToStatus(got).Message(); strings.Contains(msg, "jane") || strings.Contains(msg, "SELEKT") {
				t.Errorf("client message %q leaks the driver text", msg)
			}
		})
	}
}

func TestPlaceholdersPerDialect(t *testing.T) {
	sqlite := &store.DB{Dialect: store.SQLite}
	pg := &store.DB{Dialect: store.Postgres}
	if got := sqlite.Placeholders(4, 3); got != "?,?,?" {
		t.Errorf("sqlite: %q", got)
	}
	if got := pg.Placeholders(4, 3); got != "$4,$5,$6" {
		t.Errorf("postgres: %q", got)
	}
}

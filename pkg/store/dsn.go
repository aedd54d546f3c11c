package store

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/sottohq/sotto/pkg/errs"
)

const (
	memoryDSN  = "sqlite::memory:"
	memoryPath = ":memory:"
	sqlitePfx  = "sqlite://"
)

// sqliteParams configures every SQLite connection; see the package
// documentation for why. _time_format=sqlite stores time.Time as text SQLite's
// date functions understand, with nanoseconds, instead of Go's String() form
// (which carries a monotonic clock reading).
var sqliteParams = "_busy_timeout=" + strconv.Itoa(busyTimeoutMS) +
	"&_foreign_keys=1" +
	"&_journal_mode=WAL" +
	"&_synchronous=NORMAL" +
	"&_txlock=immediate" +
	"&_time_format=sqlite" +
	// Deleted rows are overwritten, not left in free pages: a PII platform
	// must not keep erased data (or wrapped keys) in the database file.
	"&_pragma=secure_delete(1)" +
	// 32 MiB of page cache per connection instead of SQLite's 2 MiB, so index
	// pages stay in memory rather than being re-read on every insert.
	"&_pragma=cache_size(-32768)" +
	// Once a checkpoint has emptied the write-ahead log, the next writer
	// truncates the file to this size. Without a limit it keeps its largest
	// size for good, and the part not yet written over keeps old page images:
	// data deleted or overwritten in the database file stays readable there.
	// 16 MiB is four times the automatic checkpoint's 1,000 pages, so the
	// steady state does not shrink and regrow the file. TruncateWAL empties
	// it entirely where that matters (after an erasure).
	"&_pragma=journal_size_limit(" + strconv.Itoa(journalSizeLimit) + ")"

const (
	// busyTimeoutMS is how long (ms) a connection waits for SQLite's locks:
	// writers queue for the one write lock, and on a loaded machine (2 cores,
	// the race detector) eight of them in line took more than 5 s.
	busyTimeoutMS = 10000
	// journalSizeLimit bounds the -wal file (bytes); see sqliteParams.
	journalSizeLimit = 16 << 20
)

// dsnConfig is a parsed DSN.
type dsnConfig struct {
	dialect Dialect
	path    string // SQLite: file path or memoryPath
	pgDSN   string // PostgreSQL: the DSN, handed to pgx
}

// sqliteName is the name handed to the SQLite driver. A plain file name (not
// a "file:" URI) has its query consumed by the driver, so the path needs no
// escaping.
func (c dsnConfig) sqliteName() string { return c.path + "?" + sqliteParams }

// parseDSN splits dsn into a dialect and what its driver needs. Its errors
// never echo dsn, which may hold a password.
func parseDSN(dsn string) (dsnConfig, error) {
	switch {
	case dsn == memoryDSN:
		return dsnConfig{dialect: SQLite, path: memoryPath}, nil
	case strings.HasPrefix(dsn, sqlitePfx):
		path := strings.TrimPrefix(dsn, sqlitePfx)
		switch {
		case path == "":
			return dsnConfig{}, errInvalidDSN("SQLite DSN has no file path: want sqlite:///abs/path.db or sqlite://relative/path.db")
		case strings.ContainsAny(path, "?#"):
			// The connection parameters are Sotto's to choose (see
			// sqliteParams); a DSN must not weaken them, and the driver would
			// run a _pragma parameter as SQL.
			return dsnConfig{}, errInvalidDSN("SQLite DSN takes no parameters")
		case strings.HasPrefix(path, "file:"):
			return dsnConfig{}, errInvalidDSN("SQLite DSN takes a file path, not a file: URI")
		}
		return dsnConfig{dialect: SQLite, path: path}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return dsnConfig{dialect: Postgres, pgDSN: dsn}, nil
	}
	return dsnConfig{}, errInvalidDSN("unsupported database DSN: want sqlite:///path.db, sqlite::memory: or postgres://...")
}

func errInvalidDSN(msg string) *errs.Error {
	return errs.E(errs.InvalidArgument, "INVALID_DSN", "%s", msg)
}

// RedactDSN returns dsn with any password masked, for logs and error
// messages. A PostgreSQL DSN that does not parse is masked entirely, since
// where its password is cannot be told.
func RedactDSN(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		// SQLite DSNs hold no secrets; anything else is not a DSN Open
		// accepts and may be anything.
		if dsn == memoryDSN || strings.HasPrefix(dsn, sqlitePfx) {
			return dsn
		}
		return "[REDACTED]"
	}
	u, err := url.Parse(dsn)
	if err != nil {
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://[REDACTED]"
	}
	// libpq also accepts the password as a query parameter.
	q := u.Query()
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

package store

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements, on SQLite. A statement run with a query text is
// parsed and planned anew on every call there (modernc.org/sqlite prepares
// it, steps it and throws it away): on the chat path that was a sixth of
// conversation's CPU, and a tenth of tokenvault's and audit's, whose audit
// outbox ran three statements per event so (TestChatLoad's profiles,
// docs/benchmarks.md). On PostgreSQL, pgx already prepares and caches
// every statement per connection (its default exec mode), so Prepared
// leaves the calls as they are there rather than keep a second set.
//
// database/sql keeps a prepared *sql.Stmt per connection, and a
// transaction reuses the one of its own connection (Tx.StmtContext), so
// one *sql.Stmt per query text serves every connection.
//
// A statement is prepared on the pool, which needs a connection of its
// own. A transaction must never wait for one: on SQLite it may hold the
// write lock while every other pooled connection waits for that lock. So a
// transaction's statement not prepared yet runs as a plain call, and is
// prepared in the background for the next time. A single-connection pool
// (SQLite in memory, in tests) runs every statement as a plain call. Which
// databases cache is decided once, when open makes the DB (stmts set).

// stmtCache holds a DB's prepared statements by query text.
type stmtCache struct {
	m sync.Map // query text → *sql.Stmt, or nil while it is being prepared
}

// Prepared is q, d's pool or a transaction on it, running each statement
// through a statement prepared once per query text. Use it for the
// statements a service repeats (its request paths); every query text is
// kept for the life of d, so texts must come from a bounded set (the
// package's constants, shapes built from bounded counts), never from data.
func (d *DB) Prepared(q Q) Q {
	if d.stmts == nil {
		return q
	}
	return prepared{d: d, q: q}
}

type prepared struct {
	d *DB
	q Q
}

// stmt is query's prepared statement for p.q, or nil for a plain call.
func (p prepared) stmt(ctx context.Context, query string) *sql.Stmt {
	switch q := p.q.(type) {
	case *DB:
		if q == p.d {
			return p.d.stmts.get(ctx, p.d.DB, query)
		}
	case *sql.DB:
		if q == p.d.DB {
			return p.d.stmts.get(ctx, q, query)
		}
	case *sql.Tx:
		if st := p.d.stmts.background(p.d.DB, query); st != nil {
			return q.StmtContext(ctx, st)
		}
	}
	return nil
}

// get is query's statement, prepared now if it is not yet. Of two
// callers preparing one text at once, the first to store it wins and the
// other closes its own: a statement another caller may already be running
// is never closed.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	if v, ok := c.m.Load(query); ok && v.(*sql.Stmt) != nil {
		return v.(*sql.Stmt)
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the plain call reports the error
	}
	if c.m.CompareAndSwap(query, (*sql.Stmt)(nil), st) { // over a background preparation's mark
		return st
	}
	v, loaded := c.m.LoadOrStore(query, st)
	if !loaded {
		return st
	}
	if prev := v.(*sql.Stmt); prev != nil {
		_ = st.Close()
		return prev
	}
	if c.m.CompareAndSwap(query, (*sql.Stmt)(nil), st) {
		return st
	}
	_ = st.Close()
	return nil // lost every race: a plain call this time
}

// background is query's statement if it is prepared, and otherwise nil,
// after starting to prepare it on db for the next call.
func (c *stmtCache) background(db *sql.DB, query string) *sql.Stmt {
	v, loaded := c.m.LoadOrStore(query, (*sql.Stmt)(nil))
	if st := v.(*sql.Stmt); st != nil {
		return st
	}
	if !loaded {
		go func() {
			st, err := db.PrepareContext(context.Background(), query)
			if err != nil {
				c.m.CompareAndDelete(query, (*sql.Stmt)(nil)) // try again next time
				return
			}
			if !c.m.CompareAndSwap(query, (*sql.Stmt)(nil), st) {
				_ = st.Close()
			}
		}()
	}
	return nil
}

func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.q.ExecContext(ctx, query, args...)
}

func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.q.QueryContext(ctx, query, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.q.QueryRowContext(ctx, query, args...)
}

// PrepareAll prepares queries now, so that a transaction's first run of
// them is prepared too (Prepared prepares a transaction's statement in the
// background after its first, plain run). An error leaves the query to be
// prepared later; its plain run reports it.
func (d *DB) PrepareAll(ctx context.Context, queries ...string) {
	if d.stmts == nil {
		return
	}
	for _, q := range queries {
		d.stmts.get(ctx, d.DB, q)
	}
}

// PreparedStatements is how many statements Prepared keeps (for tests and
// diagnostics: each is prepared again on every pool connection that runs
// it, so the count must stay bounded under any load).
func (d *DB) PreparedStatements() int {
	if d.stmts == nil {
		return 0
	}
	n := 0
	d.stmts.m.Range(func(_, _ any) bool { n++; return true })
	return n
}

// PaddedSize is the power of two at or above n (n >= 1): the length to pad
// a statement's list of values to (an IN list, by repeating its last
// value), so that prepared statements come in a handful of sizes instead of
// one per exact count, each kept on every pool connection.
func PaddedSize(n int) int {
	size := 1
	for size < n {
		size *= 2
	}
	return size
}

// Pieces splits n rows into runs whose lengths are powers of two, largest
// first, none longer than most (a power of two): the row counts of
// multi-row INSERTs, which cannot be padded like an IN list, so that
// prepared they come in a handful of texts instead of one per count (13
// rows: 8, 4, 1).
func Pieces(n, most int) []int {
	if most < 1 || most&(most-1) != 0 {
		panic("store.Pieces: most must be a power of two") // a caller's constant: a programming error
	}
	var out []int
	for size := most; n > 0; size /= 2 {
		for n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

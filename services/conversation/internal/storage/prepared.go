package storage

import (
	"context"
	"database/sql"
	"sync"
)

// Statements of the message path are prepared once per connection and
// reused: parsing and planning a statement anew on every call cost a sixth
// of the service's CPU per message on SQLite (TestChatLoad's profile).
//
// database/sql keeps a prepared *sql.Stmt per connection and a transaction
// reuses the one of its connection (Tx.StmtContext), so one *sql.Stmt per
// query text serves every connection. A statement is prepared on the pool
// (inside a transaction only when the pool has other connections: on a
// single-connection database, SQLite in memory, that would wait for the
// connection the transaction holds, so there a transaction uses a prepared
// statement only once it exists: the ones transactions run are prepared when
// the Store is made, txStatements, and anything else falls back to the plain
// call).

// stmts caches prepared statements by query text. Query texts are the
// package's constants and shapes built from bounded counts (scope keys,
// rules, events of one message), so the cache stays small.
type stmts struct {
	db *sql.DB
	// pooled: the pool has more than one connection, so a statement may
	// be prepared while a transaction holds one.
	pooled bool
	m      sync.Map // query text → *sql.Stmt
}

func newStmts(db *sql.DB) stmts {
	return stmts{db: db, pooled: db.Stats().MaxOpenConnections != 1}
}

func (c *stmts) get(ctx context.Context, query string) *sql.Stmt {
	if st, ok := c.m.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the plain call reports the error
	}
	if prev, loaded := c.m.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

func (c *stmts) cached(query string) *sql.Stmt {
	if st, ok := c.m.Load(query); ok {
		return st.(*sql.Stmt)
	}
	return nil
}

// prepareAll prepares the statements transactions run (errors leave a
// statement to the plain call).
func (c *stmts) prepareAll(queries ...string) {
	for _, q := range queries {
		c.get(context.Background(), q)
	}
}

// on runs statements on q (the pool or a transaction of it) prepared: it
// implements Q.
type on struct {
	c *stmts
	q Q
}

// prepared is q with the message path's statements prepared.
func (s *Store) prepared(q Q) Q { return on{c: &s.stmts, q: q} }

func (o on) stmt(ctx context.Context, query string) *sql.Stmt {
	switch q := o.q.(type) {
	case *sql.DB:
		if q == o.c.db {
			return o.c.get(ctx, query)
		}
	case *sql.Tx:
		st := o.c.cached(query)
		if st == nil && o.c.pooled {
			st = o.c.get(ctx, query)
		}
		if st != nil {
			return q.StmtContext(ctx, st)
		}
	}
	return nil
}

func (o on) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := o.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return o.q.ExecContext(ctx, query, args...)
}

func (o on) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := o.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return o.q.QueryContext(ctx, query, args...)
}

func (o on) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := o.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return o.q.QueryRowContext(ctx, query, args...)
}

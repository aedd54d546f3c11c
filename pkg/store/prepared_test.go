package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
)

// TestPreparedRunsStatementsOnPoolAndTransaction: statements run through
// Prepared on the pool and in transactions give the plain statements'
// results, and on SQLite one statement is kept per query text however
// often it runs.
func TestPreparedRunsStatementsOnPoolAndTransaction(t *testing.T) {
	storetest.ForEachDialect(t, migrations, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		for i := range 20 {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				return insertItem(ctx, db.Prepared(tx), fmt.Sprintf("p%d@example.com", i))
			})
			if err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		for range 20 {
			var n int
			if err := db.Prepared(db).QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE email LIKE $1", "p%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 20 {
				t.Fatalf("count through a prepared statement: %d, want 20", n)
			}
		}
		// The transaction's statement is prepared in the background after
		// its first, plain run.
		// (On PostgreSQL none: pgx prepares and caches them itself.)
		want := 2
		if db.Dialect != store.SQLite {
			want = 0
		}
		deadline := time.Now().Add(10 * time.Second)
		for db.PreparedStatements() != want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := db.PreparedStatements(); n != want {
			t.Errorf("%d statements prepared for two query texts run 20 times each, want %d", n, want)
		}
		// A duplicate is refused through the prepared statement as through
		// a plain one.
		err := db.InTx(ctx, func(tx *sql.Tx) error { return insertItem(ctx, db.Prepared(tx), "p3@example.com") })
		if err = store.MapError(err); !errs.Is(err, errs.AlreadyExists) {
			t.Errorf("duplicate through a prepared statement: %v, want a conflict", err)
		}
	})
}

// TestPreparedNeverWaitsForAPoolConnectionInATransaction: with every other
// connection of the pool taken, a transaction's first run of a statement
// still runs (plainly, on the transaction's own connection) instead of
// waiting for a connection to prepare it on: on SQLite the transaction may
// hold the write lock the holders of those connections wait for. Seen
// failing (the deadline passed) when the statement was prepared on the pool
// first.
func TestPreparedNeverWaitsForAPoolConnectionInATransaction(t *testing.T) {
	storetest.ForEachDialect(t, migrations, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		db.SetMaxOpenConns(2)
		t.Cleanup(func() { db.SetMaxOpenConns(16) })
		held, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err = db.InTx(tctx, func(tx *sql.Tx) error {
			return insertItem(tctx, db.Prepared(tx), "first-run@example.com")
		})
		if err != nil {
			t.Fatalf("a transaction's statement with the pool taken: %v, want it run", err)
		}
	})
}

// TestPreparedConcurrentFirstUse: many callers running one new query text
// at once all get answers; none runs on a statement another closed (the
// loser of two preparations closes its own, never the winner's). Seen
// failing ("statement is closed") when the later preparation replaced the
// earlier and closed it.
func TestPreparedConcurrentFirstUse(t *testing.T) {
	db := storetest.SQLite(t, migrations)
	ctx := t.Context()
	for round := range 200 {
		query := fmt.Sprintf("SELECT COUNT(*) + %d FROM items", round) // a new text each round
		errs := make(chan error, 32)
		for range 32 {
			go func() {
				var n int
				errs <- db.Prepared(db).QueryRowContext(ctx, query).Scan(&n)
			}()
		}
		for range 32 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

func TestPiecesArePowersOfTwoThatAddUp(t *testing.T) {
	for _, c := range []struct {
		n, most int
		want    []int
	}{
		{0, 256, nil},
		{1, 256, []int{1}},
		{13, 256, []int{8, 4, 1}},
		{256, 256, []int{256}},
		{600, 256, []int{256, 256, 64, 16, 8}},
	} {
		if got := store.Pieces(c.n, c.most); !slices.Equal(got, c.want) {
			t.Errorf("Pieces(%d, %d) = %v, want %v", c.n, c.most, got, c.want)
		}
	}
}

func TestPiecesRefusesAMostThatIsNoPowerOfTwo(t *testing.T) {
	for _, most := range []int{0, -1, 300} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Pieces(700, %d) did not panic", most)
				}
			}()
			store.Pieces(700, most)
		}()
	}
}

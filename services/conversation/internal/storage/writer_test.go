package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/migrations"
)

// TestWriterBatchFailsOneCallerOnly: transactions committed together are
// each all or nothing. A caller whose transaction wrote a row and then
// failed leaves nothing behind and gets its own error; the others in the
// same commit are stored.
func TestWriterBatchFailsOneCallerOnly(t *testing.T) {
	s := New(storetest.SQLite(t, migrations.FS))
	if s.writes == nil {
		t.Fatal("no writer on SQLite")
	}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	conv := func(id string) Conversation {
		return Conversation{ID: id, Tenant: "default", Channel: 1, State: 1, CustomerSubject: "cus_1", CreateTime: now, UpdateTime: now}
	}
	refused := errors.New("refused after writing")
	batch := []WriteFunc{
		func(ctx context.Context, tx *sql.Tx) error { return s.InsertConversation(ctx, tx, conv("cnv_a")) },
		func(ctx context.Context, tx *sql.Tx) error {
			if err := s.InsertConversation(ctx, tx, conv("cnv_b")); err != nil {
				return err
			}
			return refused
		},
		// A unique violation: cnv_a again.
		func(ctx context.Context, tx *sql.Tx) error { return s.InsertConversation(ctx, tx, conv("cnv_a")) },
		func(ctx context.Context, tx *sql.Tx) error { return s.InsertConversation(ctx, tx, conv("cnv_c")) },
	}
	results, err := s.commitWrites(ctx, batch)
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if results[0].Err != nil || results[3].Err != nil {
		t.Errorf("the good transactions failed: %v, %v", results[0].Err, results[3].Err)
	}
	if !errors.Is(results[1].Err, refused) {
		t.Errorf("the refused transaction's error is %v, want its own", results[1].Err)
	}
	if !IsConflict(results[2].Err) {
		t.Errorf("the duplicate's error is %v, want a conflict", results[2].Err)
	}
	for id, want := range map[string]bool{"cnv_a": true, "cnv_b": false, "cnv_c": true} {
		_, err := s.GetConversation(ctx, s.DB(), id)
		if got := err == nil; got != want {
			t.Errorf("%s stored: %v, want %v (%v)", id, got, want, err)
		}
	}
}

// TestWriterConcurrentPosts: many callers at once through Write each get
// their own answer, and exactly the successful ones are stored.
func TestWriterConcurrentPosts(t *testing.T) {
	s := New(storetest.SQLite(t, migrations.FS))
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	const n = 64
	errsOut := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errsOut[i] = s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				// Every fourth caller wants the id of the one before it.
				id := fmt.Sprintf("cnv_%d", i-i%4/3)
				return s.InsertConversation(ctx, tx, Conversation{ID: id, Tenant: "default", Channel: 1, State: 1,
					CustomerSubject: "cus_1", CreateTime: now, UpdateTime: now})
			})
		})
	}
	wg.Wait()
	for i, err := range errsOut {
		switch i % 4 {
		case 0, 1:
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		case 3: // it and caller i-1 wanted one id: whichever came second fails
			if first, second := errsOut[i-1], err; (first == nil) == (second == nil) || !IsConflict(errors.Join(first, second)) {
				t.Errorf("callers %d and %d, one id: %v, %v; want one conflict", i-1, i, first, second)
			}
		}
	}
	var stored int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := n - n/4; stored != want {
		t.Errorf("%d conversations stored, want %d", stored, want)
	}
}

// TestInTxStatementsOutliveTheirCaller: an InTx closure is handed the
// writer's context on SQLite, so a caller whose context ends in the middle of
// its transaction cannot interrupt SQLite, which would roll back the whole
// shared transaction and with it every other caller's work committed in the
// same batch. Handing the closure its caller's context fails it.
func TestInTxStatementsOutliveTheirCaller(t *testing.T) {
	s := New(storetest.SQLite(t, migrations.FS))
	now := time.Now().UTC().Truncate(time.Microsecond)
	caller, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The closure runs on the writer's goroutine and may outlive InTx's
	// return to a caller whose context ended: hence the atomic.
	var liveInside atomic.Bool
	err := s.InTx(caller, func(ctx context.Context, tx *sql.Tx) error {
		cancel() // the caller gives up mid-transaction
		liveInside.Store(ctx.Err() == nil)
		return s.InsertConversation(ctx, tx, Conversation{ID: "cnv_a", Tenant: "default", Channel: 1, State: 1, CustomerSubject: "cus_1", CreateTime: now, UpdateTime: now})
	})
	// The caller may hear its own context's error (its answer was lost),
	// but the transaction runs to its end and commits.
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("InTx: %v", err)
	}
	// The writer commits one batch after another: an empty write after it
	// returns once the caller's transaction has committed.
	if err := s.InTx(context.Background(), func(context.Context, *sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !liveInside.Load() {
		t.Fatal("the closure's context ended with its caller's: a statement could interrupt the shared transaction")
	}
	if _, err := s.GetConversation(context.Background(), s.DB(), "cnv_a"); err != nil {
		t.Fatalf("the transaction did not commit: %v", err)
	}
}

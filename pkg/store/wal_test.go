package store

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// openWALTest opens a fresh SQLite file with one table of blobs. (An
// internal test: storetest imports this package.)
func openWALTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wal.db")
	db, err := Open(t.Context(), "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db, path
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

// holdSnapshot opens a read transaction on its own connection and reads, so
// that SQLite must keep the write-ahead log for it; the returned func ends it.
func holdSnapshot(t *testing.T, db *DB) func() {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// BEGIN DEFERRED on this connection alone: BeginTx would take the write
	// lock (_txlock=immediate).
	if _, err := conn.ExecContext(t.Context(), "BEGIN DEFERRED"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
}

// TestTruncateWAL: after TruncateWAL the -wal file is empty, so the page
// images it held (here a canary; in a service, an erased row) are gone from
// it; while a reader holds the log it is retried rather than given up, and
// it gives up only when its context ends.
func TestTruncateWAL(t *testing.T) {
	ctx := t.Context()
	db, path := openWALTest(t)
	canary := []byte("canary-4f1e9a0c-erased-value")
	if _, err := db.ExecContext(ctx, `INSERT INTO blobs (b) VALUES ($1)`, canary); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(fileBytes(t, path+"-wal"), canary) {
		t.Fatal("the canary is not in the -wal file: the scan is blind")
	}

	release := holdSnapshot(t, db)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := db.TruncateWAL(short)
	cancel()
	if errs.KindOf(err) != errs.Unavailable || errs.ReasonOf(err) != "WAL_BUSY" {
		t.Fatalf("TruncateWAL with a reader holding the log = %v, want Unavailable WAL_BUSY", err)
	}
	if len(fileBytes(t, path+"-wal")) == 0 {
		t.Fatal("the log was truncated under a reader")
	}

	// The reader ends only after two attempts were refused: TruncateWAL must
	// keep trying.
	busy := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- db.truncateWAL(ctx, func(b bool) {
			if b {
				busy <- struct{}{}
			}
		})
	}()
	for range 2 {
		select {
		case <-busy:
		case err := <-done:
			release()
			t.Fatalf("TruncateWAL gave up while a reader held the log: %v", err)
		}
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("TruncateWAL after the reader ended: %v", err)
	}
	if wal := fileBytes(t, path+"-wal"); len(wal) != 0 {
		t.Errorf("-wal file is %d bytes after TruncateWAL, want 0", len(wal))
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if bytes.Contains(fileBytes(t, f), canary) {
			t.Errorf("%s still holds the canary", filepath.Base(f))
		}
	}

	// The connection it used waits for locks like every other one again.
	db.SetMaxOpenConns(1)
	defer db.SetMaxOpenConns(maxOpenConns)
	if err := db.TruncateWAL(ctx); err != nil {
		t.Fatal(err)
	}
	var timeout int
	if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != busyTimeoutMS {
		t.Errorf("busy_timeout after TruncateWAL = %d, %v; want %d", timeout, err, busyTimeoutMS)
	}
}

// TestWALSizeIsBounded: a log that grew while a reader held it (so no
// checkpoint could reset it) shrinks to journal_size_limit once it is reset,
// instead of keeping its largest size and the old page images in it.
func TestWALSizeIsBounded(t *testing.T) {
	ctx := t.Context()
	db, path := openWALTest(t)
	release := holdSnapshot(t, db)
	blob := bytes.Repeat([]byte{0xa5}, 1<<20)
	for range 20 {
		if _, err := db.ExecContext(ctx, `INSERT INTO blobs (b) VALUES ($1)`, blob); err != nil {
			t.Fatal(err)
		}
	}
	release()
	if n := len(fileBytes(t, path+"-wal")); n <= journalSizeLimit {
		t.Fatalf("the log grew to %d bytes only; the test needs more than %d", n, journalSizeLimit)
	}
	// A checkpoint that does not truncate, then a write: the writer resets
	// the log and cuts the file down to the limit.
	var busy, logged, moved int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &moved); err != nil || busy != 0 {
		t.Fatalf("checkpoint: busy=%d, %v", busy, err)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE id = 1`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(fileBytes(t, path+"-wal")); n > journalSizeLimit {
		t.Errorf("-wal file is %d bytes after the log was reset, want at most %d", n, journalSizeLimit)
	}
}

// TestScrubberRetriesWhatItCouldNotFinish: a scrub refused by a reader
// stays pending, Retry finishes it once the reader is gone, and the canary
// has left the -wal file only then.
func TestScrubberRetriesWhatItCouldNotFinish(t *testing.T) {
	ctx := t.Context()
	db, path := openWALTest(t)
	canary := []byte("canary-7b2d0e51-erased-value")
	if _, err := db.ExecContext(ctx, `INSERT INTO blobs (b) VALUES ($1)`, canary); err != nil {
		t.Fatal(err)
	}
	s := NewScrubber(db, 300*time.Millisecond)
	if err := s.Retry(ctx); err != nil || s.Pending() {
		t.Fatalf("Retry with nothing owed = %v, pending %v", err, s.Pending())
	}
	if !bytes.Contains(fileBytes(t, path+"-wal"), canary) {
		t.Fatal("Retry with nothing owed truncated the log (or the canary never reached it)")
	}

	release := holdSnapshot(t, db)
	if err := s.Scrub(ctx); errs.ReasonOf(err) != "WAL_BUSY" {
		t.Fatalf("Scrub with a reader holding the log = %v, want WAL_BUSY", err)
	}
	if !s.Pending() {
		t.Fatal("a refused scrub is not pending")
	}
	if !bytes.Contains(fileBytes(t, path+"-wal"), canary) {
		t.Fatal("the canary left the log under a reader: the scenario did not happen")
	}
	release()
	if err := s.Retry(ctx); err != nil {
		t.Fatalf("Retry after the reader ended: %v", err)
	}
	if s.Pending() {
		t.Error("still pending after a successful Retry")
	}
	if bytes.Contains(fileBytes(t, path+"-wal"), canary) {
		t.Error("the -wal file still holds the canary after Retry")
	}
}

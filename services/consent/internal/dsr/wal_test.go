package dsr

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/storage"
	"github.com/sottohq/sotto/services/consent/migrations"
)

// TestWALScrubJobFinishesABusyScrub: a truncation of the write-ahead log
// after sealed corrections were dropped that a reader held up past Deps.WAL's
// timeout stays owed, and the WALScrubKind job, once the reader is gone,
// empties the log. (Fails without the job.)
func TestWALScrubJobFinishesABusyScrub(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t, migrations.FS)
	walSize := func() int64 { return storetest.WALSize(t, db) }
	runner, err := jobs.New(db, jobs.Config{Worker: "test", PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wal := store.NewScrubber(db, 100*time.Millisecond)
	s, err := New(Deps{Store: storage.New(db), Audit: auditclient.NewOutbox(db, nil, nil),
		RequestKey: bytes.Repeat([]byte{1}, consent.MinRequestKeyLen), Jobs: runner, WAL: wal})
	if err != nil {
		t.Fatal(err)
	}

	// A reader keeps the log while a request's scrub runs.
	release := storetest.HoldReader(t, db, "dsr_requests")
	s.scrubLog(ctx)
	if !wal.Pending() {
		t.Fatal("the scrub under a reader is not owed: the scenario did not happen")
	}
	release()
	if walSize() == 0 {
		t.Fatal("the log is empty before the job: the test shows nothing")
	}

	// The job's first occurrence runs when the runner starts.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("jobs: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for wal.Pending() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if wal.Pending() {
		t.Fatal("the owed scrub was not finished by the job")
	}
}

package conversation

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/retention"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
	"github.com/sottohq/sotto/services/conversation/migrations"
)

// TestRetentionRunFinishesABusyWALTruncation: a truncation after an erasure
// that a reader held up past Deps.WAL's timeout stays owed, and the next
// retention run, with nothing of its own to delete, empties the WAL once
// the reader is gone, also when the run itself fails (here: its context is
// cancelled before it reads anything). (Fails without the run's retry; the
// failing run, without the retry being deferred.)
func TestRetentionRunFinishesABusyWALTruncation(t *testing.T) {
	for _, fails := range []bool{false, true} {
		t.Run(map[bool]string{false: "the run succeeds", true: "the run fails"}[fails], func(t *testing.T) {
			retentionRunFinishesABusyWALTruncation(t, fails)
		})
	}
}

func retentionRunFinishesABusyWALTruncation(t *testing.T, fails bool) {
	ctx := context.Background()
	db := storetest.SQLite(t, migrations.FS)
	walSize := func() int64 { return storetest.WALSize(t, db) }
	s, err := New(Deps{Store: storage.New(db), Audit: auditclient.NewOutbox(db, nil, nil),
		Keys: Keys{ChannelID: bytes.Repeat([]byte{1}, MinKeyLen), Value: bytes.Repeat([]byte{2}, MinKeyLen)},
		WAL:  store.NewScrubber(db, 100*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}

	// A reader keeps the WAL while an erasure's truncation runs.
	release := storetest.HoldReader(t, db, "conversations")
	s.truncateWAL(ctx)
	if !s.d.WAL.Pending() {
		t.Fatal("the truncation under a reader is not owed: the scenario did not happen")
	}
	release()
	if walSize() == 0 {
		t.Fatal("the WAL is empty before the retention run: the test shows nothing")
	}

	pol, err := retention.Parse([]byte("version: 1\ndefault_days: {web: 30, whatsapp: 90, messenger: 90, api: 30}\nmodel_improvement_days: 365\n"))
	if err != nil {
		t.Fatal(err)
	}
	runCtx := ctx
	if fails {
		c, cancel := context.WithCancel(ctx)
		cancel()
		runCtx = c
	}
	res, err := s.NewRetention(pol, nil, nil).Sweep(runCtx, "run:test")
	if fails != (err != nil) || res.Deleted["conversations"] != 0 {
		t.Fatalf("sweep: %+v, %v; want nothing deleted, failing %v", res, err, fails)
	}
	if n := walSize(); n != 0 || s.d.WAL.Pending() {
		t.Errorf("after the retention run the WAL is %d bytes (pending %v), want 0: the owed truncation was not finished", n, s.d.WAL.Pending())
	}
}

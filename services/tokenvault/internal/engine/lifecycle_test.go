package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// refuseRewrap is a KeyManager that may not rewrap, as a Vault policy
// without the rewrap capability.
type refuseRewrap struct{ keys.KeyManager }

func (refuseRewrap) Rewrap(context.Context, string, []byte, []byte) ([]byte, error) {
	return nil, errs.E(errs.PermissionDenied, "KEY_PERMISSION_DENIED", "rewrap refused")
}

// runJobs runs e's scheduled jobs on db until the test ends. The runner's
// clock is fake and never advanced: only the first occurrences and
// triggers run.
func runJobs(t *testing.T, db *store.DB, e *engine.Engine) {
	t.Helper()
	r, err := jobs.New(db, jobs.Config{Worker: "test", Clock: clockwork.NewFakeClockAt(time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ScheduleJobs(r, time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("jobs: %v", err)
		}
	})
}

// jobState is the state and last error reason of the newest job of kind.
func jobState(t *testing.T, db *store.DB, kind string) (state, reason string) {
	t.Helper()
	var r *string
	err := db.QueryRowContext(context.Background(), `
		SELECT state, last_error_reason FROM jobs WHERE kind = $1 ORDER BY id DESC LIMIT 1`, kind).Scan(&state, &r)
	if err != nil {
		return "", ""
	}
	if r != nil {
		reason = *r
	}
	return state, reason
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Each background task is its own job: the rewrap failing (the key backend
// refuses) does not keep the re-encryption or the purge of expired tokens
// from running, and the failure is recorded by its reason.
func TestScheduledJobsFailIndependently(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		short, err := f.eng.Tokenize(ctx, conversation, engine.TokenizeRequest{Subject: "cus_2", TTL: time.Minute,
			Items: []engine.Item{{Value: "John Roe", Type: tokens.Name}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.RotateSubjectKey(ctx, engine.Caller{Workload: "sotto-cli"}, "", "cus_1"); err != nil {
			t.Fatal(err)
		}
		st, err := f.eng.RotateKeys(ctx, engine.Caller{Workload: "sotto-cli"}, true)
		if err != nil || st.PendingRewrap == 0 || st.PendingReencrypt != 1 {
			t.Fatalf("after the rotations: %+v, %v; want keys to rewrap and one value to re-encrypt", st, err)
		}
		f.now = f.now.Add(2 * time.Minute) // the short-lived token expires

		// Another replica, whose key backend refuses to rewrap, runs the jobs.
		pol, err := policy.Parse(tokenvault.DefaultPolicy)
		if err != nil {
			t.Fatal(err)
		}
		g := engine.New(storage.New(db), refuseRewrap{f.km}, f.audit, auditclient.NewOutbox(db, nil, nil), pol, nil,
			engine.Options{Now: func() time.Time { return f.now }, Tenants: []string{"default", "othershop"}})
		runJobs(t, db, g)

		waitFor(t, "the three jobs to finish their first attempts", func() bool {
			rw, _ := jobState(t, db, engine.JobRewrap)
			re, _ := jobState(t, db, engine.JobReencrypt)
			pu, _ := jobState(t, db, engine.JobPurgeExpired)
			return rw == "retryable" && re == "completed" && pu == "completed"
		})
		if _, reason := jobState(t, db, engine.JobRewrap); reason != "KEY_PERMISSION_DENIED" {
			t.Errorf("rewrap failed with reason %q; want KEY_PERMISSION_DENIED", reason)
		}
		if n, err := f.st.PendingRewrap(ctx, st.KEKVersion); err != nil || n == 0 {
			t.Errorf("keys to rewrap after the failed job: %d, %v; want some", n, err)
		}
		if n, err := f.st.PendingReencrypt(ctx); err != nil || n != 0 {
			t.Errorf("values to re-encrypt after the job: %d, %v; want 0", n, err)
		}
		var left int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE token = $1`, short[0].Token).Scan(&left); err != nil || left != 0 {
			t.Errorf("expired token rows after the purge job: %d, %v; want 0", left, err)
		}
	})
}

// A key rotation runs the rewrap at once, without waiting for the next
// occurrence (the runner's clock does not move in this test).
func TestRotationWakesTheRewrapJob(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, time.Minute)
		ctx := context.Background()
		f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		runJobs(t, db, f.eng)
		waitFor(t, "the first rewrap occurrence", func() bool {
			s, _ := jobState(t, db, engine.JobRewrap)
			return s == "completed"
		})
		// Before the rotation every key is under version 1: version 2 would
		// find them all to rewrap. (Read before rotating: RotateKeys wakes
		// the job, which may have rewrapped them by the time it returns.)
		if n, err := f.st.PendingRewrap(ctx, 2); err != nil || n == 0 {
			t.Fatalf("keys under a version below 2 before rotating: %d, %v; want some", n, err)
		}
		st, err := f.eng.RotateKeys(ctx, engine.Caller{Workload: "sotto-cli"}, true)
		if err != nil || st.KEKVersion != 2 {
			t.Fatalf("after rotating: %+v, %v; want KEK version 2", st, err)
		}
		// Read the backlog from the store: RotateKeys would wake the job too.
		waitFor(t, "the woken rewrap", func() bool {
			n, err := f.st.PendingRewrap(ctx, st.KEKVersion)
			return err == nil && n == 0
		})
	})
}

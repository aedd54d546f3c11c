package service_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/service"
)

// TestJobsRunAsABackgroundTask: the runner from Service.Jobs works the
// service's jobs once it serves and shows them on /metrics; at shutdown it
// cancels a running handler after SOTTO_JOBS_SHUTDOWN_GRACE and waits for
// it to return.
func TestJobsRunAsABackgroundTask(t *testing.T) {
	h := newHarness(t, "notes")
	h.env["SOTTO_JOBS_SHUTDOWN_GRACE"] = "50ms"
	started := make(chan struct{})
	finished := make(chan struct{})
	s, stop := h.run(t, "notes", func(ctx context.Context, s *service.Service) error {
		db, err := s.DB(ctx, nil)
		if err != nil {
			return err
		}
		r, err := s.Jobs(db)
		if err != nil {
			return err
		}
		if _, err := s.Jobs(db); err == nil {
			t.Error("a second Jobs call succeeded")
		}
		if err := r.Periodic("notes.sweep", time.Hour, func(ctx context.Context, _ jobs.Job) error {
			close(started)
			<-ctx.Done() // only shutdown ends it
			close(finished)
			return ctx.Err()
		}, jobs.Options{}); err != nil {
			return err
		}
		_, err = s.GRPC(authz.Policy{})
		return err
	})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the periodic job did not run")
	}
	resp, err := http.Get("http://" + s.Addrs()["admin"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `sotto_jobs{kind="notes.sweep"`) {
		t.Errorf("/metrics has no sotto_jobs series for the kind")
	}

	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case <-finished:
	default:
		t.Error("the service stopped before the running handler returned")
	}
}

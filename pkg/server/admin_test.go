package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/telemetry"
)

// TestReplicaReadiness: /readyz/replica, the Kubernetes probe of an
// elected service, counts a healthy standby ready (its check fails with
// ErrStandby) where /readyz, which callers balance on, does not; and a
// replica whose own store fails, or whose role check fails for any other
// reason, is not ready on either. Seen failing with ReplicaNotReady
// ignoring every check (a database down still "ready", as /healthz was).
func TestReplicaReadiness(t *testing.T) {
	tel, err := telemetry.New(context.Background(), "svc", telemetry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	var dbErr, roleErr error
	a := server.NewAdmin(tel)
	a.AddReadinessCheck("database", func(context.Context) error { return dbErr })
	a.AddReadinessCheck("sequencer", func(context.Context) error { return roleErr })
	a.AddDependencyCheck("consent", func(context.Context) error { return nil })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	standby := fmt.Errorf("another replica sequences: %w", server.ErrStandby)
	down := errors.New("dial tcp 10.0.0.7:5432: connection refused")
	tests := []struct {
		name            string
		db, role        error
		readyz, replica string
	}{
		{"leader", nil, nil, "200 ready", "200 ready"},
		{"standby", nil, standby, "503 not ready: sequencer", "200 ready"},
		{"standby without its database", down, standby, "503 not ready: database, sequencer", "503 not ready: database"},
		{"leader without its database", down, nil, "503 not ready: database", "503 not ready: database"},
		{"role unknown", nil, down, "503 not ready: sequencer", "503 not ready: sequencer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbErr, roleErr = tc.db, tc.role
			if got := get("/readyz"); got != tc.readyz {
				t.Errorf("/readyz: %q, want %q", got, tc.readyz)
			}
			if got := get("/readyz/replica"); got != tc.replica {
				t.Errorf("/readyz/replica: %q, want %q", got, tc.replica)
			}
		})
	}
}

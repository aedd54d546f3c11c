package service_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/service"
)

func grpcOnly(_ context.Context, s *service.Service) error {
	_, err := s.GRPC(authz.Policy{})
	return err
}

// TestPprofIsOffUnlessAskedAndLoopbackOnly: no profiling listener by
// default; SOTTO_PPROF_ADDR on loopback serves the heap profile; any other
// address refuses to start (checked to fail with the loopback check removed).
func TestPprofIsOffUnlessAskedAndLoopbackOnly(t *testing.T) {
	h := newHarness(t, "notes")
	s, stop := h.run(t, "notes", grpcOnly)
	if addr, ok := s.Addrs()["pprof"]; ok {
		t.Errorf("pprof listening at %s without SOTTO_PPROF_ADDR", addr)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	h.env["SOTTO_PPROF_ADDR"] = "127.0.0.1:0"
	s, _ = h.run(t, "notes", grpcOnly)
	resp, err := http.Get("http://" + s.Addrs()["pprof"] + "/debug/pprof/heap")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("heap profile: %d", resp.StatusCode)
	}

	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0"} {
		h.env["SOTTO_PPROF_ADDR"] = addr
		// Without the check it would serve until the context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := service.Run(ctx, "notes", h.env, grpcOnly)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("SOTTO_PPROF_ADDR=%s: %v, want a refusal naming loopback", addr, err)
		}
	}
}

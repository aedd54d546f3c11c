package main

import (
	"slices"
	"testing"

	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
)

// TestDevEnvPassesTuningNotOthersSettings: a service started by dev up gets
// the operator's job-runner, Go runtime and profiling settings and its own
// SOTTO_<NAME>_* tuning, not
// another service's; the addresses dev up computes come after the
// operator's, so they win (the last value of a key does, in os/exec).
func TestDevEnvPassesTuningNotOthersSettings(t *testing.T) {
	t.Setenv("SOTTO_GATEWAY_AUTH_BURST", "100")
	t.Setenv("SOTTO_JOBS_LEASE", "2s")
	t.Setenv("SOTTO_PPROF_ADDR", "127.0.0.1:0")
	t.Setenv("GOGC", "400")
	t.Setenv("GODEBUG", "http2debug=2") // would log request headers
	t.Setenv("SOTTO_AUDIT_SOMETHING", "x")
	t.Setenv("SOTTO_GATEWAY_GRPC_ADDR", "127.0.0.1:1")
	m := suite.MustLoad()
	gw, _ := m.Service("gateway")
	st := suite.State{TrustDomain: "sotto.test", Services: map[string]suite.Endpoints{}}
	for _, s := range m.Services {
		st.Services[s.Name] = suite.Endpoints{GRPC: "127.0.0.1:2000", HTTP: "http://127.0.0.1:2001", Admin: "127.0.0.1:2002"}
	}
	env := devEnv(t.TempDir(), st, gw, mtls.Files{})
	for _, want := range []string{"SOTTO_GATEWAY_AUTH_BURST=100", "SOTTO_JOBS_LEASE=2s", "SOTTO_PPROF_ADDR=127.0.0.1:0", "GOGC=400"} {
		if !slices.Contains(env, want) {
			t.Errorf("%s not passed through", want)
		}
	}
	if slices.Contains(env, "GODEBUG=http2debug=2") {
		t.Error("GODEBUG passed through (it can turn off TLS defaults or log request headers)")
	}
	if slices.Contains(env, "SOTTO_AUDIT_SOMETHING=x") {
		t.Error("another service's setting passed through")
	}
	if last := lastValue(env, "SOTTO_GATEWAY_GRPC_ADDR"); last != "127.0.0.1:2000" {
		t.Errorf("SOTTO_GATEWAY_GRPC_ADDR resolves to %q, want dev up's", last)
	}
}

func lastValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if len(kv) > len(key) && kv[:len(key)+1] == key+"=" {
			v = kv[len(key)+1:]
		}
	}
	return v
}

// TestPprofNeedsPortZero: dev up refuses a fixed profiling port, which
// only the first service could listen on.
func TestPprofNeedsPortZero(t *testing.T) {
	for addr, ok := range map[string]bool{"": true, "127.0.0.1:0": true, "[::1]:0": true, "127.0.0.1:6060": false, "nonsense": false} {
		if err := checkPprofPort(addr); (err == nil) != ok {
			t.Errorf("checkPprofPort(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

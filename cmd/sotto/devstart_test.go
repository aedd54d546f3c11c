package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sottohq/sotto/pkg/loopback"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
)

// TestLauncherRecoversTakenAddress: a service whose port was taken between
// being picked and being bound (here on purpose: the test holds it) is
// started again on new addresses, and a service that started before it and
// was given the old address (it follows it) is restarted with the new one.
func TestLauncherRecoversTakenAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	// a follows b, so it starts first and gets b's address before b binds.
	order := []suite.Service{
		{Name: "a", API: suite.GRPC, Follows: []string{"b"}},
		{Name: "b", API: suite.GRPC, Calls: []string{"a"}},
	}
	dir := t.TempDir()
	for _, sub := range []string{"bin", "logs"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, svc := range order {
		fakeServiceBinary(t, filepath.Join(dir, "bin", svc.Name), filepath.Join(dir, svc.Name+".starts"))
	}

	term := &syncBuffer{}
	sup := newSupervisor(term, true)
	defer sup.stopAll()
	st := suite.State{Services: map[string]suite.Endpoints{}}
	pick := loopback.Distinct(loopback.FreeAddr)
	handedOut := false
	l := &launcher{
		sup: sup, st: &st, dir: dir, bin: filepath.Join(dir, "bin"), certs: map[string]mtls.Files{},
		addrs: func(svc suite.Service) (suite.Endpoints, error) {
			ep, err := endpoints(svc, "auto", pick)
			if svc.Name == "b" && !handedOut {
				handedOut = true
				ep.GRPC = taken.Addr().String()
			}
			return ep, err
		},
	}
	for _, svc := range order {
		if err := l.assign(svc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.startAll(context.Background(), order); err != nil {
		t.Fatalf("%v\n%s", err, term.String())
	}

	b := st.Services["b"].GRPC
	if b == taken.Addr().String() {
		t.Fatalf("b kept the taken address %s", b)
	}
	if got := fakeEnv(t, st.Services["a"].Admin)["SOTTO_B_ADDR"]; got != b {
		t.Errorf("a, running, dials b at %q; b listens on %s", got, b)
	}
	if got := fakeEnv(t, st.Services["b"].Admin)["SOTTO_GRPC_ADDR"]; got != b {
		t.Errorf("b, running, listens on %q; the suite's state says %s", got, b)
	}
	if n := count(t, filepath.Join(dir, "b.starts")); n != 2 {
		t.Errorf("b started %d times, want 2 (the taken address, then a new one)", n)
	}
	if n := count(t, filepath.Join(dir, "a.starts")); n != 2 {
		t.Errorf("a started %d times, want 2 (with b's old address, then its new one)", n)
	}
	if !strings.Contains(term.String(), "b could not listen") {
		t.Errorf("the terminal was not told why b started again:\n%s", term.String())
	}
}

// TestLauncherGivesUpOnAnAddressThatStaysTaken: a fixed gateway address that
// another program holds is not retried forever, and the error names it.
func TestLauncherGivesUpOnAnAddressThatStaysTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	for _, sub := range []string{"bin", "logs"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	gw := suite.Service{Name: "gateway", API: suite.HTTP}
	fakeServiceBinary(t, filepath.Join(dir, "bin", gw.Name), filepath.Join(dir, "gateway.starts"))
	sup := newSupervisor(io.Discard, true)
	defer sup.stopAll()
	st := suite.State{Services: map[string]suite.Endpoints{}}
	pick := loopback.Distinct(loopback.FreeAddr)
	l := &launcher{
		sup: sup, st: &st, dir: dir, bin: filepath.Join(dir, "bin"), certs: map[string]mtls.Files{},
		addrs: func(svc suite.Service) (suite.Endpoints, error) {
			return endpoints(svc, taken.Addr().String(), pick)
		},
	}
	if err := l.assign(gw); err != nil {
		t.Fatal(err)
	}
	_, err = l.startAll(context.Background(), []suite.Service{gw})
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("err = %v, want one naming the taken address %s", err, taken.Addr())
	}
	if n := count(t, filepath.Join(dir, "gateway.starts")); n != bindAttempts {
		t.Errorf("gateway started %d times, want %d", n, bindAttempts)
	}
}

// TestGatewayPortZeroIsResolvedFirst: --http-addr 127.0.0.1:0 gives the
// gateway a real port before it starts, so the address in the suite's
// state (dev.json, the banner) and in identity's WebAuthn origin is the
// one the gateway listens on, not ":0".
func TestGatewayPortZeroIsResolvedFirst(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"bin", "logs"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	gw := suite.Service{Name: "gateway", API: suite.HTTP}
	fakeServiceBinary(t, filepath.Join(dir, "bin", gw.Name), filepath.Join(dir, "gateway.starts"))
	sup := newSupervisor(io.Discard, true)
	defer sup.stopAll()
	st := suite.State{Services: map[string]suite.Endpoints{}}
	pick := loopback.Distinct(loopback.FreeAddr)
	l := &launcher{
		sup: sup, st: &st, dir: dir, bin: filepath.Join(dir, "bin"), certs: map[string]mtls.Files{},
		addrs: func(svc suite.Service) (suite.Endpoints, error) { return endpoints(svc, "127.0.0.1:0", pick) },
	}
	if err := l.assign(gw); err != nil {
		t.Fatal(err)
	}
	if _, err := l.startAll(context.Background(), []suite.Service{gw}); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(st.GatewayURL, "http://")
	if host, port, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("gateway URL %q: want 127.0.0.1 and the port it listens on", st.GatewayURL)
	}
	if got := fakeEnv(t, st.Services["gateway"].Admin)["SOTTO_HTTP_ADDR"]; got != addr {
		t.Errorf("gateway listens on %q; the suite's state says %s", got, addr)
	}
	_, port, _ := net.SplitHostPort(addr)
	identity := devEnv(dir, st, suite.Service{Name: "identity", API: suite.GRPC}, mtls.Files{})
	if !slices.Contains(identity, "SOTTO_IDENTITY_WEBAUTHN_ORIGINS=http://localhost:"+port) {
		t.Errorf("identity's WebAuthn origin is not the gateway's port %s: %q", port, identity)
	}
	if _, err := endpoints(gw, "127.0.0.1", pick); err == nil {
		t.Error("--http-addr without a port was accepted")
	}
}

// fakeServiceBinary writes at path a service that is this test binary
// running TestFakeService, which records each start in starts.
func fakeServiceBinary(t *testing.T, path, starts string) {
	t.Helper()
	script := fmt.Sprintf("#!/bin/sh\necho start >> %q\nSOTTO_FAKE_SERVICE=1 exec %q -test.run='^TestFakeService$'\n", starts, os.Args[0])
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
}

// TestFakeService is not a test: run by fakeServiceBinary, it listens where
// a service of the suite would (SOTTO_GRPC_ADDR or the gateway's two
// addresses, then SOTTO_ADMIN_ADDR), failing as a service does when one is
// taken, and its admin port answers /readyz and /env (its environment).
func TestFakeService(t *testing.T) {
	if os.Getenv("SOTTO_FAKE_SERVICE") != "1" {
		t.Skip("run by the launcher tests")
	}
	for _, name := range []string{"SOTTO_GRPC_ADDR", "SOTTO_HTTP_ADDR", "SOTTO_GATEWAY_GRPC_ADDR"} {
		if addr := os.Getenv(name); addr != "" {
			if _, err := net.Listen("tcp", addr); err != nil {
				fmt.Fprintf(os.Stderr, "fake: listen %s: %v\n", name, err)
				os.Exit(1)
			}
		}
	}
	admin, err := net.Listen("tcp", os.Getenv("SOTTO_ADMIN_ADDR"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "fake: listen admin: %v\n", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ready") })
	mux.HandleFunc("/env", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, strings.Join(os.Environ(), "\n")) })
	http.Serve(admin, mux) // until SIGTERM
}

func fakeEnv(t *testing.T, admin string) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/env")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// syncBuffer is the terminal: the supervisor's restart loops may still
// write to it while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Package devsuite runs the real binaries for cross-service tests and
// benchmarks: `sotto dev up` as a child process, and clients that reach its
// services the way workloads and operators do.
package devsuite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"

	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
)

// TrustDomain is the dev suite's SPIFFE trust domain.
const TrustDomain = "sotto.local"

// Info is what `sotto dev up` writes to <state>/dev.json (one schema, in
// pkg/suite).
type Info = suite.State

// Suite is a running `sotto dev up`.
type Suite struct {
	T     testing.TB
	Bin   string // the binaries' directory
	State string // the suite's state directory
	Info  Info

	// The first admin's session (OperatorToken).
	opMu      sync.Mutex
	opToken   string
	opRefresh string
	opExpires time.Time

	cmd  *exec.Cmd
	out  *SyncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, valid after done
}

// BinDir is where `make build` put the binaries: SOTTO_BIN_DIR, or bin/ at
// the repository root. Without them the test skips, except in CI (CI=true),
// where it fails: CI must run the cross-service tests.
func BinDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SOTTO_BIN_DIR")
	if dir == "" {
		if root, err := RepoRoot(); err == nil {
			dir = filepath.Join(root, "bin")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sotto")); dir == "" || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no binaries (SOTTO_BIN_DIR or bin/): CI must run the cross-service tests (make test builds them)")
		}
		t.Skip("no binaries; run `make build` or `make test`")
	}
	return dir
}

// RepoRoot is the directory holding go.work, above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory")
		}
		dir = parent
	}
}

// Start runs `sotto dev up` with binaries from bin and state in state,
// extra environment env, until the test ends, and waits until it is up.
func Start(t testing.TB, bin, state string, env ...string) *Suite {
	t.Helper()
	s := &Suite{T: t, Bin: bin, State: state, out: &SyncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(bin, "sotto"), "dev", "up", "--state", state, "--bin", bin, "--http-addr", "auto", "--quiet")
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(90 * time.Second)
	for {
		info, err := suite.ReadState(state)
		if err == nil && strings.Contains(s.out.String(), "Sotto is running") {
			s.Info = info
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("sotto dev up exited (%v):\n%s%s", s.err, s.out.String(), failedServiceLog(s.out.String()))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("sotto dev up did not come up:\n%s", s.out.String())
		}
	}
}

// failedServiceLog is the tail of the log dev up names when a service did
// not start ("(see <path>)"), read before the test's temporary directory
// is removed.
func failedServiceLog(out string) string {
	_, rest, ok := strings.Cut(out, "(see ")
	if !ok {
		return ""
	}
	path, _, ok := strings.Cut(rest, ")")
	if !ok {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return "\n--- tail of " + path + ":\n" + string(b)
}

// Stop sends Ctrl-C and waits for a clean exit; calling it again is a no-op.
func (s *Suite) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		if s.err != nil {
			s.T.Errorf("sotto dev up exited with %v:\n%s", s.err, s.out.String())
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		s.T.Errorf("sotto dev up did not stop on SIGINT")
	}
	if _, err := os.Stat(filepath.Join(s.State, "dev.json")); err == nil {
		s.T.Errorf("dev.json left behind after stop")
	}
}

// PID is the launcher's process ID (the services are its children).
func (s *Suite) PID() int { return s.cmd.Process.Pid }

// Output is what the launcher printed so far.
func (s *Suite) Output() string { return s.out.String() }

// Workload issues a certificate for spiffe://sotto.local/<name> from the
// suite's dev CA, as a deployment would for a new service.
func (s *Suite) Workload(name string) *mtls.Source {
	t := s.T
	t.Helper()
	ca, err := mtls.LoadOrCreateDevCA(filepath.Join(s.State, "ca"), TrustDomain)
	if err != nil {
		t.Fatal(err)
	}
	files, err := mtls.WriteWorkload(filepath.Join(t.TempDir(), name), ca, spiffeid.RequireFromString("spiffe://"+TrustDomain+"/"+name), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	src, err := mtls.NewFileSource(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Dial connects to service at addr as the workload name, over mTLS.
func (s *Suite) Dial(name, service, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t := s.T
	t.Helper()
	conn, err := dial.Service(addr, s.Workload(name), service, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Response is a gateway answer.
type Response struct {
	Code int
	Body map[string]any
	Raw  string
}

// Reason is the "reason" of a JSON error body.
func (r Response) Reason() string {
	e, _ := r.Body["error"].(map[string]any)
	reason, _ := e["reason"].(string)
	return reason
}

// Request sends method path (with body, if any) to the gateway; token is
// an access token ("" for none).
func (s *Suite) Request(method, path, token, body string) Response {
	t := s.T
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.Info.GatewayURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := Response{Code: resp.StatusCode, Raw: string(raw)}
	json.Unmarshal(raw, &r.Body)
	return r
}

// SyncBuffer collects a child's output while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package bench

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
)

// suite is a running `sotto dev up` (audit, tokenvault, gateway), started the
// way test/e2e starts it.
type suite struct {
	t     *testing.T
	state string
	cmd   *exec.Cmd
	out   *syncBuffer
	done  chan struct{}
	err   error
	info  struct {
		AuditAddr      string `json:"audit_addr"`
		TokenvaultAddr string `json:"tokenvault_addr"`
		GatewayURL     string `json:"gateway_url"`
		AdminToken     string `json:"admin_token"`
	}
}

// binDir is where `make build` put the binaries: SOTTO_BIN_DIR, or bin/ at
// the repository root.
func binDir(t *testing.T) string {
	if dir := os.Getenv("SOTTO_BIN_DIR"); dir != "" {
		return dir
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "bin")
	if _, err := os.Stat(filepath.Join(dir, "tokenvault")); err != nil {
		t.Fatalf("no binaries in %s: run `make build` or set SOTTO_BIN_DIR", dir)
	}
	return dir
}

func repoRoot() (string, error) {
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

// snapshotBinaries links (or copies) the binaries into a private directory,
// so that a `make build` elsewhere during the run replaces neither the
// processes' files (which profiles are read against) nor what a restart
// would run.
func snapshotBinaries(t *testing.T, from string) string {
	t.Helper()
	dir, err := os.MkdirTemp(from, ".bench-") // same file system: hard links work
	if err != nil {
		dir = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	for _, name := range []string{"sotto", "audit", "tokenvault", "gateway"} {
		src, dst := filepath.Join(from, name), filepath.Join(dir, name)
		if os.Link(src, dst) == nil {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("binary %s: %v (run `make build`)", src, err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func startSuite(t *testing.T, env ...string) *suite {
	t.Helper()
	bin := snapshotBinaries(t, binDir(t))
	s := &suite{t: t, state: t.TempDir(), out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(bin, "sotto"), "dev", "up", "--state", s.state, "--bin", bin, "--http-addr", "auto", "--quiet")
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(90 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(s.state, "dev.json"))
		if err == nil && json.Unmarshal(b, &s.info) == nil && strings.Contains(s.out.String(), "Sotto is running") {
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("sotto dev up exited (%v):\n%s", s.err, s.out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("sotto dev up did not come up:\n%s", s.out.String())
		}
	}
}

func (s *suite) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		if s.err != nil {
			s.t.Errorf("sotto dev up exited with %v:\n%s", s.err, s.out.String())
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Errorf("sotto dev up did not stop on SIGINT")
	}
}

// dial connects to service as the workload name, with a certificate from
// the suite's dev CA.
func (s *suite) dial(name, service, addr string) *grpc.ClientConn {
	t := s.t
	ca, err := mtls.LoadOrCreateDevCA(filepath.Join(s.state, "ca"), "sotto.local")
	if err != nil {
		t.Fatal(err)
	}
	files, err := mtls.WriteWorkload(filepath.Join(t.TempDir(), name), ca, spiffeid.RequireFromString("spiffe://sotto.local/"+name), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	src, err := mtls.NewFileSource(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial.Service(addr, src, service, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// auditTreeSize is the size of the audit log's latest checkpoint, read
// through the gateway.
func (s *suite) auditTreeSize() (string, error) {
	req, _ := http.NewRequest(http.MethodGet, s.info.GatewayURL+"/v1/audit/checkpoint", nil)
	req.Header.Set("Authorization", "Bearer "+s.info.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Checkpoint struct {
			TreeSize string `json:"tree_size"`
		} `json:"checkpoint"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return "", err
	}
	return body.Checkpoint.TreeSize, nil
}

// settle waits until the audit log stops growing (tokenvault's outbox has
// delivered what the last phase queued), so background work of one phase
// does not run inside the next one's measurement. It returns how long that
// took (to within the checkpoint interval).
func (s *suite) settle() time.Duration {
	start := time.Now()
	last, _ := s.auditTreeSize()
	for time.Since(start) < 60*time.Second {
		time.Sleep(1500 * time.Millisecond) // checkpoints are signed every second
		cur, err := s.auditTreeSize()
		if err == nil && cur == last {
			break
		}
		last = cur
	}
	return time.Since(start)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sottosuite "github.com/sottohq/sotto/pkg/suite"
)

// TestDevUpSurvivesKill9: kill -9 of any one service under `sotto dev up`
// does not stop the suite: the service is restarted (and the terminal says
// so), dev.json stays, and the suite serves again through the gateway.
func TestDevUpSurvivesKill9(t *testing.T) {
	state := t.TempDir()
	s := startSuite(t, state)
	// Signed in while everything runs: a login looks the e-mail up in the
	// token vault, which refuses while audit is down (no audit, no lookup).
	s.OperatorToken()
	m := sottosuite.MustLoad()
	for _, svc := range m.Services {
		t.Run(svc.Name, func(t *testing.T) {
			old := childPID(t, s.PID(), svc.Name)
			if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				pid, ok := findChild(s.PID(), svc.Name)
				if ok && pid != old && serving(s) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s was not restarted, or the suite does not serve again:\n%s", svc.Name, s.Output())
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !strings.Contains(s.Output(), "[sotto] "+svc.Name+" exited") {
				t.Errorf("the terminal did not say %s was restarted:\n%s", svc.Name, s.Output())
			}
			if _, err := os.Stat(filepath.Join(state, sottosuite.StateFile)); err != nil {
				t.Errorf("dev.json: %v", err)
			}
		})
	}
}

// serving: the gateway is ready (every backend answers its health check)
// and an operator request goes through to the audit service.
func serving(s *suite) bool {
	resp, err := http.Get("http://" + s.Info.Services["gateway"].Admin + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && s.get("/v1/audit/checkpoint", s.OperatorToken()).code == http.StatusOK
}

func childPID(t *testing.T, parent int, name string) int {
	t.Helper()
	pid, ok := findChild(parent, name)
	if !ok {
		t.Fatalf("no %s process under pid %d", name, parent)
	}
	return pid
}

// findChild finds the child of parent whose executable is named name
// (Linux /proc).
func findChild(parent int, name string) (int, bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so split after ")".
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat)[i+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && filepath.Base(exe) == name {
			return pid, true
		}
	}
	return 0, false
}

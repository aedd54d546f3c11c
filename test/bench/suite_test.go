package bench

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/test/devsuite"
)

// devSuite is a running `sotto dev up` (see test/devsuite).
type devSuite struct {
	*devsuite.Suite
}

// snapshotBinaries links (or copies) the binaries into a private directory,
// so that a `make build` elsewhere during the run replaces neither the
// processes' files (which profiles are read against) nor what a restart
// would run.
func snapshotBinaries(t testing.TB, from string) string {
	t.Helper()
	dir, err := os.MkdirTemp(from, ".bench-") // same file system: hard links work
	if err != nil {
		dir = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	for _, name := range append([]string{"sotto"}, suite.MustLoad().Names()...) {
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

func startSuite(t *testing.T, env ...string) *devSuite {
	t.Helper()
	bin := snapshotBinaries(t, devsuite.BinDir(t))
	ds := devsuite.Start(t, bin, t.TempDir(), env...)
	return &devSuite{Suite: ds}
}

// auditTreeSize is the size of the audit log's latest checkpoint, read
// through the gateway.
func (s *devSuite) auditTreeSize() (string, error) {
	req, _ := http.NewRequest(http.MethodGet, s.Info.GatewayURL+"/v1/audit/checkpoint", nil)
	req.Header.Set("Authorization", "Bearer "+s.OperatorToken())
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
func (s *devSuite) settle() time.Duration {
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

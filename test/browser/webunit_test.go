package browser

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sottohq/sotto/test/devsuite"
)

// TestWebUnitTests runs the pages' JavaScript unit tests (web/test, node's
// test runner) so that `make test` runs them. Without node the test skips,
// except in CI, where it fails (.ci/run installs node).
func TestWebUnitTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no node: CI must run the web unit tests (.ci/run installs it)")
		}
		t.Skip("no node")
	}
	root, err := devsuite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--test", "test/")
	cmd.Dir = filepath.Join(root, "web")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
}

package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestModulesBuildAlone keeps the README's promise that every module builds
// with GOWORK=off (its replace lines bring gen/ and pkg/): for each module
// of go.work, its packages and their tests load with GOWORK=off from its
// own go.mod and go.sum alone (-mod=readonly: a missing requirement or
// go.sum line fails instead of being added), offline (GOPROXY=off: only what
// the workspace build already put in the module cache), and with the very
// versions the workspace selects, so that a module built alone (an image,
// an SBOM, a downstream user) is the binary `make build` makes. Seen failing
// with services/conversation's go.sum lacking otelhttp (missing go.sum
// entry) and with pkg/go.mod on pgx v5.12.0 under the workspace's v5.13.0.
//
// Fix a failure with, in the module named, `GOWORK=off go mod tidy`, then
// `GOWORK=off go get <module>@<workspace version>` for every version the
// test names, then tidy again: never a version above the workspace's.
func TestModulesBuildAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every module's packages twice")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := goCmd(t, root, nil, "work", "edit", "-json")
	if err != nil {
		t.Fatalf("go work edit -json: %v\n%s", err, out)
	}
	var work struct{ Use []struct{ DiskPath string } }
	if err := json.Unmarshal(out, &work); err != nil {
		t.Fatal(err)
	}
	if len(work.Use) == 0 {
		t.Fatal("go.work uses no module")
	}
	for _, u := range work.Use {
		dir := filepath.Join(root, u.DiskPath)
		t.Run(filepath.ToSlash(u.DiskPath), func(t *testing.T) {
			// In the workspace first (with the environment's proxy, as
			// the build fetches): the versions to match, and a filled
			// module cache for the offline run.
			want, err := packageModules(t, dir, nil)
			if err != nil {
				t.Fatalf("in the workspace: %v", err)
			}
			got, err := packageModules(t, dir, []string{"GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=readonly"})
			if err != nil {
				t.Fatalf("GOWORK=off does not build it (tidy it, see the test's comment): %v", err)
			}
			for path, v := range got {
				if w, ok := want[path]; ok && w != v {
					t.Errorf("GOWORK=off builds %s %s, the workspace %s", path, v, w)
				}
			}
			for path := range want {
				if _, ok := got[path]; !ok {
					t.Errorf("GOWORK=off builds without %s, which the workspace's build of this module uses", path)
				}
			}
		})
	}
}

// packageModules lists the modules that provide the packages of dir's
// module and of its tests (not the whole module graph: a module no package
// comes from changes nothing built), path → version. Modules replaced by a
// directory (gen, pkg) have no version and are left out.
func packageModules(t *testing.T, dir string, env []string) (map[string]string, error) {
	t.Helper()
	out, err := goCmd(t, dir, env, "list", "-deps", "-test",
		"-f", `{{with .Module}}{{if and (not .Main) (not .Replace)}}{{.Path}} {{.Version}}{{end}}{{end}}`, "./...")
	if err != nil {
		return nil, &cmdError{err: err, out: out}
	}
	mods := map[string]string{}
	for line := range strings.SplitSeq(string(out), "\n") {
		if path, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			mods[path] = v
		}
	}
	return mods, nil
}

type cmdError struct {
	err error
	out []byte
}

func (e *cmdError) Error() string {
	const max = 2000
	out := e.out
	if len(out) > max {
		out = out[:max]
	}
	return e.err.Error() + "\n" + string(out)
}

func goCmd(t *testing.T, dir string, env []string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	// The test's own GOWORK/GOFLAGS must not leak into the workspace run.
	base := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOWORK=") && !strings.HasPrefix(kv, "GOFLAGS=") {
			base = append(base, kv)
		}
	}
	cmd.Env = append(base, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

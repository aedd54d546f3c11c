package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfilePolicy parses every image definition under docker/ with
// BuildKit's own parser and checks the image policy: bases pinned by digest,
// the Makefile's Go toolchain, a static build, and a final stage with no
// shell, no RUN, a numeric non-root user and an exec-form entrypoint. No
// container tool runs here; `make images` builds them where one exists.
func TestDockerfilePolicy(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("docker", "*Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Dockerfile under docker/")
	}
	toolchain := makefileToolchain(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			checkDockerfile(t, f, toolchain)
		})
	}
}

// makefileToolchain is the Go toolchain every Makefile target builds with.
func makefileToolchain(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GO_TOOLCHAIN\s*\?=\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Makefile sets no GO_TOOLCHAIN")
	}
	return string(m[1])
}

var (
	pinnedImage = regexp.MustCompile(`^[a-z0-9./_:-]+@sha256:[0-9a-f]{64}$`)
	numericUser = regexp.MustCompile(`^([0-9]+)(?::([0-9]+))?$`)
)

type stage struct {
	name, image string
	instrs      []*parser.Node
}

func args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

func checkDockerfile(t *testing.T, path, toolchain string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var stages []*stage
	names := map[string]bool{}
	for _, n := range res.AST.Children {
		switch instr := strings.ToLower(n.Value); instr {
		case "from":
			a := args(n)
			if len(a) == 0 {
				t.Fatalf("line %d: FROM without an image", n.StartLine)
			}
			s := &stage{image: a[0]}
			if len(a) == 3 && strings.EqualFold(a[1], "as") {
				s.name = a[2]
			}
			if !names[s.image] && s.image != "scratch" && !pinnedImage.MatchString(s.image) {
				t.Errorf("line %d: base image %q is not pinned by digest", n.StartLine, s.image)
			}
			if s.name != "" {
				names[s.name] = true
			}
			stages = append(stages, s)
		case "add":
			for _, src := range args(n) {
				if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
					t.Errorf("line %d: ADD from a URL (%s): fetch nothing unpinned at build time", n.StartLine, src)
				}
			}
			fallthrough
		default:
			if len(stages) == 0 {
				if instr != "arg" {
					t.Errorf("line %d: %s before the first FROM", n.StartLine, instr)
				}
				continue
			}
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, n)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%s: want a multi-stage build (a build stage and a runtime stage)", path)
	}

	// The build stages: the Makefile's toolchain, a static binary.
	sawToolchain, sawCGO := false, false
	for _, s := range stages[:len(stages)-1] {
		for _, n := range s.instrs {
			a := args(n)
			switch strings.ToLower(n.Value) {
			case "arg":
				for _, kv := range a {
					if k, v, ok := strings.Cut(kv, "="); ok && k == "GO_TOOLCHAIN" {
						sawToolchain = true
						if v != toolchain {
							t.Errorf("line %d: GO_TOOLCHAIN defaults to %s, the Makefile builds with %s", n.StartLine, v, toolchain)
						}
					}
				}
			case "env":
				// The parser gives ENV as triples: name, value, separator.
				for i := 0; i+1 < len(a); i += 3 {
					switch a[i] {
					case "CGO_ENABLED":
						sawCGO = a[i+1] == "0"
					case "GOTOOLCHAIN":
						if a[i+1] != "${GO_TOOLCHAIN}" && a[i+1] != "$GO_TOOLCHAIN" && a[i+1] != toolchain {
							t.Errorf("line %d: GOTOOLCHAIN=%s, want the Makefile's %s", n.StartLine, a[i+1], toolchain)
						}
					}
				}
			}
		}
	}
	if !sawToolchain {
		t.Error("no build stage declares ARG GO_TOOLCHAIN=<the Makefile's toolchain>")
	}
	if !sawCGO {
		t.Error("no build stage sets CGO_ENABLED=0 (a static binary)")
	}

	// The runtime stage.
	final := stages[len(stages)-1]
	if final.image != "scratch" && !strings.HasPrefix(final.image, "gcr.io/distroless/static") {
		t.Errorf("final stage is based on %s: want scratch or distroless static (no shell)", final.image)
	}
	var user string
	entrypoint := false
	for _, n := range final.instrs {
		switch strings.ToLower(n.Value) {
		case "run":
			t.Errorf("line %d: RUN in the final stage (it has no shell, and should stay as built)", n.StartLine)
		case "user":
			user = strings.Join(args(n), " ")
		case "entrypoint":
			entrypoint = true
			if !n.Attributes["json"] {
				t.Errorf("line %d: ENTRYPOINT in shell form: the image has no shell", n.StartLine)
			}
		case "cmd":
			if !n.Attributes["json"] {
				t.Errorf("line %d: CMD in shell form: the image has no shell", n.StartLine)
			}
		}
	}
	m := numericUser.FindStringSubmatch(user)
	switch {
	case user == "":
		t.Error("final stage sets no USER")
	case m == nil:
		t.Errorf("USER %q is not numeric (runAsNonRoot can only verify a numeric user)", user)
	default:
		for _, id := range m[1:] {
			if n, _ := strconv.Atoi(id); id != "" && n == 0 {
				t.Errorf("USER %q is root", user)
			}
		}
	}
	if !entrypoint {
		t.Error("final stage has no ENTRYPOINT")
	}
	// The build runs in the workspace (as make build does): go.work and the
	// go.mod of every module it uses must be in the image's build stage.
	copied := map[string]bool{}
	for _, s := range stages[:len(stages)-1] {
		for _, n := range s.instrs {
			if strings.EqualFold(n.Value, "copy") && len(n.Flags) == 0 {
				a := args(n)
				for _, src := range a[:len(a)-1] {
					copied[strings.TrimSuffix(src, "/")] = true
				}
			}
		}
	}
	for _, mod := range workspaceModules(t) {
		if !copied[mod+"/go.mod"] && !copied[mod] && !copied[strings.SplitN(mod, "/", 2)[0]] {
			t.Errorf("go.work uses %s, but the build stage does not copy its go.mod", mod)
		}
	}
	if !copied["go.work"] {
		t.Error("the build stage does not copy go.work")
	}
	if _, err := os.Stat(path + ".dockerignore"); err != nil {
		t.Errorf("%s has no %s.dockerignore to bound its build context", path, filepath.Base(path))
	}
}

// workspaceModules lists go.work's use directories, without "./".
func workspaceModules(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s+\./(\S+)\s*$`).FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatal("go.work uses no modules")
	}
	return out
}

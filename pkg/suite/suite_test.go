package suite_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/suite"
)

func TestManifestLoads(t *testing.T) {
	m, err := suite.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"audit", "tokenvault", "gateway"} {
		if _, ok := m.Service(want); !ok {
			t.Errorf("manifest lacks %s", want)
		}
	}
	order, err := m.StartOrder()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, s := range order {
		pos[s.Name] = i
	}
	for _, s := range m.Services {
		for _, callee := range s.Calls {
			if pos[callee] > pos[s.Name] {
				t.Errorf("%s starts before %s, which it calls", s.Name, callee)
			}
		}
	}
}

// TestEveryServiceHasItsParts: each manifest entry has its module, its
// binary's main package, a Vault policy and a line in go.work, so an entry
// without a service (or the reverse) fails here rather than in dev up.
func TestEveryServiceHasItsParts(t *testing.T) {
	root := repoRoot(t)
	m := suite.MustLoad()
	work, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Services {
		for _, path := range []string{
			filepath.Join("services", s.Name, "go.mod"),
			filepath.Join("services", s.Name, "cmd", s.Name, "main.go"),
			filepath.Join("deploy", "vault", "policies", s.Name+".hcl"),
		} {
			if _, err := os.Stat(filepath.Join(root, path)); err != nil {
				t.Errorf("%s: %v", s.Name, err)
			}
		}
		if !strings.Contains(string(work), "./services/"+s.Name+"\n") {
			t.Errorf("go.work does not use ./services/%s", s.Name)
		}
	}
	dirs, err := os.ReadDir(filepath.Join(root, "services"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, ok := m.Service(d.Name()); d.IsDir() && !ok {
			t.Errorf("services/%s is not in pkg/suite/services.yaml", d.Name())
		}
	}
}

// TestSetupReadsTheSameKeys: deploy/vault/setup.sh reads the transit keys
// from the manifest with awk; it must find exactly what the Go parser finds.
func TestSetupReadsTheSameKeys(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("bash", filepath.Join(root, "deploy", "vault", "setup.sh"), "--print-transit-keys").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	var want []string
	for _, s := range suite.MustLoad().Services {
		for k, typ := range s.TransitKeys {
			want = append(want, k+" "+typ)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 {
		t.Fatal("the manifest lists no transit keys; the comparison would be empty")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("setup.sh's keys (-Go parser +awk):\n%s", diff)
	}
}

func TestParseRefusesBrokenManifests(t *testing.T) {
	tests := map[string]string{
		"unknown field":     "services:\n  - name: a\n    api: grpc\n    colour: red\n",
		"duplicate":         "services:\n  - name: a\n    api: grpc\n  - name: a\n    api: grpc\n",
		"bad name":          "services:\n  - name: A/b\n    api: grpc\n",
		"unknown api":       "services:\n  - name: a\n    api: soap\n",
		"calls nobody":      "services:\n  - name: a\n    api: grpc\n    calls: [b]\n",
		"calls itself":      "services:\n  - name: a\n    api: grpc\n    calls: [a]\n",
		"cycle":             "services:\n  - name: a\n    api: grpc\n    calls: [b]\n  - name: b\n    api: grpc\n    calls: [a]\n",
		"rest on http":      "services:\n  - name: a\n    api: http\n    rest: true\n",
		"bad key type":      "services:\n  - name: a\n    api: grpc\n    transit_keys:\n      k: rsa-512\n",
		"client is service": "services:\n  - name: a\n    api: grpc\nclients: [a]\n",
	}
	for name, yaml := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := suite.Parse([]byte(yaml)); err == nil {
				t.Errorf("accepted:\n%s", yaml)
			}
		})
	}
	if _, err := suite.Parse([]byte("services:\n  - name: a\n    api: grpc\n  - name: b\n    api: http\n    calls: [a]\n")); err != nil {
		t.Errorf("a valid manifest was refused: %v", err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := suite.ReadState(dir); err == nil || !strings.Contains(err.Error(), "sotto dev up") {
		t.Errorf("no state: %v, want a hint to start the suite", err)
	}
	in := suite.State{TrustDomain: "sotto.local", Services: map[string]suite.Endpoints{"audit": {GRPC: "127.0.0.1:1", Admin: "127.0.0.1:2"}}}
	if err := suite.WriteState(dir, in); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, suite.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("dev.json mode %v, want 0600 (it holds the operator token)", fi.Mode().Perm())
	}
	out, err := suite.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	if addr, err := out.Addr("audit"); err != nil || addr != "127.0.0.1:1" {
		t.Errorf("Addr(audit) = %q, %v", addr, err)
	}
	if _, err := out.Addr("consent"); err == nil {
		t.Error("Addr of a service the suite does not run succeeded")
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found")
		}
		dir = parent
	}
}

// TestTheEdgeCallsEveryRESTService: the gateway dials each service whose
// REST routes it serves, so each must be among its calls (else it starts
// without that service's address and exits).
func TestTheEdgeCallsEveryRESTService(t *testing.T) {
	m, err := suite.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, edge := range m.Services {
		if edge.API != suite.HTTP {
			continue
		}
		for _, s := range m.Services {
			if s.REST && !slices.Contains(edge.Calls, s.Name) {
				t.Errorf("%s serves %s's REST routes but does not list it in calls", edge.Name, s.Name)
			}
		}
	}
}

// TestFollowsIsNoStartOrderEdge: a service may follow one that (through
// others) calls it, which calls would refuse as a cycle; it must name
// another service it does not already call.
func TestFollowsIsNoStartOrderEdge(t *testing.T) {
	base := `services:
  - name: a
    api: grpc
    %s
  - name: b
    api: grpc
    calls: [a]
`
	if _, err := suite.Parse([]byte(fmt.Sprintf(base, "follows: [b]"))); err != nil {
		t.Errorf("a follows b, which calls a: %v", err)
	}
	if _, err := suite.Parse([]byte(fmt.Sprintf(base, "calls: [b]"))); err == nil {
		t.Error("a calls b, which calls a: parsed (want a cycle)")
	}
	for _, bad := range []string{"follows: [c]", "follows: [a]", "calls: [b]\n    follows: [b]"} {
		if _, err := suite.Parse([]byte(fmt.Sprintf(base, bad))); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	tv, _ := suite.MustLoad().Service("tokenvault")
	if !slices.Contains(tv.Follows, "consent") {
		t.Error("tokenvault does not follow consent")
	}
}

// TestPrivacyParticipantsAreReachable: a data-subject request must reach
// every participant, so the orchestrator must call or follow each one, and
// be one itself.
func TestPrivacyParticipantsAreReachable(t *testing.T) {
	base := `services:
  - name: audit
    api: grpc
    privacy: true
  - name: consent
    api: grpc
    %s
`
	if _, err := suite.Parse([]byte(fmt.Sprintf(base, "privacy: true\n    calls: [audit]"))); err != nil {
		t.Errorf("consent calls its only participant: %v", err)
	}
	if _, err := suite.Parse([]byte(fmt.Sprintf(base, "privacy: true\n    follows: [audit]"))); err != nil {
		t.Errorf("consent follows its only participant: %v", err)
	}
	for _, bad := range []string{"privacy: true", "calls: [audit]"} {
		if _, err := suite.Parse([]byte(fmt.Sprintf(base, bad))); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	want := []string{"audit", "tokenvault", "identity", "consent", "conversation", "crmsync"}
	if got := suite.MustLoad().PrivacyParticipants(); !slices.Equal(got, want) {
		t.Errorf("participants %v, want %v", got, want)
	}
}

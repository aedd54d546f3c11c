package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/suite"
)

// The NetworkPolicies follow the manifest's edges (networkpolicy_test.go);
// each service's authorization policy (services/<svc>/internal/server,
// deny by default per RPC) names the workloads that may call it. The two
// must agree: a workload the policy admits but the network blocks is a call
// that cannot happen, and a service the network lets in that the policy
// admits to nothing is an opening nothing uses. The policies sit in
// internal packages, so this reads their source (go/ast) rather than
// importing them.

// notWiredYet are callers a policy admits ahead of the caller's code: they
// hold no address of the service and the network refuses them until the
// manifest says they call it. Each entry names where that is recorded; the
// test fails once an entry is no longer needed.
var notWiredYet = map[string][]string{}

// policyCallers returns the workloads named in the service's authz.Policy
// literal, whether some RPC is open to any workload, and how many entries
// are computed from the manifest at run time (a call, e.g. identity's
// RevocationReaders(m)), which the source cannot show.
func policyCallers(t *testing.T, svc string) (names []string, anyWorkload bool, computed int) {
	t.Helper()
	dir := filepath.Join("..", "services", svc, "internal", "server")
	fset := token.NewFileSet()
	var files []*ast.File
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// Package-level string lists (var gateway = []string{"gateway"}).
	lists := map[string]ast.Expr{}
	for _, f := range files {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							lists[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
	}
	var resolve func(e ast.Expr) ([]string, bool)
	resolve = func(e ast.Expr) ([]string, bool) {
		switch v := e.(type) {
		case *ast.CompositeLit:
			var out []string
			for _, el := range v.Elts {
				s, ok := resolve(el)
				if !ok {
					return nil, false
				}
				out = append(out, s...)
			}
			return out, true
		case *ast.BasicLit:
			s, err := strconv.Unquote(v.Value)
			return []string{s}, err == nil
		case *ast.SelectorExpr:
			if x, ok := v.X.(*ast.Ident); ok {
				switch x.Name + "." + v.Sel.Name {
				case "suite.PrivacyOrchestrator":
					return []string{suite.PrivacyOrchestrator}, true
				case "authz.AnyWorkload":
					return []string{authz.AnyWorkload}, true
				}
			}
		case *ast.Ident:
			if l, ok := lists[v.Name]; ok {
				return resolve(l)
			}
		}
		return nil, false
	}
	found := false
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := cl.Type.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Policy" || sel.X.(*ast.Ident).Name != "authz" {
				return true
			}
			found = true
			for _, el := range cl.Elts {
				kv := el.(*ast.KeyValueExpr)
				if _, ok := kv.Value.(*ast.CallExpr); ok {
					computed++
					continue
				}
				callers, ok := resolve(kv.Value)
				if !ok {
					t.Errorf("%s: cannot read the callers of %s in its policy at %s", svc, kv.Key, fset.Position(kv.Pos()))
					continue
				}
				for _, c := range callers {
					if c == authz.AnyWorkload {
						anyWorkload = true
					} else if !slices.Contains(names, c) {
						names = append(names, c)
					}
				}
			}
			return false
		})
	}
	if !found {
		t.Fatalf("%s: no authz.Policy literal in %s", svc, dir)
	}
	slices.Sort(names)
	return names, anyWorkload, computed
}

func TestAuthzPoliciesMatchManifest(t *testing.T) {
	checkAuthz(t, suite.MustLoad())
}

func checkAuthz(t *testing.T, m suite.Manifest) {
	for _, s := range m.Services {
		if s.API != suite.GRPC {
			continue // the gateway's workload-facing side is its REST edge; it serves no workload gRPC here
		}
		t.Run(s.Name, func(t *testing.T) {
			named, anyWorkload, computed := policyCallers(t, s.Name)
			if len(named) == 0 && computed == 0 {
				t.Fatalf("%s's policy names no caller: nothing to check", s.Name)
			}
			dialers := DialedBy(m, s.Name)
			pending := notWiredYet[s.Name]
			for _, c := range named {
				if slices.Contains(m.Clients, c) {
					continue // the operator CLI, through kubectl port-forward
				}
				if _, ok := m.Service(c); !ok {
					t.Errorf("%s's policy admits %q, which is no workload of the manifest", s.Name, c)
					continue
				}
				if !slices.Contains(dialers, c) && !slices.Contains(pending, c) {
					t.Errorf("%s's policy admits %s, but %s does not dial it (services.yaml), so the network refuses it", s.Name, c, c)
				}
				if slices.Contains(dialers, c) && slices.Contains(pending, c) {
					t.Errorf("%s now dials %s: remove it from notWiredYet", c, s.Name)
				}
			}
			for _, d := range dialers {
				if !slices.Contains(named, d) && !anyWorkload && computed == 0 {
					t.Errorf("the network lets %s reach %s, whose policy admits it to no RPC", d, s.Name)
				}
			}
		})
	}
}

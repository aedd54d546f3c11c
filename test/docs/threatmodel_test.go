// Package docs checks that the documentation names things that exist.
package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sottohq/sotto/test/devsuite"
)

// TestThreatModelNamesOnlyExistingTests: every test docs/threat-model.md
// cites as the proof of a control is a test function in the package the
// row names, so a renamed or deleted test cannot leave a control unproved
// while the table still looks complete.
func TestThreatModelNamesOnlyExistingTests(t *testing.T) {
	root, err := devsuite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "threat-model.md"))
	if err != nil {
		t.Fatal(err)
	}
	funcs, err := testFuncs(root)
	if err != nil {
		t.Fatal(err)
	}
	cited, err := citedTests(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	// A table this check failed to parse would pass it vacuously.
	if len(cited) < 50 {
		t.Fatalf("found only %d cited tests in docs/threat-model.md: is the table still | threat | control | test |?", len(cited))
	}
	for _, problem := range missing(cited, funcs) {
		t.Error(problem)
	}
}

// TestMissingTestsAreReported: the check catches a test that does not exist,
// one that exists only in another package, and a table it cannot read.
func TestMissingTestsAreReported(t *testing.T) {
	funcs := map[string][]string{
		"TestReal":   {"pkg/mtls"},
		"FuzzDecode": {"pkg/pagetoken"},
		"TestOther":  {"services/gateway/internal/gateway"},
	}
	doc := "| threat | control | test |\n| --- | --- | --- |\n" +
		"| a | b | `pkg/mtls` `TestReal/sub test`, `TestGone`; `pkg/pagetoken` `FuzzDecode` |\n" +
		"| c | d | gateway `TestOther`; `pkg/mtls` `TestOther` (wrong package) |\n" +
		"| e | f | `pkg/mtls` `TestReal` (real sockets), `TestReal` |\n"
	cited, err := citedTests(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"docs/threat-model.md line 3 cites TestGone (in pkg/mtls), which does not exist",
		"docs/threat-model.md line 4 cites TestOther in pkg/mtls, but it is only in services/gateway/internal/gateway",
	}
	if got := missing(cited, funcs); !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := citedTests("| threat | control | test |\n| a | b |\n"); err == nil {
		t.Fatal("a row without a test column was accepted")
	}
}

// cited is one test named in the table.
type cited struct {
	line int
	name string // the function: TestFoo of `TestFoo/subtest`
	pkg  string // the package named before it in the cell, or ""
}

var (
	// In a test cell: a backticked item, or a bare word (a package named
	// without backticks, as in "gateway `TestX`"), or a ';' that ends a group.
	cellToken = regexp.MustCompile("`([^`]+)`|([a-z][a-z0-9/_-]*)|(;)")
	testName  = regexp.MustCompile(`^(Test|Fuzz|Benchmark)[A-Za-z0-9_]*`)
	pkgPath   = regexp.MustCompile(`^[a-z][a-z0-9_-]*(/[a-z0-9_.-]+)*$`)
	testFunc  = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]*)\(`)
)

// citedTests reads the test column of the threat model's table. A package
// (`pkg/mtls`, `engine`, or a bare word right before a test name) applies to
// the tests after it, up to the next package or ';'. Subtest names are not
// checked: many are built at run time.
func citedTests(doc string) ([]cited, error) {
	var out []cited
	inTable := false
	for i, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if !inTable {
			if len(cells) != 3 || strings.TrimSpace(cells[2]) != "test" {
				return nil, fmt.Errorf("line %d: table header %q, want | threat | control | test |", i+1, line)
			}
			inTable = true
			continue
		}
		if len(cells) != 3 {
			return nil, fmt.Errorf("line %d: %d cells, want 3 (a '|' inside a cell?)", i+1, len(cells))
		}
		if strings.Trim(cells[2], " -") == "" {
			continue // the separator row
		}
		cell := cells[2]
		toks := cellToken.FindAllStringSubmatchIndex(cell, -1)
		group := func(m []int, n int) string {
			if m[2*n] < 0 {
				return ""
			}
			return cell[m[2*n]:m[2*n+1]]
		}
		pkg := ""
		for j, m := range toks {
			quoted, bare := group(m, 1), group(m, 2)
			switch {
			case group(m, 3) == ";":
				pkg = ""
			case quoted != "" && testName.MatchString(quoted):
				out = append(out, cited{line: i + 1, name: testName.FindString(quoted), pkg: pkg})
			case quoted != "" && pkgPath.MatchString(quoted):
				pkg = quoted
			case bare != "" && j+1 < len(toks) && testName.MatchString(group(toks[j+1], 1)) &&
				strings.TrimSpace(cell[m[1]:toks[j+1][0]]) == "":
				pkg = bare
			}
		}
	}
	return out, nil
}

// testFuncs maps each test, fuzz and benchmark function in the tree's
// _test.go files to the directories (slash-separated, relative to root) that
// define it.
func testFuncs(root string) (map[string][]string, error) {
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = append(out[m[1]], filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

// missing lists the cited tests that do not exist, or not in the package
// their row names (matched as whole path segments, so `engine` matches
// services/tokenvault/internal/engine and `pkg/keys` matches pkg/keys).
func missing(tests []cited, funcs map[string][]string) []string {
	var out []string
	for _, c := range tests {
		dirs, ok := funcs[c.name]
		switch {
		case !ok:
			where := ""
			if c.pkg != "" {
				where = " (in " + c.pkg + ")"
			}
			out = append(out, fmt.Sprintf("docs/threat-model.md line %d cites %s%s, which does not exist", c.line, c.name, where))
		case c.pkg != "" && !slices.ContainsFunc(dirs, func(d string) bool {
			return strings.Contains("/"+d+"/", "/"+c.pkg+"/")
		}):
			out = append(out, fmt.Sprintf("docs/threat-model.md line %d cites %s in %s, but it is only in %s", c.line, c.name, c.pkg, strings.Join(dirs, ", ")))
		}
	}
	return out
}

package docs

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sottohq/sotto/test/devsuite"
)

// errsPath is the import path of the package whose errors carry reasons.
const errsPath = "github.com/sottohq/sotto/pkg/errs"

// TestReasonsComeFromCatalogues: no service spells an error reason inline.
// Each service keeps the reasons its clients can branch on in one catalogue
// (services/<svc>/internal/reasons), so the set a client must handle is
// written down in one place and a typo cannot mint a new reason. The check
// reads every non-test Go file under services/*/internal and services/*/cmd
// and reports the reason argument of errs.E and errs.Wrap, and any Reason
// field set, that is a string literal.
func TestReasonsComeFromCatalogues(t *testing.T) {
	root, err := devsuite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	services, err := filepath.Glob(filepath.Join(root, "services", "*"))
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, svc := range services {
		for _, dir := range []string{"internal", "cmd"} {
			base := filepath.Join(svc, dir)
			err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					if path == base && errors.Is(err, fs.ErrNotExist) {
						return fs.SkipDir
					}
					return err
				}
				if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
					return nil
				}
				files++
				rel, _ := filepath.Rel(root, path)
				found, err := literalReasons(rel, path, nil)
				if err != nil {
					return err
				}
				for _, f := range found {
					t.Errorf("%s: reason %s is a string literal; add it to the service's internal/reasons catalogue and use the constant", f.pos, f.reason)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// A walk that found nothing would pass vacuously.
	if files < 20 {
		t.Fatalf("read only %d Go files under services/*/internal and services/*/cmd: has the layout changed?", files)
	}
}

// TestLiteralReasonsAreReported: the check sees literal reasons in every
// shape they take (under another import name, across lines, in item errors
// and audit events), and lets constants and other arguments pass.
func TestLiteralReasonsAreReported(t *testing.T) {
	src := `package x

import (
	e "github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/x/internal/reasons"
)

type ItemError struct{ Reason, Message string }

func f(err error, ev *struct{ Reason string }) []error {
	ev.Reason = "ASSIGNED"
	ev.Reason = reasons.Fine
	_ = ItemError{Reason: "ITEM", Message: "the message is not a reason"}
	_ = ItemError{Reason: reasons.Fine, Message: "FINE"}
	return []error{
		e.E(e.NotFound, "NOT_FOUND_HERE", "message"),
		e.Wrap(err,
			e.Internal,
			"WRAPPED", "message"),
		e.E(e.NotFound, reasons.Fine, "MESSAGE_IS_NOT_A_REASON"),
		e.Wrap(err, e.Internal, reasons.Fine, "x"),
	}
}
`
	found, err := literalReasons("x.go", "", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.reason)
	}
	want := []string{`"ASSIGNED"`, `"ITEM"`, `"NOT_FOUND_HERE"`, `"WRAPPED"`}
	if !slices.Equal(got, want) {
		t.Fatalf("reported %v, want %v", got, want)
	}
	// Without the errs import, E and Wrap are someone else's functions.
	other := strings.Replace(src, `e "github.com/sottohq/sotto/pkg/errs"`, `e "example.com/other"`, 1)
	found, err = literalReasons("x.go", "", []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 {
		t.Fatalf("reported %v in a file without pkg/errs, want only the two Reason fields", found)
	}
}

type literalReason struct{ pos, reason string }

// literalReasons parses a file (src, or the file at path when src is nil)
// and returns its literal reasons in source order.
func literalReasons(name, path string, src []byte) ([]literalReason, error) {
	fset := token.NewFileSet()
	var file *ast.File
	var err error
	if src != nil {
		file, err = parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	} else {
		file, err = parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	}
	if err != nil {
		return nil, err
	}
	errsName := ""
	for _, imp := range file.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == errsPath {
			errsName = "errs"
			if imp.Name != nil {
				errsName = imp.Name.Name
			}
		}
	}
	var out []literalReason
	report := func(e ast.Expr) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			p := fset.Position(lit.Pos())
			out = append(out, literalReason{pos: fmt.Sprintf("%s:%d", name, p.Line), reason: lit.Value})
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || errsName == "" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != errsName {
				return true
			}
			// errs.E(kind, reason, ...) and errs.Wrap(err, kind, reason, ...).
			arg := map[string]int{"E": 1, "Wrap": 2}
			if i, ok := arg[sel.Sel.Name]; ok && len(n.Args) > i {
				report(n.Args[i])
			}
		case *ast.KeyValueExpr:
			if key, ok := n.Key.(*ast.Ident); ok && key.Name == "Reason" {
				report(n.Value)
			}
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Reason" && i < len(n.Rhs) {
					report(n.Rhs[i])
				}
			}
		}
		return true
	})
	return out, nil
}

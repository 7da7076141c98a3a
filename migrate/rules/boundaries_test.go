package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestRulesUseNoOtherRulesHelpers: a rule's files (<id>.go, <id>_*.go)
// use their own declarations, the shared ones (rule.go, all.go, ...) and
// other packages, never another rule's: what two rules both need belongs
// in migrate/facts or migrate/dockerfile under a name of what it computes.
func TestRulesUseNoOtherRulesHelpers(t *testing.T) {
	fset, names, files, owner := ruleSources(t)
	declaredBy := map[string]string{} // package-level name → owning rule
	for _, name := range names {
		id := owner[name]
		f := files[name]
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					declaredBy[d.Name.Name] = id
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							declaredBy[n.Name] = id
						}
					case *ast.TypeSpec:
						declaredBy[s.Name.Name] = id
					}
				}
			}
		}
	}
	for _, name := range names {
		id := owner[name]
		if id == "" {
			continue
		}
		// Unresolved identifiers are those the file does not declare: other
		// files' package-level names, imports and predeclared ones.
		for _, ident := range files[name].Unresolved {
			if other, ok := declaredBy[ident.Name]; ok && other != "" && other != id {
				t.Errorf("%s: %s uses %s, which belongs to rule %s; move what both need to facts or dockerfile", fset.Position(ident.Pos()), id, ident.Name, other)
			}
		}
	}
}

// TestRulesWalkNoChains: no rule walks a stage's chain itself (a range
// over a Chain or a loop following BaseStage); StageFacts answers what is
// in effect along it, once for every rule.
func TestRulesWalkNoChains(t *testing.T) {
	fset, names, files, owner := ruleSources(t)
	for _, name := range names {
		base := owner[name]
		if base == "" {
			continue
		}
		f := files[name]
		isChain := func(x ast.Expr) bool {
			switch x := x.(type) {
			case *ast.SelectorExpr:
				return x.Sel.Name == "Chain" || x.Sel.Name == "BaseStage"
			case *ast.Ident:
				return x.Name == "chain"
			case *ast.CallExpr:
				s, ok := x.Fun.(*ast.SelectorExpr)
				return ok && s.Sel.Name == "Chain"
			}
			return false
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.RangeStmt:
				if isChain(n.X) {
					t.Errorf("%s: %s walks a stage chain; ask StageFacts (p.Stage(st)) instead", fset.Position(n.Pos()), base)
				}
			case *ast.ForStmt:
				if as, ok := n.Post.(*ast.AssignStmt); ok && len(as.Rhs) == 1 && isChain(as.Rhs[0]) {
					t.Errorf("%s: %s follows BaseStage; ask StageFacts (p.Stage(st)) instead", fset.Position(n.Pos()), base)
				}
			}
			return true
		})
	}
}

// ruleSources parses the package's Go files (tests left out), by name in
// name order, with the rule each belongs to: <id>.go and <id>_*.go are
// rule id's, the others ("") are shared.
func ruleSources(t *testing.T) (fset *token.FileSet, names []string, files map[string]*ast.File, owner map[string]string) {
	t.Helper()
	ids := map[string]bool{}
	for _, r := range All() {
		ids[r.ID] = true
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset = token.NewFileSet()
	files, owner = map[string]*ast.File{}, map[string]string{}
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0) // with object resolution: Unresolved
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		files[name] = f
		if base, _, _ := strings.Cut(strings.TrimSuffix(name, ".go"), "_"); ids[base] {
			owner[name] = base
		}
	}
	return fset, names, files, owner
}

package migrate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/rules"
)

// project writes a two-service compose project and loads it.
func project(t *testing.T) *compose.Project {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"compose.yaml":    "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
		"a/Dockerfile":    "FROM alpine:3.20\nRUN apk add curl\n",
		"b/Dockerfile":    "FROM alpine:3.20\nRUN apk add git\n",
		"a/.dockerignore": "secret.txt\n",
	}
	writeTree(t, dir, files)
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// appendTo is a test rule that appends text to the Dockerfile of the build
// whose context ends in dir.
func appendTo(dir, text string) *rules.Rule {
	return &rules.Rule{ID: "test-append", Title: "test", Doc: "test", Run: func(p *rules.Pass) {
		if filepath.Base(p.Facts.Context) != dir || strings.Contains(string(p.File.Src), text) {
			return
		}
		p.Edit(dockerfile.InsertAfter(p.File.Instructions[len(p.File.Instructions)-1], text))
	}}
}

func planWith(t *testing.T, catalogue ...*rules.Rule) (*Plan, map[string]*BuildPlan) {
	t.Helper()
	plan, err := Make(context.Background(), project(t), Options{Catalogue: catalogue})
	if err != nil {
		t.Fatal(err)
	}
	byService := map[string]*BuildPlan{}
	for _, bp := range plan.Builds {
		byService[bp.Build.Services[0]] = bp
	}
	return plan, byService
}

func changedPaths(plan *Plan) []string {
	var out []string
	for _, f := range plan.Changes.Changed() {
		out = append(out, filepath.ToSlash(strings.TrimPrefix(f.Path, plan.Project.Dir+string(filepath.Separator))))
	}
	return out
}

// A rule whose output gains a BuildKit warning the original did not have
// must not be migrated; the other build goes on.
func TestGateRefusesNewLintWarning(t *testing.T) {
	plan, b := planWith(t, appendTo("a", "ENV LEGACY value\n"), appendTo("b", "LABEL ok=1\n"))
	if b["a"].Status != StatusFailed || !strings.Contains(b["a"].Reason, "LegacyKeyValueFormat") {
		t.Errorf("build a: status %s, reason %q; want failed on LegacyKeyValueFormat", b["a"].Status, b["a"].Reason)
	}
	if b["b"].Status != StatusMigrate {
		t.Errorf("build b: status %s (%s)", b["b"].Status, b["b"].Reason)
	}
	got := strings.Join(changedPaths(plan), " ")
	if want := "b/.dockerignore b/Dockerfile.optimized compose.yaml"; got != want {
		t.Errorf("changed files %q, want %q", got, want)
	}
	for _, f := range plan.Changes.Files {
		if filepath.Base(f.Path) == "compose.yaml" && !strings.Contains(string(f.New), "  a:\n    build: ./a\n") {
			t.Errorf("compose edit touches service a, whose optimized file is not written:\n%s", f.New)
		}
	}
}

// A rule whose output does not convert to LLB is refused too.
func TestGateRefusesBrokenStageGraph(t *testing.T) {
	_, b := planWith(t, appendTo("a", "COPY --from=7 /x /x\n"))
	if b["a"].Status != StatusFailed {
		t.Errorf("build a: status %s, want failed", b["a"].Status)
	}
}

// The ignore file of a build whose context is its own is the context's,
// and it keeps the user's lines.
func TestIgnoreFileKeepsUserLines(t *testing.T) {
	plan, b := planWith(t, appendTo("a", "LABEL ok=1\n"))
	if !strings.HasSuffix(b["a"].IgnoreFile, filepath.Join("a", ".dockerignore")) {
		t.Fatalf("ignore file %s", b["a"].IgnoreFile)
	}
	for _, f := range plan.Changes.Files {
		if f.Path == b["a"].IgnoreFile && !strings.HasPrefix(string(f.New), "secret.txt\n") {
			t.Errorf("user line lost:\n%s", f.New)
		}
	}
}

// --skip names rules by ID; an unknown ID is an error.
func TestSkipUnknownRule(t *testing.T) {
	if _, err := Make(context.Background(), project(t), Options{Skip: []string{"no-such-rule"}}); err == nil {
		t.Error("unknown rule accepted")
	}
}

// writeTree writes files (slash path → content) below dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

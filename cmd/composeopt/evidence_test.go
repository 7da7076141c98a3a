package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Planning one project of a repository reads the repository's evidence
// from its root, as plan -r does: a workflow at the root that runs the
// project's tests in its container keeps tests/ in its .dockerignore
// (reading only the project's folder left them out).
func TestPlanOneProjectReadsRootEvidence(t *testing.T) {
	dir := fixture(t, "monorepo-evidence")
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	api := filepath.Join(dir, "services", "api")
	out, errOut, code := composeopt(t, api, "plan")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	ignore := out[strings.Index(out, "+++ b/.dockerignore"):]
	ignore = ignore[:strings.Index(ignore, "diff --git")]
	if strings.Contains(ignore, "\n+tests\n") {
		t.Errorf(".dockerignore leaves tests out:\n%s", ignore)
	}
	if !strings.Contains(errOut, "kept tests in the build context: .github/workflows/ci.yml:13 runs `pytest tests/` in the container") {
		t.Errorf("no finding naming the root workflow:\n%s", errOut)
	}
}

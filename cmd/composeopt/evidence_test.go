package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/facts"
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

// The repository's evidence is gathered during the compose load, by the
// prefetch, for the project directories Discover found; the plan takes it
// when its own projects are the same, so the repository is walked once
// per plan and not on the plan's critical path. Other directories get no
// prefetched evidence (the plan then gathers its own).
func TestPrefetchGathersEvidence(t *testing.T) {
	dir := fixture(t, "monorepo-evidence")
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	api := filepath.Join(dir, "services", "api")
	pf := newPrefetch()
	pf.started(api, func() compose.Guess { return compose.Guess{} })
	<-pf.done
	if pf.err != nil || len(pf.projects) == 0 {
		t.Fatalf("Discover: %v, %d projects", pf.err, len(pf.projects))
	}
	var dirs []string
	for _, f := range pf.projects {
		if !slices.Contains(dirs, f.Dir) {
			dirs = append(dirs, f.Dir)
		}
	}
	got := pf.gathered(pf.root, dirs)
	if got == nil {
		t.Fatalf("no evidence prefetched for %v", dirs)
	}
	if want := facts.GatherRepo(pf.root, nil, dirs...); !reflect.DeepEqual(got, want) {
		t.Errorf("prefetched evidence differs from GatherRepo's:\n got %+v\nwant %+v", got, want)
	}
	if pf.gathered(pf.root, append(dirs, api+"-other")) != nil || pf.gathered(api, dirs) != nil {
		t.Error("evidence handed out for other project directories or another root")
	}

	before := facts.RepoWalks()
	out, errOut, code := composeopt(t, api, "plan")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	if n := facts.RepoWalks() - before; n != 1 {
		t.Errorf("plan walked the repository %d times, want once", n)
	}
	if !strings.Contains(out, "+++ b/.dockerignore") {
		t.Errorf("no plan:\n%s", out)
	}
}

package migrate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/golden/synth"
	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/gate"
	"github.com/composeopt/composeopt/migrate/rules"
)

// work is what one plan cost in expensive calls, read from the counters
// of compose, gate and dockerfile.
type work struct {
	loads, lints, conversions, parses, yamlParses int64
}

func countWork(t *testing.T, dir string, opts Options) (work, *Plan) {
	t.Helper()
	l0, y0 := compose.Loads(), compose.YAMLParses()
	li0, c0 := gate.Counts()
	p0 := dockerfile.Parses()
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Make(context.Background(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	li1, c1 := gate.Counts()
	return work{compose.Loads() - l0, li1 - li0, c1 - c0, dockerfile.Parses() - p0, compose.YAMLParses() - y0}, plan
}

// gated returns the number of builds that went through the quality gate
// and their targets: every build a rule changed.
func gated(t *testing.T, plan *Plan) (builds, targets int64) {
	t.Helper()
	for _, bp := range plan.Builds {
		if bp.Status != StatusMigrate {
			t.Fatalf("%s: %s (%s): the synthetic project should migrate every build", bp.Build.Dockerfile, bp.Status, bp.Reason)
		}
		builds++
		targets += int64(len(bp.Build.Targets))
	}
	return builds, targets
}

// TestPlanWorkIsBounded guards the planner's cost model with call counters
// (not timings): a plan loads the compose project once, whatever the number
// of services (the compose edits are proven from the YAML; where the proof
// does not model the project, one re-load verifies all of them at once);
// the compose files' YAML is parsed no more often for more services or
// workers; the gate lints each changed build's original at most once (only when
// the optimized file has findings to match) and converts
// the result to LLB once per compose target (the default target's run
// also lints it), on the final bytes only, however many rule passes it took; a Dockerfile is parsed again only after
// a rule changed it. A change that brings back a reload per build, a gate
// per rule pass or a parse per rule fails here.
func TestPlanWorkIsBounded(t *testing.T) {
	var perBuild []work
	for _, n := range []int{10, 30} {
		dir := t.TempDir()
		if err := synth.Generate(dir, synth.Options{Services: n}); err != nil {
			t.Fatal(err)
		}
		w, plan := countWork(t, dir, Options{})
		builds, targets := gated(t, plan)
		if builds < int64(n)/2 {
			t.Fatalf("%d services: only %d builds", n, builds)
		}
		if w.loads != 1 {
			t.Errorf("%d services: %d compose loads, want 1 (the load; the edits are proven from the YAML, see compose.proveEdits)", n, w.loads)
		}
		if w.lints > builds {
			t.Errorf("%d services: %d lint-only runs for %d gated builds, want at most %d (the originals)", n, w.lints, builds, builds)
		}
		if w.conversions != targets {
			t.Errorf("%d services: %d LLB conversions for %d build targets, want one each (the default target's also lints)", n, w.conversions, targets)
		}
		perBuild = append(perBuild, w)
		t.Logf("%d services, %d builds: %+v", n, builds, w)

		// The same plan with one more rule that needs three extra passes
		// (it adds one comment line per pass until there are three) must
		// not convert or load more, and parses only after its own changes.
		slow := &rules.Rule{ID: "three-passes", Title: "test rule", Run: func(p *rules.Pass) {
			n := 0
			for _, l := range p.File.Lines {
				if strings.HasPrefix(l, "# pass") {
					n++
				}
			}
			if n < 3 {
				last := p.File.Instructions[len(p.File.Instructions)-1]
				p.Edit(dockerfile.Edit{Start: last.End + 1, End: last.End, Text: "# pass\n"})
			}
		}}
		w2, plan2 := countWork(t, dir, Options{Catalogue: append(rules.All(), slow)})
		if b2, t2 := gated(t, plan2); b2 != builds || t2 != targets {
			t.Fatalf("the extra rule changed the builds: %d/%d, was %d/%d", b2, t2, builds, targets)
		}
		for _, bp := range plan2.Builds {
			if !strings.Contains(string(bp.content), "# pass\n# pass\n# pass\n") {
				t.Fatalf("%s: the extra rule did not run three times:\n%s", bp.Optimized, bp.content)
			}
		}
		if w2.loads != w.loads || w2.lints != w.lints || w2.conversions != w.conversions {
			t.Errorf("%d services: three more rule passes changed the loads, lints or conversions: %+v, was %+v", n, w2, w)
		}
		// Each of the three comment lines costs one parse, and each of
		// the extra passes one parse of its (possibly unchanged) input.
		if extra := w2.parses - w.parses; extra > 6*builds {
			t.Errorf("%d services: three more rule passes cost %d more parses for %d builds (more than 6 a build: a parse per rule?)", n, extra, builds)
		}
	}
	// A project the proof does not model (a custom tag in the override
	// file) costs exactly one verifying re-load, whatever its size.
	for _, n := range []int{10, 30} {
		dir := t.TempDir()
		if err := synth.Generate(dir, synth.Options{Services: n}); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(filepath.Join(dir, "compose.override.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString("  svc-0000:\n    labels: !reset {}\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := countWork(t, dir, Options{}); w.loads != 2 {
			t.Errorf("%d services with a !reset tag: %d compose loads, want 2 (load + one verifying re-load)", n, w.loads)
		}
	}
	if perBuild[1].loads != perBuild[0].loads {
		t.Errorf("compose loads grow with services: %d for 10, %d for 30", perBuild[0].loads, perBuild[1].loads)
	}
	// The compose files' YAML is parsed a fixed number of times per file
	// (locating builds, checking the edits, locating the workers' keys),
	// not per service or per worker (30 services have three times the
	// workers of 10).
	if perBuild[1].yamlParses > perBuild[0].yamlParses {
		t.Errorf("compose YAML parses grow with services: %d for 10, %d for 30", perBuild[0].yamlParses, perBuild[1].yamlParses)
	}
}

// TestPlanLongStageGate guards the gate's size bound: a Dockerfile whose
// stage is longer than gate.FullLimit costs no BuildKit lint or LLB
// conversion (both quadratic in a stage's length), and the plan says that
// the reduced gate ran; a shorter one gets the full gate.
func TestPlanLongStageGate(t *testing.T) {
	for _, c := range []struct {
		lines   int
		reduced bool
	}{{gate.FullLimit / 2, false}, {gate.FullLimit + 500, true}} {
		dir := t.TempDir()
		if err := synth.Generate(dir, synth.Options{Lines: c.lines}); err != nil {
			t.Fatal(err)
		}
		w, plan := countWork(t, dir, Options{})
		if builds, _ := gated(t, plan); builds != 1 {
			t.Fatalf("%d lines: %d builds, want 1", c.lines, builds)
		}
		var warned []string
		for _, warn := range plan.Warnings {
			if strings.Contains(warn, "reduced quality gate") {
				warned = append(warned, warn)
			}
		}
		bp := plan.Builds[0]
		if c.reduced {
			if w.lints != 0 || w.conversions != 0 {
				t.Errorf("%d lines: %d lints and %d conversions, want none (the reduced gate)", c.lines, w.lints, w.conversions)
			}
			if bp.ReducedGate == "" || len(warned) != 1 || !strings.HasPrefix(warned[0], "app/Dockerfile.optimized: ") {
				t.Errorf("%d lines: the plan does not say that the reduced gate ran: %q, warnings %q", c.lines, bp.ReducedGate, plan.Warnings)
			}
		} else if w.lints > 1 || w.conversions != 1 || bp.ReducedGate != "" || len(warned) != 0 {
			t.Errorf("%d lines: %d lints, %d conversions, reduced %q, warnings %q; want the full gate", c.lines, w.lints, w.conversions, bp.ReducedGate, plan.Warnings)
		}
	}
}

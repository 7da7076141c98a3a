package migrate

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/golden/synth"
	"github.com/composeopt/composeopt/migrate/facts"
)

// A speculative plan is taken only for a build whose inputs the loaded
// project confirms, and the plan is then the same as without the
// speculation; a build whose speculative inputs differ (here one service's
// ports) is planned again, as is every build when the evidence differs.
func TestSpeculationTakenOnlyWhenInputsMatch(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Generate(dir, synth.Options{Services: 12}); err != nil {
		t.Fatal(err)
	}
	load := func() *compose.Project {
		p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	evidence := func(p *compose.Project) *facts.Repo {
		names := map[string]bool{}
		for _, s := range p.Services {
			names[s.Name] = true
		}
		return facts.GatherRepo(p.Dir, names)
	}
	plain, err := Make(context.Background(), load(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := plain.Changes.Diff(dir)

	// The speculation made from a copy of the project in which one
	// service publishes another port.
	spec := load()
	changed := spec.Services[0]
	changed.Ports = append(slices.Clone(changed.Ports), 9999)
	var changedBuild *compose.Build
	for _, b := range spec.Builds {
		if slices.Contains(b.Services, changed.Name) {
			changedBuild = b
		}
	}
	s := Speculate(spec, Options{}, evidence(spec), nil)
	if s == nil || len(s.plans) != len(spec.Builds) {
		t.Fatalf("speculation planned %v builds of %d", s, len(spec.Builds))
	}

	_, used0 := SpeculationCounts()
	p := load()
	got, err := Make(context.Background(), p, Options{Speculation: s})
	if err != nil {
		t.Fatal(err)
	}
	_, used1 := SpeculationCounts()
	if d := got.Changes.Diff(dir); !bytes.Equal(d, want) {
		t.Errorf("plan with the speculation differs from the plan without:\n%s", d)
	}
	if n := used1 - used0; n != int64(len(p.Builds)-1) {
		t.Errorf("%d speculative plans used, want %d (all but %s's)", n, len(p.Builds)-1, changedBuild.Dockerfile)
	}

	// Other evidence (a service the repository's runs may name): nothing
	// is taken.
	other := evidence(spec)
	other.Services["not-a-service"] = true
	s = Speculate(load(), Options{}, other, nil)
	_, used0 = SpeculationCounts()
	if _, err := Make(context.Background(), load(), Options{Speculation: s}); err != nil {
		t.Fatal(err)
	}
	if _, used1 = SpeculationCounts(); used1 != used0 {
		t.Errorf("%d speculative plans used with other evidence, want none", used1-used0)
	}
}

package migrate

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/golden/synth"
)

// BenchmarkPlanMatrixStudio measures a whole plan (load, rules, gates,
// ignore files, compose edits and their verification) on the bundled
// example; it writes nothing.
func BenchmarkPlanMatrixStudio(b *testing.B) {
	dir, err := filepath.Abs("../golden/testdata/matrix-studio/in")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		p, err := compose.Load(ctx, compose.Options{WorkingDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		plan, err := Make(ctx, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Changes.Changed()) == 0 {
			b.Fatal("the example should need changes")
		}
	}
}

// BenchmarkPlan measures what `composeopt plan` does (load, plan, diff) on
// synthetic projects written by golden/synth, and beside it, in the same
// iterations, compose-go's own load of the same project: the floor.
// ns/op, B/op and allocs/op are the plan's; floor-ns/op is the load's and
// x-floor the ratio of the two; cpu-ns/op and floor-cpu-ns/op are the
// CPU time (all threads) each used, steadier than wall time on a machine
// others share. The large cases take seconds per
// iteration: `make bench` runs them with -benchtime 1x.
func BenchmarkPlan(b *testing.B) {
	root := b.TempDir()
	cases := []struct {
		name string
		opts synth.Options
	}{
		{"services=10", synth.Options{Services: 10}},
		{"services=100", synth.Options{Services: 100}},
		{"services=1000", synth.Options{Services: 1000}},
		{"lines=1000", synth.Options{Lines: 1000}},
		{"lines=4000", synth.Options{Lines: 4000}},
		{"lines=16000", synth.Options{Lines: 16000}},
		// Compare with services=10: the same project plus 100,000 files
		// in one context's node_modules.
		{"node_modules=100000", synth.Options{Services: 10, NodeModules: 100000}},
	}
	for _, c := range cases {
		var once sync.Once
		dir := filepath.Join(root, c.name)
		b.Run(c.name, func(b *testing.B) {
			once.Do(func() {
				if err := synth.Generate(dir, c.opts); err != nil {
					b.Fatal(err)
				}
			})
			benchPlan(b, dir)
		})
	}
}

func benchPlan(b *testing.B, dir string) {
	ctx := context.Background()
	// compose-go reads the environment: keep the caller's COMPOSE_* out.
	for _, k := range []string{"COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_PATH_SEPARATOR"} {
		if v, ok := os.LookupEnv(k); ok {
			os.Unsetenv(k)
			defer os.Setenv(k, v)
		}
	}
	var floor, plan, floorCPU, planCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c0, t0 := cpuTime(), time.Now()
		n, err := synth.LoadFloor(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		floor += time.Since(t0)
		floorCPU += cpuTime() - c0
		b.StartTimer()
		c0, t0 = cpuTime(), time.Now()
		p, err := compose.Load(ctx, compose.Options{WorkingDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		pl, err := Make(ctx, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		diff := pl.Changes.Diff(p.Dir)
		plan += time.Since(t0)
		planCPU += cpuTime() - c0
		if len(p.Services) != n || len(diff) == 0 {
			b.Fatalf("plan saw %d services (compose-go %d) and a diff of %d bytes", len(p.Services), n, len(diff))
		}
	}
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(plan)/float64(floor), "x-floor")
	if floorCPU > 0 {
		b.ReportMetric(float64(planCPU.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(floorCPU.Nanoseconds())/float64(b.N), "floor-cpu-ns/op")
	}
}

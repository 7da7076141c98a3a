package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/composeopt/composeopt/golden/synth"
)

// BenchmarkPlan measures `composeopt plan` as the CLI runs it (the command
// itself: load, the work started during the load, plan, diff, summary; the
// collector set as main sets it) on synthetic projects written by
// golden/synth, and beside it, in the same iterations, compose-go's own
// load of the same project as docker compose does it (Go's default
// collector settings): the floor. ns/op, B/op and allocs/op are the
// plan's; floor-ns/op is the load's and x-floor the ratio of the two;
// cpu-ns/op and floor-cpu-ns/op are the CPU time (all threads) each used,
// steadier than wall time on a machine others share. The large cases take
// seconds per iteration: `make bench` runs them with -benchtime 1x and
// prints the table (golden/benchtable).
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
	gogc := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	defer func() {
		debug.SetGCPercent(gogc)
		debug.SetMemoryLimit(limit)
	}()
	var floor, plan, floorCPU, planCPU time.Duration
	var diffBytes int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(limit)
		// Each side starts as a fresh process would: no garbage of the
		// other, its heap given back to the system (a warm heap made the
		// in-process floor a fifth cheaper than compose-go's load as a
		// process, which is what docker compose pays).
		debug.FreeOSMemory()
		c0, t0 := cpuTime(), time.Now()
		if _, err := synth.LoadFloor(ctx, dir); err != nil {
			b.Fatal(err)
		}
		floor += time.Since(t0)
		floorCPU += cpuTime() - c0
		tuneGC()
		debug.FreeOSMemory()
		b.StartTimer()
		c0, t0 = cpuTime(), time.Now()
		out := &countWriter{}
		cmd := newRootCmd()
		cmd.SetArgs([]string{"--project-directory", dir, "--ansi", "never", "plan"})
		cmd.SetOut(out)
		cmd.SetErr(io.Discard)
		if err := cmd.ExecuteContext(ctx); err != nil {
			b.Fatal(err)
		}
		plan += time.Since(t0)
		planCPU += cpuTime() - c0
		diffBytes = out.n
	}
	if diffBytes == 0 {
		b.Fatal("the plan printed no diff")
	}
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(plan)/float64(floor), "x-floor")
	if floorCPU > 0 {
		b.ReportMetric(float64(planCPU.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(floorCPU.Nanoseconds())/float64(b.N), "floor-cpu-ns/op")
	}
}

// countWriter counts what is written to it.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

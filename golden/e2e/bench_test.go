package e2e

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// ratios is what one service's optimized image measured against its
// original, optimized/original (lower is better; NaN = not measured).
type ratios struct {
	service                     string
	size, cold, rebuild, deps   float64
	sizeBefore, sizeAfter       float64 // MiB
	coldBefore, coldAfter       float64 // seconds
	rebuildBefore, rebuildAfter float64
	depsBefore, depsAfter       float64
}

// Targets of issue 14 for optimized/original, per fixture.
const (
	targetSize    = 0.40 // median
	targetCold    = 1.0  // every fixture
	targetRebuild = 0.5
	targetDeps    = 0.5
)

// BenchmarkImages reports, per fixture service, how the optimized image
// compares with the original: size, cold build, rebuild after a source
// change and after a dependency change, as ratios optimized/original
// (lower is better), plus the optimized size; then a table with the
// medians. Each iteration is a full build-and-run, so use -benchtime=1x:
//
//	COMPOSEOPT_E2E=1 go test -run '^$' -bench Images -benchtime=1x -timeout 90m ./golden/e2e/
//
// -bench 'Images/py-native' runs one fixture. With
// COMPOSEOPT_BENCH_CACHE_MOUNTS=0 the optimized files are measured without
// their `--mount=type=cache` flags, to see what the cache mounts save.
func BenchmarkImages(b *testing.B) {
	requireEngine(b)
	var all []ratios
	for _, fx := range fixtures {
		b.Run(fx.dir, func(b *testing.B) {
			requireBuilder(b, fx.builder)
			for b.Loop() {
				for _, r := range verifyFixture(b, fx, true) {
					if !r.Original.Built || !r.Optimized.Built {
						b.Errorf("%s: original built=%v, optimized built=%v", r.Service, r.Original.Built, r.Optimized.Built)
						continue
					}
					o, p := r.Original, r.Optimized
					x := ratios{
						service:    fx.dir + " " + r.Service,
						size:       float64(p.Size) / float64(o.Size),
						cold:       p.ColdBuild.Seconds() / o.ColdBuild.Seconds(),
						rebuild:    ratio(p.Rebuild.Seconds(), o.Rebuild.Seconds()),
						deps:       ratio(p.RebuildDeps.Seconds(), o.RebuildDeps.Seconds()),
						sizeBefore: float64(o.Size) / (1 << 20), sizeAfter: float64(p.Size) / (1 << 20),
						coldBefore: o.ColdBuild.Seconds(), coldAfter: p.ColdBuild.Seconds(),
						rebuildBefore: o.Rebuild.Seconds(), rebuildAfter: p.Rebuild.Seconds(),
						depsBefore: o.RebuildDeps.Seconds(), depsAfter: p.RebuildDeps.Seconds(),
					}
					all = append(all, x)
					b.ReportMetric(x.size, r.Service+"-size-ratio")
					b.ReportMetric(x.sizeAfter, r.Service+"-opt-MiB")
					b.ReportMetric(x.cold, r.Service+"-cold-ratio")
					if !math.IsNaN(x.rebuild) {
						b.ReportMetric(x.rebuild, r.Service+"-rebuild-ratio")
					}
					if !math.IsNaN(x.deps) {
						b.ReportMetric(x.deps, r.Service+"-deps-rebuild-ratio")
					}
				}
			}
		})
	}
	if len(all) > 0 {
		// To standard output: a benchmark's log is cut to a few lines
		// without -v.
		if os.Getenv("COMPOSEOPT_BENCH_CACHE_MOUNTS") == "0" {
			fmt.Println("optimized files WITHOUT their cache mounts (COMPOSEOPT_BENCH_CACHE_MOUNTS=0)")
		}
		fmt.Println(ratioTable(all))
	}
}

func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return math.NaN()
	}
	return a / b
}

// ratioTable prints one row per service, a median row and the targets.
func ratioTable(all []ratios) string {
	var b strings.Builder
	col := func(v float64) string {
		if math.IsNaN(v) {
			return "    -"
		}
		return fmt.Sprintf("%5.2f", v)
	}
	fmt.Fprintf(&b, "%-34s %5s %5s %7s %5s   %s\n", "optimized/original", "size", "cold", "rebuild", "deps", "size MiB, cold s, rebuild s, deps s (original → optimized)")
	for _, r := range all {
		fmt.Fprintf(&b, "%-34s %s %s %7s %s   %.0f → %.0f, %.1f → %.1f, %.1f → %.1f, %.1f → %.1f\n", r.service, col(r.size), col(r.cold), col(r.rebuild), col(r.deps),
			r.sizeBefore, r.sizeAfter, r.coldBefore, r.coldAfter, r.rebuildBefore, r.rebuildAfter, r.depsBefore, r.depsAfter)
	}
	pick := func(f func(ratios) float64) float64 {
		var v []float64
		for _, r := range all {
			if x := f(r); !math.IsNaN(x) {
				v = append(v, x)
			}
		}
		return median(v)
	}
	fmt.Fprintf(&b, "%-34s %s %s %7s %s\n", "median", col(pick(func(r ratios) float64 { return r.size })), col(pick(func(r ratios) float64 { return r.cold })),
		col(pick(func(r ratios) float64 { return r.rebuild })), col(pick(func(r ratios) float64 { return r.deps })))
	fmt.Fprintf(&b, "%-34s %5s %5s %7s %5s\n", "target", fmt.Sprintf("≤%.2f", targetSize), fmt.Sprintf("≤%.1f", targetCold), fmt.Sprintf("≤%.1f", targetRebuild), fmt.Sprintf("≤%.1f", targetDeps))
	return b.String()
}

// median of v (NaN for none).
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

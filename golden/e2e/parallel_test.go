package e2e

import (
	"reflect"
	"testing"
	"time"

	"github.com/composeopt/composeopt/migrate/verify"
)

// fourBuilds is a project of four small services, four builds.
var fourBuilds = fixture{dir: "four-builds"}

// comparable keeps what verify measured about the images and containers,
// without the build times, tags and parallelism that vary between runs.
// Image sizes are compared apart, by sameSize: two cold builds of one
// Dockerfile run side by side may differ by a few bytes of file-system
// metadata (seen once here: 2,197 bytes of 190 MiB on one of four
// concurrent builds, which serial rebuilds of the same file never showed).
func comparable(rs []verify.Result) []verify.Result {
	out := make([]verify.Result, len(rs))
	for i, r := range rs {
		for _, ir := range []*verify.ImageResult{&r.Original, &r.Optimized} {
			ir.Image, ir.ColdBuild, ir.Rebuild, ir.RebuildDeps, ir.Size = "", 0, 0, 0, 0
		}
		r.Parallel = 0
		out[i] = r
	}
	return out
}

// TestVerifyParallel verifies the four-build project with --parallel 1 and
// with --parallel 4: the results must be the same. How long each took is
// logged (and reported by BenchmarkVerifyParallel); it is not asserted.
func TestVerifyParallel(t *testing.T) {
	requireEngine(t)
	dir := migrateFixture(t, fourBuilds)
	start := time.Now()
	serial := verifyRun(t, dir, "--parallel", "1")
	serialTook := time.Since(start)
	start = time.Now()
	parallel := verifyRun(t, dir, "--parallel", "4")
	parallelTook := time.Since(start)
	t.Logf("verify of 4 builds: --parallel 1 took %s, --parallel 4 took %s (%.2fx)",
		serialTook.Round(time.Second), parallelTook.Round(time.Second), serialTook.Seconds()/parallelTook.Seconds())
	if len(serial) != 4 {
		t.Fatalf("verified %d services, want 4", len(serial))
	}
	for _, r := range serial {
		if !r.OK {
			t.Errorf("%s: verify failed with --parallel 1: %v", r.Service, r.Errors)
		}
	}
	for i := range min(len(serial), len(parallel)) {
		for _, p := range []struct {
			what string
			a, b int64
		}{{"original", serial[i].Original.Size, parallel[i].Original.Size}, {"optimized", serial[i].Optimized.Size, parallel[i].Optimized.Size}} {
			if !sameSize(p.a, p.b) {
				t.Errorf("%s %s image: %d bytes with --parallel 1, %d with --parallel 4", serial[i].Service, p.what, p.a, p.b)
			}
		}
	}
	if a, b := comparable(serial), comparable(parallel); !reflect.DeepEqual(a, b) {
		t.Errorf("--parallel 4 results differ from --parallel 1:\n 1: %+v\n 4: %+v", a, b)
	}
	if parallel[0].Parallel != 4 || serial[0].Parallel != 1 {
		t.Errorf("recorded parallelism %d and %d, want 1 and 4", serial[0].Parallel, parallel[0].Parallel)
	}
}

// BenchmarkVerifyParallel reports how long verify takes on the four-build
// project with --parallel 1 and 4, in one run:
//
//	COMPOSEOPT_E2E=1 go test -run '^$' -bench VerifyParallel -benchtime=1x -timeout 60m ./golden/e2e/
func BenchmarkVerifyParallel(b *testing.B) {
	requireEngine(b)
	dir := migrateFixture(b, fourBuilds)
	for b.Loop() {
		start := time.Now()
		verifyRun(b, dir, "--parallel", "1")
		serial := time.Since(start)
		start = time.Now()
		verifyRun(b, dir, "--parallel", "4")
		parallel := time.Since(start)
		b.ReportMetric(serial.Seconds(), "parallel1-s")
		b.ReportMetric(parallel.Seconds(), "parallel4-s")
		b.ReportMetric(serial.Seconds()/parallel.Seconds(), "speedup")
	}
}

// sameSize reports whether two measurements of one image's size agree:
// both present and within 0.1% (a few hundred KiB of a 190 MiB image).
func sameSize(a, b int64) bool {
	if a <= 0 || b <= 0 {
		return a == b
	}
	d := a - b
	if d < 0 {
		d = -d
	}
	return d*1000 <= max(a, b)
}

func TestSameSize(t *testing.T) {
	for _, c := range []struct {
		a, b int64
		want bool
	}{
		{199831923, 199834120, true},
		{199831923, 199831923, true},
		{199831923, 180000000, false},
		{0, 199831923, false},
		{0, 0, true},
	} {
		if got := sameSize(c.a, c.b); got != c.want {
			t.Errorf("sameSize(%d, %d) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

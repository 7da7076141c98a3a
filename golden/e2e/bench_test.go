package e2e

import (
	"testing"
)

// BenchmarkImages reports, per fixture service, how the optimized image
// compares with the original: size, cold build and source-change rebuild as
// ratios optimized/original (lower is better), plus the optimized size.
// Each iteration is a full build-and-run, so use -benchtime=1x:
//
//	COMPOSEOPT_E2E=1 go test -run '^$' -bench Images -benchtime=1x -timeout 90m ./golden/e2e/
func BenchmarkImages(b *testing.B) {
	requireEngine(b)
	for _, fx := range fixtures {
		b.Run(fx.dir, func(b *testing.B) {
			for b.Loop() {
				for _, r := range verifyFixture(b, fx) {
					if !r.Original.Built || !r.Optimized.Built {
						b.Errorf("%s: original built=%v, optimized built=%v", r.Service, r.Original.Built, r.Optimized.Built)
						continue
					}
					o, p := r.Original, r.Optimized
					b.ReportMetric(float64(p.Size)/float64(o.Size), r.Service+"-size-ratio")
					b.ReportMetric(float64(p.Size)/(1<<20), r.Service+"-opt-MiB")
					b.ReportMetric(p.ColdBuild.Seconds()/o.ColdBuild.Seconds(), r.Service+"-cold-ratio")
					if o.Rebuild > 0 && p.Rebuild > 0 {
						b.ReportMetric(p.Rebuild.Seconds()/o.Rebuild.Seconds(), r.Service+"-rebuild-ratio")
					}
					if o.RebuildDeps > 0 && p.RebuildDeps > 0 {
						b.ReportMetric(p.RebuildDeps.Seconds()/o.RebuildDeps.Seconds(), r.Service+"-deps-rebuild-ratio")
					}
				}
			}
		})
	}
}

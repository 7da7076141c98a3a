package verify

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeDocker is a docker CLI stand-in: builds sleep a moment and log
// when they start and end (to $FAKE_LOG), images of original Dockerfiles are
// 100 MB and of optimized ones 40 MB, and containers run as uid 1000.
const fakeDocker = `#!/bin/sh
log() { echo "$(date +%s.%N) $*" >>"$FAKE_LOG"; }
case "$1" in
version) echo 20.10.24 ;;
buildx)
	[ "$2" = version ] && { echo "github.com/docker/buildx v0.38.2"; exit 0; }
	tag=
	prev=
	for a in "$@"; do [ "$prev" = -t ] && tag=$a; prev=$a; done
	log start "$tag"
	case "$tag" in
	*-rebuild-*) sleep 0.05 ;;
	*) sleep 0.3 ;;
	esac
	log end "$tag"
	;;
image)
	[ "$2" = inspect ] || exit 0
	case "$3" in
	*:original-*) size=100000000 ;;
	*) size=40000000 ;;
	esac
	echo '[{"Size": '$size', "Config": {"User": "1000"}, "RootFS": {"Layers": ["a", "b"]}}]'
	;;
run) echo c0ffee ;;
container) echo '[{"State": {"Status": "running", "Running": true, "Pid": 0}, "Config": {"User": "1000"}}]' ;;
*) ;;
esac
`

// fakeTargets are n services, each with its own context holding a source
// file and a manifest, an original and an optimized Dockerfile.
func fakeTargets(t *testing.T, n int) []Target {
	var targets []Target
	for i := range n {
		dir := filepath.Join(t.TempDir(), "svc")
		writeFiles(t, dir, map[string]string{
			"Dockerfile":           "FROM python:3.11-slim\nCOPY . .\n",
			"Dockerfile.optimized": "FROM python:3.11-slim\nCOPY requirements.txt .\nCOPY . .\n",
			"requirements.txt":     "flask\n",
			"app.py":               "print(1)\n",
		})
		targets = append(targets, Target{
			Service:    string(rune('a' + i)),
			Context:    dir,
			Dockerfile: filepath.Join(dir, "Dockerfile"),
			Optimized:  filepath.Join(dir, "Dockerfile.optimized"),
		})
	}
	return targets
}

type buildSpan struct {
	tag        string
	start, end float64
}

// readSpans pairs the start and end lines of the fake builds.
func readSpans(t *testing.T, path string) []buildSpan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	open := map[string]float64{}
	var spans []buildSpan
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ts float64
		var ev, tag string
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			t.Fatalf("bad log line %q", sc.Text())
		}
		ev, tag = fields[1], fields[2]
		if _, err := fmt.Sscan(fields[0], &ts); err != nil {
			t.Fatal(err)
		}
		if ev == "start" {
			open[tag] = ts
		} else {
			spans = append(spans, buildSpan{tag, open[tag], ts})
		}
	}
	return spans
}

// maxOverlap is the largest number of spans running at one time among
// those keep selects.
func maxOverlap(spans []buildSpan, keep func(string) bool) int {
	best := 0
	for _, a := range spans {
		if !keep(a.tag) {
			continue
		}
		n := 0
		for _, b := range spans {
			if keep(b.tag) && b.start <= a.start && a.start < b.end {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func runFake(t *testing.T, targets []Target, parallel int) ([]Result, []buildSpan, time.Duration, string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "docker")
	if err := os.WriteFile(bin, []byte(fakeDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "builds.log")
	t.Setenv("FAKE_LOG", logFile)
	var progress bytes.Buffer
	start := time.Now()
	rs, err := Run(context.Background(), targets, Options{Docker: bin, Parallel: parallel, RebuildDeps: true, Progress: &progress, Settle: 10 * time.Millisecond})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	return rs, readSpans(t, logFile), took, progress.String()
}

func TestRunParallel(t *testing.T) {
	targets := fakeTargets(t, 4)
	serial, serialSpans, _, _ := runFake(t, targets, 1)
	par, parSpans, _, progress := runFake(t, targets, 4)

	isCold := func(tag string) bool { return !strings.Contains(tag, "-rebuild-") }
	isRebuild := func(tag string) bool { return strings.Contains(tag, "-rebuild-") }
	// 8 cold builds and 2×2 rebuilds per service.
	for _, spans := range [][]buildSpan{serialSpans, parSpans} {
		if len(spans) != 8+16 {
			t.Fatalf("%d builds, want 24: %+v", len(spans), spans)
		}
	}
	if got := maxOverlap(serialSpans, isCold); got != 1 {
		t.Errorf("--parallel 1: %d cold builds at once", got)
	}
	if got := maxOverlap(parSpans, isCold); got < 2 || got > 4 {
		t.Errorf("--parallel 4: %d cold builds at once, want 2 to 4", got)
	}
	if got := maxOverlap(parSpans, isRebuild); got != 1 {
		t.Errorf("--parallel 4: %d rebuilds at once, want them one at a time", got)
	}
	// Every rebuild starts after every cold build ended.
	lastCold := 0.0
	for _, s := range parSpans {
		if isCold(s.tag) {
			lastCold = max(lastCold, s.end)
		}
	}
	for _, s := range parSpans {
		if isRebuild(s.tag) && s.start < lastCold {
			t.Errorf("rebuild %s started during the cold builds", s.tag)
		}
	}
	if !strings.Contains(progress, "cold builds: up to 4 at once; rebuilds are then timed one at a time") {
		t.Errorf("progress does not say how builds were run:\n%s", progress)
	}

	// Identical results but for the measured times, the random tags and the
	// recorded parallelism.
	norm := func(rs []Result) []Result {
		out := append([]Result(nil), rs...)
		for i := range out {
			for _, ir := range []*ImageResult{&out[i].Original, &out[i].Optimized} {
				ir.Image, ir.ColdBuild, ir.Rebuild, ir.RebuildDeps = "", 0, 0, 0
			}
			out[i].Parallel = 0
		}
		return out
	}
	if !reflect.DeepEqual(norm(serial), norm(par)) {
		t.Errorf("results differ:\nserial   %+v\nparallel %+v", norm(serial), norm(par))
	}
	for i, r := range par {
		if r.Service != targets[i].Service || !r.OK || r.Optimized.Size != 40000000 || r.Optimized.Rebuild == 0 || r.Optimized.RebuildDeps == 0 {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if serial[0].Parallel != 1 || par[0].Parallel != 4 {
		t.Errorf("recorded parallelism %d and %d, want 1 and 4", serial[0].Parallel, par[0].Parallel)
	}
}

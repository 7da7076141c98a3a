// Package verify checks an optimized Dockerfile against the original it
// replaces, by actually building and running both with a Docker engine.
//
// For each Target it builds the original and the optimized Dockerfile cold
// (--no-cache), records image size and layer count, measures an incremental
// rebuild after touching one application source file (and optionally a
// dependency manifest) in a temporary copy of the build context, then runs the
// optimized image with the service's environment and command and checks that
// it does not run as root, stays up (or exits 0 for one-shot services),
// becomes healthy when it has a HEALTHCHECK, and answers like the original
// (a GET of the health route its HEALTHCHECK requests, else a TCP connect:
// the check observes and never acts, as the health checks do). The user's files are never modified.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Target is one service to verify. Paths are absolute.
type Target struct {
	Service     string            `json:"service"`
	Context     string            `json:"context"`
	Dockerfile  string            `json:"dockerfile"`
	Optimized   string            `json:"optimized"`
	BuildTarget string            `json:"build_target,omitempty"`
	Args        map[string]string `json:"args,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
	Command     []string          `json:"command,omitempty"`
	Ports       []int             `json:"ports,omitempty"` // container ports from compose
	OneShot     bool              `json:"one_shot,omitempty"`
	// RootKept, when set, is why the plan deliberately left the image
	// running as root (a non-root-user finding for a human): running as
	// root is then reported, not a failure.
	RootKept string `json:"root_kept,omitempty"`
}

// Options control how Run talks to Docker.
type Options struct {
	Docker      string    // docker CLI to run; "" means "docker"
	Builder     string    // passed to buildx as --builder when set
	RebuildDeps bool      // also time a rebuild after a dependency-manifest change
	Keep        bool      // keep containers and images for inspection
	Progress    io.Writer // progress lines; nil discards them
	// Live redraws one status line per service on Progress (a terminal)
	// instead of writing plain lines.
	Live bool
	// Parallel is how many builds, and how many run checks, go at once;
	// 0 means the number of CPUs. Rebuild timings are always measured one
	// build at a time.
	Parallel int
	// Settle is how long a service without HEALTHCHECK must stay up to
	// count as running; 0 means 5 seconds.
	Settle time.Duration
}

// Result is the outcome of verifying one Target.
type Result struct {
	Service   string       `json:"service"`
	Original  ImageResult  `json:"original"`
	Optimized ImageResult  `json:"optimized"`
	HTTP      *HTTPCompare `json:"http,omitempty"`
	// Healthy is "healthy", "unhealthy", "timeout" (still starting at the
	// deadline), "none" (no HEALTHCHECK) or "" (not run).
	Healthy string `json:"healthy"`
	// User is the uid PID 1 of the optimized container runs as, followed by
	// the image's configured USER when it has one, e.g. "1000 (node)".
	User    string `json:"user"`
	NonRoot bool   `json:"non_root"`
	// RootKept repeats Target.RootKept when the container ran as root.
	RootKept string   `json:"root_kept,omitempty"`
	Running  bool     `json:"running"` // up after the start period, or exited 0 for one-shot
	Errors   []string `json:"errors,omitempty"`
	OK       bool     `json:"ok"`
	// Parallel is how many builds could run at once while the cold build
	// times were measured (they share the machine; rebuilds never do).
	Parallel int `json:"parallel,omitempty"`
}

// ImageResult describes one built image. Durations are in nanoseconds in JSON.
type ImageResult struct {
	Built       bool          `json:"built"`
	Image       string        `json:"image,omitempty"`
	Size        int64         `json:"size_bytes"`
	Layers      int           `json:"layers"`
	ColdBuild   time.Duration `json:"cold_build_ns"`
	Rebuild     time.Duration `json:"rebuild_ns,omitempty"`
	RebuildDeps time.Duration `json:"rebuild_deps_ns,omitempty"`
	BuildError  string        `json:"build_error,omitempty"`
}

// ProbeTCP is HTTPCompare.Probe for a TCP connect.
const ProbeTCP = "TCP connect"

// HTTPCompare is the answer of both images to the same probe, one that
// observes and never acts: a GET of the health route the optimized image's
// HEALTHCHECK requests, or a TCP connect that sends nothing.
type HTTPCompare struct {
	Port int `json:"port"` // container port
	// Probe is "GET <path>" or "TCP connect" (ProbeTCP).
	Probe string `json:"probe,omitempty"`
	Path  string `json:"path"` // the GET path; "" for a TCP connect
	// Original and Optimized are the HTTP status codes (for a TCP connect,
	// 1 when the port accepted it); 0: no answer or not run.
	Original  int    `json:"original_status"`
	Optimized int    `json:"optimized_status"`
	Match     bool   `json:"match"`
	Note      string `json:"note,omitempty"`
}

// ErrNoEngine is wrapped by Engine's error when no Docker engine answers.
var ErrNoEngine = errors.New("no Docker engine reachable")

// Engine checks that the docker CLI exists and that an engine answers it.
func Engine(ctx context.Context, o Options) error {
	d := newDocker(o)
	if _, err := exec.LookPath(d.bin); err != nil {
		return fmt.Errorf("%w: the %q command is not installed (install Docker, e.g. apt-get install docker.io)", ErrNoEngine, d.bin)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := d.output(ctx, "version", "--format", "{{.Server.Version}}")
	if err != nil || strings.TrimSpace(out) == "" {
		host := os.Getenv("DOCKER_HOST")
		if host == "" {
			host = "the default socket (unix:///var/run/docker.sock)"
		}
		return fmt.Errorf("%w via %s: %v\nstart one with: sudo dockerd & (or: sudo systemctl start docker), then retry", ErrNoEngine, host, err)
	}
	return nil
}

// Run verifies the targets. It returns an error only when it cannot work
// at all (no engine, cancelled); problems with a target are recorded in
// that target's Result, and the results are in the order of targets.
//
// It works in three phases so that a large project takes the time of its
// slowest builds rather than the sum of all: (1) the cold builds of every
// original and optimized Dockerfile, up to o.Parallel at once in the same
// builder, which shares base-image pulls and the build steps they have in
// common; (2) the rebuild measurements, one build at a time, because a
// rebuild takes seconds and any other build running beside it would skew
// the figure; (3) the run checks, up to o.Parallel at once (they mostly
// wait for health checks and settle periods).
func Run(ctx context.Context, targets []Target, o Options) ([]Result, error) {
	if err := Engine(ctx, o); err != nil {
		return nil, err
	}
	d := newDocker(o)
	d.detectBuildx(ctx)
	if o.Builder != "" && !d.buildx {
		return nil, fmt.Errorf("--builder %q needs the docker buildx plugin, which is not installed", o.Builder)
	}
	n := o.Parallel
	if n <= 0 {
		n = runtime.NumCPU()
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Service
	}
	d.rep = newReporter(o.Progress, o.Live, names)
	defer d.rep.close()

	sessions := make([]*session, len(targets))
	for i, t := range targets {
		sessions[i] = newSession(d, t, o)
		sessions[i].r.Parallel = min(n, 2*len(targets))
	}
	defer func() {
		for _, s := range sessions {
			s.cleanup(ctx)
		}
	}()

	// 1. Cold builds.
	if n > 1 && len(targets) > 1 {
		d.rep.logf("verify", "cold builds: up to %d at once; rebuilds are then timed one at a time", n)
	}
	var jobs []func()
	for _, s := range sessions {
		jobs = append(jobs, func() { s.buildOriginal(ctx) }, func() { s.buildOptimized(ctx) })
	}
	pool(n, jobs)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("verify cancelled during the builds: %w", err)
	}
	// 2. Rebuild timings, sequentially.
	for _, s := range sessions {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("verify cancelled before the rebuilds of %s: %w", s.t.Service, err)
		}
		s.rebuilds(ctx)
	}
	// 3. Run checks.
	jobs = jobs[:0]
	for _, s := range sessions {
		jobs = append(jobs, func() { s.finish(ctx); s.cleanup(ctx) })
	}
	pool(n, jobs)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("verify cancelled: %w", err)
	}
	results := make([]Result, len(sessions))
	for i, s := range sessions {
		results[i] = *s.r
	}
	return results, nil
}

// pool runs jobs, at most n at once, in order of starting.
func pool(n int, jobs []func()) {
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for _, job := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			job()
		}()
	}
	wg.Wait()
}

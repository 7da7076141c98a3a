// Package e2e builds and runs real images: each fixture is migrated with
// `composeopt apply` in a temporary copy, then migrate/verify builds the
// original and optimized Dockerfiles and runs the optimized image.
//
// It needs a Docker engine with the stand-in base images that env.sh sets up:
//
//	sudo bash golden/e2e/env.sh
//	COMPOSEOPT_E2E=1 go test -timeout 90m -v ./golden/e2e/
//
// Without an engine the test skips, unless COMPOSEOPT_E2E=1 demands it.
// COMPOSEOPT_E2E_OPTIMIZER chooses where the optimized Dockerfiles come from:
// "apply" (composeopt apply), "handmade" (testdata/handmade, stand-ins for the
// planner) or "auto" (default: apply, falling back to handmade only when the
// composeopt binary cannot be built or has no apply command).
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"

	"github.com/composeopt/composeopt/migrate/verify"
)

// fixture is one compose project under golden/e2e.
type fixture struct {
	dir string // directory under golden/e2e
	// services to verify; empty means every service with a build section
	// and no profile.
	services []string
}

var fixtures = []fixture{
	{dir: "matrix-studio-debian"},
	{dir: "node-ts"},
	{dir: "py-native"},
	{dir: "go-svc"},
}

// requireEngine skips (or, with COMPOSEOPT_E2E=1, fails) when no Docker
// engine answers.
func requireEngine(tb testing.TB) {
	tb.Helper()
	if testing.Short() && os.Getenv("COMPOSEOPT_E2E") != "1" {
		tb.Skip("SKIP e2e: -short (it builds and runs real images for several minutes)")
	}
	err := verify.Engine(context.Background(), verify.Options{})
	if err == nil {
		return
	}
	if os.Getenv("COMPOSEOPT_E2E") == "1" {
		tb.Fatalf("COMPOSEOPT_E2E=1 but %v", err)
	}
	tb.Skipf("SKIP e2e: no Docker engine reachable; run `sudo bash golden/e2e/env.sh` and set COMPOSEOPT_E2E=1 to run it (%v)", firstLine(err.Error()))
}

func TestE2E(t *testing.T) {
	requireEngine(t)
	for _, fx := range fixtures {
		t.Run(fx.dir, func(t *testing.T) {
			results := verifyFixture(t, fx)
			for _, r := range results {
				checkResult(t, r)
			}
		})
	}
}

// checkResult asserts what a migration must achieve for one service.
func checkResult(t *testing.T, r verify.Result) {
	t.Helper()
	if !r.Original.Built {
		t.Errorf("%s: original does not build: %s", r.Service, r.Original.BuildError)
	}
	if !r.Optimized.Built {
		t.Errorf("%s: optimized does not build: %s", r.Service, r.Optimized.BuildError)
		return
	}
	if r.Original.Built && r.Optimized.Size >= r.Original.Size {
		t.Errorf("%s: optimized image is not smaller: %d >= %d bytes", r.Service, r.Optimized.Size, r.Original.Size)
	}
	if !r.NonRoot {
		t.Errorf("%s: optimized image runs as root (user %q)", r.Service, r.User)
	}
	if !r.Running {
		t.Errorf("%s: optimized container is not running", r.Service)
	}
	if r.Healthy != "healthy" && r.Healthy != "none" {
		t.Errorf("%s: optimized container health is %q", r.Service, r.Healthy)
	}
	if r.HTTP == nil || !r.HTTP.Match {
		t.Errorf("%s: optimized does not answer HTTP like the original: %+v", r.Service, r.HTTP)
	}
	if !r.OK {
		t.Errorf("%s: verify reports failure: %s", r.Service, strings.Join(r.Errors, "; "))
	}
}

// verifyFixture migrates a temporary copy of the fixture and verifies it.
func verifyFixture(tb testing.TB, fx fixture) []verify.Result {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), fx.dir)
	if err := os.CopyFS(dir, os.DirFS(fx.dir)); err != nil {
		tb.Fatalf("copying fixture %s: %v", fx.dir, err)
	}
	optimize(tb, fx, dir)
	targets := loadTargets(tb, dir, fx.services)
	if len(targets) == 0 {
		tb.Fatalf("fixture %s: no service to verify", fx.dir)
	}
	ctx := context.Background()
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-30*time.Second))
			defer cancel()
		}
	}
	results, err := verify.Run(ctx, targets, verify.Options{
		Progress:    &logWriter{tb: tb},
		RebuildDeps: true,
	})
	if err != nil {
		tb.Fatalf("verify.Run: %v", err)
	}
	var table bytes.Buffer
	verify.WriteTable(&table, results)
	tb.Logf("results for %s:\n%s", fx.dir, table.String())
	return results
}

// optimize puts Dockerfile.optimized files next to the originals in dir.
func optimize(tb testing.TB, fx fixture, dir string) {
	tb.Helper()
	mode := os.Getenv("COMPOSEOPT_E2E_OPTIMIZER")
	if mode == "" {
		mode = "auto"
	}
	if mode == "apply" || mode == "auto" {
		bin, err := composeoptBinary()
		if err == nil {
			if err = apply(bin, dir); err == nil {
				return
			}
		}
		if mode == "apply" || !errors.Is(err, errNoPlanner) {
			tb.Fatalf("composeopt apply on %s: %v", fx.dir, err)
		}
		tb.Logf("NOTE: using hand-made optimized Dockerfiles for %s: %v", fx.dir, err)
	}
	src := filepath.Join("testdata", "handmade", fx.dir)
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		tb.Fatalf("copying hand-made Dockerfiles for %s: %v", fx.dir, err)
	}
}

// errNoPlanner means the planner is not usable yet (the binary does not build
// or has no apply command), as opposed to apply failing on a fixture.
var errNoPlanner = errors.New("composeopt planner not available")

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// composeoptBinary builds ./cmd/composeopt once per test binary.
func composeoptBinary() (string, error) {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "composeopt-e2e-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "composeopt")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/composeopt")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("%w: go build ./cmd/composeopt: %v\n%s", errNoPlanner, err, out)
		}
	})
	return binPath, binErr
}

func apply(bin, dir string) error {
	cmd := exec.Command(bin, "apply")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unknown command") {
			return fmt.Errorf("%w: %s", errNoPlanner, firstLine(string(out)))
		}
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

// loadTargets reads the (migrated) compose project in dir the way docker
// compose does and turns its buildable services into verify targets.
func loadTargets(tb testing.TB, dir string, only []string) []verify.Target {
	tb.Helper()
	po, err := cli.NewProjectOptions(nil,
		cli.WithWorkingDirectory(dir),
		cli.WithDefaultConfigPath,
		cli.WithDotEnv,
		cli.WithConsistency(false),
		cli.WithoutEnvironmentResolution,
	)
	if err != nil {
		tb.Fatalf("compose options for %s: %v", dir, err)
	}
	p, err := po.LoadProject(context.Background())
	if err != nil {
		tb.Fatalf("loading compose project %s: %v", dir, err)
	}
	var ts []verify.Target
	for name, s := range p.AllServices() {
		if s.Build == nil || (len(only) == 0 && len(s.Profiles) > 0) {
			continue
		}
		if len(only) > 0 && !contains(only, name) {
			continue
		}
		df := s.Build.Dockerfile
		if df == "" {
			df = "Dockerfile"
		}
		if !filepath.IsAbs(df) {
			df = filepath.Join(s.Build.Context, df)
		}
		// After apply, compose points at the optimized file.
		orig := strings.TrimSuffix(df, ".optimized")
		t := verify.Target{
			Service: name, Context: s.Build.Context,
			Dockerfile: orig, Optimized: orig + ".optimized",
			BuildTarget: s.Build.Target,
			Args:        map[string]string{}, Env: map[string]string{},
			Command: s.Command,
		}
		for k, v := range s.Build.Args {
			if v != nil {
				t.Args[k] = *v
			}
		}
		for k, v := range s.Environment {
			if v != nil {
				t.Env[k] = *v
			}
		}
		for _, pc := range s.Ports {
			t.Ports = append(t.Ports, int(pc.Target))
		}
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Service < ts[j].Service })
	return ts
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// logWriter sends verify's progress lines to the test log.
type logWriter struct {
	tb  testing.TB
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.tb.Log(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

var _ io.Writer = (*logWriter)(nil)

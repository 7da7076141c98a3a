// Package e2e builds and runs real images: each fixture is migrated with the
// real command line in a temporary copy (plan, git apply --check, apply, an
// empty second plan), then `composeopt verify` builds the original and
// optimized Dockerfiles and runs the optimized image.
//
// It needs a Docker engine with the stand-in base images that env.sh sets up:
//
//	sudo bash golden/e2e/env.sh
//	COMPOSEOPT_E2E=1 go test -timeout 90m -v ./golden/e2e/
//
// Without an engine the test skips, unless COMPOSEOPT_E2E=1 demands it.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composeopt/composeopt/migrate/verify"
)

// fixture is one compose project under golden/e2e.
type fixture struct {
	dir string // directory under golden/e2e
	// services to verify; empty means every service with a build section
	// and no profile.
	services []string
	// builder is the buildx builder verify uses ("" = the engine's own).
	builder string
	// rootKept: composeopt must leave the image running as root and say
	// why (verify reports it instead of failing).
	rootKept bool
}

// remoteBuilder is the buildx builder env.sh registers: a current buildkitd
// (remote driver) standing in for a BuildKit cluster.
const remoteBuilder = "composeopt-e2e-remote"

var fixtures = []fixture{
	{dir: "matrix-studio-debian"},
	{dir: "node-ts"},
	{dir: "py-native"},
	{dir: "go-svc"},
	// Heredoc RUN and COPY --chmod: Docker 20.10's builder knows neither,
	// so this one is built by the remote buildkitd and loaded into the
	// engine for the size and run checks.
	{dir: "heredoc-chmod", builder: remoteBuilder},
	// Port 80 known from the source and a Traefik label: runs as node.
	{dir: "node-port80"},
	// A static site on the stock nginx image: runs as nginx.
	{dir: "nginx-static"},
	// A static site on the stock httpd image: runs as www-data.
	{dir: "httpd-static"},
	// Uploads written into a source bind mount over WORKDIR: left as root
	// and reported.
	{dir: "flask-upload", rootKept: true},
	// Uploads and a SQLite file in a named volume, written at start: runs
	// as a user that owns only those directories (code stays root's).
	{dir: "upload-volume"},
	// COPY . . before npm install in a single stage: the manifests are
	// copied first, so a source change no longer re-runs the install.
	{dir: "deps-first-node"},
}

// requireBuilder skips (or, with COMPOSEOPT_E2E=1, fails) when a fixture's
// buildx builder is not there.
func requireBuilder(tb testing.TB, name string) {
	tb.Helper()
	if name == "" {
		return
	}
	out, err := exec.Command("docker", "buildx", "inspect", "--bootstrap", name).CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("buildx builder %s is not available (run `sudo bash golden/e2e/env.sh`): %v: %s", name, err, firstLine(string(out)))
	if os.Getenv("COMPOSEOPT_E2E") == "1" {
		tb.Fatal(msg)
	}
	tb.Skip("SKIP " + msg)
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

// minDeadline is how much time the whole e2e run needs (about 7 minutes on
// two cores with warm base images); a shorter -timeout would kill the test
// binary mid-run and leave containers and images behind.
const minDeadline = 20 * time.Minute

func TestE2E(t *testing.T) {
	requireEngine(t)
	if dl, ok := t.Deadline(); ok && time.Until(dl) < minDeadline {
		msg := fmt.Sprintf("e2e needs about %s: run go test with -timeout 60m (deadline in %s)", minDeadline, time.Until(dl).Round(time.Second))
		if os.Getenv("COMPOSEOPT_E2E") == "1" {
			t.Fatal(msg)
		}
		t.Skip("SKIP " + msg)
	}
	for _, fx := range fixtures {
		t.Run(fx.dir, func(t *testing.T) {
			requireBuilder(t, fx.builder)
			results := verifyFixture(t, fx, false)
			for _, r := range results {
				checkResult(t, r, fx)
			}
		})
	}
}

// checkResult asserts what a migration must achieve for one service.
func checkResult(t *testing.T, r verify.Result, fx fixture) {
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
	switch {
	case fx.rootKept && (r.NonRoot || r.RootKept == ""):
		t.Errorf("%s: want the image left running as root with a reason; user %q, reason %q", r.Service, r.User, r.RootKept)
	case !fx.rootKept && !r.NonRoot:
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

// verifyFixture runs the real command line on a temporary copy of the
// fixture: plan (its diff must be accepted by git apply --check), apply, a
// second plan that must be empty, then verify --json; it returns verify's
// results. With serial, verify builds one image at a time (--parallel 1),
// so that no cold build time is measured beside another build: the
// benchmark wants clean ratios, the test only the verdicts.
func verifyFixture(tb testing.TB, fx fixture, serial bool) []verify.Result {
	tb.Helper()
	dir := migrateFixture(tb, fx)
	if serial && os.Getenv("COMPOSEOPT_BENCH_CACHE_MOUNTS") == "0" {
		dropCacheMounts(tb, dir)
	}
	args := []string{"--rebuild-deps"}
	if fx.builder != "" {
		args = append(args, "--builder", fx.builder)
	}
	if serial {
		args = append(args, "--parallel", "1")
	}
	return verifyRun(tb, dir, append(args, fx.services...)...)
}

// cacheMount is one `--mount=type=cache,...` flag of a RUN, with the line
// continuation after it.
var cacheMount = regexp.MustCompile(`--mount=type=cache[^\s]*[ \t]*(\\\r?\n[ \t]*)?`)

// dropCacheMounts removes the cache mounts from every Dockerfile.optimized
// under dir, so that the benchmark can compare the generated files with
// and without them (COMPOSEOPT_BENCH_CACHE_MOUNTS=0).
func dropCacheMounts(tb testing.TB, dir string) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(e.Name(), ".optimized") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(path, cacheMount.ReplaceAll(data, nil), 0o644)
	})
	if err != nil {
		tb.Fatalf("dropping cache mounts in %s: %v", dir, err)
	}
}

// migrateFixture copies the fixture to a temporary directory and migrates
// it with plan, git apply --check, apply and an empty second plan; it
// returns the directory.
func migrateFixture(tb testing.TB, fx fixture) string {
	tb.Helper()
	bin, err := composeoptBinary()
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(tb.TempDir(), fx.dir)
	if err := os.CopyFS(dir, os.DirFS(fx.dir)); err != nil {
		tb.Fatalf("copying fixture %s: %v", fx.dir, err)
	}
	diff := run(tb, bin, dir, 0, "plan")
	if diff == "" {
		tb.Fatalf("%s: plan proposes no change", fx.dir)
	}
	patch := filepath.Join(tb.TempDir(), "plan.diff")
	if err := os.WriteFile(patch, []byte(diff), 0o644); err != nil {
		tb.Fatal(err)
	}
	gitApply := exec.Command("git", "apply", "--check", patch)
	gitApply.Dir = dir
	if out, err := gitApply.CombinedOutput(); err != nil {
		tb.Fatalf("%s: git apply --check rejects the plan: %v\n%s", fx.dir, err, out)
	}
	run(tb, bin, dir, 0, "apply")
	if again := run(tb, bin, dir, 0, "plan", "--exit-code"); again != "" {
		tb.Fatalf("%s: plan after apply is not empty:\n%s", fx.dir, again)
	}
	return dir
}

// verifyRun runs verify --json in a migrated project and returns its
// results.
func verifyRun(tb testing.TB, dir string, args ...string) []verify.Result {
	tb.Helper()
	bin, err := composeoptBinary()
	if err != nil {
		tb.Fatal(err)
	}
	report := filepath.Join(tb.TempDir(), "verify.json")
	table := run(tb, bin, dir, -1, append([]string{"verify", "--json", report}, args...)...)
	tb.Logf("results for %s (verify %s):\n%s", filepath.Base(dir), strings.Join(args, " "), table)
	data, err := os.ReadFile(report)
	if err != nil {
		tb.Fatalf("%s: verify wrote no JSON report: %v", dir, err)
	}
	var results []verify.Result
	if err := json.Unmarshal(data, &results); err != nil {
		tb.Fatalf("%s: verify JSON: %v", dir, err)
	}
	if len(results) == 0 {
		tb.Fatalf("%s: verify checked no service", dir)
	}
	return results
}

// run executes composeopt in dir, streaming its standard error (verify's
// progress) to the test log, and returns its standard output. want is the
// expected exit status, or -1 for any (verify's own verdict is checked
// from its JSON report).
func run(tb testing.TB, bin, dir string, want int, args ...string) string {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &logWriter{tb: tb}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatalf("composeopt %s: %v", strings.Join(args, " "), err)
	}
	if want >= 0 && code != want {
		tb.Fatalf("composeopt %s exited %d, want %d\n%s", strings.Join(args, " "), code, want, out.String())
	}
	return out.String()
}

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
			binErr = fmt.Errorf("go build ./cmd/composeopt: %v\n%s", err, out)
		}
	})
	return binPath, binErr
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

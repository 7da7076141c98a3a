//go:build unix

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// binary builds the real composeopt once per test run.
var binaryPath string

func composeoptBinary(t *testing.T) string {
	t.Helper()
	if binaryPath != "" {
		return binaryPath
	}
	dir, err := os.MkdirTemp("", "composeopt-killtest-bin-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "composeopt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = pkgDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	binaryPath = bin
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}

// proc starts the binary in dir with extra environment.
func proc(t *testing.T, dir string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(composeoptBinary(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COMPOSE_") && !strings.HasPrefix(kv, testStepEnv) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "NO_COLOR=1"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// runBin runs the binary to the end: its output and exit status (-1 when
// killed by SIGKILL).
func runBin(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd, out := proc(t, dir, env, args...)
	code := wait(t, cmd)
	return out.String(), code
}

func wait(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return -1
		}
		return ee.ExitCode()
	}
	t.Fatal(err)
	return 0
}

// hashTree hashes every file under dir (relative path → mode and SHA-256).
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			v += " " + hex.EncodeToString(s[:8])
		}
		m[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func diffTrees(a, b map[string]string) string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, "- "+k)
		} else if v != w {
			out = append(out, "~ "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "+ "+k)
		}
	}
	return strings.Join(out, "\n")
}

// leftovers lists temporary files and the state directory under dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".composeopt-tmp") || strings.Contains(d.Name(), ".tmp") || d.Name() == changeset.StateDirName) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// migratedInvariant: every compose reference exists, is generated from the
// original beside it and matches it; nothing temporary is left; check
// agrees.
func migratedInvariant(t *testing.T, dir string) {
	t.Helper()
	p, err := compose.Load(t.Context(), compose.Options{WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Builds) < 2 {
		t.Fatalf("want a multi-build project, got %d builds", len(p.Builds))
	}
	for _, b := range p.Builds {
		if b.Current != dockerfile.OptimizedName(b.Dockerfile) || b.Ref != compose.RefOK {
			t.Errorf("services %v build from %s (ref %q), want %s", b.Services, b.Current, b.Ref, dockerfile.OptimizedName(b.Dockerfile))
			continue
		}
		out, err := os.ReadFile(b.Current)
		if err != nil {
			t.Errorf("services %v: %v", b.Services, err)
			continue
		}
		src, err := os.ReadFile(b.Dockerfile)
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := dockerfile.ReadHeader(out); !ok || !h.Matches(src) {
			t.Errorf("%s: header %+v (found %v) does not match its original", b.Current, h, ok)
		}
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("left behind: %q", l)
	}
	if out, code := runBin(t, dir, nil, "check"); code != 0 {
		t.Errorf("check: exit %d\n%s", code, out)
	}
}

// TestApplyKilled runs the real binary's apply on a two-build project and
// kills it with SIGKILL after each of its steps in turn, and then at random
// moments. After every kill the project is either untouched or holds a
// journal that plan reports and check refuses; the next apply says whether
// it completed or rolled back the interrupted one, and leaves exactly the
// tree an uninterrupted apply leaves.
func TestApplyKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary about 60 times")
	}
	before := fixture(t, "matrix-studio")
	want := fixture(t, "matrix-studio")
	if out, code := runBin(t, want, nil, "apply"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	migratedInvariant(t, want)
	wantTree := hashTree(t, want)
	beforeTree := hashTree(t, before)

	// afterKill checks the state a kill left and what the next apply makes
	// of it. The tree an uninterrupted apply leaves passed check, so a tree
	// equal to it passes too; full also runs plan and check on the
	// interrupted state and check on the result, which takes longer.
	afterKill := func(t *testing.T, dir string, full bool) {
		t.Helper()
		got := hashTree(t, dir)
		for k := range got {
			if k == changeset.StateDirName || strings.HasPrefix(k, changeset.StateDirName+string(filepath.Separator)) {
				// A kill after the journal's removal leaves the lock file.
				delete(got, k)
			}
		}
		hadJournal := changeset.HasJournal(dir)
		switch {
		case hadJournal && full:
			out, code := runBin(t, dir, nil, "plan")
			if code != 0 || !strings.Contains(out, "composeopt recover") {
				t.Errorf("plan with a journal: exit %d, no warning:\n%s", code, out)
			}
			if out, code := runBin(t, dir, nil, "check"); code != 1 || !strings.Contains(out, "interrupted") {
				t.Errorf("check with a journal: exit %d:\n%s", code, out)
			}
		case !hadJournal:
			// Either nothing was written yet or the apply had finished (the
			// process was killed while it released the lock).
			if d := diffTrees(beforeTree, got); d != "" && diffTrees(wantTree, got) != "" {
				t.Errorf("killed without a journal, the tree is neither the old nor the new one:\n%s", d)
			}
		}
		out, code := runBin(t, dir, nil, "apply")
		if code != 0 {
			t.Fatalf("apply after the kill: exit %d\n%s", code, out)
		}
		said := strings.Contains(out, "interrupted composeopt apply") &&
			(strings.Contains(out, "was completed") || strings.Contains(out, "was rolled back"))
		if said != hadJournal {
			t.Errorf("journal left: %v; the next apply says:\n%s", hadJournal, out)
		}
		if d := diffTrees(wantTree, hashTree(t, dir)); d != "" {
			t.Errorf("after the next apply the tree differs from an uninterrupted apply's:\n%s\napply said:\n%s", d, out)
		}
		if l := leftovers(t, dir); len(l) > 0 {
			t.Errorf("left behind: %q", l)
		}
		if full {
			migratedInvariant(t, dir)
		}
	}

	steps := 0
	for k := 1; ; k++ {
		dir := fixture(t, "matrix-studio")
		out, code := runBin(t, dir, []string{testStepEnv + "=kill:" + fmt.Sprint(k)}, "apply")
		if code == 0 {
			steps = k - 1
			if d := diffTrees(wantTree, hashTree(t, dir)); d != "" {
				t.Fatalf("apply not killed differs:\n%s", d)
			}
			break
		}
		if code != -1 {
			t.Fatalf("kill after step %d: exit %d\n%s", k, code, out)
		}
		t.Run(fmt.Sprint("step ", k), func(t *testing.T) {
			recovered := changeset.HasJournal(dir)
			afterKill(t, dir, k == 1 || k%5 == 0)
			t.Logf("killed after step %d; journal left: %v", k, recovered)
		})
	}
	if steps < 12 {
		t.Fatalf("only %d steps: the hook does not see every file", steps)
	}

	// Random moments: the apply pauses 15 ms after each step and is killed
	// anywhere within its run.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 4 {
		dir := fixture(t, "matrix-studio")
		cmd, _ := proc(t, dir, []string{testStepEnv + "=sleep:15"}, "apply")
		// Loading and planning take a few hundred milliseconds first.
		waitFor(t, func() bool { return changeset.HasJournal(dir) }, 20*time.Second)
		time.Sleep(time.Duration(rng.IntN(steps*15+10)) * time.Millisecond)
		cmd.Process.Kill()
		code := wait(t, cmd)
		t.Run(fmt.Sprint("random ", i), func(t *testing.T) {
			if code != -1 && code != 0 {
				t.Fatalf("exit %d", code)
			}
			afterKill(t, dir, false)
		})
	}
}

func waitFor(t *testing.T, cond func() bool, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestApplyConcurrent: a second apply while one runs refuses and writes
// nothing; the first finishes normally.
func TestApplyConcurrent(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	first, firstOut := proc(t, dir, []string{testStepEnv + "=sleep:100"}, "apply")
	waitFor(t, func() bool { return changeset.HasJournal(dir) }, 20*time.Second)
	out, code := runBin(t, dir, nil, "apply")
	if code != 1 || !strings.Contains(out, "another composeopt apply is running in this project") {
		t.Errorf("second apply: exit %d, want 1 and a refusal:\n%s", code, out)
	}
	if code := wait(t, first); code != 0 {
		t.Fatalf("first apply: exit %d\n%s", code, firstOut)
	}
	migratedInvariant(t, dir)
}

// TestApplySignals: SIGINT or SIGTERM during the writes rolls everything
// back before the process exits (128+signal), leaving the old tree and no
// temporary file. The old apply died on the signal wherever it was.
func TestApplySignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := fixture(t, "matrix-studio")
			before := hashTree(t, dir)
			cmd, out := proc(t, dir, []string{testStepEnv + "=sleep:40"}, "apply")
			waitFor(t, func() bool {
				// Wait until at least one file was renamed into place.
				_, err := os.Stat(filepath.Join(dir, "matrix-studio/.dockerignore"))
				return err == nil
			}, 20*time.Second)
			cmd.Process.Signal(sig)
			if code := wait(t, cmd); code != 128+int(sig) {
				t.Fatalf("exit %d, want %d\n%s", code, 128+int(sig), out)
			}
			if !strings.Contains(out.String(), "interrupted") {
				t.Errorf("no word of the interruption:\n%s", out)
			}
			if d := diffTrees(before, hashTree(t, dir)); d != "" {
				t.Errorf("tree changed:\n%s\n%s", d, out)
			}
		})
	}
}

// TestApplyKilledRecursive: with -r the lock and journal live in the
// directory searched; plan -r warns and check -r fails while a killed
// apply -r's journal is there, and the next apply -r recovers it.
func TestApplyKilledRecursive(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	want := fixture(t, "matrix-studio")
	if out, code := runBin(t, want, nil, "apply", "-r"); code != 0 {
		t.Fatalf("apply -r: exit %d\n%s", code, out)
	}
	if out, code := runBin(t, dir, []string{testStepEnv + "=kill:9"}, "apply", "-r"); code != -1 {
		t.Fatalf("apply -r not killed: exit %d\n%s", code, out)
	}
	if !changeset.HasJournal(dir) {
		t.Fatal("no journal in the directory searched")
	}
	if out, code := runBin(t, dir, nil, "plan", "-r"); code != 0 || !strings.Contains(out, "composeopt recover") {
		t.Errorf("plan -r with a journal: exit %d, no warning:\n%s", code, out)
	}
	if out, code := runBin(t, dir, nil, "check", "-r"); code != 1 || !strings.Contains(out, "interrupted") {
		t.Errorf("check -r with a journal: exit %d:\n%s", code, out)
	}
	out, code := runBin(t, dir, nil, "apply", "-r")
	if code != 0 || !strings.Contains(out, "interrupted composeopt apply") {
		t.Fatalf("apply -r after the kill: exit %d\n%s", code, out)
	}
	if d := diffTrees(hashTree(t, want), hashTree(t, dir)); d != "" {
		t.Errorf("tree differs from an uninterrupted apply -r:\n%s", d)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("left behind: %q", l)
	}
}

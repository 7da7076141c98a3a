// Package hostile runs the real composeopt binary on repositories built to
// hurt it: links out of the project of every kind, special and huge files,
// YAML bombs, malformed text, read-only and odd targets, Windows images,
// variable contexts and awkward git states. Each case states the exit
// status and the message it expects, and the test hashes the whole project
// and a canary directory outside it before and after the run: only the
// files a case names may change, nothing outside ever does, and no byte of
// the canary's content may appear in any output.
package hostile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/composeopt/composeopt/migrate/safefs/safefstest"
)

var binary string

func TestMain(m *testing.M) {
	// COMPOSEOPT_BINARY runs the table against another build (an older
	// commit, to see which cases it fails).
	if b := os.Getenv("COMPOSEOPT_BINARY"); b != "" {
		binary = b
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "composeopt-hostile")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "composeopt")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/composeopt")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("building composeopt: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// canary is the content of every file outside the project: it must never
// appear in anything composeopt prints.
const canary = "CANARY-7f3a9c-outside-content"

// env is one case's world: the project, and a canary directory beside it.
type env struct {
	t       *testing.T
	proj    string
	outside string
}

func (e *env) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.proj, filepath.FromSlash(p))
}

// write creates a project file (parents included).
func (e *env) write(p, content string) {
	e.t.Helper()
	full := e.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// link makes project path p a symbolic link to target.
func (e *env) link(target, p string) {
	e.t.Helper()
	full := e.path(p)
	os.Remove(full)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		e.t.Fatal(err)
	}
}

// fifo replaces project path p with a named pipe nobody writes to.
func (e *env) fifo(p string) {
	e.t.Helper()
	full := e.path(p)
	os.Remove(full)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		e.t.Fatal(err)
	}
	safefstest.Mkfifo(e.t, full)
}

// big replaces project path p with a sparse file of size bytes that starts
// with head.
func (e *env) big(p, head string, size int64) {
	e.t.Helper()
	e.write(p, head)
	if err := os.Truncate(e.path(p), size); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mkdir(p string) {
	e.t.Helper()
	full := e.path(p)
	os.Remove(full)
	if err := os.MkdirAll(full, 0o755); err != nil {
		e.t.Fatal(err)
	}
}

// git runs git in the project with a fixed identity.
func (e *env) git(args ...string) string {
	e.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = e.proj
	cmd.Env = append(gitEnv(), os.Environ()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func gitEnv() []string {
	return []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"}
}

// composeopt runs the binary in the project during a case's setup (to
// migrate it first) and fails the test when it exits non-zero.
func (e *env) composeopt(args ...string) {
	e.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = e.proj
	cmd.Env = append(gitEnv(), "NO_COLOR=1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COMPOSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("setup: composeopt %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// gitRepo makes the project a repository with everything committed.
func (e *env) gitRepo() {
	e.git("init", "-q", "-b", "main")
	e.git("add", "-A")
	e.git("commit", "-q", "-m", "initial")
}

// basic writes a one-service Python project that composeopt migrates.
func (e *env) basic() {
	e.write("compose.yaml", basicCompose)
	e.write("app/Dockerfile", basicDockerfile)
	e.write("app/requirements.txt", "flask==3.0.3\n")
	e.write("app/app.py", "from flask import Flask\napp = Flask(__name__)\n@app.get(\"/healthz\")\ndef h():\n    return \"ok\"\n")
}

const basicCompose = "services:\n  app:\n    build: ./app\n    ports:\n      - \"8000:8000\"\n"

const basicDockerfile = `FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
EXPOSE 8000
CMD python app.py
`

// entry is what the tree hash records of one path.
type entry struct{ kind, detail string }

// hashTree records every path under dir: type, permissions, and the
// content hash of regular files or the target of links. It never opens
// anything but regular files, so FIFOs and devices are safe to list.
func hashTree(t *testing.T, dir string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == ".git" {
			return filepath.SkipDir // git's own files change with every git command
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = entry{"link", target}
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			out[rel] = entry{"file " + fi.Mode().Perm().String(), hex.EncodeToString(sum[:])}
		default:
			out[rel] = entry{fi.Mode().Type().String() + " " + fi.Mode().Perm().String(), ""}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changedPaths lists the paths that differ between two hashes.
func changedPaths(before, after map[string]entry) []string {
	var out []string
	for p, b := range before {
		if a, ok := after[p]; !ok || a != b {
			out = append(out, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// hcase is one hostile input.
type hcase struct {
	name  string
	setup func(e *env)
	// args is the command line (default: plan); "$OUT" is replaced by the
	// canary directory, "$PROJ" by the project.
	args []string
	env  []string
	exit int
	// want are substrings of stdout+stderr (after replacing the project
	// path by $PROJ and the canary directory by $OUT).
	want []string
	// changed are the project paths (slash-separated) the run must change,
	// create or remove; every other path must stay byte-identical.
	changed []string
	// outsideChanged are canary-directory paths the run must change
	// (only with --allow-outside).
	outsideChanged []string
	// check makes extra assertions after the run and returns what is wrong.
	check func(e *env, out string) []string
}

// runCase executes composeopt and checks the case's contract.
func runCase(t *testing.T, c hcase) {
	base := t.TempDir()
	e := &env{t: t, proj: filepath.Join(base, "project"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{e.proj, e.outside, filepath.Join(e.outside, "app")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"secret", "id_rsa", "app/Dockerfile.optimized", "app/.dockerignore"} {
		if err := os.WriteFile(filepath.Join(e.outside, f), []byte(canary+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.setup(e)
	args := c.args
	if len(args) == 0 {
		args = []string{"plan"}
	}
	args = slices.Clone(args)
	for i, a := range args {
		a = strings.ReplaceAll(a, "$OUT", e.outside)
		args[i] = strings.ReplaceAll(a, "$PROJ", e.proj)
	}
	beforeIn, beforeOut := hashTree(t, e.proj), hashTree(t, e.outside)

	timeout := 90 * time.Second
	if d, err := time.ParseDuration(os.Getenv("COMPOSEOPT_HOSTILE_TIMEOUT")); err == nil {
		timeout = d // a shorter wait, to run the table against a build that hangs
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = e.proj
	cmd.Env = append(append(gitEnv(), "NO_COLOR=1", "COMPOSEOPT_CANARY="+canary), c.env...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COMPOSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("composeopt %s did not finish in %v (hang)\nstderr:\n%s", strings.Join(args, " "), timeout, stderr.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ee.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
			t.Fatalf("composeopt died from a signal: %v\nstderr:\n%s", err, stderr.String())
		}
	} else if err != nil {
		t.Fatal(err)
	}
	out := stdout.String() + "\n" + stderr.String()
	out = strings.ReplaceAll(out, e.outside, "$OUT")
	out = strings.ReplaceAll(out, e.proj, "$PROJ")
	var problems []string
	if strings.Contains(out, canary) || strings.Contains(out, "CANARY-7f3a9c") {
		problems = append(problems, "the output contains content from outside the project")
	}
	if code != c.exit {
		problems = append(problems, fmt.Sprintf("exit status %d, want %d", code, c.exit))
	}
	for _, w := range c.want {
		if !strings.Contains(out, w) {
			problems = append(problems, fmt.Sprintf("output lacks %q", w))
		}
	}
	if got := changedPaths(beforeIn, hashTree(t, e.proj)); !slices.Equal(got, sorted(c.changed)) {
		problems = append(problems, fmt.Sprintf("project paths changed: %q, want %q", got, sorted(c.changed)))
	}
	if got := changedPaths(beforeOut, hashTree(t, e.outside)); !slices.Equal(got, sorted(c.outsideChanged)) {
		problems = append(problems, fmt.Sprintf("paths OUTSIDE the project changed: %q, want %q", got, sorted(c.outsideChanged)))
	}
	if c.check != nil && len(problems) == 0 {
		problems = append(problems, c.check(e, out)...)
	}
	if len(problems) > 0 {
		msg := fmt.Sprintf("composeopt %s\n%s\n--- output:\n%s", strings.Join(args, " "), strings.Join(problems, "\n"), out)
		t.Fatal(msg)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	if s == nil {
		return []string{}
	}
	return s
}

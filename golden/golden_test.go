// Package golden runs the composeopt command on small projects and compares
// its output with the expectations stored beside each project. Each case is
// a folder of testdata/ with:
//
//	in/          the project (copied to a temporary directory before each run)
//	from         optional, instead of in/: the name of the case whose in/ to use
//	args         optional: the command line (default "plan"), one argument per line
//	stdout       the expected standard output (the diff)
//	stderr       the expected standard error (the summary)
//	exit         optional: the expected exit status (default 0)
//
// The temporary project path is written as $PROJECT in the expectations.
// `go test ./golden -update` rewrites them; read the diff before committing.
//
// Beyond the comparison, every case whose plan has a diff is also checked
// end to end: `git apply --check` accepts the diff, `composeopt apply`
// produces exactly the tree that applying the diff produces, and a second
// plan on the result prints no changes.
package golden

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/compose"
)

var update = flag.Bool("update", false, "rewrite the expected outputs")

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "composeopt-golden")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "composeopt")
	build := exec.Command("go", "build", "-o", binary, "../cmd/composeopt")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("building composeopt: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes composeopt in dir and returns stdout, stderr and the exit status.
func run(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COMPOSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// alreadyMigrated is the case whose input is another case after `apply`;
// -update regenerates it so that it always holds the current output.
const alreadyMigrated = "already-migrated"

func regenerateAlreadyMigrated(t *testing.T) {
	project := copyTree(t, filepath.Join("testdata", "crlf", "in"))
	if _, stderr, code := run(t, project, "apply"); code != 0 {
		t.Fatalf("apply: %s", stderr)
	}
	dst := filepath.Join("testdata", alreadyMigrated, "in")
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(project)); err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	if *update {
		regenerateAlreadyMigrated(t)
	}
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			caseDir := filepath.Join("testdata", c.Name())
			args := []string{"plan"}
			if data, err := os.ReadFile(filepath.Join(caseDir, "args")); err == nil {
				args = strings.Fields(string(data))
			}
			// A case may reuse another case's project: its `from` file names it.
			in := filepath.Join(caseDir, "in")
			if data, err := os.ReadFile(filepath.Join(caseDir, "from")); err == nil {
				in = filepath.Join("testdata", strings.TrimSpace(string(data)), "in")
			}
			project := copyTree(t, in)
			stdout, stderr, code := run(t, project, args...)
			stdout = strings.ReplaceAll(stdout, project, "$PROJECT")
			stderr = strings.ReplaceAll(stderr, project, "$PROJECT")
			compare(t, filepath.Join(caseDir, "stdout"), stdout)
			compare(t, filepath.Join(caseDir, "stderr"), stderr)
			compare(t, filepath.Join(caseDir, "exit"), strconv.Itoa(code)+"\n")
			// Only a diff can be applied; other formats are compared only.
			if i := indexOf(args, "plan"); i >= 0 && code == 0 && stdout != "" && indexOf(args, "--format") < 0 {
				checkApply(t, project, args, i, stdout)
			}
		})
	}
}

// checkApply proves that the printed diff, `composeopt apply` and a second
// plan agree.
func checkApply(t *testing.T, project string, args []string, planAt int, diff string) {
	t.Helper()
	viaGit := copyTree(t, project)
	git := func(dir string, a ...string) {
		cmd := exec.Command("git", a...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(a, " "), err, out)
		}
	}
	patch := filepath.Join(t.TempDir(), "plan.diff")
	if err := os.WriteFile(patch, []byte(diff), 0o644); err != nil {
		t.Fatal(err)
	}
	git(viaGit, "apply", "--check", patch)
	git(viaGit, "apply", patch)

	recursive := indexOf(args, "-r") >= 0 || indexOf(args, "--recursive") >= 0
	var loadedBefore map[string]bool
	if recursive {
		loadedBefore = loadable(project)
	}
	applyArgs := append([]string(nil), args...)
	applyArgs[planAt] = "apply"
	if _, stderr, code := run(t, project, applyArgs...); code != 0 {
		t.Fatalf("apply exited %d:\n%s", code, stderr)
	}
	if a, b := snapshot(t, project), snapshot(t, viaGit); a != b {
		t.Errorf("apply and git apply disagree:\n--- apply\n%s\n--- git apply\n%s", a, b)
	}
	checkLoadsOptimized(t, project, args[:planAt], loadedBefore)
	again, stderr, code := run(t, project, append(args, "--exit-code")...)
	if again != "" || code != 0 || !strings.Contains(stderr, "No changes.") {
		t.Errorf("second plan is not empty (exit %d):\n%s\n%s", code, again, stderr)
	}
}

// loadable lists the projects -r finds below project that compose-go
// loads, by folder.
func loadable(project string) map[string]bool {
	out := map[string]bool{}
	found, _, err := compose.Discover(project)
	if err != nil {
		return out
	}
	for _, f := range found {
		if _, err := compose.Load(context.Background(), compose.Options{Files: f.Files, WorkingDir: f.Dir, AllowOutside: []string{project}}); err == nil {
			out[f.Dir] = true
		}
	}
	return out
}

// checkLoadsOptimized loads the applied project with compose-go and checks
// that every migrated service resolves to an existing *.optimized file.
// With -r (loadedBefore not nil), every project -r finds is loaded, and one
// that loaded before the apply must load after it: an apply that broke a
// project fails here, while a project broken from the start is skipped.
func checkLoadsOptimized(t *testing.T, project string, flags []string, loadedBefore map[string]bool) {
	t.Helper()
	var files []string
	for i := 0; i+1 < len(flags); i++ {
		if flags[i] == "-f" || flags[i] == "--file" {
			files = append(files, flags[i+1])
		}
	}
	var builds []*compose.Build
	if loadedBefore != nil {
		found, _, err := compose.Discover(project)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			p, err := compose.Load(context.Background(), compose.Options{Files: f.Files, WorkingDir: f.Dir, AllowOutside: []string{project}})
			switch {
			case err == nil:
				builds = append(builds, p.Builds...)
			case loadedBefore[f.Dir]:
				t.Errorf("%s loaded before apply, but not after: %v", f.Dir, err)
			}
		}
	} else {
		p, err := compose.Load(context.Background(), compose.Options{Files: files, WorkingDir: project})
		if err != nil {
			t.Fatal(err)
		}
		builds = p.Builds
	}
	for _, b := range builds {
		if !strings.HasSuffix(b.Current, ".optimized") {
			continue // not migrated: the plan says why
		}
		if _, err := os.Stat(b.Current); err != nil {
			t.Errorf("services %v point at a missing file: %v", b.Services, err)
		}
	}
	migrated := 0
	for _, b := range builds {
		if strings.HasSuffix(b.Current, ".optimized") {
			migrated++
		}
	}
	if migrated == 0 {
		t.Errorf("no service points at an optimized Dockerfile after apply")
	}
}

func compare(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if strings.HasSuffix(path, "exit") && got == "0\n" {
			os.Remove(path)
			return
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) && strings.HasSuffix(path, "exit") {
		want = []byte("0\n")
	} else if err != nil {
		t.Fatalf("%v (run `go test ./golden -update` to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// copyTree copies a directory to a new temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// snapshot renders a tree's files and contents as one string.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString("== " + rel + "\n" + string(data) + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

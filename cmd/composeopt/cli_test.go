package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/migrate/report"
)

// testRoot is the root command with check attached even before root.go
// registers it.
func testRoot() *cobra.Command {
	root := newRootCmd()
	for _, c := range root.Commands() {
		if c.Name() == "check" {
			return root
		}
	}
	root.AddCommand(newCheckCmd(nil))
	return root
}

// composeopt runs the command in dir, in process, and returns its
// standard output, standard error and exit status (as main computes it).
func composeopt(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Chdir(dir)
	t.Setenv("NO_COLOR", "1")
	root := testRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			code = ee.code
		} else {
			code = 1
			errb.WriteString("composeopt: " + err.Error() + "\n")
		}
	}
	return out.String(), errb.String(), code
}

// pkgDir is the package directory; tests change the working directory.
var pkgDir = func() string {
	d, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return d
}()

// fixture copies a golden case's input to a temporary directory.
func fixture(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(pkgDir, "..", "..", "golden", "testdata", name, "in"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// gitEnv isolates git from the machine's configuration.
func gitEnv(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(t.TempDir(), "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
		t.Setenv(k, "Test")
	}
	for _, k := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
		t.Setenv(k, "test@example.com")
	}
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// gitRepoFixture makes dir a repository with everything committed on main.
func gitRepoFixture(t *testing.T, dir string) {
	t.Helper()
	gitEnv(t)
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "initial")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

// tree renders every file under dir except .git, for before/after checks.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
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

// validatePlanJSON checks data against the shipped JSON Schema, which must
// be the file the README points at.
func validatePlanJSON(t *testing.T, data []byte) {
	t.Helper()
	schemaFile, err := os.ReadFile(filepath.Join(pkgDir, "..", "..", "migrate", "report", "plan.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(schemaFile, report.PlanSchema) {
		t.Fatal("report.PlanSchema is not plan.schema.json")
	}
	if err := report.ValidatePlanJSON(data); err != nil {
		t.Errorf("plan --format json: %v\n%s", err, data)
	}
}

// --version prints the version recorded in the build info (a test binary
// has none, so "(devel)"), with the Go version that built it.
func TestVersion(t *testing.T) {
	stdout, stderr, code := composeopt(t, t.TempDir(), "--version")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, "composeopt ") || !strings.Contains(stdout, runtime.Version()) || strings.Count(stdout, "\n") != 1 {
		t.Errorf("--version printed %q", stdout)
	}
}

func TestVerifyParallelFlag(t *testing.T) {
	_, errOut, code := composeopt(t, t.TempDir(), "verify", "--parallel", "-1")
	if code != 1 || !strings.Contains(errOut, "--parallel: -1 is not a number of builds") {
		t.Errorf("verify --parallel -1: exit %d, stderr %q", code, errOut)
	}
}

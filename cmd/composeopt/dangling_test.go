package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// migrated returns a copy of the matrix-studio example after apply.
func migrated(t *testing.T) string {
	t.Helper()
	dir := fixture(t, "matrix-studio")
	if _, stderr, code := composeopt(t, dir, "apply"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := composeopt(t, dir, "check"); code != 0 {
		t.Fatalf("check after apply: exit %d\n%s", code, stderr)
	}
	return dir
}

// TestDanglingReferences: after apply, breaking a generated file the compose
// file points at is seen by plan (it re-creates the file) and by check (it
// fails and names the service). On the old code a deleted file made plan
// say "No changes", plan --exit-code exit 0 and check pass.
func TestDanglingReferences(t *testing.T) {
	const stage = "matrix-studio/web/stage/Dockerfile.optimized"
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, dir string)
		check  string // in check's output
	}{
		{"deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, stage)); err != nil {
				t.Fatal(err)
			}
		}, "stage-server: error: matrix-studio/web/stage/Dockerfile is not migrated: " + stage + " does not exist"},
		{"original changed", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, "matrix-studio/web/stage/Dockerfile"), "# a comment\n")
		}, "stage-server: error: matrix-studio/web/stage/Dockerfile is not migrated: " + stage + " is out of date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := migrated(t)
			tc.break_(t, dir)
			stdout, stderr, code := composeopt(t, dir, "plan", "--exit-code")
			if code != 2 || !strings.Contains(stdout, "+++ b/"+stage) {
				t.Fatalf("plan --exit-code: exit %d, want 2 and a diff for %s\n%s\n%s", code, stage, stdout, stderr)
			}
			stdout, _, code = composeopt(t, dir, "check")
			if code != 1 || !strings.Contains(stdout, tc.check) {
				t.Fatalf("check: exit %d, want 1 with %q:\n%s", code, tc.check, stdout)
			}
			if _, stderr, code := composeopt(t, dir, "apply"); code != 0 {
				t.Fatalf("apply: exit %d\n%s", code, stderr)
			}
			if stdout, _, code := composeopt(t, dir, "check"); code != 0 {
				t.Fatalf("check after the repairing apply: exit %d\n%s", code, stdout)
			}
			src, err := os.ReadFile(filepath.Join(dir, "matrix-studio/web/stage/Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(filepath.Join(dir, stage))
			if err != nil {
				t.Fatal(err)
			}
			if h, ok := dockerfile.ReadHeader(out); !ok || !h.Matches(src) {
				t.Fatalf("re-created file's header %+v (ok %v) does not match its original", h, ok)
			}
		})
	}
}

// TestForeignOptimized: a <name>.optimized that composeopt did not write is
// never replaced without --force, whether compose points at it or not; plan
// and check report it naming the service. The old code overwrote it.
func TestForeignOptimized(t *testing.T) {
	const (
		stage = "matrix-studio/web/stage/Dockerfile.optimized"
		mine  = "FROM node:20-alpine\n# my own optimized file\n"
	)
	for _, pointed := range []bool{false, true} {
		name := "beside"
		if pointed {
			name = "compose points at it"
		}
		t.Run(name, func(t *testing.T) {
			dir := fixture(t, "matrix-studio")
			writeFile(t, filepath.Join(dir, stage), mine)
			if pointed {
				// compose builds stage-server from the hand-written file.
				if _, stderr, code := composeopt(t, dir, "apply", "--force"); code != 0 {
					t.Fatalf("apply --force: exit %d\n%s", code, stderr)
				}
				writeFile(t, filepath.Join(dir, stage), mine)
			}
			_, stderr, code := composeopt(t, dir, "apply")
			if code != 0 {
				t.Fatalf("apply: exit %d\n%s", code, stderr)
			}
			want := "stage-server: not migrated: " + stage + " exists and was not written by composeopt"
			if !strings.Contains(stderr, want) || !strings.Contains(stderr, "--force replaces it") {
				t.Errorf("apply's summary does not report the file:\n%s", stderr)
			}
			if got := readFile(t, filepath.Join(dir, stage)); got != mine {
				t.Fatalf("the hand-written file was replaced:\n%s", got)
			}
			compose := readFile(t, filepath.Join(dir, "docker-compose.yml"))
			if pointed != strings.Contains(compose, "dockerfile: Dockerfile.optimized ") {
				t.Errorf("compose reference for stage-server changed:\n%s", compose)
			}
			if !strings.Contains(compose, "dockerfile: Dockerfile.python.optimized") {
				t.Errorf("the other build was not migrated:\n%s", compose)
			}
			stdout, _, code := composeopt(t, dir, "check")
			if code != 1 || !strings.Contains(stdout, "stage-server: error: matrix-studio/web/stage/Dockerfile is not migrated: "+stage+" exists and was not written by composeopt") {
				t.Fatalf("check: exit %d, want 1 naming stage-server:\n%s", code, stdout)
			}
			if _, stderr, code := composeopt(t, dir, "apply", "--force"); code != 0 {
				t.Fatalf("apply --force: exit %d\n%s", code, stderr)
			}
			if h, ok := dockerfile.ReadHeader([]byte(readFile(t, filepath.Join(dir, stage)))); !ok || h.Original != "Dockerfile" {
				t.Fatalf("--force did not replace the file")
			}
			if stdout, _, code := composeopt(t, dir, "check"); code != 0 {
				t.Fatalf("check after apply --force: exit %d\n%s", code, stdout)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestStartedGuessesContexts: the Started hook gets the project directory
// and the build contexts the compose files name literally, resolved as
// compose-go resolves them, and only those that are directories inside the
// project: not a context from a variable, a remote one, a missing one, or
// a link that leads out of the project.
func TestStartedGuessesContexts(t *testing.T) {
	outside := t.TempDir()
	dir := writeTree(t, map[string]string{
		"compose.yaml": `include:
  - lib/compose.yaml
services:
  short:
    build: ./short
  long:
    build:
      context: long
      dockerfile: Dockerfile
  again:
    build: ./short
  variable:
    build: ${CTX:-./short}
  remote:
    build: https://github.com/docker/compose.git
  missing:
    build: ./missing
  escape:
    build: ./escape
  base:
    image: alpine
`,
		"short/Dockerfile":   "FROM alpine\n",
		"long/Dockerfile":    "FROM alpine\n",
		"lib/compose.yaml":   "services:\n  lib:\n    build: ./app\n",
		"lib/app/Dockerfile": "FROM alpine\n",
	})
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	var gotDir string
	var got []string
	calls := 0
	done := make(chan struct{})
	_, _ = Load(context.Background(), Options{WorkingDir: dir, Started: func(d string, contexts func() []string) {
		calls++
		gotDir = d
		go func() {
			defer close(done)
			got = contexts()
		}()
	}})
	if calls != 1 {
		t.Fatalf("Started called %d times, want 1", calls)
	}
	<-done
	real, _ := filepath.EvalSymlinks(dir)
	if gotDir != dir && gotDir != real {
		t.Errorf("Started got dir %s, want %s", gotDir, dir)
	}
	var rel []string
	for _, c := range got {
		r, err := filepath.Rel(gotDir, c)
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, filepath.ToSlash(r))
	}
	slices.Sort(rel)
	if want := []string{"lib/app", "long", "short"}; !slices.Equal(rel, want) {
		t.Errorf("contexts %q, want %q", rel, want)
	}
}

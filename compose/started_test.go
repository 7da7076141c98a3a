package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestStartedGuessesContexts: the Started hook gets the project directory
// and the build contexts and Dockerfiles the compose files name literally,
// resolved as compose-go resolves them, and only those inside the project:
// not a context or Dockerfile from a variable, a remote context, a missing
// one, or a link that leads out of the project.
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
      dockerfile: Dockerfile.prod
  varfile:
    build:
      context: long
      dockerfile: ${DF:-Dockerfile}
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
		"short/Dockerfile":     "FROM alpine\n",
		"long/Dockerfile.prod": "FROM alpine\n",
		"lib/compose.yaml":     "services:\n  lib:\n    build: ./app\n",
		"lib/app/Dockerfile":   "FROM alpine\n",
	})
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	var gotDir string
	var got Guess
	calls := 0
	done := make(chan struct{})
	_, _ = Load(context.Background(), Options{WorkingDir: dir, Started: func(d string, guess func() Guess) {
		calls++
		gotDir = d
		go func() {
			defer close(done)
			got = guess()
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
	rels := func(paths []string) []string {
		var rel []string
		for _, c := range paths {
			r, err := filepath.Rel(gotDir, c)
			if err != nil {
				t.Fatal(err)
			}
			rel = append(rel, filepath.ToSlash(r))
		}
		slices.Sort(rel)
		return rel
	}
	if rel, want := rels(got.Contexts), []string{"lib/app", "long", "short"}; !slices.Equal(rel, want) {
		t.Errorf("contexts %q, want %q", rel, want)
	}
	if rel, want := rels(got.Dockerfiles), []string{"lib/app/Dockerfile", "long/Dockerfile.prod", "short/Dockerfile"}; !slices.Equal(rel, want) {
		t.Errorf("Dockerfiles %q, want %q", rel, want)
	}
}

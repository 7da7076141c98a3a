package facts

import (
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/safefs/safefstest"
)

func contextDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"package.json":      `{"scripts":{"start":"node server.js"},"dependencies":{"express":"4"}}`,
		"package-lock.json": "{}",
		"server.js":         "app.get('/healthz', ok)\napp.listen(3000)\n",
		"src/db.js":         "require('sqlite3')\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// One file only its owner can read (NotReadableByOthers reports it).
	if err := os.Chmod(filepath.Join(dir, "src", "db.js"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestContextsGatherOnce: the cache gives each build the facts Gather
// would, gathered once per directory (by Prefetch or the first build),
// each build with its own Build and caches.
func TestContextsGatherOnce(t *testing.T) {
	dir := contextDir(t)
	svcA := []Service{{Name: "a"}}
	svcB := []Service{{Name: "b", Target: "dev"}}
	want, err := Gather(dir, svcA)
	if err != nil {
		t.Fatal(err)
	}
	// A prefetch also walks the context for NotReadableByOthers.
	warm, err := Gather(dir, svcA)
	if err != nil {
		t.Fatal(err)
	}
	if got := warm.NotReadableByOthers(); len(got) != 1 || got[0] != "src/db.js" {
		t.Fatalf("NotReadableByOthers = %q, want [src/db.js]", got)
	}

	cs := NewContexts()
	defer cs.Close()
	cs.Prefetch([]string{dir, dir})
	if n := cs.Prefetched(); n != 1 {
		t.Errorf("prefetched %d contexts, want 1 (the same directory twice)", n)
	}
	a, err := cs.Gather(dir, svcA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cs.Gather(dir, svcB)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, warm) {
		t.Errorf("prefetched facts differ from Gather's:\n%+v\n%+v", a, warm)
	}
	if got := b.NotReadableByOthers(); len(got) != 1 || got[0] != "src/db.js" {
		t.Errorf("NotReadableByOthers through the cache = %q, want [src/db.js]", got)
	}
	if a == b || !reflect.DeepEqual(b.Services, svcB) || !reflect.DeepEqual(a.Services, svcA) {
		t.Errorf("builds share a Build or have the wrong services: %p %p %v %v", a, b, a.Services, b.Services)
	}
	// Caches are per build: a read through one does not show in the other.
	if _, err := a.ReadFile("server.js"); err != nil {
		t.Fatal(err)
	}
	if len(b.read) != 0 {
		t.Errorf("a read of one build filled the other's cache: %v", b.read)
	}

	// Without a prefetch, concurrent builds of one context gather it once
	// and all get the same facts.
	cs2 := NewContexts()
	var wg sync.WaitGroup
	got := make([]*Build, 8)
	for i := range got {
		wg.Go(func() {
			got[i], _ = cs2.Gather(dir, svcA)
		})
	}
	wg.Wait()
	for i, g := range got {
		if !reflect.DeepEqual(g, want) {
			t.Errorf("build %d: facts differ from Gather's", i)
		}
	}
	if len(cs2.m) != 1 || cs2.Prefetched() != 0 {
		t.Errorf("%d entries, %d prefetched; want 1 and 0", len(cs2.m), cs2.Prefetched())
	}

	// A closed cache prefetches nothing more; Gather still works.
	cs3 := NewContexts()
	cs3.Close()
	cs3.Prefetch([]string{dir})
	if cs3.Prefetched() != 0 {
		t.Errorf("a closed cache prefetched %d contexts", cs3.Prefetched())
	}
	if g, err := cs3.Gather(dir, svcA); err != nil || !reflect.DeepEqual(g, want) {
		t.Errorf("Gather after Close: %v", err)
	}
	var nilCache *Contexts
	if g, err := nilCache.Gather(dir, svcA); err != nil || !reflect.DeepEqual(g, want) {
		t.Errorf("Gather of a nil cache: %v", err)
	}
}

// TestContextsDockerfiles: a prefetched Dockerfile is the parse the planner
// would make of it; one that cannot be read or parsed (a FIFO, which must
// not block, a missing file, a syntax error) is not offered, so that the
// planner reads it and reports its error as it always has.
func TestContextsDockerfiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "Dockerfile")
	bad := filepath.Join(dir, "Dockerfile.bad")
	fifo := filepath.Join(dir, "Dockerfile.fifo")
	if err := os.WriteFile(good, []byte("FROM alpine\nRUN true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("FROM alpine\nRUN --mount=type=cache,target=/x <<EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	safefstest.Mkfifo(t, fifo)
	cs := NewContexts()
	cs.PrefetchDockerfiles([]string{good, bad, fifo, filepath.Join(dir, "missing")})
	if len(cs.dfs) != 1 {
		t.Fatalf("%d Dockerfiles kept, want 1 (the one that parses)", len(cs.dfs))
	}
	f, ok := cs.Dockerfile(good)
	want, err := dockerfile.Parse([]byte("FROM alpine\nRUN true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !ok || !reflect.DeepEqual(f, want) {
		t.Errorf("prefetched Dockerfile: %v, differs from a parse of it", ok)
	}
	// Taken once: a second build of the same Dockerfile reads it itself.
	for _, p := range []string{good, bad, fifo, filepath.Join(dir, "missing"), filepath.Join(dir, "never-asked")} {
		if _, ok := cs.Dockerfile(p); ok {
			t.Errorf("%s: offered, want the planner to read it", filepath.Base(p))
		}
	}
	cs.Close()
	cs.PrefetchDockerfiles([]string{filepath.Join(dir, "after-close")})
	if len(cs.dfs) != 0 {
		t.Errorf("%d Dockerfiles kept, want none (all taken, none read after Close)", len(cs.dfs))
	}
}

package changeset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry is what snapshot records about one path.
type entry struct {
	mode fs.FileMode
	data string // file content or symlink target
}

// snapshot records every path under root with its mode and content, so a
// test can tell whether anything at all was touched.
func snapshot(t *testing.T, root string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{mode: fi.Mode()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.data, err = os.Readlink(p)
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			e.data = string(b)
		}
		m[p] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameSnapshot(t *testing.T, before, after map[string]entry) {
	t.Helper()
	for p, e := range before {
		if a, ok := after[p]; !ok {
			t.Errorf("%s disappeared", p)
		} else if a != e {
			t.Errorf("%s changed: %v %q -> %v %q", p, e.mode, e.data, a.mode, a.data)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

func writeFile(t *testing.T, p, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile is subject to umask
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyWritesChangedFiles(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "compose.yaml")
	writeFile(t, mod, "old\r\n", 0o640)
	same := filepath.Join(root, "same.txt")
	writeFile(t, same, "keep\n", 0o644)
	sameBefore, _ := os.Stat(same)

	var s Set
	mustAdd(t, &s, modified(mod, "old\r\n", "new\r\n"))
	mustAdd(t, &s, modified(same, "keep\n", "keep\n"))
	mustAdd(t, &s, created(filepath.Join(root, "a", "b", "Dockerfile"), "FROM x\n", 0))
	mustAdd(t, &s, created(filepath.Join(root, "run.sh"), "#!/bin/sh\n", 0o750))

	written, err := s.Apply(ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{mod, filepath.Join(root, "a", "b", "Dockerfile"), filepath.Join(root, "run.sh")}
	if fmt.Sprint(written) != fmt.Sprint([]string{want[1], want[0], want[2]}) {
		t.Errorf("written = %v", written)
	}
	checkNew(t, root, &s)
	for p, m := range map[string]fs.FileMode{mod: 0o640, want[1]: 0o644, want[2]: 0o750} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != m {
			t.Errorf("%s: mode %v, want %v (%v)", p, fi.Mode().Perm(), m, err)
		}
	}
	if fi, _ := os.Stat(same); !fi.ModTime().Equal(sameBefore.ModTime()) {
		t.Error("unchanged file was rewritten")
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, ".*.tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestApplyPreservesSpecialModeBits(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "tool")
	writeFile(t, p, "v1", 0o755)
	if err := os.Chmod(p, 0o755|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	var s Set
	mustAdd(t, &s, modified(p, "v1", "v2"))
	if _, err := s.Apply(ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if after.Mode() != before.Mode() {
		t.Errorf("mode %v, want %v", after.Mode(), before.Mode())
	}
}

func TestApplyWritesThroughSymlinks(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "shared", "compose.yaml")
	writeFile(t, target, "a\n", 0o600)
	link := filepath.Join(root, "proj", "compose.yaml")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../shared/compose.yaml", link); err != nil {
		t.Fatal(err)
	}
	// A dangling link: the new file is created at its target, in a new dir.
	dangling := filepath.Join(root, "proj", "Dockerfile")
	if err := os.Symlink("../build/Dockerfile", dangling); err != nil {
		t.Fatal(err)
	}

	var s Set
	mustAdd(t, &s, modified(link, "a\n", "b\n"))
	mustAdd(t, &s, created(dangling, "FROM x\n", 0))
	if _, err := s.Apply(ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, dangling} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink", l)
		}
	}
	if got := readFile(t, target); got != "b\n" {
		t.Errorf("target holds %q", got)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("target mode %v, want 0600", fi.Mode().Perm())
	}
	if got := readFile(t, filepath.Join(root, "build", "Dockerfile")); got != "FROM x\n" {
		t.Errorf("dangling link target holds %q", got)
	}
}

func TestApplyRejectsTwoPathsToOneFile(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "real")
	writeFile(t, target, "a", 0o644)
	link := filepath.Join(root, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	var s Set
	mustAdd(t, &s, modified(target, "a", "b"))
	mustAdd(t, &s, modified(link, "a", "c"))
	before := snapshot(t, root)
	if _, err := s.Apply(ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "same file") {
		t.Fatalf("err = %v", err)
	}
	sameSnapshot(t, before, snapshot(t, root))
}

// TestApplyAllOrNothing makes the rename of each of four files fail in
// turn and checks that the tree is left exactly as it was.
func TestApplyAllOrNothing(t *testing.T) {
	for failAt := 1; failAt <= 4; failAt++ {
		t.Run(fmt.Sprint("fail at ", failAt), func(t *testing.T) {
			root := t.TempDir()
			a := filepath.Join(root, "a.yaml")
			b := filepath.Join(root, "b", "new", "Dockerfile")
			c := filepath.Join(root, "c.txt")
			writeFile(t, a, "a1\n", 0o640)
			writeFile(t, c, "c1\r\nno eol", 0o600)
			// A second new file sharing a created directory, written last.
			d := filepath.Join(root, "b", "new", "other")

			var s Set
			mustAdd(t, &s, modified(c, "c1\r\nno eol", "c2\r\n"))
			mustAdd(t, &s, created(d, "d\n", 0))
			mustAdd(t, &s, modified(a, "a1\n", "a2\n"))
			mustAdd(t, &s, created(b, "FROM x\n", 0))
			before := snapshot(t, root)

			calls := 0
			boom := errors.New("injected failure")
			var failedPath string
			written, err := s.Apply(ApplyOptions{BeforeRename: func(p string) error {
				calls++
				if calls == failAt {
					failedPath = p
					return boom
				}
				return nil
			}})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the injected failure", err)
			}
			if !strings.Contains(err.Error(), failedPath) {
				t.Errorf("error %q does not name %s", err, failedPath)
			}
			if written != nil {
				t.Errorf("written = %v after a failure", written)
			}
			sameSnapshot(t, before, snapshot(t, root))
		})
	}
}

func TestApplyRefusesWhenChangedSincePlan(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a")
	b := filepath.Join(root, "b")
	gone := filepath.Join(root, "gone")
	appeared := filepath.Join(root, "dir", "appeared")
	writeFile(t, a, "a1", 0o644)
	writeFile(t, b, "b1", 0o644)

	var s Set
	mustAdd(t, &s, modified(a, "a1", "a2"))
	mustAdd(t, &s, modified(b, "b1", "b2"))
	mustAdd(t, &s, modified(gone, "g1", "g2"))
	mustAdd(t, &s, created(appeared, "new", 0))
	mustAdd(t, &s, created(filepath.Join(root, "fresh", "f"), "f", 0))

	// Someone edits b, deletes gone (never written here) and creates
	// appeared after the plan was made.
	writeFile(t, b, "b1 edited", 0o644)
	writeFile(t, appeared, "theirs", 0o644)
	before := snapshot(t, root)

	called := false
	_, err := s.Apply(ApplyOptions{BeforeRename: func(string) error { called = true; return nil }})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	for _, p := range []string{b, gone, appeared} {
		if want := "changed since the plan was made: " + p; !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), ": "+a) {
		t.Errorf("error names the untouched file a:\n%v", err)
	}
	if called {
		t.Error("a file got as far as renaming")
	}
	sameSnapshot(t, before, snapshot(t, root))
}

func TestApplyNoop(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a")
	writeFile(t, a, "same", 0o644)
	var s Set
	mustAdd(t, &s, modified(a, "same", "same"))
	before := snapshot(t, root)
	for _, set := range []*Set{&s, {}} {
		written, err := set.Apply(ApplyOptions{BeforeRename: func(p string) error {
			t.Errorf("rename of %s attempted", p)
			return nil
		}})
		if err != nil || written != nil {
			t.Errorf("written = %v, err = %v", written, err)
		}
	}
	sameSnapshot(t, before, snapshot(t, root))
}

func TestApplyRefusesNonRegularFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "x")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var s Set
	mustAdd(t, &s, File{Path: dir, Old: []byte{}, New: []byte("y"), Exists: true})
	if _, err := s.Apply(ApplyOptions{}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Error("directory was replaced")
	}
}

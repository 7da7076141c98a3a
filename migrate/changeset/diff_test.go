package changeset

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// git runs git in dir with the user's and system's configuration shut out,
// so settings such as core.autocrlf cannot change what is tested.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
}

// writeOld puts every existing file's Old content on disk under its path.
func writeOld(t *testing.T, s *Set) {
	t.Helper()
	for _, f := range s.Files {
		if !f.Exists {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.Path, f.Old, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkNew asserts that every file of s holds New and that the tree under
// root (ignoring .git) holds nothing else.
func checkNew(t *testing.T, root string, s *Set) {
	t.Helper()
	want := map[string]bool{}
	for _, f := range s.Files {
		want[f.Path] = true
		got, err := os.ReadFile(f.Path)
		if err != nil {
			t.Errorf("%s: %v", f.Path, err)
			continue
		}
		if !bytes.Equal(got, f.New) {
			t.Errorf("%s: got %q, want %q", f.Path, got, f.New)
		}
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() && !want[p] {
			t.Errorf("unexpected file %s", p)
		}
		return nil
	})
}

func mustAdd(t *testing.T, s *Set, f File) {
	t.Helper()
	if err := s.Add(f); err != nil {
		t.Fatal(err)
	}
}

func modified(path, old, new string) File {
	return File{Path: path, Old: []byte(old), New: []byte(new), Exists: true}
}

func created(path, new string, mode fs.FileMode) File {
	return File{Path: path, New: []byte(new), Mode: mode}
}

func numbered(n int, eol string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d%s", i, eol)
	}
	return b.String()
}

func TestDiffAcceptedByGitApply(t *testing.T) {
	needGit(t)
	root := t.TempDir()
	j := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }

	long := numbered(40, "\n")
	longNew := strings.Replace(long, "line 3\n", "line three\n", 1)
	longNew = strings.Replace(longNew, "line 30\n", "line 30\nline 30.5\n", 1)
	longNew = strings.Replace(longNew, "line 40\n", "", 1)

	var s Set
	for _, f := range []File{
		modified(j("compose.yaml"), long, longNew),
		modified(j("noeol.txt"), "a\nb\nc", "a\nB\nc"),
		modified(j("add-eol.txt"), "x", "x\n"),
		modified(j("drop-eol.txt"), "x\ny\n", "x\ny"),
		modified(j("crlf.txt"), "a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\nd\r\n"),
		modified(j("mixed.txt"), "a\r\nb\nc\r\n", "a\nb\r\nc\r\n"),
		modified(j("to-empty.txt"), "gone\n", ""),
		modified(j("from-empty.txt"), "", "hello\n"),
		modified(j("space name.txt"), "old\n", "new\n"),
		modified(j("unchanged.txt"), "same\n", "same\n"),
		created(j("new.txt"), "fresh\n", 0),
		created(j("new-noeol.txt"), "fresh", 0),
		created(j("empty-new"), "", 0),
		created(j("run.sh"), "#!/bin/sh\necho hi\n", 0o755),
		created(j("deep/er/Dockerfile"), "FROM scratch\r\nCOPY . /\r\n", 0o644),
	} {
		mustAdd(t, &s, f)
	}
	writeOld(t, &s)
	git(t, root, "init", "-q")

	patch := s.Diff(root)
	for _, want := range []string{
		"diff --git a/deep/er/Dockerfile b/deep/er/Dockerfile\nnew file mode 100644\n--- /dev/null\n+++ b/deep/er/Dockerfile\n@@ -0,0 +1,2 @@\n",
		"diff --git a/run.sh b/run.sh\nnew file mode 100755\n",
		"diff --git a/empty-new b/empty-new\nnew file mode 100644\ndiff --git ",
		"--- a/space name.txt\t\n+++ b/space name.txt\t\n",
		" c\n\\ No newline at end of file\n",
		"-y\n+y\n\\ No newline at end of file\n",
		"-a\r\n-b\n+a\n+b\r\n c\r\n",
		"-b\r\n+B\r\n c\r\n+d\r\n",
	} {
		if !bytes.Contains(patch, []byte(want)) {
			t.Errorf("diff lacks %q", want)
		}
	}
	if bytes.Contains(patch, []byte("unchanged.txt")) {
		t.Error("diff mentions a file that does not change")
	}
	if t.Failed() {
		t.Logf("diff:\n%s", patch)
	}

	pf := filepath.Join(t.TempDir(), "change.patch")
	if err := os.WriteFile(pf, patch, 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, root, "apply", "--check", pf)
	git(t, root, "apply", pf)
	checkNew(t, root, &s)
	if fi, err := os.Stat(j("run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh not executable after git apply: %v %v", fi.Mode(), err)
	}
}

func TestDiffGolden(t *testing.T) {
	root := t.TempDir()
	var s Set
	mustAdd(t, &s, modified(filepath.Join(root, "b.txt"), "1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nfive\n6\n7\n8"))
	mustAdd(t, &s, created(filepath.Join(root, "a", "new"), "x\n", 0))
	want := `diff --git a/a/new b/a/new
new file mode 100644
--- /dev/null
+++ b/a/new
@@ -0,0 +1 @@
+x
diff --git a/b.txt b/b.txt
--- a/b.txt
+++ b/b.txt
@@ -2,7 +2,7 @@
 2
 3
 4
-5
+five
 6
 7
-8
+8
\ No newline at end of file
`
	if got := string(s.Diff(root)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestDiffRandomGitApply feeds git apply many random edits, mixing line
// endings and missing final newlines, to catch hunk arithmetic mistakes.
func TestDiffRandomGitApply(t *testing.T) {
	needGit(t)
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func() string {
		n := rng.IntN(25)
		var b strings.Builder
		for i := range n {
			b.WriteString(string(rune('a' + rng.IntN(4))))
			switch {
			case i == n-1 && rng.IntN(3) == 0:
				// no final newline
			case rng.IntN(5) == 0:
				b.WriteString("\r\n")
			default:
				b.WriteString("\n")
			}
		}
		return b.String()
	}
	var s Set
	for i := range 200 {
		p := filepath.Join(root, fmt.Sprintf("f%03d.txt", i))
		if i%10 == 0 {
			mustAdd(t, &s, created(p, gen(), 0))
		} else {
			mustAdd(t, &s, modified(p, gen(), gen()))
		}
	}
	writeOld(t, &s)
	git(t, root, "init", "-q")
	pf := filepath.Join(t.TempDir(), "change.patch")
	if err := os.WriteFile(pf, s.Diff(root), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, root, "apply", pf)
	checkNew(t, root, &s)
}

func TestDiffSymlinkShowsTarget(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real", "compose.yaml")
	link := filepath.Join(root, "compose.yaml")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real/compose.yaml", link); err != nil {
		t.Fatal(err)
	}
	var s Set
	mustAdd(t, &s, modified(link, "a\n", "b\n"))
	if got := string(s.Diff(root)); !strings.HasPrefix(got, "diff --git a/real/compose.yaml b/real/compose.yaml\n") {
		t.Errorf("diff of a symlink should name its target:\n%s", got)
	}
}

func TestDiffEmptyWhenNothingChanges(t *testing.T) {
	var s Set
	mustAdd(t, &s, modified("/x/a", "same", "same"))
	if d := s.Diff("/x"); len(d) != 0 {
		t.Errorf("got %q", d)
	}
}

func TestGitQuote(t *testing.T) {
	for in, want := range map[string]string{
		"a/plain.txt":    "a/plain.txt",
		"a/with space":   "a/with space",
		"a/tab\there":    `"a/tab\there"`,
		`a/q"uote`:       `"a/q\"uote"`,
		"a/back\\slash":  `"a/back\\slash"`,
		"a/bell\x01":     `"a/bell\001"`,
		"a/ünïcödé.yaml": "a/ünïcödé.yaml",
	} {
		if got, _ := gitQuote(in); got != want {
			t.Errorf("gitQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestColorDiff(t *testing.T) {
	root := t.TempDir()
	var s Set
	// "-- x" removed shows up as "--- x": it must be red, not a bold header.
	mustAdd(t, &s, modified(filepath.Join(root, "a"), "-- x\r\nkeep\r\n", "++ y\r\nkeep\r\n"))
	diff := s.Diff(root)
	colored := ColorDiff(diff)

	ansi := regexp.MustCompile("\x1b\\[[0-9;]*m")
	if got := ansi.ReplaceAll(colored, nil); !bytes.Equal(got, diff) {
		t.Errorf("stripping colours does not give the diff back:\n%q\n%q", got, diff)
	}
	for _, want := range []string{
		ansiBold + "diff --git a/a b/a" + ansiReset + "\n",
		ansiBold + "--- a/a" + ansiReset + "\n",
		ansiBold + "+++ b/a" + ansiReset + "\n",
		ansiCyan + "@@ -1,2 +1,2 @@" + ansiReset + "\n",
		ansiRed + "--- x" + ansiReset + "\r\n",
		ansiGreen + "+++ y" + ansiReset + "\r\n",
		" keep\r\n",
	} {
		if !bytes.Contains(colored, []byte(want)) {
			t.Errorf("coloured diff lacks %q:\n%q", want, colored)
		}
	}
}

// Regression: go-udiff gave the second hunk's new-file start as 16 instead
// of 20 when the first hunk held two edits.
func TestDiffHunkNewStartAfterMultiEditHunk(t *testing.T) {
	var old strings.Builder
	for i := 1; i <= 24; i++ {
		fmt.Fprintf(&old, "line %d with some text\n", i)
	}
	o := old.String()
	n := strings.Replace(o, "line 4 with", "line four with", 1)
	n = strings.Replace(n, "line 7 with", "line seven with", 1)
	n = strings.Replace(n, "line 23 with", "line twenty-three with", 1)
	set := Set{}
	if err := set.Add(File{Path: "/p/f.txt", Old: []byte(o), New: []byte(n), Exists: true}); err != nil {
		t.Fatal(err)
	}
	diff := string(set.Diff("/p"))
	if !strings.Contains(diff, "@@ -1,10 +1,10 @@") || !strings.Contains(diff, "@@ -20,5 +20,5 @@") {
		t.Errorf("hunk headers:\n%s", diff)
	}
}

// TestDiffOrderWithManyFiles: the files' diffs, computed in parallel, come
// out in the change set's order, each whole, the same as one file at a
// time.
func TestDiffOrderWithManyFiles(t *testing.T) {
	root := t.TempDir()
	var s Set
	for i := range 300 {
		p := filepath.Join(root, fmt.Sprintf("d%03d", i%17), fmt.Sprintf("f%03d", i))
		f := File{Path: p, New: []byte(strings.Repeat(fmt.Sprintf("line %d\n", i), i%7+1))}
		if i%2 == 0 {
			f.Old, f.Exists = []byte("old\n"), true
		}
		if err := s.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	// The serial reference resolves each path from "/" (resolvePath).
	r := &renderer{root: root, resolve: resolvePath}
	r.rr, r.rerr = resolveDir(root)
	var want bytes.Buffer
	for _, f := range s.Changed() {
		writeFileDiff(&want, r.path(f.Path), f)
	}
	for range 5 {
		if got := s.Diff(root); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("parallel diff differs from the serial one:\n%s", got)
		}
	}
}

// Diff takes the diffs Prerender rendered for the files the set still
// holds unchanged, renders the others (a file changed or added after, or
// rendered for another root), and its output is the same as without.
func TestDiffTakesPrerendered(t *testing.T) {
	root := t.TempDir()
	file := func(name, content string) File {
		return File{Path: filepath.Join(root, name), New: []byte(content)}
	}
	early := []File{file("a", "one\n"), file("b", "two\n"), file("c", "three\n"), file("same", "x\n")}
	var plain, pre Set
	pre.Prerender(root, early)
	final := []File{early[0], file("b", "two, changed\n"), early[2], file("d", "four\n")}
	final[2].Mode = 0o755                                                                                  // c: same content, another mode
	final = append(final, File{Path: early[3].Path, Old: []byte("x\n"), New: []byte("x\n"), Exists: true}) // unchanged now
	for _, f := range final {
		if err := plain.Add(f); err != nil {
			t.Fatal(err)
		}
		if err := pre.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	want := plain.Diff(root)
	<-pre.pre.done
	before := renders.Load()
	if got := pre.Diff(root); !bytes.Equal(got, want) {
		t.Fatalf("diff with prerendered files differs:\n%s\nwant:\n%s", got, want)
	}
	if n := renders.Load() - before; n != 3 { // b, c, d; a taken
		t.Errorf("Diff rendered %d files, want 3 (a prerendered, the others changed or new)", n)
	}
	before = renders.Load()
	if got := pre.Diff(filepath.Join(root, "..")); bytes.Equal(got, want) {
		t.Error("a diff for another root should name the files differently")
	}
	if n := renders.Load() - before; n != 4 {
		t.Errorf("Diff for another root rendered %d files, want all 4", n)
	}
}

package changeset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// project is a small tree with two existing files (a compose file and an
// ignore file) and two new ones, one in a new directory.
type project struct {
	root                    string
	compose, ignore, df, nd string
	set                     Set
}

func newProject(t *testing.T) *project {
	t.Helper()
	root := t.TempDir()
	p := &project{
		root:    root,
		compose: filepath.Join(root, "compose.yaml"),
		ignore:  filepath.Join(root, "app", ".dockerignore"),
		df:      filepath.Join(root, "app", "Dockerfile.optimized"),
		nd:      filepath.Join(root, "svc", "sub", "Dockerfile.optimized"),
	}
	writeFile(t, p.compose, "dockerfile: Dockerfile\n", 0o644)
	writeFile(t, p.ignore, "node_modules\n", 0o600)
	writeFile(t, filepath.Join(root, "app", "Dockerfile"), "FROM x\n", 0o644)
	c := modified(p.compose, "dockerfile: Dockerfile\n", "dockerfile: Dockerfile.optimized\n")
	c.Reference = true
	mustAdd(t, &p.set, c)
	mustAdd(t, &p.set, modified(p.ignore, "node_modules\n", "node_modules\n.git\n"))
	mustAdd(t, &p.set, created(p.df, "FROM x AS new\n", 0))
	mustAdd(t, &p.set, created(p.nd, "FROM y\n", 0))
	return p
}

// after returns the snapshot the project has once the set is applied.
func (p *project) after(t *testing.T) map[string]entry {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(p.root)); err != nil {
		t.Fatal(err)
	}
	for path, e := range snapshot(t, p.root) {
		if err := os.Chmod(filepath.Join(dir, strings.TrimPrefix(path, p.root)), e.mode.Perm()); err != nil {
			t.Fatal(err)
		}
	}
	var s Set
	for _, f := range p.set.Files {
		f.Path = filepath.Join(dir, strings.TrimPrefix(f.Path, p.root))
		mustAdd(t, &s, f)
	}
	if _, err := s.Apply(ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t, dir)
	out := map[string]entry{}
	for k, v := range snap {
		out[filepath.Join(p.root, strings.TrimPrefix(k, dir))] = v
	}
	return out
}

// noLeftovers fails when a temporary file or the state directory is left.
func noLeftovers(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, tempSuffix) || strings.Contains(d.Name(), ".tmp") || d.Name() == StateDirName {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// TestApplyCrashAtEveryStep stops the apply dead after each of its steps
// (the goroutine exits; nothing of Apply runs any more, as if the process
// had been killed), then recovers as the next run would. The project must
// end up exactly as before the apply or exactly as after it, with no
// temporary file, backup or journal left.
func TestApplyCrashAtEveryStep(t *testing.T) {
	for k := 1; ; k++ {
		p := newProject(t)
		before := snapshot(t, p.root)
		want := p.after(t)
		st, err := OpenState(p.root)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		done := make(chan bool)
		go func() {
			defer close(done)
			_, err := p.set.Apply(ApplyOptions{State: st, Step: func(n int, what string) {
				steps = append(steps, what)
				if n == k {
					runtime.Goexit()
				}
			}})
			if err != nil {
				t.Errorf("apply: %v", err)
			}
			done <- true
		}()
		finished := <-done
		if finished {
			st.Close()
			if k < 8 {
				t.Fatalf("the apply finished after %d steps, want more: %q", k, steps)
			}
			sameSnapshot(t, want, snapshot(t, p.root))
			noLeftovers(t, p.root)
			// The compose edit is renamed after every other file.
			if last := steps[len(steps)-2]; last != "renamed "+p.compose {
				t.Errorf("last rename is %q, want the compose file: %q", last, steps)
			}
			return
		}
		rec, err := st.Recover()
		if err != nil {
			t.Fatalf("step %d (%s): recover: %v", k, steps[k-1], err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		got := snapshot(t, p.root)
		if rec == nil {
			// Killed after the journal was removed: the apply is complete.
			sameSnapshot(t, want, got)
		} else if rec.Completed {
			sameSnapshot(t, want, got)
		} else {
			sameSnapshot(t, before, got)
		}
		noLeftovers(t, p.root)
		t.Logf("killed after step %d (%s): %s", k, steps[k-1], rec)
	}
}

// TestApplyInterrupted cancels the context at every step: Apply rolls back
// and says it was interrupted.
func TestApplyInterrupted(t *testing.T) {
	for k := 1; ; k++ {
		p := newProject(t)
		before := snapshot(t, p.root)
		st, err := OpenState(p.root)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		_, err = p.set.Apply(ApplyOptions{State: st, Context: ctx, Step: func(n int, _ string) {
			if n == k {
				cancel(errors.New("SIGTERM"))
			}
		}})
		st.Close()
		cancel(nil)
		if err == nil {
			if k < 8 {
				t.Fatalf("finished after %d steps", k)
			}
			return
		}
		if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "SIGTERM") {
			t.Fatalf("step %d: err = %v", k, err)
		}
		sameSnapshot(t, before, snapshot(t, p.root))
		noLeftovers(t, p.root)
	}
}

// TestApplyRefusesChangeBeforeRename: a file edited after the apply started
// (here, while the first file is renamed) is not overwritten and the whole
// apply is rolled back. The old Apply compared the files only once, before
// writing anything, and overwrote the edit.
func TestApplyRefusesChangeBeforeRename(t *testing.T) {
	p := newProject(t)
	edited := false
	_, err := p.set.Apply(ApplyOptions{BeforeRename: func(string) error {
		if !edited {
			edited = true
			appendFile(t, p.compose, "# edited meanwhile\n")
		}
		return nil
	}})
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), p.compose) {
		t.Fatalf("err = %v, want ErrChanged naming %s", err, p.compose)
	}
	if got := readFile(t, p.compose); got != "dockerfile: Dockerfile\n# edited meanwhile\n" {
		t.Fatalf("the edit was lost: %q", got)
	}
	if _, err := os.Stat(p.df); err == nil {
		t.Errorf("%s was left in place", p.df)
	}
	noLeftovers(t, p.root)
}

func appendFile(t *testing.T, p, s string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestStateLock: a second OpenState refuses while the first holds the lock;
// Close removes the state directory once no journal is left.
func TestStateLock(t *testing.T) {
	root := t.TempDir()
	a, err := OpenState(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenState(root); !errors.Is(err, ErrLocked) {
		t.Fatalf("second OpenState: err = %v, want ErrLocked", err)
	}
	if gi := readFile(t, filepath.Join(root, StateDirName, ".gitignore")); !strings.Contains(gi, "\n*\n") {
		t.Errorf(".gitignore = %q", gi)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, StateDirName)); err == nil {
		t.Errorf("%s left after Close", StateDirName)
	}
	// Many at once: exactly one holds the lock at any time.
	var mu sync.Mutex
	holders, maxHolders := 0, 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				st, err := OpenState(root)
				if err != nil {
					continue
				}
				mu.Lock()
				holders++
				maxHolders = max(maxHolders, holders)
				mu.Unlock()
				mu.Lock()
				holders--
				mu.Unlock()
				st.Close()
			}
		}()
	}
	wg.Wait()
	if maxHolders != 1 {
		t.Errorf("%d holders at once", maxHolders)
	}
}

// TestRecoverRefusesJournalOutside: a journal is data found in the project
// (a repository could ship one); recovery never touches a file outside it.
func TestRecoverRefusesJournalOutside(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	writeFile(t, outside, "precious\n", 0o644)
	writeFile(t, filepath.Join(root, StateDirName, journalName), fmt.Sprintf(
		`{"version":1,"state":"preparing","files":[{"path":%q,"target":%q,"existed":false,"new_sha256":%q,"temp":%q}]}`,
		outside, outside, sum([]byte("precious\n")), tempName(outside)), 0o644)
	st, err := OpenState(root)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Recover(); err == nil || !strings.Contains(err.Error(), "outside the project") {
		t.Fatalf("err = %v", err)
	}
	if readFile(t, outside) != "precious\n" {
		t.Fatal("the file outside was changed")
	}
}

// TestWriteFileCleansStaleTemps: the temporary files a killed run left
// beside the file (fixed-name and the random-named ones of older versions)
// are removed by the next write; the old writer left them forever.
func TestWriteFileCleansStaleTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pr.md")
	for _, stale := range []string{".pr.md.tmp123456", ".pr.md" + tempSuffix} {
		writeFile(t, filepath.Join(dir, stale), "half", 0o600)
	}
	keep := filepath.Join(dir, ".pr.md.tmpl") // not a temporary file of ours
	writeFile(t, keep, "template", 0o644)
	if err := WriteFile(p, []byte("# title\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != "# title\n" {
		t.Fatalf("content %q", got)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != ".pr.md.tmpl pr.md" {
		t.Fatalf("directory holds %q", names)
	}
}

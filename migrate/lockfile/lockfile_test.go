//go:build unix

package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCleanStale: a temporary directory whose creator is gone (its lock
// file is not held) is removed by the next run; one in use is kept, as is
// a directory without the lock file.
func TestCleanStale(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	live, done, err := TempDir("test")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	stale := filepath.Join(os.TempDir(), "composeopt-test-stale")
	if err := os.MkdirAll(filepath.Join(stale, "context"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, lockName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(os.TempDir(), "composeopt-not-ours")
	if err := os.Mkdir(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	removed := CleanStale()
	if !slices.Equal(removed, []string{stale}) {
		t.Errorf("removed %q, want only %s", removed, stale)
	}
	for _, d := range []string{live, foreign} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	done()
	if _, err := os.Stat(live); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cleanup left %s", live)
	}
}

func TestAcquireHeld(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	a, err := Acquire(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(p); !errors.Is(err, ErrHeld) {
		t.Fatalf("second Acquire: %v", err)
	}
	if err := a.Release(true); err != nil {
		t.Fatal(err)
	}
	b, err := Acquire(p)
	if err != nil {
		t.Fatal(err)
	}
	b.Release(false)
}

// TestTempDirSurvivesConcurrentCleanStale: a directory TempDir returns is
// never removed by a CleanStale running at the same time (another composeopt
// process starting up). The lock file used to appear unlocked for a moment
// after its creation, and a concurrent CleanStale removed the live directory.
func TestTempDirSurvivesConcurrentCleanStale(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	stop := make(chan struct{})
	cleaned := make(chan struct{})
	go func() {
		defer close(cleaned)
		for {
			select {
			case <-stop:
				return
			default:
				CleanStale()
			}
		}
	}()
	defer func() { close(stop); <-cleaned }()
	for i := range 300 {
		dir, done, err := TempDir("race")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, lockName)); err != nil {
			t.Fatalf("iteration %d: the live directory lost its lock file: %v", i, err)
		}
		done()
	}
}

func TestAcquireRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "created-through-link")
	lock := filepath.Join(dir, "lock")
	if err := os.Symlink(outside, lock); err != nil {
		t.Fatal(err)
	}
	if l, err := Acquire(lock); err == nil {
		l.Release(false)
		t.Fatal("a lock file that is a symbolic link was accepted")
	}
	if _, err := os.Lstat(outside); err == nil {
		t.Errorf("locking created %s through the link", outside)
	}
}

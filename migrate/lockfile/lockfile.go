// Package lockfile holds composeopt's advisory locks: the per-project lock
// that keeps two applies from running at once, and the locks that mark a
// temporary directory as in use so that the next run can remove the
// directories a killed run left behind.
//
// The locks are flock(2) locks on Unix: the kernel releases them when the
// process dies, however it dies, so a lock is never stale. On other systems
// locking is not enforced.
package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrHeld is returned when another process holds the lock.
var ErrHeld = errors.New("held by another process")

// Lock is a held lock on a file.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes an exclusive lock on path (creating the file), without
// waiting: it fails with ErrHeld when another process holds it. A lock file
// removed by its previous holder while this process waited is detected, and
// the new file is locked instead.
func Acquire(path string) (*Lock, error) {
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|noFollow, 0o644)
		if err != nil {
			return nil, err
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !ok {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, ErrHeld)
		}
		// The holder may have removed the file between our open and lock:
		// then we hold a lock on a file nobody else will ever open.
		if same(f, path) {
			return &Lock{f: f, path: path}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("locking %s: the lock file keeps being replaced", path)
}

func same(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Release unlocks and, when remove is true, removes the lock file first
// (while still holding the lock, so a waiting process sees the change).
func (l *Lock) Release(remove bool) error {
	if l == nil || l.f == nil {
		return nil
	}
	var err error
	if remove {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// tempPrefix starts the name of every temporary directory made by TempDir.
const tempPrefix = "composeopt-"

// lockName is the lock file inside a temporary directory.
const lockName = ".composeopt-in-use"

// TempDir creates a temporary directory named composeopt-<what>-* and locks
// it for the life of the process; cleanup removes it. CleanStale removes the
// directories whose creator is gone.
func TempDir(what string) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", tempPrefix+what+"-")
	if err != nil {
		return "", nil, err
	}
	l, err := lockInPlace(filepath.Join(dir, lockName))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() {
		os.RemoveAll(dir)
		l.Release(false)
	}, nil
}

// lockInPlace creates the lock file under another name, locks it, and only
// then renames it to path. CleanStale removes a directory whose lock file it
// can lock; creating the file at path and locking it afterwards left a window
// in which another process's CleanStale took the new, still unlocked file for
// a dead run's and removed the directory in use.
func lockInPlace(path string) (*Lock, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".lock-")
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if err == nil && !ok {
		err = ErrHeld
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// CleanStale removes the temporary directories TempDir made in processes
// that have ended without removing them (killed, for instance). A directory
// is removed only when it holds TempDir's lock file and nobody holds the
// lock. It returns the directories removed.
func CleanStale() []string {
	if !enforced {
		return nil
	}
	base := os.TempDir()
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		lockPath := filepath.Join(dir, lockName)
		if fi, err := os.Lstat(lockPath); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		f, err := os.OpenFile(lockPath, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if ok, err := tryLock(f); err == nil && ok {
			if os.RemoveAll(dir) == nil {
				removed = append(removed, dir)
			}
		}
		f.Close()
	}
	return removed
}

package changeset

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// ErrChanged is wrapped by Apply's error for every file whose content on
// disk no longer matches File.Old, or that has appeared although the plan
// expected it to be absent (or vanished although expected to exist).
var ErrChanged = errors.New("changed since the plan was made")

// ApplyOptions tunes Apply.
type ApplyOptions struct {
	// BeforeRename, when set, runs right before the temporary copy of each
	// file is renamed over File.Path (it receives File.Path unchanged). A
	// non-nil error aborts Apply and rolls back everything written so far.
	// It exists so tests can make a write fail midway.
	BeforeRename func(path string) error
}

// keptModeBits are the mode bits carried over from a replaced file.
const keptModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// applyStep is the plan for one file plus what was done, for rollback.
type applyStep struct {
	f       File
	target  string      // symlink-free path actually written
	mode    fs.FileMode // mode given to the written file
	oldInfo fs.FileInfo // stat of the replaced file; nil for new files
	created []string    // directories made for a new file, outermost first
	renamed bool        // whether the new content is in place
}

// Apply writes the changed files, and only those, so that either all of
// them hold their New content or none was touched.
//
// Before writing anything it checks every file against the plan: an
// existing file must still hold exactly File.Old, and a new file must still
// be absent; otherwise it returns errors wrapping ErrChanged, naming each
// path, and writes nothing. Symlinks are followed and their targets written,
// so links stay links. Each file is written to a temporary file in the same
// directory, synced, given the old file's mode (and owner where permitted)
// or File.Mode (0644 if zero) for new files, renamed into place, and the
// directory is synced. Missing parent directories of new files are created.
//
// If any step fails, files already replaced get their File.Old content back
// with the same mode, new files and the directories created for them are
// removed, and the error names the path that failed (rollback failures are
// joined to it). On success it returns the File.Path of every file written.
func (s *Set) Apply(opts ApplyOptions) (written []string, err error) {
	files := s.Changed()
	if len(files) == 0 {
		return nil, nil
	}
	steps, err := planApply(files)
	if err != nil {
		return nil, err
	}
	for i, st := range steps {
		if err := st.write(opts); err != nil {
			err = fmt.Errorf("changeset: writing %s: %w", st.f.Path, err)
			errs := []error{err}
			for j := i; j >= 0; j-- {
				if rerr := steps[j].undo(); rerr != nil {
					errs = append(errs, fmt.Errorf("changeset: rollback of %s: %w", steps[j].f.Path, rerr))
				}
			}
			return nil, errors.Join(errs...)
		}
	}
	written = make([]string, len(steps))
	for i, st := range steps {
		written[i] = st.f.Path
	}
	return written, nil
}

// planApply resolves every file and checks it against the plan, touching
// nothing on disk.
func planApply(files []File) ([]*applyStep, error) {
	var errs []error
	steps := make([]*applyStep, 0, len(files))
	seen := make(map[string]string, len(files))
	for _, f := range files {
		target, err := resolvePath(f.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("changeset: resolving %s: %w", f.Path, err))
			continue
		}
		if other, dup := seen[target]; dup {
			errs = append(errs, fmt.Errorf("changeset: %s and %s are the same file %s", other, f.Path, target))
			continue
		}
		seen[target] = f.Path
		st := &applyStep{f: f, target: target}
		fi, err := os.Lstat(target)
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, fmt.Errorf("changeset: %s: %w", f.Path, err))
			continue
		case err != nil && f.Exists, err == nil && !f.Exists:
			errs = append(errs, fmt.Errorf("%w: %s", ErrChanged, f.Path))
			continue
		case err == nil && !fi.Mode().IsRegular():
			errs = append(errs, fmt.Errorf("changeset: %s: not a regular file (%s)", f.Path, fi.Mode().Type()))
			continue
		}
		if f.Exists {
			cur, err := os.ReadFile(target)
			if err != nil {
				errs = append(errs, fmt.Errorf("changeset: reading %s: %w", f.Path, err))
				continue
			}
			if !bytes.Equal(cur, f.Old) {
				errs = append(errs, fmt.Errorf("%w: %s", ErrChanged, f.Path))
				continue
			}
			st.oldInfo = fi
			st.mode = fi.Mode() & keptModeBits
		} else {
			st.mode = f.Mode & keptModeBits
			if st.mode == 0 {
				st.mode = 0o644
			}
		}
		steps = append(steps, st)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return steps, nil
}

// write puts the new content in place, recording what it did in st.
func (st *applyStep) write(opts ApplyOptions) error {
	dir := filepath.Dir(st.target)
	if st.oldInfo == nil {
		created, err := mkdirs(dir)
		st.created = created
		if err != nil {
			return err
		}
	}
	var hook func() error
	if opts.BeforeRename != nil {
		hook = func() error { return opts.BeforeRename(st.f.Path) }
	}
	if err := replaceFile(st.target, st.f.New, st.mode, st.oldInfo, hook); err != nil {
		return err
	}
	st.renamed = true
	return syncDir(dir)
}

// undo reverses write: it restores the old content or removes the new
// file, then removes the directories write created.
func (st *applyStep) undo() error {
	var errs []error
	if st.renamed {
		if st.oldInfo != nil {
			if err := replaceFile(st.target, st.f.Old, st.mode, st.oldInfo, nil); err != nil {
				errs = append(errs, err)
			}
		} else if err := os.Remove(st.target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		if err := syncDir(filepath.Dir(st.target)); err != nil {
			errs = append(errs, err)
		}
		st.renamed = false
	}
	for i := len(st.created) - 1; i >= 0; i-- {
		if err := os.Remove(st.created[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(st.created) > 0 {
		if err := syncDir(filepath.Dir(st.created[0])); err != nil {
			errs = append(errs, err)
		}
		st.created = nil
	}
	return errors.Join(errs...)
}

// replaceFile atomically replaces path with data: temporary file in the same
// directory, owner copied from oldInfo when possible, mode set, fsync, then
// rename. beforeRename, if not nil, can veto the rename.
func replaceFile(path string, data []byte, mode fs.FileMode, oldInfo fs.FileInfo, beforeRename func() error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if oldInfo != nil {
		// Chown before chmod: changing the owner clears setuid/setgid.
		if err := copyOwner(tmp, oldInfo); err != nil {
			return err
		}
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if beforeRename != nil {
		if err := beforeRename(); err != nil {
			return err
		}
	}
	return os.Rename(tmpName, path)
}

// mkdirs creates dir and any missing parents, returning the directories it
// made, outermost first, even when it fails partway.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil {
			return created, err
		}
		created = append(created, missing[i])
		if err := syncDir(filepath.Dir(missing[i])); err != nil {
			return created, err
		}
	}
	return created, nil
}

// syncDir flushes a directory so renames and creations in it survive a
// crash. Windows cannot open directories for syncing, so it is skipped there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return d.Close()
}

// maxLinks bounds symlink chains, like the kernel's own limit.
const maxLinks = 40

// resolvePath returns the absolute, symlink-free path that writing p would
// reach. Unlike filepath.EvalSymlinks it also works when p, its link target
// or some of its parent directories do not exist yet.
func resolvePath(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	for range maxLinks {
		dir, err := resolveDir(filepath.Dir(p))
		if err != nil {
			return "", err
		}
		p = filepath.Join(dir, filepath.Base(p))
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		p = link
	}
	return "", fmt.Errorf("too many levels of symbolic links")
}

// resolveDir resolves symlinks in the longest existing prefix of dir and
// appends the missing rest unchanged.
func resolveDir(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var rest []string
	for {
		r, err := filepath.EvalSymlinks(d)
		if err == nil {
			for i := len(rest) - 1; i >= 0; i-- {
				r = filepath.Join(r, rest[i])
			}
			return r, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
			return "", err
		}
		rest = append(rest, filepath.Base(d))
		d = filepath.Dir(d)
	}
}

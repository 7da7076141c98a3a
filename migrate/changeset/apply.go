package changeset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
)

// ErrChanged is wrapped by Apply's error for every file whose content on
// disk no longer matches File.Old, or that has appeared although the plan
// expected it to be absent (or vanished although expected to exist).
var ErrChanged = errors.New("changed since the plan was made")

// ErrInterrupted is wrapped by Apply's error when its context was cancelled
// (SIGINT or SIGTERM): everything written was rolled back.
var ErrInterrupted = errors.New("interrupted")

// ApplyOptions tunes Apply.
type ApplyOptions struct {
	// State, when set, is the project's locked state directory: Apply keeps
	// its journal and backups there so that a killed run can be completed
	// or rolled back by the next one (State.Recover). Without it the
	// rollback information lives in memory only.
	State *State
	// Context cancels the apply: it stops before its next step and rolls
	// back everything written so far.
	Context context.Context
	// BeforeRename, when set, runs right before the temporary copy of each
	// file is renamed over File.Path (it receives File.Path unchanged). A
	// non-nil error aborts Apply and rolls back everything written so far.
	// It exists so tests can make a write fail midway.
	BeforeRename func(path string) error
	// Step, when set, is called after each step that changed the disk, with
	// its 1-based number and what it did. It exists so tests can stop the
	// process at every step.
	Step func(n int, what string)
}

// keptModeBits are the mode bits carried over from a replaced file.
const keptModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// tempSuffix ends the name of the temporary file written beside a target:
// .<name>.composeopt-tmp. The name is fixed so that a later run finds it.
const tempSuffix = ".composeopt-tmp"

// tempName returns the temporary file Apply writes before renaming it to target.
func tempName(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+tempSuffix)
}

// record is one target of an apply: the plan for it, what the journal says
// about it, and (in memory) what was done so far.
type record struct {
	Path      string      `json:"path"`   // File.Path
	Target    string      `json:"target"` // symlink-free path written
	Existed   bool        `json:"existed"`
	OldSHA256 string      `json:"old_sha256,omitempty"`
	NewSHA256 string      `json:"new_sha256"`
	Backup    string      `json:"backup,omitempty"` // file in the state directory holding the old content
	Temp      string      `json:"temp"`             // temporary file beside Target holding the new content
	Dirs      []string    `json:"dirs,omitempty"`   // directories made for a new file, outermost first
	Mode      fs.FileMode `json:"mode"`             // mode given to the written file

	f       File
	oldInfo fs.FileInfo // stat of the replaced file; nil for new files
	created int         // how many of Dirs this run made
	temp    bool        // whether Temp was written
	renamed bool        // whether the new content is in place
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Apply writes the changed files, and only those, so that either all of
// them hold their New content or none was touched.
//
// Before writing anything it checks every file against the plan: an
// existing file must still hold exactly File.Old, and a new file must still
// be absent; otherwise it returns errors wrapping ErrChanged, naming each
// path, and writes nothing. Symlinks are followed and their targets written,
// so links stay links.
//
// With opts.State it first writes a journal listing every target with its
// backup and temporary file. Then it copies the old content of every
// existing target to a backup, writes the new content of each to a
// temporary file beside it (synced, with the old file's mode and owner, or
// File.Mode, 0644 if zero, for new files; missing parent directories are
// created), marks the journal as committing, and renames the temporary
// files into place: files marked Reference (compose edits) last, so that
// they never point at a file that is not there yet. Immediately before each
// rename the target's bytes are compared with File.Old again; a difference
// rolls back the whole apply. Every file and directory is synced. At the
// end the journal and backups are removed.
//
// If any step fails or opts.Context is cancelled, files already replaced
// get their File.Old content back with the same mode, new files, temporary
// files and the directories created are removed, and the error names the
// path that failed (rollback failures are joined to it). On success it
// returns the File.Path of every file written, in the order written.
func (s *Set) Apply(opts ApplyOptions) (written []string, err error) {
	files := s.Changed()
	if len(files) == 0 {
		return nil, nil
	}
	// Files that reference others go last (stable: path order otherwise).
	slices.SortStableFunc(files, func(a, b File) int {
		switch {
		case a.Reference == b.Reference:
			return 0
		case b.Reference:
			return -1
		}
		return 1
	})
	recs, err := planApply(files)
	if err != nil {
		return nil, err
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	a := &applier{opts: opts, ctx: ctx, j: &journal{Version: journalVersion, PID: os.Getpid(), Records: recs}}
	if err := a.run(); err != nil {
		errs := []error{err}
		if rerr := a.rollback(); rerr != nil {
			errs = append(errs, rerr)
		}
		return nil, errors.Join(errs...)
	}
	written = make([]string, len(recs))
	for i, r := range recs {
		written[i] = r.Path
	}
	return written, nil
}

// applier runs one Apply.
type applier struct {
	opts ApplyOptions
	ctx  context.Context
	j    *journal
	n    int // steps done
}

// step reports a finished step and stops when the apply was interrupted.
func (a *applier) step(format string, args ...any) error {
	a.n++
	if a.opts.Step != nil {
		a.opts.Step(a.n, fmt.Sprintf(format, args...))
	}
	if err := context.Cause(a.ctx); err != nil {
		return fmt.Errorf("%w (%v)", ErrInterrupted, err)
	}
	return nil
}

func (a *applier) run() error {
	st := a.opts.State
	if st != nil {
		st.cleanTemps(a.j.Records)
		for i, r := range a.j.Records {
			if r.Existed {
				r.Backup = filepath.Join(backupDir, fmt.Sprint(i))
			}
		}
		a.j.State = statePreparing
		if err := st.save(a.j); err != nil {
			return err
		}
		if err := a.step("journal written"); err != nil {
			return err
		}
		for _, r := range a.j.Records {
			if !r.Existed {
				continue
			}
			if err := st.writeBackup(r); err != nil {
				return fmt.Errorf("changeset: backup of %s: %w", r.Path, err)
			}
			if err := a.step("backup of %s", r.Path); err != nil {
				return err
			}
		}
	}
	for _, r := range a.j.Records {
		if err := a.writeTemp(r); err != nil {
			return fmt.Errorf("changeset: writing %s: %w", r.Path, err)
		}
		if err := a.step("temporary file for %s", r.Path); err != nil {
			return err
		}
	}
	if st != nil {
		a.j.State = stateCommitting
		if err := st.save(a.j); err != nil {
			return err
		}
		if err := a.step("journal committing"); err != nil {
			return err
		}
	}
	for _, r := range a.j.Records {
		if err := a.rename(r); err != nil {
			return fmt.Errorf("changeset: writing %s: %w", r.Path, err)
		}
		if err := a.step("renamed %s", r.Path); err != nil {
			return err
		}
	}
	if st != nil {
		// Past this point the apply is complete: a crash before the journal
		// is gone is recovered by completing it (every target holds its new
		// content).
		if err := st.finish(a.j); err != nil {
			return err
		}
		a.step("journal removed")
	}
	return nil
}

// writeTemp writes r's new content to its temporary file, creating the
// missing parent directories first.
func (a *applier) writeTemp(r *record) error {
	if r.oldInfo == nil && len(r.Dirs) > 0 {
		for _, d := range r.Dirs {
			if err := os.Mkdir(d, 0o755); err != nil {
				if errors.Is(err, fs.ErrExist) {
					// Another record of this apply made it already.
					continue
				}
				return err
			}
			r.created++
			if err := syncDir(filepath.Dir(d)); err != nil {
				return err
			}
		}
	}
	if err := writeNew(r.Temp, r.f.New, r.Mode, r.oldInfo); err != nil {
		return err
	}
	r.temp = true
	return syncDir(filepath.Dir(r.Temp))
}

// writeNew creates path (which must not exist) with data, the owner of
// oldInfo when possible, mode, and syncs it.
func writeNew(path string, data []byte, mode fs.FileMode, oldInfo fs.FileInfo) (err error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(path)
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
	return tmp.Close()
}

// rename checks that r's target still holds what the plan read, then
// renames the temporary file over it.
func (a *applier) rename(r *record) error {
	if err := unchanged(r); err != nil {
		return err
	}
	if a.opts.BeforeRename != nil {
		if err := a.opts.BeforeRename(r.Path); err != nil {
			return err
		}
	}
	if err := os.Rename(r.Temp, r.Target); err != nil {
		return err
	}
	r.temp, r.renamed = false, true
	return syncDir(filepath.Dir(r.Target))
}

// unchanged reports ErrChanged when r's target no longer holds File.Old (or
// has appeared, for a new file).
func unchanged(r *record) error {
	fi, err := os.Lstat(r.Target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if r.Existed {
			return fmt.Errorf("%w: %s", ErrChanged, r.Path)
		}
		return nil
	case err != nil:
		return err
	case !r.Existed, !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %s", ErrChanged, r.Path)
	}
	cur, err := os.ReadFile(r.Target)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, r.f.Old) {
		return fmt.Errorf("%w: %s", ErrChanged, r.Path)
	}
	return nil
}

// rollback undoes what this run did, newest first, and removes the journal.
func (a *applier) rollback() error {
	var errs []error
	recs := a.j.Records
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.renamed {
			if r.Existed {
				// Restore the old bytes through the temporary file.
				if err := writeNew(r.Temp, r.f.Old, r.Mode, r.oldInfo); err != nil {
					errs = append(errs, fmt.Errorf("changeset: rollback of %s: %w", r.Path, err))
					continue
				}
				if err := os.Rename(r.Temp, r.Target); err != nil {
					errs = append(errs, fmt.Errorf("changeset: rollback of %s: %w", r.Path, err))
					continue
				}
			} else if err := os.Remove(r.Target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("changeset: rollback of %s: %w", r.Path, err))
				continue
			}
			if err := syncDir(filepath.Dir(r.Target)); err != nil {
				errs = append(errs, err)
			}
			r.renamed = false
		}
		if r.temp {
			if err := os.Remove(r.Temp); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("changeset: removing %s: %w", r.Temp, err))
			}
			r.temp = false
		}
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		for k := r.created - 1; k >= 0; k-- {
			if err := os.Remove(r.Dirs[len(r.Dirs)-r.created+k]); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("changeset: rollback: %w", err))
			}
		}
		if r.created > 0 {
			if err := syncDir(filepath.Dir(r.Dirs[len(r.Dirs)-r.created])); err != nil {
				errs = append(errs, err)
			}
			r.created = 0
		}
	}
	if a.opts.State != nil && len(errs) == 0 {
		if err := a.opts.State.finish(a.j); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// planApply resolves every file and checks it against the plan, touching
// nothing on disk.
func planApply(files []File) ([]*record, error) {
	var errs []error
	recs := make([]*record, 0, len(files))
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
		r := &record{f: f, Path: f.Path, Target: target, Existed: f.Exists, NewSHA256: sum(f.New), Temp: tempName(target)}
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
			r.oldInfo = fi
			r.Mode = fi.Mode() & keptModeBits
			r.OldSHA256 = sum(f.Old)
		} else {
			r.Mode = f.Mode & keptModeBits
			if r.Mode == 0 {
				r.Mode = 0o644
			}
			dirs, err := missingDirs(filepath.Dir(target))
			if err != nil {
				errs = append(errs, fmt.Errorf("changeset: %s: %w", f.Path, err))
				continue
			}
			r.Dirs = dirs
		}
		recs = append(recs, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return recs, nil
}

// missingDirs returns the directories that must be made for dir to exist,
// outermost first.
func missingDirs(dir string) ([]string, error) {
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
	slices.Reverse(missing)
	return missing, nil
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

// WriteFile replaces path with data atomically and durably, outside of a
// change set (the pull-request description): through the same fixed-name
// temporary file beside it as Apply, which is removed on failure, and
// which, with the random-named ones of older versions, a later call
// removes if a killed run left it.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	tmp := tempName(path)
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+escapeGlob(filepath.Base(path))+".tmp[0-9]*"))
	for _, p := range old {
		removeIfRegular(p)
	}
	if err := writeNew(tmp, data, mode, nil); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

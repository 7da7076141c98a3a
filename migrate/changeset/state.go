package changeset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/composeopt/composeopt/migrate/lockfile"
)

// StateDirName is the directory, at the project root, where apply keeps its
// lock, journal and backups while it runs. It holds a .gitignore that
// ignores everything in it, and is removed when an apply ends normally.
const StateDirName = ".composeopt"

const (
	journalName    = "journal.json"
	lockName       = "lock"
	backupDir      = "backup"
	journalVersion = 1

	statePreparing  = "preparing"  // backups and temporary files being written: roll back
	stateCommitting = "committing" // renames under way: complete if every file allows it
)

// ErrLocked is wrapped by OpenState's error when another apply holds the lock.
var ErrLocked = errors.New("another composeopt apply is running in this project")

// journal is the state directory's journal.json.
type journal struct {
	Version int       `json:"version"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	State   string    `json:"state"`
	Records []*record `json:"files"`
}

// State is a project's locked state directory.
type State struct {
	Dir  string
	lock *lockfile.Lock
}

// OpenState creates the state directory of the project at projectDir if
// needed and takes its lock. A second process fails with ErrLocked.
func OpenState(projectDir string) (*State, error) {
	dir := filepath.Join(projectDir, StateDirName)
	var lastErr error
	for range 5 {
		if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("%s: exists and is not a directory", dir)
		}
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
		l, err := lockfile.Acquire(filepath.Join(dir, lockName))
		if errors.Is(err, lockfile.ErrHeld) {
			return nil, fmt.Errorf("%w (%s is locked); wait for it to finish", ErrLocked, filepath.Join(dir, lockName))
		}
		if errors.Is(err, fs.ErrNotExist) {
			// The previous holder removed the directory as we opened it.
			lastErr = err
			continue
		}
		if err != nil {
			return nil, err
		}
		st := &State{Dir: dir, lock: l}
		gi := filepath.Join(dir, ".gitignore")
		if _, err := os.Lstat(gi); errors.Is(err, fs.ErrNotExist) {
			if err := os.WriteFile(gi, []byte("# composeopt apply's lock, journal and backups while it runs\n*\n"), 0o644); err != nil {
				st.Close()
				return nil, err
			}
		}
		return st, nil
	}
	return nil, lastErr
}

// Close releases the lock. When no journal is left (the last apply ended
// normally, or was recovered), the state directory is removed.
func (s *State) Close() error {
	if s == nil || s.lock == nil {
		return nil
	}
	var err error
	if _, jerr := os.Lstat(filepath.Join(s.Dir, journalName)); errors.Is(jerr, fs.ErrNotExist) {
		os.Remove(filepath.Join(s.Dir, ".gitignore"))
		os.Remove(filepath.Join(s.Dir, backupDir))
		err = s.lock.Release(true)
		// Fails, harmlessly, when something else was put there.
		os.Remove(s.Dir)
	} else {
		err = s.lock.Release(false)
	}
	s.lock = nil
	return err
}

// HasJournal reports whether an apply that did not finish left its journal
// in the project at projectDir.
func HasJournal(projectDir string) bool {
	_, err := os.Lstat(filepath.Join(projectDir, StateDirName, journalName))
	return err == nil
}

// save writes the journal atomically and durably.
func (s *State) save(j *journal) error {
	if j.Started.IsZero() {
		j.Started = time.Now().UTC().Truncate(time.Second)
	}
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.Dir, journalName)
	if err := writeNew(path+".tmp", append(data, '\n'), 0o644, nil); err != nil {
		return fmt.Errorf("writing the journal %s: %w", path, err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("writing the journal %s: %w", path, err)
	}
	return syncDir(s.Dir)
}

// writeBackup saves the old content of a record in the state directory,
// under the name the journal already gives it.
func (s *State) writeBackup(r *record) error {
	dir := filepath.Join(s.Dir, backupDir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := writeNew(filepath.Join(s.Dir, r.Backup), r.f.Old, 0o600, nil); err != nil {
		return err
	}
	return syncDir(dir)
}

// finish removes the journal and the backups: the apply is over.
func (s *State) finish(j *journal) error {
	if err := os.Remove(filepath.Join(s.Dir, journalName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := syncDir(s.Dir); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(s.Dir, backupDir)); err != nil {
		return err
	}
	os.Remove(filepath.Join(s.Dir, journalName+".tmp"))
	return nil
}

// cleanTemps removes temporary files a killed run may have left beside the
// targets: composeopt's fixed names, and the .<name>.tmpNNN files of
// versions that used random names.
func (s *State) cleanTemps(recs []*record) {
	for _, r := range recs {
		removeIfRegular(r.Temp)
		old, _ := filepath.Glob(filepath.Join(filepath.Dir(r.Target), "."+escapeGlob(filepath.Base(r.Target))+".tmp[0-9]*"))
		for _, p := range old {
			removeIfRegular(p)
		}
	}
}

func escapeGlob(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(s)
}

func removeIfRegular(p string) {
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
		os.Remove(p)
	}
}

// Recovery says what Recover did.
type Recovery struct {
	// Completed is true when the interrupted apply was finished, false when
	// it was rolled back.
	Completed bool
	// PID and Started identify the interrupted run.
	PID     int
	Started time.Time
	// Files are the paths (File.Path) recovered.
	Files []string
	// Problems are files that changed after the interruption, or whose
	// backup is gone, and were left as they are.
	Problems []string
}

func (r *Recovery) String() string {
	what := "rolled back"
	if r.Completed {
		what = "completed"
	}
	s := fmt.Sprintf("an interrupted composeopt apply (pid %d, started %s) was %s: %d file(s)", r.PID, r.Started.Format(time.RFC3339), what, len(r.Files))
	for _, p := range r.Problems {
		s += "\n  " + p
	}
	return s
}

// Recover finishes what an interrupted apply left in the state directory:
// when its journal says the renames had started and every file still holds
// either the content the plan read or the new content (with the temporary
// file in place), it completes the apply; otherwise it restores every file
// to the content the plan read, and removes the files the apply created.
// Temporary files, backups and the journal are removed. It returns nil, nil
// when there was nothing to recover.
func (s *State) Recover() (*Recovery, error) {
	data, err := os.ReadFile(filepath.Join(s.Dir, journalName))
	if errors.Is(err, fs.ErrNotExist) {
		os.RemoveAll(filepath.Join(s.Dir, backupDir))
		os.Remove(filepath.Join(s.Dir, journalName+".tmp"))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil || j.Version != journalVersion {
		return nil, fmt.Errorf("%s: unreadable journal of an interrupted apply (%v); restore the files it lists by hand, then remove %s", filepath.Join(s.Dir, journalName), err, s.Dir)
	}
	rec := &Recovery{PID: j.PID, Started: j.Started}
	for _, r := range j.Records {
		if !s.inside(r) {
			return nil, fmt.Errorf("%s: the journal names %s, outside the project; remove %s by hand", filepath.Join(s.Dir, journalName), r.Target, s.Dir)
		}
		rec.Files = append(rec.Files, r.Path)
	}
	if j.State == stateCommitting && s.canComplete(&j) {
		rec.Completed = true
		for _, r := range j.Records {
			if hashOf(r.Target) == r.NewSHA256 {
				continue
			}
			if err := os.Rename(r.Temp, r.Target); err != nil {
				return nil, fmt.Errorf("completing %s: %w", r.Path, err)
			}
			if err := syncDir(filepath.Dir(r.Target)); err != nil {
				return nil, err
			}
		}
	} else {
		var errs []error
		for i := len(j.Records) - 1; i >= 0; i-- {
			if p, err := s.rollbackRecord(j.Records[i]); err != nil {
				errs = append(errs, err)
			} else if p != "" {
				rec.Problems = append(rec.Problems, p)
			}
		}
		for i := len(j.Records) - 1; i >= 0; i-- {
			r := j.Records[i]
			removeIfRegular(r.Temp)
			for k := len(r.Dirs) - 1; k >= 0; k-- {
				os.Remove(r.Dirs[k]) // only when empty
			}
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("rolling back an interrupted apply: %w", errors.Join(errs...))
		}
	}
	for _, r := range j.Records {
		removeIfRegular(r.Temp)
	}
	if err := s.finish(&j); err != nil {
		return nil, err
	}
	return rec, nil
}

// inside reports whether a journal record only names files inside the
// project (a journal is data from the project directory, which may not be
// trusted): the target, the temporary file beside it, directories above it
// and a backup in the state directory.
func (s *State) inside(r *record) bool {
	project, err := filepath.EvalSymlinks(filepath.Dir(s.Dir))
	if err != nil {
		return false
	}
	in := func(p string) bool {
		rel, err := filepath.Rel(project, p)
		return err == nil && filepath.IsAbs(p) && filepath.Clean(p) == p && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	if !in(r.Target) || r.Temp != tempName(r.Target) {
		return false
	}
	for _, d := range r.Dirs {
		if rel, err := filepath.Rel(d, r.Target); !in(d) || err != nil || strings.HasPrefix(rel, "..") {
			return false
		}
	}
	if r.Backup != "" && (filepath.IsAbs(r.Backup) || filepath.Dir(r.Backup) != backupDir) {
		return false
	}
	return true
}

// canComplete reports whether every record can reach its new content.
func (s *State) canComplete(j *journal) bool {
	for _, r := range j.Records {
		cur := hashOf(r.Target)
		if cur == r.NewSHA256 {
			continue
		}
		if cur != r.OldSHA256 || hashOf(r.Temp) != r.NewSHA256 {
			return false
		}
	}
	return true
}

// rollbackRecord restores one target to its old content. A target that
// holds neither the old nor the new content changed after the interruption:
// it is left alone and described in the returned problem.
func (s *State) rollbackRecord(r *record) (problem string, err error) {
	cur := hashOf(r.Target)
	switch cur {
	case r.OldSHA256:
		return "", nil
	case r.NewSHA256:
	default:
		return fmt.Sprintf("%s changed after the interruption: left as it is", r.Path), nil
	}
	if !r.Existed {
		if err := os.Remove(r.Target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("removing %s: %w", r.Path, err)
		}
		return "", syncDir(filepath.Dir(r.Target))
	}
	if r.Backup == "" {
		return fmt.Sprintf("%s: no backup of its old content was made; left as it is", r.Path), nil
	}
	old, err := os.ReadFile(filepath.Join(s.Dir, r.Backup))
	if err != nil || sum(old) != r.OldSHA256 {
		return fmt.Sprintf("%s: its backup %s is missing or damaged; left as it is", r.Path, filepath.Join(s.Dir, r.Backup)), nil
	}
	info, err := os.Lstat(r.Target)
	if err != nil {
		return "", err
	}
	if err := writeNew(r.Temp, old, r.Mode, info); err != nil {
		return "", fmt.Errorf("restoring %s: %w", r.Path, err)
	}
	if err := os.Rename(r.Temp, r.Target); err != nil {
		return "", fmt.Errorf("restoring %s: %w", r.Path, err)
	}
	return "", syncDir(filepath.Dir(r.Target))
}

// hashOf returns the SHA-256 of a regular file's bytes, "" when absent (and
// "?" when it cannot be read or is not a regular file).
func hashOf(path string) string {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil || !fi.Mode().IsRegular() {
		return "?"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return sum(data)
}

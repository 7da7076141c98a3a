// Package safefs is how composeopt touches the files of a project it does
// not trust. A repository may be a pull request from a stranger, so every
// file composeopt reads or writes must resolve, after symbolic links, inside
// the project directory (or a directory the user allowed with
// --allow-outside); only regular files are read, each kind with a size
// limit, so a FIFO cannot hang a run and /dev/zero cannot exhaust memory;
// and an output path that exists as a symbolic link or a non-regular file is
// never written through.
package safefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Kind is what a file is for; it decides the size limit.
type Kind int

// File kinds.
const (
	Compose    Kind = iota // compose files (and included or extended ones)
	Dockerfile             // Dockerfiles, original and optimized
	Manifest               // dependency manifests and lockfiles, config files
	Ignore                 // .dockerignore files
	Source                 // source files scanned for facts (health routes, cgo)
	EnvFile                // the .env file compose reads for interpolation
)

// Limits are the largest files composeopt reads, per kind. They are far
// above real files of each kind and far below what would strain memory.
var Limits = map[Kind]int64{
	Compose:    4 << 20,
	Dockerfile: 1 << 20,
	Manifest:   16 << 20,
	Ignore:     1 << 20,
	Source:     1 << 20,
	EnvFile:    1 << 20,
}

func (k Kind) String() string {
	switch k {
	case Compose:
		return "compose file"
	case Dockerfile:
		return "Dockerfile"
	case Manifest:
		return "manifest"
	case Ignore:
		return "ignore file"
	case Source:
		return "source file"
	case EnvFile:
		return "environment file"
	}
	return "file"
}

// ErrOutside is wrapped by every refusal of a path outside the allowed
// directories.
var ErrOutside = errors.New("outside the project directory")

// ErrNotRegular is wrapped when a file to read or write is not a regular
// file (a FIFO, a device, a directory, a socket, or, for outputs, a
// symbolic link).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped when a file exceeds its kind's limit.
var ErrTooLarge = errors.New("too large")

// Root is a project directory plus the directories the user allowed
// outside it. The zero Root allows nothing; a nil *Root confines nothing
// but still reads only regular files within the limits.
type Root struct {
	dir     string   // as given (absolute), for messages
	real    string   // symlink-free
	allowed []string // symlink-free
}

// New returns the Root of the project directory dir; allow lists extra
// directories (--allow-outside) whose files may be read and written.
func New(dir string, allow ...string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("project directory %s: %w", dir, err)
	}
	r := &Root{dir: abs, real: real}
	for _, a := range allow {
		ra, err := filepath.Abs(a)
		if err == nil {
			ra, err = filepath.EvalSymlinks(ra)
		}
		if err != nil {
			return nil, fmt.Errorf("--allow-outside %s: %w", a, err)
		}
		r.allowed = append(r.allowed, ra)
	}
	return r, nil
}

// within reports whether the symlink-free path p is dir or below it.
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	_, ok := Within(dir, p)
	return ok
}

// Within returns p relative to dir (in the system's separators, "." for
// dir itself) and whether p is dir or inside it, lexically: symbolic
// links are not resolved, so callers that must not be fooled by one
// resolve both paths first.
func Within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// Rel is how composeopt names a file of a directory: path relative to dir
// with forward slashes when it is dir or inside it (lexically; symbolic
// links are not resolved), and path unchanged otherwise ("" stays "").
// Messages, plans and reports name files with it, and walks key files by it.
func Rel(dir, path string) string {
	if path == "" {
		return ""
	}
	r, ok := Within(dir, path)
	if !ok {
		return path
	}
	return filepath.ToSlash(r)
}

// Allows reports whether the symlink-free path p is inside the project or an
// allowed directory.
func (r *Root) allows(p string) bool {
	if r == nil {
		return true
	}
	if within(r.real, p) {
		return true
	}
	for _, a := range r.allowed {
		if within(a, p) {
			return true
		}
	}
	return false
}

// Resolve returns the symlink-free absolute path that opening p would
// reach (missing trailing components are kept as written).
func Resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	d := abs
	for range 255 {
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
		// A dangling link must not be mistaken for a missing file: its
		// target is where a write would go.
		if fi, lerr := os.Lstat(d); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(d)
			if err != nil {
				return "", err
			}
			if !filepath.IsAbs(link) {
				link = filepath.Join(filepath.Dir(d), link)
			}
			d = link
			continue
		}
		rest = append(rest, filepath.Base(d))
		d = filepath.Dir(d)
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}

// Resolve is the package's Resolve for the files of the project, without
// resolving the project directory itself again: a path written below the
// directory the Root was made with is resolved from that directory's
// symlink-free form, found by New, so only the components below it are
// examined (one lstat each). Every path composeopt reads or writes is
// checked, and each check used to examine every component from "/" on,
// which was most of a large plan's system calls (1,000 services: 27,000
// of 64,000 lstats were of the project directory and its parents). The
// directories above the project are the user's or the CI runner's, not
// the repository's, so a repository cannot turn them into links during a
// run. Any link, missing directory in the middle or error below the
// project sends the path through Resolve, so the result and errors are
// always Resolve's.
func (r *Root) Resolve(p string) (string, error) {
	if r == nil {
		return Resolve(p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rel, ok := Within(r.dir, abs)
	if !ok {
		return Resolve(abs)
	}
	cur := r.real
	if rel == "." {
		return cur, nil
	}
	parts := strings.Split(rel, string(filepath.Separator))
	for i, part := range parts {
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink == 0 && (fi.IsDir() || i == len(parts)-1):
			cur = next
		case errors.Is(err, fs.ErrNotExist):
			// Missing components are kept as written, as Resolve keeps
			// them; nothing below a missing directory can be a link.
			return filepath.Join(append([]string{cur}, parts[i:]...)...), nil
		default: // a link, a file with more components, or an error
			return Resolve(abs)
		}
	}
	return cur, nil
}

// OutsideError says that a path leads outside the allowed directories.
type OutsideError struct {
	What     string // "build context", "Dockerfile", "compose file", ...
	Path     string // as found in the project
	Resolved string // where it leads
	Root     string // the project directory
}

func (e *OutsideError) Error() string {
	how := "is"
	if e.Resolved != e.Path {
		how = "resolves to " + e.Resolved + ", which is"
	}
	allow := e.Resolved
	if fi, err := os.Stat(allow); err != nil || !fi.IsDir() {
		allow = filepath.Dir(allow) // a file: allow the directory holding it
	}
	return fmt.Sprintf("%s %s %s outside the project directory %s; composeopt does not read or write there (pass --allow-outside %s to allow it)",
		e.What, e.Path, how, e.Root, allow)
}

func (e *OutsideError) Unwrap() error { return ErrOutside }

// Check fails when p (after symbolic links) is outside the project and the
// allowed directories. what names the path in the message.
func (r *Root) Check(what, p string) error {
	if r == nil {
		return nil
	}
	res, err := r.Resolve(p)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, p, err)
	}
	if !r.allows(res) {
		return &OutsideError{What: what, Path: p, Resolved: res, Root: r.dir}
	}
	return nil
}

// ReadFile reads p as a file of the given kind: p must resolve inside the
// root, be a regular file and be no larger than the kind's limit. Errors
// name p and the reason, and wrap fs.ErrNotExist, ErrOutside, ErrNotRegular
// or ErrTooLarge.
func (r *Root) ReadFile(kind Kind, p string) ([]byte, error) {
	if err := r.Check(kind.String(), p); err != nil {
		return nil, err
	}
	return readRegular(kind, p)
}

// ReadOptional is ReadFile, but a missing file is (nil, nil).
func (r *Root) ReadOptional(kind Kind, p string) ([]byte, error) {
	data, err := r.ReadFile(kind, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// ReadIn reads rel, a path relative to dir (slash-separated; a leading
// slash means dir itself, as in a COPY source), and requires it to resolve
// inside dir, which is how a build sees its context: BuildKit never follows
// a link out of it.
func ReadIn(kind Kind, dir, rel string) ([]byte, error) {
	r, err := New(dir)
	if err != nil {
		return nil, err
	}
	return r.ReadFile(kind, filepath.Join(dir, filepath.FromSlash(rel)))
}

// ReadRegular reads p, which must be a regular file within the kind's
// limit, without confining it (for paths the caller already confined).
func ReadRegular(kind Kind, p string) ([]byte, error) { return readRegular(kind, p) }

// readRegular opens p without blocking (a FIFO would otherwise wait for a
// writer forever), checks that the open file is regular and small enough,
// and reads at most the limit.
func readRegular(kind Kind, p string) ([]byte, error) {
	return readWith(kind, p, os.Stat, os.OpenFile)
}

// ReadWalked reads rel, a path inside the directory of root (os.Root:
// no link or ".." out of it is followed, whatever happens to the files
// meanwhile), which must be a regular file within the kind's limit. A walk
// of a directory reads the files it finds with it, instead of resolving
// every component of each absolute path again.
func ReadWalked(kind Kind, root *os.Root, rel string) ([]byte, error) {
	return readWith(kind, rel, root.Stat, root.OpenFile)
}

func readWith(kind Kind, p string, stat func(string) (fs.FileInfo, error), open func(string, int, fs.FileMode) (*os.File, error)) ([]byte, error) {
	// Refuse special files before opening them: opening a device can have
	// effects of its own.
	if fi, err := stat(p); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s: %w (%s)", kind, p, ErrNotRegular, TypeName(fi.Mode()))
	}
	f, err := open(p, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s: %w (%s)", kind, p, ErrNotRegular, TypeName(fi.Mode()))
	}
	limit := Limits[kind]
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s %s: %w (%d bytes; the limit for a %s is %d)", kind, p, ErrTooLarge, fi.Size(), kind, limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s %s: %w (more than %d bytes, the limit for a %s)", kind, p, ErrTooLarge, limit, kind)
	}
	return data, nil
}

// TypeName names a file type for messages ("a FIFO", "a directory").
func TypeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// CheckOutput fails unless p can be written by replacing it: its directory
// resolves inside the root, and p is absent or a regular file, not a
// symbolic link (composeopt never writes through a link, wherever it points).
func (r *Root) CheckOutput(p string) error {
	_, err := r.checkOutput(p)
	return err
}

// checkOutput is CheckOutput, also saying whether p exists (as a regular
// file, when err is nil).
func (r *Root) checkOutput(p string) (bool, error) {
	if err := r.Check("output", filepath.Dir(p)); err != nil {
		return false, fmt.Errorf("%s: %w", p, err)
	}
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s is %s, %w; composeopt replaces only regular files and never writes through a link", p, TypeName(fi.Mode()), ErrNotRegular)
	}
	return true, nil
}

// ReadOutput returns the current content of the output path p (nil when it
// does not exist) after CheckOutput.
func (r *Root) ReadOutput(kind Kind, p string) ([]byte, error) {
	exists, err := r.checkOutput(p)
	if err != nil || !exists {
		return nil, err
	}
	// p is a regular file (not a link) in a directory that resolves inside
	// the root: resolving p itself again, as ReadFile would, can only give
	// the same answer.
	data, err := readRegular(kind, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// IsRegular reports whether the directory entry d is a regular file (walks
// use it to skip links, devices and FIFOs).
func IsRegular(d fs.DirEntry) bool { return d.Type().IsRegular() }

// ReadHeadIn returns at most n bytes from the start of p, which must be a
// regular file resolving inside dir (it sniffs file types without reading
// whole files).
func ReadHeadIn(dir, p string, n int) ([]byte, error) {
	r, err := New(dir)
	if err != nil {
		return nil, err
	}
	return r.ReadHead(p, n)
}

// ReadHead returns at most n bytes from the start of p, which must be a
// regular file inside the root.
func (r *Root) ReadHead(p string, n int) ([]byte, error) {
	if err := r.Check("file", p); err != nil {
		return nil, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", p, ErrNotRegular, TypeName(fi.Mode()))
	}
	f, err := os.OpenFile(p, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", p, ErrNotRegular)
	}
	// A buffer of the file's size when that is less: the load reads the
	// head of every service's Dockerfile, and 64 KiB each was 130 MB of
	// garbage for a thousand services.
	head := make([]byte, max(0, min(int64(n), fi.Size()+1)))
	m, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:m], nil
}

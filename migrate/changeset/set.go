package changeset

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Add appends f to the set. It refuses an empty path, a path that is already
// in the set (compared after filepath.Clean), and a file that is marked as
// absent but still carries old content.
func (s *Set) Add(f File) error {
	if f.Path == "" {
		return errors.New("changeset: file with an empty path")
	}
	if !f.Exists && len(f.Old) > 0 {
		return fmt.Errorf("changeset: %s: marked as not existing but has old content", f.Path)
	}
	key := filepath.Clean(f.Path)
	// An index of the paths, not a scan of Files per call: that made a
	// change set of thousands of files quadratic. Rebuilt when Files was
	// set or changed without Add.
	if s.paths == nil || len(s.paths) != len(s.Files) {
		s.paths = make(map[string]bool, len(s.Files))
		for _, g := range s.Files {
			s.paths[filepath.Clean(g.Path)] = true
		}
	}
	if s.paths[key] {
		return fmt.Errorf("changeset: duplicate path %s", f.Path)
	}
	s.Files = append(s.Files, f)
	s.paths[key] = true
	return nil
}

// Sorted returns a copy of the files ordered by cleaned path, so that diffs
// and writes come out the same way whatever order the files were added in.
func (s *Set) Sorted() []File {
	if s == nil {
		return nil
	}
	out := slices.Clone(s.Files)
	slices.SortStableFunc(out, func(a, b File) int {
		return strings.Compare(filepath.Clean(a.Path), filepath.Clean(b.Path))
	})
	return out
}

// Changed returns, in Sorted order, the files whose content on disk would
// differ after Apply: new files and files whose New differs from Old.
func (s *Set) Changed() []File {
	var out []File
	for _, f := range s.Sorted() {
		if f.Changed() {
			out = append(out, f)
		}
	}
	return out
}

package changeset

import (
	"slices"
	"testing"
)

func TestAddRejectsDuplicates(t *testing.T) {
	var s Set
	if err := s.Add(File{Path: "/p/a", New: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(File{Path: "/p/./a", New: []byte("y")}); err == nil {
		t.Error("duplicate path accepted")
	}
	if err := s.Add(File{Path: ""}); err == nil {
		t.Error("empty path accepted")
	}
	if err := s.Add(File{Path: "/p/b", Old: []byte("x")}); err == nil {
		t.Error("absent file with old content accepted")
	}
	if len(s.Files) != 1 {
		t.Errorf("set has %d files, want 1", len(s.Files))
	}
}

// Files set or appended to without Add still count as duplicates (Add
// keeps an index of the paths).
func TestAddSeesFilesSetDirectly(t *testing.T) {
	s := Set{Files: []File{{Path: "/p/a", New: []byte("x")}}}
	if err := s.Add(File{Path: "/p/a/", New: []byte("y")}); err == nil {
		t.Error("duplicate of a literal file accepted")
	}
	if err := s.Add(File{Path: "/p/b", New: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	s.Files = append(s.Files, File{Path: "/p/c", New: []byte("z")})
	if err := s.Add(File{Path: "/p/./c", New: []byte("w")}); err == nil {
		t.Error("duplicate of an appended file accepted")
	}
	if len(s.Files) != 3 {
		t.Errorf("set has %d files, want 3", len(s.Files))
	}
}

func TestChangedSortedAndFiltered(t *testing.T) {
	s := Set{Files: []File{
		{Path: "/r/c", Old: []byte("1"), New: []byte("2"), Exists: true},
		{Path: "/r/a", Old: []byte("1"), New: []byte("1"), Exists: true},
		{Path: "/r/b/new", New: nil},
		{Path: "/r/b", Old: []byte("1"), New: []byte("2"), Exists: true},
	}}
	var got []string
	for _, f := range s.Changed() {
		got = append(got, f.Path)
	}
	if want := []string{"/r/b", "/r/b/new", "/r/c"}; !slices.Equal(got, want) {
		t.Errorf("Changed = %v, want %v", got, want)
	}
	if s.Files[0].Path != "/r/c" {
		t.Error("Changed reordered the set itself")
	}
}

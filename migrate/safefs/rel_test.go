package safefs

import (
	"path/filepath"
	"testing"
)

func TestRel(t *testing.T) {
	dir := filepath.FromSlash("/p/proj")
	for _, c := range []struct{ path, want string }{
		{"/p/proj/web/Dockerfile", "web/Dockerfile"},
		{"/p/proj", "."},
		{"/p/proj/..data/x", "..data/x"}, // a name starting with ".." is inside
		{"/p/shared/Dockerfile", "/p/shared/Dockerfile"},
		{"/p", "/p"},
		{"", ""},
	} {
		if got := Rel(dir, filepath.FromSlash(c.path)); got != filepath.FromSlash(c.want) && got != c.want {
			t.Errorf("Rel(%q, %q) = %q, want %q", dir, c.path, got, c.want)
		}
	}
}

func TestWithin(t *testing.T) {
	dir := filepath.FromSlash("/p/proj")
	for _, c := range []struct {
		path, rel string
		ok        bool
	}{
		{"/p/proj/a/b", "a/b", true},
		{"/p/proj", ".", true},
		{"/p/proj/..x", "..x", true},
		{"/p/projx", "", false},
		{"/p/proj/../other", "", false},
		{"/p", "", false},
	} {
		rel, ok := Within(dir, filepath.FromSlash(c.path))
		if ok != c.ok || rel != filepath.FromSlash(c.rel) {
			t.Errorf("Within(%q, %q) = %q, %v, want %q, %v", dir, c.path, rel, ok, c.rel, c.ok)
		}
	}
}

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

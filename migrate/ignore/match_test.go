package ignore

import (
	"testing"

	"github.com/moby/patternmatcher"
)

// TestMatchListAgreesWithPatternMatcher checks the patterns compiled once
// against a patternmatcher.PatternMatcher made from the same list: the
// same answer for every path, exclusions and parent directories included.
func TestMatchListAgreesWithPatternMatcher(t *testing.T) {
	lists := [][]string{
		{"**/node_modules", "*.md", "!README.md", "docs", "!docs/keep"},
		{".git", "**/.env", "**/.env.*", "!**/.env.example", "coverage", "dist", "build"},
		{"*", "!src", "!package.json", "src/**/*.test.js"},
		{"**/*.py[co]", "**/__pycache__", "!app/__pycache__/keep.pyc"},
		{"a/b", "!a/b/c", "a/b/c/d"},
		{"!x", "x"},
		{"[", "docs"},   // a bad pattern: New fails, and so does the list
		{"a[", "docs"},  // New accepts it, its regexp does not compile
		{"!a[", "docs"}, // the same as an exclusion
		{"  spaced  ", "!  spaced/keep", "", "/abs"},
		{"!!double", "double"},
	}
	paths := []string{"README.md", "CHANGES.md", "docs", "docs/keep", "docs/other", "node_modules", "web/node_modules/x/y.js",
		".env", "sub/.env.prod", "sub/.env.example", "src/a.test.js", "src/x/a.test.js", "src", "package.json", "other",
		"app/__pycache__/keep.pyc", "app/__pycache__/m.pyc", "a/b", "a/b/c", "a/b/c/d", "a/b/c/e", "x", "x/y", "a[", "spaced", "spaced/keep", "abs", "!double", "double"}
	for _, list := range lists {
		want, werr := patternmatcher.New(list)
		got, gerr := newMatchList(list)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: New error %v, newMatchList error %v", list, werr, gerr)
		}
		if werr != nil {
			continue
		}
		for _, p := range paths {
			if w, g := excluded(want, p), got.excludes(p); w != g {
				t.Errorf("%q: %s: PatternMatcher %v, matchList %v", list, p, w, g)
			}
		}
	}
}

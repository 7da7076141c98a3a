package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// Rebuild measurements edit a file, so they work on a copy of the build
// context: the user's tree is only ever read.

// copyTree copies src into dst (which must not exist yet), keeping modes and
// symlinks. Sockets, devices and the like are skipped.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := e.Info()
		if err != nil {
			return err
		}
		switch {
		case e.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		case info.Mode().IsRegular():
			return copyFile(path, to, info.Mode().Perm())
		}
		return nil
	})
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ignoreMatcher reads the .dockerignore BuildKit would use for dockerfile:
// <dockerfile>.dockerignore next to it first, then <context>/.dockerignore.
func ignoreMatcher(contextDir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	for _, p := range []string{dockerfile + ".dockerignore", filepath.Join(contextDir, ".dockerignore")} {
		data, err := safefs.ReadRegular(safefs.Ignore, p) // a FIFO must not hang verify
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pats, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		return patternmatcher.New(pats)
	}
	return patternmatcher.New(nil)
}

// manifests are dependency manifests: touching one invalidates the
// dependency-install layers rather than the application layers.
var manifests = map[string]bool{
	"package.json": true, "package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true, "pnpm-lock.yaml": true,
	"requirements.txt": true, "pyproject.toml": true, "poetry.lock": true, "Pipfile": true, "Pipfile.lock": true, "setup.py": true, "setup.cfg": true,
	"go.mod": true, "go.sum": true, "Gemfile": true, "Gemfile.lock": true, "Cargo.toml": true, "Cargo.lock": true,
	"composer.json": true, "composer.lock": true, "pom.xml": true, "build.gradle": true,
}

// manifestPreference orders manifests for RebuildDeps: the one a developer
// edits to add a dependency comes first.
var manifestPreference = []string{"package.json", "requirements.txt", "pyproject.toml", "go.mod", "Gemfile", "Cargo.toml", "composer.json", "Pipfile", "setup.py", "pom.xml", "build.gradle"}

// sourceExts are application source files, with the comment syntax used to
// touch them.
var sourceExts = map[string]string{
	".js": "//", ".mjs": "//", ".cjs": "//", ".ts": "//", ".tsx": "//", ".jsx": "//",
	".go": "//", ".rs": "//", ".java": "//", ".kt": "//", ".c": "//", ".cc": "//", ".cpp": "//", ".h": "//",
	".cs": "//", ".php": "//", ".swift": "//", ".scala": "//",
	".py": "#", ".rb": "#", ".sh": "#", ".pl": "#", ".ex": "#", ".exs": "#",
}

// candidate is a file of the context that the build sees.
type candidate struct {
	rel    string // slash-separated, relative to the context
	source bool
	depth  int
	test   bool
}

// pickFiles finds, in contextDir, an application source file and a dependency
// manifest that none of the Dockerfiles' .dockerignore files exclude.
func pickFiles(contextDir string, dockerfiles ...string) (source, manifest string, err error) {
	var ms []*patternmatcher.PatternMatcher
	for _, df := range dockerfiles {
		m, err := ignoreMatcher(contextDir, df)
		if err != nil {
			return "", "", err
		}
		ms = append(ms, m)
	}
	var cands []candidate
	found := map[string]string{} // manifest base name -> relative path (shallowest)
	err = filepath.WalkDir(contextDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(contextDir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := e.Name()
		if e.IsDir() {
			switch name {
			case ".git", "node_modules", "vendor", "__pycache__", ".venv", "venv", "dist", "build", "target":
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		for _, m := range ms {
			if ignored, _ := m.MatchesOrParentMatches(rel); ignored {
				return nil
			}
		}
		if manifests[name] {
			if prev, ok := found[name]; !ok || strings.Count(rel, "/") < strings.Count(prev, "/") {
				found[name] = rel
			}
			return nil
		}
		_, isSrc := sourceExts[filepath.Ext(name)]
		lower := strings.ToLower(rel)
		cands = append(cands, candidate{
			rel:    rel,
			source: isSrc,
			depth:  strings.Count(rel, "/"),
			test:   strings.Contains(lower, "test") || strings.Contains(lower, "spec"),
		})
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("scanning build context %s: %w", contextDir, err)
	}
	// Prefer real source files, not tests, shallow ones, then by name, so
	// that the choice is stable from run to run.
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.source != b.source {
			return a.source
		}
		if a.test != b.test {
			return !a.test
		}
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		return a.rel < b.rel
	})
	if len(cands) > 0 && cands[0].source {
		source = cands[0].rel
	}
	// The shallowest manifest belongs to the application itself (deeper ones
	// are usually another component sharing the context); among equals, the
	// one developers edit to add a dependency wins.
	best := -1
	for _, name := range manifestPreference {
		if rel, ok := found[name]; ok {
			if d := strings.Count(rel, "/"); best < 0 || d < best {
				manifest, best = rel, d
			}
		}
	}
	return source, manifest, nil
}

// touch makes a harmless edit to a file: a comment for source files and
// manifests that allow one, a "//" comment key at the top of a JSON object
// (npm ignores it), a blank line otherwise. nonce makes each edit unique, so
// that a rebuild never hits a cache entry left by an earlier verify run.
func touch(path, nonce string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("touching %s: %w", path, err)
	}
	probe := "composeopt verify: rebuild probe " + nonce
	name := filepath.Base(path)
	if c, ok := sourceExts[filepath.Ext(name)]; ok {
		b = append(b, "\n"+c+" "+probe+"\n"...)
	} else {
		switch name {
		case "requirements.txt", "pyproject.toml", "Pipfile", "Gemfile", "Cargo.toml", "setup.cfg":
			b = append(b, "\n# "+probe+"\n"...)
		case "go.mod":
			b = append(b, "\n// "+probe+"\n"...)
		default:
			trimmed := bytes.TrimLeft(b, " \t\r\n")
			if filepath.Ext(name) == ".json" && len(trimmed) > 0 && trimmed[0] == '{' {
				i := len(b) - len(trimmed) + 1
				sep := ","
				if len(bytes.TrimSpace(trimmed[1:])) > 0 && bytes.TrimSpace(trimmed[1:])[0] == '}' {
					sep = "" // empty object
				}
				b = append(b[:i:i], append([]byte(fmt.Sprintf("\n  %q: %q%s", "//", probe, sep)), b[i:]...)...)
			} else {
				b = append(b, '\n')
			}
		}
	}
	if err := os.WriteFile(path, b, 0); err != nil {
		return fmt.Errorf("touching %s: %w", path, err)
	}
	return nil
}

// inContext maps a Dockerfile path into the copy of the context when it lives
// inside the context, and leaves it where it is otherwise.
func inContext(contextDir, copyDir, path string) string {
	rel, ok := safefs.Within(contextDir, path)
	if !ok {
		return path
	}
	return filepath.Join(copyDir, rel)
}

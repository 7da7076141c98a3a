// Package ignore writes the .dockerignore that goes with an optimized
// Dockerfile. It merges sensible defaults into whatever the user already has
// (their lines are never touched) and proves, with the same pattern matcher
// BuildKit uses, that no added line hides a file the Dockerfile copies.
package ignore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// BeginMarker opens the section composeopt manages; EndMarker closes it.
// Generate recognises an earlier section by these lines and adds to it
// instead of appending a second one.
const (
	BeginMarker = "# Added by composeopt"
	EndMarker   = "# End of composeopt section"
)

// maxWalk bounds how many files under kept directories are checked.
const maxWalk = 5000

// Input describes one build context.
type Input struct {
	// Existing is the current .dockerignore, nil when there is none.
	Existing []byte
	// Ecosystems selects extra defaults: "node", "python", "go", "java".
	Ecosystems []string
	// ContextDir is the absolute build context directory.
	ContextDir string
	// Keep lists the context-relative sources (paths or globs) that the
	// Dockerfile COPYs or ADDs, such as ".", "package.json" or "src/".
	// "." means the whole context is copied; it does not protect the
	// defaults, which are chosen to be files a build does not read. Name
	// anything else a RUN step needs (for example "tests/" for a test stage).
	Keep []string
	// RebuiltOutputs are build output directories the image produces itself
	// (such as "dist"), so that stale local copies can be left out.
	RebuiltOutputs []string
	// Header is an optional comment placed under BeginMarker in a new section.
	Header string
	// Retain lists default patterns not to add (such as "tests" or "docs")
	// because the repository uses those paths inside the image. A line of
	// an earlier composeopt section equal to one of them is removed.
	Retain []string
	// Exclude lists extra paths to leave out of the context, such as the
	// credential files found in it. Like the VCS and cache defaults, only a
	// Keep entry naming the path itself overrides them.
	Exclude []string
}

// Output is the generated .dockerignore.
type Output struct {
	// Content is the complete new file.
	Content []byte
	// Added lists the lines added by this run, in file order.
	Added []string
	// Warnings report problems Generate must not fix itself, chiefly user
	// lines that exclude a path the Dockerfile copies.
	Warnings []string
	// Retired lists lines of an earlier composeopt section removed because
	// Input.Retain names them.
	Retired []string
}

// def is one default line. Negated defaults re-include a path.
type def struct {
	pattern string
	// explicitOnly defaults exclude files no build reads (VCS data, caches,
	// secrets): only a Keep entry naming the path itself overrides them, not
	// a file that merely sits inside a kept directory.
	explicitOnly bool
}

func junk(patterns ...string) []def {
	out := make([]def, len(patterns))
	for i, p := range patterns {
		out[i] = def{pattern: p, explicitOnly: true}
	}
	return out
}

func content(patterns ...string) []def {
	out := make([]def, len(patterns))
	for i, p := range patterns {
		out[i] = def{pattern: p}
	}
	return out
}

// ecosystemDefaults are the per-language additions. Go's vendor directory is
// deliberately absent: `go build` uses it when present.
var ecosystemDefaults = map[string][]def{
	"node": append(junk("**/node_modules", "npm-debug.log*", "yarn-debug.log*", "yarn-error.log*", ".npm", ".nyc_output"),
		content("coverage")...),
	"python": junk("**/__pycache__", "**/*.py[co]", ".venv", "venv", ".pytest_cache", ".mypy_cache",
		".ruff_cache", "**/*.egg-info", ".tox"),
	"go":   content("bin"),
	"java": append(junk(".gradle"), content("target", "build")...),
	// .NET build outputs of every project in the context.
	"dotnet": content("**/bin", "**/obj"),
}

// defaults returns the candidate lines for in, in the order they are written.
func defaults(in Input, wholeContext bool) ([]def, []string) {
	var warnings []string
	out := junk(".git", ".vscode", ".idea", "**/.DS_Store", ".cache", "**/.env", "**/.env.*")
	out = append(out, def{pattern: "!**/.env.example"})
	out = append(out, content("**/*.log", "coverage", "docs", "test", "tests", "**/__tests__",
		"Dockerfile*", "docker-compose*", "compose.y*ml", "compose.*.y*ml")...)
	// Python packaging reads README.md (and sometimes other Markdown files)
	// during `pip install .`, so Markdown stays when the whole context is copied.
	if !(wholeContext && slices.Contains(in.Ecosystems, "python")) {
		out = append(out, content("*.md")...)
	}
	for _, e := range in.Ecosystems {
		d, ok := ecosystemDefaults[e]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("no .dockerignore defaults for ecosystem %q", e))
			continue
		}
		out = append(out, d...)
	}
	for _, o := range in.RebuiltOutputs {
		if p, ok := contextRelative(o); ok && p != "." {
			out = append(out, content(p)...)
		}
	}
	for _, x := range in.Exclude {
		if p, ok := contextRelative(x); ok && p != "." {
			out = append(out, junk(p)...)
		}
	}
	// Drop repeats (e.g. "build" from java and RebuiltOutputs) keeping the
	// first, and the retained defaults.
	seen := map[string]bool{}
	for _, r := range in.Retain {
		seen[r] = true
	}
	uniq := out[:0]
	for _, d := range out {
		if !seen[d.pattern] {
			seen[d.pattern] = true
			uniq = append(uniq, d)
		}
	}
	return uniq, warnings
}

// line is one line of the output file.
type line struct {
	text string // without the line ending
	eol  string // "" only for a final line without a newline
	// pattern is the line as BuildKit reads it ("" for blanks and comments).
	pattern string
	// def is set for lines composeopt manages: added now, or found inside an
	// earlier composeopt section and identical to a current default.
	def *def
	// added marks lines this run introduces (defaults, re-includes, markers).
	added bool
}

// user reports whether l belongs to the user: neither added now nor an
// adopted default.
func (l line) user() bool { return !l.added && l.def == nil }

// Generate merges the defaults for in into in.Existing and returns the new
// file. Calling it again on Output.Content with the same Input returns the
// same bytes.
func Generate(in Input) (Output, error) {
	var out Output
	eol := "\n"
	if bytes.Contains(in.Existing, []byte("\r\n")) {
		eol = "\r\n"
	}
	lines := splitLines(in.Existing)
	protected, wholeContext, truncated, err := keptPaths(in)
	if err != nil {
		return out, err
	}
	if truncated {
		out.Warnings = append(out.Warnings, fmt.Sprintf(".dockerignore: checked only the first %d files under the kept directories", maxWalk))
	}
	defs, warnings := defaults(in, wholeContext)
	out.Warnings = append(out.Warnings, warnings...)

	// Locate an earlier composeopt section; its lines that equal a current
	// default are composeopt's to keep or remove.
	begin, end := -1, -1
	for i, l := range lines {
		if begin < 0 && l.text == BeginMarker {
			begin = i
		} else if begin >= 0 && l.text == EndMarker {
			end = i
			break
		}
	}
	if begin >= 0 && end < 0 {
		end = len(lines)
	}
	// Earlier composeopt lines for paths the repository now needs go.
	if begin >= 0 && len(in.Retain) > 0 {
		for i := end - 1; i > begin; i-- {
			if p := lines[i].pattern; p != "" && slices.ContainsFunc(in.Retain, func(r string) bool { return normalize(r) == p }) {
				out.Retired = append([]string{lines[i].text}, out.Retired...)
				lines = slices.Delete(lines, i, i+1)
				end--
			}
		}
	}
	present := map[string]bool{}
	for i := range lines {
		l := &lines[i]
		if l.pattern == "" {
			continue
		}
		present[strings.TrimPrefix(l.pattern, "!")] = true
		if i > begin && i < end {
			for j := range defs {
				if normalize(defs[j].pattern) == l.pattern {
					l.def = &defs[j]
				}
			}
		}
		if l.user() && strings.HasPrefix(l.pattern, "!") {
			protected = append(protected, userReincluded(in.ContextDir, l.pattern[1:])...)
		}
	}

	// Defaults the file does not mention in any form yet: a user's
	// "node_modules" or "!docs" settles "**/node_modules" and "docs".
	var fresh []line
	for j := range defs {
		p := normalize(defs[j].pattern)
		body := strings.TrimPrefix(p, "!")
		if present[body] || present[strings.TrimPrefix(body, "**/")] {
			continue
		}
		present[body] = true
		fresh = append(fresh, line{text: defs[j].pattern, eol: eol, pattern: p, def: &defs[j], added: true})
	}

	// Put the new lines at the end of the existing section, or in a new one.
	var at int
	if begin >= 0 {
		at = end
		if at == len(lines) && at > 0 && lines[at-1].eol == "" {
			lines[at-1].eol = eol
		}
		lines = slices.Insert(lines, at, fresh...)
		at += len(fresh)
	} else {
		if len(fresh) == 0 {
			return Output{Content: in.Existing, Warnings: out.Warnings, Retired: out.Retired}, nil
		}
		if n := len(lines); n > 0 {
			if lines[n-1].eol == "" {
				lines[n-1].eol = eol
			}
			if strings.TrimSpace(lines[n-1].text) != "" {
				lines = append(lines, line{eol: eol, added: true})
			}
		}
		lines = append(lines, line{text: BeginMarker, eol: eol, added: true})
		// The header must stay a single comment line.
		if h := strings.TrimSpace(strings.NewReplacer("\r", " ", "\n", " ").Replace(in.Header)); h != "" {
			if !strings.HasPrefix(h, "#") {
				h = "# " + h
			}
			lines = append(lines, line{text: h, eol: eol, added: true})
		}
		lines = append(lines, fresh...)
		at = len(lines)
		lines = append(lines, line{text: EndMarker, eol: eol, added: true})
	}

	lines, dropped, userWarnings, err := enforceKeep(lines, at, eol, protected)
	if err != nil {
		return out, err
	}
	out.Warnings = append(out.Warnings, userWarnings...)
	for _, p := range dropped {
		out.Warnings = append(out.Warnings, fmt.Sprintf(".dockerignore: removed %q from the composeopt section because it hides a path the Dockerfile copies", p))
	}

	newPatterns := false
	for _, l := range lines {
		if l.added && l.pattern != "" {
			out.Added = append(out.Added, l.text)
			newPatterns = true
		}
	}
	if !newPatterns && len(dropped) == 0 && len(out.Retired) == 0 {
		// Nothing to change (every default was dropped or already there).
		return Output{Content: in.Existing, Warnings: out.Warnings}, nil
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l.text)
		buf.WriteString(l.eol)
	}
	out.Content = buf.Bytes()
	return out, nil
}

// protectedPath is a path the final file must not exclude.
type protectedPath struct {
	path string
	// explicit paths are named by a Keep entry (or a user re-include);
	// the others were found inside a kept directory.
	explicit bool
	// file is true unless the path is (or is written as) a directory.
	file bool
	// fromUser paths come from the user's own "!" lines: they only guard
	// against composeopt's additions and never produce warnings.
	fromUser bool
}

// enforceKeep removes or overrides composeopt lines that exclude a protected
// path. A glob default that hides an explicitly kept file gets a "!path"
// re-include inserted at index at (the end of the composeopt section); any
// other offending default is removed. It returns the new lines, the removed
// lines that predate this run, and a warning for every explicitly kept path
// that the user's own lines exclude.
func enforceKeep(lines []line, at int, eol string, protected []protectedPath) ([]line, []string, []string, error) {
	var dropped, warnings []string
	warned := map[string]bool{}
	reincluded := map[string]bool{}
	remove := func(i int) {
		if !lines[i].added {
			dropped = append(dropped, lines[i].text)
		}
		lines = slices.Delete(lines, i, i+1)
		if i < at {
			at--
		}
	}
	// Each pass changes one line and rechecks; every pass removes a line or
	// re-includes a new path, so the loop ends.
	for changed := true; changed; {
		changed = false
		all, err := matcher(lines, func(line) bool { return true })
		if err != nil {
			return nil, nil, nil, err
		}
		userOnly, err := matcher(lines, line.user)
		if err != nil {
			return nil, nil, nil, err
		}
		// A re-include default must not undo a user's exclusion.
		for i, l := range lines {
			if l.added && l.def != nil && strings.HasPrefix(l.pattern, "!") &&
				userOnly.excludes(strings.TrimPrefix(l.pattern[1:], "**/")) {
				remove(i)
				changed = true
				break
			}
		}
		if changed {
			continue
		}
		for _, p := range protected {
			if !all.excludes(p.path) {
				continue
			}
			if userOnly.excludes(p.path) {
				if p.explicit && !p.fromUser && !warned[p.path] {
					warned[p.path] = true
					warnings = append(warnings, fmt.Sprintf(".dockerignore: a user line excludes %q, which the Dockerfile copies", p.path))
				}
				continue
			}
			i, err := culprit(lines, p)
			if err != nil {
				return nil, nil, nil, err
			}
			if i < 0 {
				continue // a junk default inside a kept directory: excluded on purpose
			}
			if p.explicit && p.file && !reincluded[p.path] && strings.ContainsAny(lines[i].pattern, "*?[") {
				reincluded[p.path] = true
				re := "!" + p.path
				lines = slices.Insert(lines, at, line{text: re, eol: eol, pattern: normalize(re), added: true})
				at++
			} else {
				remove(i)
			}
			changed = true
			break
		}
	}
	return lines, dropped, warnings, nil
}

// culprit returns the index of the last composeopt exclusion line that on
// its own excludes p and is allowed to yield to p, or -1.
func culprit(lines []line, p protectedPath) (int, error) {
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if l.def == nil || strings.HasPrefix(l.pattern, "!") || (l.def.explicitOnly && !p.explicit) {
			continue
		}
		c := compilePattern(l.pattern)
		if c.newErr != nil {
			return -1, fmt.Errorf(".dockerignore pattern %q: %w", l.text, c.newErr)
		}
		if excludedBy(c, p.path) {
			return i, nil
		}
	}
	return -1, nil
}

// matcher compiles the patterns of the lines selected by keep, in order.
func matcher(lines []line, keep func(line) bool) (*matchList, error) {
	var patterns []string
	for _, l := range lines {
		if l.pattern != "" && keep(l) {
			patterns = append(patterns, l.pattern)
		}
	}
	m, err := newMatchList(patterns)
	if err != nil {
		return nil, fmt.Errorf("compile .dockerignore patterns: %w", err)
	}
	return m, nil
}

// excluded reports whether pm leaves p (or a parent of p) out of the context.
// The patterns were compiled successfully, so matching cannot fail.
func excluded(pm *patternmatcher.PatternMatcher, p string) bool {
	ok, err := pm.MatchesOrParentMatches(p)
	return err == nil && ok
}

// splitLines cuts src into lines, remembering each line's own ending.
func splitLines(src []byte) []line {
	var lines []line
	for _, chunk := range bytes.SplitAfter(src, []byte("\n")) {
		if len(chunk) == 0 {
			continue
		}
		text, eol := string(chunk), ""
		switch {
		case strings.HasSuffix(text, "\r\n"):
			text, eol = text[:len(text)-2], "\r\n"
		case strings.HasSuffix(text, "\n"):
			text, eol = text[:len(text)-1], "\n"
		}
		lines = append(lines, line{text: text, eol: eol, pattern: normalize(text)})
	}
	return lines
}

// normalize returns a line as BuildKit's ignorefile reader sees it, or "".
func normalize(text string) string {
	if p, ok := normalized.Load(text); ok {
		return p.(string)
	}
	p := readPattern(text)
	if normalizedN.Load() < maxNormalized {
		if _, loaded := normalized.LoadOrStore(text, p); !loaded {
			normalizedN.Add(1)
		}
	}
	return p
}

// normalized caches normalize (text → pattern), up to maxNormalized
// entries: the default patterns are the same for every build, and a plan
// of a thousand builds read each again per build and per line compared,
// with a fresh 64 KiB scanner buffer every time.
var (
	normalized  sync.Map
	normalizedN atomic.Int64
)

const maxNormalized = 1 << 14

func readPattern(text string) string {
	patterns, err := ignorefile.ReadAll(strings.NewReader(text))
	if err != nil || len(patterns) == 0 {
		return ""
	}
	return patterns[0]
}

// contextRelative cleans a Keep entry into a slash-separated path relative
// to the context root. Paths that climb out of the context are rejected.
func contextRelative(p string) (string, bool) {
	p = path.Clean("/" + filepath.ToSlash(strings.TrimSpace(p)))
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return ".", true
	}
	return p, !strings.HasPrefix(p, "../")
}

// keptPaths expands in.Keep into the paths to protect, and reports whether
// the whole context is copied. Globs are expanded against ContextDir and
// directories are walked (at most maxWalk files in all; truncated reports
// that the limit was reached).
func keptPaths(in Input) (out []protectedPath, whole, truncated bool, err error) {
	budget := maxWalk
	for _, k := range in.Keep {
		p, ok := contextRelative(k)
		if !ok {
			continue
		}
		if p == "." {
			whole = true
			continue
		}
		asDir := strings.HasSuffix(strings.TrimSpace(k), "/")
		targets := []string{p}
		if strings.ContainsAny(p, "*?[") {
			if in.ContextDir != "" {
				matches, err := filepath.Glob(filepath.Join(in.ContextDir, filepath.FromSlash(p)))
				if err != nil {
					return nil, false, false, fmt.Errorf("keep pattern %q: %w", k, err)
				}
				for _, m := range matches {
					if rel, err := filepath.Rel(in.ContextDir, m); err == nil {
						targets = append(targets, filepath.ToSlash(rel))
					}
				}
			}
		}
		for _, t := range targets {
			isDir := asDir && t == p
			if in.ContextDir != "" {
				if st, err := os.Stat(filepath.Join(in.ContextDir, filepath.FromSlash(t))); err == nil {
					isDir = st.IsDir()
				}
			}
			out = append(out, protectedPath{path: t, explicit: true, file: !isDir})
			if isDir && in.ContextDir != "" {
				files, cut, err := walk(in.ContextDir, t, &budget)
				if err != nil {
					return nil, false, false, err
				}
				truncated = truncated || cut
				for _, f := range files {
					out = append(out, protectedPath{path: f, file: true})
				}
			}
		}
	}
	return out, whole, truncated, nil
}

// errBudget stops a walk that reached maxWalk files.
var errBudget = errors.New("walk budget exhausted")

// walk lists the files under dir (context-relative), spending budget, and
// reports whether it stopped early. Symbolic links are listed, not followed.
func walk(root, dir string, budget *int) ([]string, bool, error) {
	var files []string
	err := filepath.WalkDir(filepath.Join(root, filepath.FromSlash(dir)), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if *budget <= 0 {
			return errBudget
		}
		*budget--
		files = append(files, safefs.Rel(root, p))
		return nil
	})
	if errors.Is(err, errBudget) {
		return files, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("list kept directory %s: %w", dir, err)
	}
	return files, false, nil
}

// userReincluded lists the paths a user's "!pattern" line brings back: the
// pattern itself when it is a plain path, else its matches in the context.
func userReincluded(contextDir, pattern string) []protectedPath {
	if !strings.ContainsAny(pattern, "*?[") {
		return []protectedPath{{path: pattern, explicit: true, file: true, fromUser: true}}
	}
	if contextDir == "" {
		return nil
	}
	matches, _ := filepath.Glob(filepath.Join(contextDir, filepath.FromSlash(pattern))) // a bad pattern just protects nothing
	var out []protectedPath
	for _, m := range matches {
		if rel, err := filepath.Rel(contextDir, m); err == nil {
			out = append(out, protectedPath{path: filepath.ToSlash(rel), explicit: true, file: true, fromUser: true})
		}
	}
	return out
}

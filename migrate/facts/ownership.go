package facts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// A WriteDoubt is a sign that the application may write inside the
// directories its code is copied into in a way the write scanner
// (AppWrites) cannot resolve to a path: a framework known to write caches,
// logs or a database into its own tree at run time, or a source that writes
// to a path computed at run time.
type WriteDoubt struct {
	// Evidence says where the sign was found ("package.json depends on
	// next", "app.py: open(path, 'w')").
	Evidence string
	// Dirs are the directories, relative to the application's root, the
	// framework is known to write (nil when unknown).
	Dirs []string
}

// frameworkWrites are dependencies of frameworks that write inside the
// application's tree at run time, with the directories they write.
var frameworkWrites = []struct {
	manifest, dep string
	dirs          []string
}{
	{"package.json", "next", []string{".next/cache"}},
	{"package.json", "nuxt", []string{".nuxt", ".output"}},
	{"Gemfile", "rails", []string{"tmp", "log", "storage", "db"}},
	{"composer.json", "laravel/framework", []string{"storage", "bootstrap/cache"}},
	{"composer.json", "symfony/framework-bundle", []string{"var"}},
}

// gemRails matches a Gemfile line requiring Rails.
var gemRails = regexp.MustCompile(`(?m)^\s*gem\s+['"]rails['"]`)

// WriteDoubts returns the signs, in the build's manifests and in the
// sources of the language the stage runs (AppLanguage), that the
// application writes inside its own tree where AppWrites found no path
// (empty when there are none). Sources a build step runs (a package.json
// build script, a RUN of the chain) are not the running application's and
// are left out. A rule that would leave the code owned by root asks this
// first: a write it cannot see would fail at run time.
func (sf *StageFacts) WriteDoubts() []WriteDoubt {
	b := sf.b
	if b == nil {
		return nil
	}
	var out []WriteDoubt
	for _, fw := range frameworkWrites {
		if !b.Has(fw.manifest) || !dependsOn(b, fw.manifest, fw.dep) {
			continue
		}
		out = append(out, WriteDoubt{
			Evidence: fw.manifest + " depends on " + fw.dep + ", which writes " + strings.Join(fw.dirs, ", ") + " inside the application at run time",
			Dirs:     fw.dirs,
		})
	}
	out = append(out, sf.startScan().doubts...)
	_, exts := sf.AppLanguage()
	for _, d := range b.sourceDoubts {
		if exts != nil && !slices.Contains(exts, d.ext) || buildTimeSource(sf, d.rel) || d.unlessRun != "" && chainRuns(sf, d.unlessRun) {
			continue
		}
		out = append(out, WriteDoubt{Evidence: d.evidence})
	}
	return out
}

// buildTimeSource reports whether a build step runs a source file: a
// package.json script that builds or installs names it, or a RUN of the
// stage's chain does.
func buildTimeSource(sf *StageFacts, rel string) bool {
	if b := sf.b; b.Node != nil {
		for _, name := range append([]string{"build", "prebuild", "postbuild", "compile", "generate"}, NodeInstallLifecycleScripts...) {
			if strings.Contains(b.Node.Scripts[name], rel) {
				return true
			}
		}
	}
	return chainRuns(sf, rel)
}

// chainRuns reports whether a RUN of the stage's chain mentions word.
func chainRuns(sf *StageFacts, word string) bool {
	for _, in := range sf.Instructions("run", nil) {
		if strings.Contains(strings.Join(in.Args, " "), word) {
			return true
		}
	}
	return false
}

// dependsOn reports whether a manifest of the context declares a
// dependency.
func dependsOn(b *Build, manifest, dep string) bool {
	switch manifest {
	case "package.json":
		if b.Node == nil {
			return false
		}
		_, ok := b.Node.Dependencies[dep]
		return ok
	case "Gemfile":
		data, err := b.ReadFile(manifest)
		return err == nil && dep == "rails" && gemRails.Match(data)
	case "composer.json":
		data, err := b.ReadFile(manifest)
		if err != nil {
			return false
		}
		var c struct {
			Require map[string]string `json:"require"`
		}
		if json.Unmarshal(data, &c) != nil {
			return true // unreadable: assume the worst
		}
		_, ok := c.Require[dep]
		return ok
	}
	return false
}

// unresolvedWrite are source calls that write to a path computed at run
// time (the first argument is not a string literal), and SQLite set up the
// Django way (a database file next to the code).
var unresolvedWrite = []*regexp.Regexp{
	regexp.MustCompile(`\bopen\(\s*([^'"\s)][^\n]*?),\s*(?:mode\s*=\s*)?['"][wax]b?\+?['"]`),
	regexp.MustCompile(`\.write_(?:text|bytes)\(`),
	regexp.MustCompile(`\bsqlite3\.connect\(\s*([^'"\s)][^,)]*)`),
	regexp.MustCompile(`fs\.(?:promises\.)?(?:writeFileSync|writeFile|appendFileSync|appendFile|createWriteStream|mkdirSync|mkdir)\(\s*([^'"\s)][^,)]*)`),
	regexp.MustCompile(`(?:sqlite3\.)?Database\(\s*([^'"\s)][^,)]*)`),
	regexp.MustCompile(`django\.db\.backends\.sqlite3`),
	regexp.MustCompile(`(?:FileHandler|RotatingFileHandler|WatchedFileHandler)\(\s*(?:filename\s*=\s*)?([^'"\s)=][^,)]*)`),
	regexp.MustCompile(`basicConfig\([^)]*?filename\s*=\s*([^'"\s,)][^,)]*)`),
}

// compiledWrite are writes of Go and Java sources, which AppWrites does not
// resolve: each is a doubt, literal path or not.
var compiledWrite = []*regexp.Regexp{
	regexp.MustCompile(`\bos\.(?:Create|WriteFile|Mkdir|MkdirAll)\([^)\n]*`),
	regexp.MustCompile(`\bos\.OpenFile\([^\n]*O_(?:CREATE|WRONLY|RDWR|APPEND)`),
	regexp.MustCompile(`\bsql\.Open\(\s*"sqlite3?"[^)\n]*`),
	regexp.MustCompile(`\bnew\s+File(?:OutputStream|Writer)\([^)\n]*`),
	regexp.MustCompile(`\bFiles\.(?:write|writeString|createDirectories|createDirectory|newOutputStream|newBufferedWriter)\([^)\n]*`),
}

// sourceDoubt is a write of a source file AppWrites cannot resolve.
type sourceDoubt struct {
	rel, ext string
	// unlessRun: no doubt when a RUN of the stage's chain runs this (the
	// write then happens while the image is built, as root).
	unlessRun string
	// evidence is "file:line: the line".
	evidence string
}

// addWriteDoubts records the unresolved writes of a source file. A call
// whose path names a variable AppWrites reads (UPLOAD_FOLDER, DB_PATH...)
// is resolved by that variable and is no doubt.
func addWriteDoubts(out []sourceDoubt, f sourceFile) []sourceDoubt {
	res := unresolvedWrite
	switch f.ext {
	case ".py", ".js", ".mjs", ".cjs", ".ts", ".rb":
	case ".go", ".java", ".kt":
		if strings.HasSuffix(f.name, "_test.go") || strings.HasSuffix(f.name, "Test.java") || strings.HasSuffix(f.name, "Test.kt") {
			return out
		}
		res = compiledWrite
	default:
		return out
	}
	for _, re := range res {
		for _, m := range re.FindAllSubmatchIndex(f.data, -1) {
			if len(m) > 2 && m[2] >= 0 && namesWriteVar(string(f.data[m[2]:m[3]])) {
				continue
			}
			ls := bytes.LastIndexByte(f.data[:m[0]], '\n') + 1
			le := bytes.IndexByte(f.data[m[0]:], '\n')
			if le < 0 {
				le = len(f.data)
			} else {
				le += m[0]
			}
			text := strings.TrimSpace(string(f.data[ls:le]))
			if len(text) > 100 {
				text = text[:97] + "..."
			}
			line := bytes.Count(f.data[:m[0]], []byte("\n")) + 1
			out = append(out, sourceDoubt{rel: f.rel, ext: f.ext, evidence: fmt.Sprintf("%s:%d: %s", f.rel, line, text)})
			if len(out) >= 32 {
				return out
			}
		}
	}
	if f.ext == ".py" {
		if loc := djangoStaticRoot.FindIndex(f.data); loc != nil {
			line := bytes.Count(f.data[:loc[0]], []byte("\n")) + 1
			out = append(out, sourceDoubt{rel: f.rel, ext: f.ext, unlessRun: "collectstatic",
				evidence: fmt.Sprintf("%s:%d: STATIC_ROOT, where Django's collectstatic writes when it runs at start", f.rel, line)})
		}
	}
	return out
}

// djangoStaticRoot matches Django's STATIC_ROOT setting.
var djangoStaticRoot = regexp.MustCompile(`(?m)^\s*STATIC_ROOT\s*=`)

// namesWriteVar reports whether an expression names one of writeVars.
func namesWriteVar(expr string) bool {
	for k := range writeVars {
		if strings.Contains(expr, k) {
			return true
		}
	}
	return false
}

// NotReadableByOthers returns context-relative paths (at most a few) that
// a COPY would give an account other than the owner no way to read: files
// without the read bit for others and directories without read and search
// bits for others. COPY keeps the context's modes, so code copied owned by
// root must be readable by everyone for the application's user to read it.
// Paths the .dockerignore excludes, .git and node_modules are not looked
// at. Computed once per build.
func (b *Build) NotReadableByOthers() []string {
	if b == nil || b.Context == "" {
		return nil
	}
	if b.unreadable != nil {
		return *b.unreadable
	}
	var out []string
	walked := 0
	_ = filepath.WalkDir(b.Context, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == b.Context {
			return nil
		}
		walked++
		if walked > contextMaxWalk || len(out) >= 5 {
			return filepath.SkipAll
		}
		rel := safefs.Rel(b.Context, p)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		mode := info.Mode().Perm()
		bad := mode&0o004 == 0
		if d.IsDir() {
			bad = mode&0o005 != 0o005
		}
		if bad && !Ignored(b, rel) {
			out = append(out, rel)
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	slices.Sort(out)
	b.unreadable = &out
	return out
}

package facts

import (
	"bufio"
	"bytes"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// Repo is what the repository itself says about how its images are used:
// the commands that its scripts, Makefiles, CI workflows and READMEs run
// inside a compose service's container (`docker compose run|exec SVC CMD`).
// It is gathered once (per project, or once for all the projects below a
// repository root) and shared by every build and rule.
type Repo struct {
	// Runs are the commands found, in file and line order.
	Runs []Run
	// Services are the names of the compose services of the projects the
	// evidence was gathered for; a run naming another service (or a
	// variable) may mean any of them.
	Services map[string]bool
}

// Run is one command the repository runs inside a service's container.
type Run struct {
	// Service is the service named after run/exec ("" when it is a
	// variable, which may be any service).
	Service string
	// Command is the command run in the container.
	Command []string
	// File is the (slash-separated) file it was found in, relative to the
	// directory GatherRepo read.
	File string
	Line int
	// Project is the directory of the compose project the run targets,
	// when the evidence says which (see attribute); "" when it may be any.
	Project string
	// target is the directory the command line names: the folder of its
	// -f file, its --project-directory, or a cd before it ("" for none).
	target string
}

// Where names the file and line of a run ("scripts/ci.sh:4").
func (r Run) Where() string { return r.File + ":" + strconv.Itoa(r.Line) }

// Repository scan limits: the evidence is read from small text files near
// the top of the project.
const (
	repoMaxDepth = 4
	repoMaxFiles = 400     // files read
	repoMaxWalk  = 20000   // directory entries visited
	repoMaxSize  = 1 << 20 // bytes per file
)

// repoSkipDirs are directories that hold no evidence of how the project is
// run (dependencies, outputs, VCS data).
var repoSkipDirs = map[string]bool{
	".git": true, "node_modules": true, ".venv": true, "venv": true, "__pycache__": true, "vendor": true,
	"target": true, "dist": true, "build": true, ".tox": true, ".gradle": true, ".idea": true, ".vscode": true,
}

// repoEvidenceFile reports whether a project-relative file may say how the
// project runs its containers.
func repoEvidenceFile(rel string) bool {
	base := strings.ToLower(path.Base(rel))
	dir := path.Dir(rel)
	switch {
	case strings.HasPrefix(dir, ".github/workflows") || strings.HasPrefix(dir, ".circleci") ||
		strings.HasPrefix(dir, ".buildkite") || strings.HasPrefix(dir, ".woodpecker") || dir == ".ci":
		return strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".sh")
	case base == "makefile" || base == "gnumakefile" || strings.HasSuffix(base, ".mk") || base == "justfile" ||
		base == "taskfile.yml" || base == "taskfile.yaml" || base == "jenkinsfile" || base == "procfile":
		return true
	case base == ".gitlab-ci.yml" || base == ".travis.yml" || base == "azure-pipelines.yml" ||
		base == "bitbucket-pipelines.yml" || base == "cloudbuild.yaml" || base == "tox.ini" || base == "noxfile.py":
		return true
	case strings.HasPrefix(base, "readme") || strings.HasPrefix(base, "contributing") || strings.HasPrefix(base, "development") || strings.HasPrefix(base, "testing"):
		return strings.HasSuffix(base, ".md") || strings.HasSuffix(base, ".rst") || strings.HasSuffix(base, ".txt") || !strings.Contains(base, ".")
	case strings.HasSuffix(base, ".sh") || strings.HasSuffix(base, ".bash") || strings.HasSuffix(base, ".ps1"):
		return true
	case base == "package.json" && dir == ".":
		return true
	}
	// Extension-less scripts in the usual script directories.
	first := strings.SplitN(rel, "/", 2)[0]
	return (first == "scripts" || first == "script" || first == "bin" || first == "ci") && !strings.Contains(base, ".")
}

// repoWalks counts GatherRepo's walks in this process (see RepoWalks).
var repoWalks atomic.Int64

// RepoWalks returns how many times this process has walked a repository
// for evidence: tests check that a plan walks it once.
func RepoWalks() int64 { return repoWalks.Load() }

// GatherRepo scans dir (a project directory, or the root of a repository
// holding several) for the commands it runs inside its containers; services
// are the compose services of the projects below dir. Only regular files
// inside dir are read (no symbolic link is followed, and every read is
// confined to dir by safefs), within the limits above; unreadable files
// are skipped. projects are the compose project directories below dir: the
// depth limit counts from the nearest of them (or dir), and the file limit
// grows with their number, so that a project deep in a repository has its
// own scripts read as when it is planned alone.
func GatherRepo(dir string, services map[string]bool, projects ...string) *Repo {
	repoWalks.Add(1)
	r := &Repo{Services: services}
	if dir == "" {
		return r
	}
	root, err := safefs.New(dir)
	if err != nil {
		return r
	}
	var bases []string // project directories relative to dir, deepest first
	for _, p := range projects {
		if rel, ok := safefs.Within(dir, p); ok && rel != "." {
			bases = append(bases, filepath.ToSlash(rel))
		}
	}
	sort.Slice(bases, func(i, j int) bool { return len(bases[i]) > len(bases[j]) })
	depth := func(rel string) int {
		for _, b := range bases {
			if rel == b {
				return 0
			}
			if strings.HasPrefix(rel, b+"/") {
				return strings.Count(rel[len(b)+1:], "/") + 1
			}
		}
		return strings.Count(rel, "/") + 1
	}
	projectDirs := map[string]bool{}
	for _, p := range projects {
		projectDirs[filepath.Clean(p)] = true
	}
	maxFiles := repoMaxFiles * max(1, len(bases))
	files, walked := 0, 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		walked++
		if walked > repoMaxWalk*max(1, len(bases)) || files >= maxFiles {
			return filepath.SkipAll
		}
		rel := safefs.Rel(dir, p)
		if d.IsDir() {
			if p != dir && (repoSkipDirs[d.Name()] || depth(rel) > repoMaxDepth) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !repoEvidenceFile(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > repoMaxSize {
			return nil
		}
		data, err := root.ReadFile(safefs.Source, p)
		if err != nil {
			return nil
		}
		files++
		runs := scanRuns(rel, data)
		if len(runs) > 0 {
			attribute(runs, dir, rel, data, projectDirs)
		}
		r.Runs = append(r.Runs, runs...)
		return nil
	})
	sort.SliceStable(r.Runs, func(i, j int) bool {
		if r.Runs[i].File != r.Runs[j].File {
			return r.Runs[i].File < r.Runs[j].File
		}
		return r.Runs[i].Line < r.Runs[j].Line
	})
	return r
}

// workingDirectory finds a CI step's or job's working directory.
var workingDirectory = regexp.MustCompile(`(?m)^\s*(?:-\s+)?working[-_]directory:\s*["']?([^"'#\s]+)`)

// attribute sets the Project of the runs found in one file: the compose
// project whose folder holds the directory the run works in. That
// directory is the one its command line names (-f's folder,
// --project-directory, a cd before it), taken from the file's own folder,
// or, in a CI file, from the repository root or the file's one
// working-directory. When that cannot be known (a CI file with several
// working directories, a variable, an absolute path, a folder no project
// holds) the run keeps Project "": it may be any project's.
func attribute(runs []Run, root, rel string, data []byte, projects map[string]bool) {
	base := filepath.Join(root, filepath.FromSlash(path.Dir(rel)))
	if repoCIFile(rel) {
		base = root
		wds := map[string]bool{}
		for _, m := range workingDirectory.FindAllSubmatch(data, -1) {
			wds[string(m[1])] = true
		}
		switch {
		case len(wds) > 1:
			base = ""
		case len(wds) == 1:
			for wd := range wds {
				base = join(root, wd)
			}
		}
	}
	for i := range runs {
		d := base
		if t := runs[i].target; t != "" && d != "" {
			d = join(d, t)
		}
		runs[i].Project = nearestProject(d, root, projects)
	}
}

// join resolves a relative, variable-free path against dir ("" when it
// cannot).
func join(dir, p string) string {
	if dir == "" || p == "" || path.IsAbs(p) || strings.ContainsAny(p, "$%{`~") {
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(p))
}

// nearestProject returns the deepest project folder that is d or holds
// it, within root; "" when none does.
func nearestProject(d, root string, projects map[string]bool) string {
	if _, in := safefs.Within(root, d); d == "" || !in {
		return ""
	}
	for ; ; d = filepath.Dir(d) {
		if projects[d] {
			return d
		}
		if d == root || filepath.Dir(d) == d {
			return ""
		}
	}
}

// repoCIFile reports whether a repository-relative file is a CI
// configuration, whose commands run from the repository root.
func repoCIFile(rel string) bool {
	dir, base := path.Dir(rel), strings.ToLower(path.Base(rel))
	return strings.HasPrefix(dir, ".github/workflows") || strings.HasPrefix(dir, ".circleci") ||
		strings.HasPrefix(dir, ".buildkite") || strings.HasPrefix(dir, ".woodpecker") || dir == ".ci" ||
		base == ".gitlab-ci.yml" || base == ".travis.yml" || base == "azure-pipelines.yml" ||
		base == "bitbucket-pipelines.yml" || base == "cloudbuild.yaml" || base == "jenkinsfile"
}

// ForProjects returns the evidence that may concern a build of the
// compose projects in dirs: the runs that target one of them or may
// target any.
func (r *Repo) ForProjects(dirs []string) *Repo {
	if r == nil {
		return nil
	}
	out := &Repo{Services: r.Services}
	for _, run := range r.Runs {
		if run.Project == "" || slices.Contains(dirs, run.Project) {
			out.Runs = append(out.Runs, run)
		}
	}
	return out
}

// composeCall finds a docker compose invocation on a line.
var composeCall = regexp.MustCompile(`\bdocker(?:-compose|\s+compose)\b`)

// composeValueFlags are docker compose flags (global, run and exec) that
// take a separate value.
var composeValueFlags = map[string]bool{
	"-f": true, "--file": true, "-p": true, "--project-name": true, "--profile": true, "--env-file": true,
	"--project-directory": true, "--ansi": true, "--progress": true, "--parallel": true,
	"-e": true, "--env": true, "-w": true, "--workdir": true, "-u": true, "--user": true, "-v": true,
	"--volume": true, "--entrypoint": true, "--publish": true, "--name": true, "-l": true, "--label": true,
	"--env-from-file": true, "--index": true, "--cap-add": true, "--cap-drop": true, "--pull": true,
}

// scanRuns finds `docker compose run|exec SERVICE COMMAND` in a text file.
// Lines continued with a trailing backslash are joined first.
func scanRuns(rel string, data []byte) []Run {
	var out []Run
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), repoMaxSize)
	line, start := 0, 0
	var joined strings.Builder
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if joined.Len() == 0 {
			start = line
		}
		if strings.HasSuffix(text, `\`) {
			joined.WriteString(strings.TrimSuffix(text, `\`))
			joined.WriteByte(' ')
			continue
		}
		joined.WriteString(text)
		full := joined.String()
		joined.Reset()
		for _, loc := range composeCall.FindAllStringIndex(full, -1) {
			if svc, cmd, target, ok := parseComposeRun(full[loc[1]:]); ok {
				// A cd earlier on the line moves where the run works (the
				// cd may follow a YAML or Markdown prefix: "- run: cd x").
				cd := ""
				for _, words := range shellCommands(full[:loc[0]], false) {
					if n := len(words); n >= 2 && words[n-2] == "cd" {
						if cd == "" || path.IsAbs(words[n-1]) {
							cd = words[n-1]
						} else {
							cd = path.Join(cd, words[n-1])
						}
					}
				}
				if cd != "" && !path.IsAbs(target) {
					target = path.Join(cd, target)
				}
				out = append(out, Run{Service: svc, Command: cmd, File: rel, Line: start, target: target})
			}
		}
	}
	return out
}

// shellWords splits a command line into words, dropping quotes and
// stopping at a shell operator, a comment or a closing Markdown backtick.
func shellWords(s string) []string {
	cmds := shellCommands(s, true)
	if len(cmds) == 0 {
		return nil
	}
	return cmds[0]
}

// shellCommands splits a shell script into its simple commands' words
// (quotes dropped) at ;, |, &, ( and ), up to a comment. With first, it
// stops after the first command, and a backtick ends it.
func shellCommands(s string, first bool) [][]string {
	var cmds [][]string
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	end := func() bool {
		flush()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
		return first && len(cmds) > 0
	}
	for _, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == '`':
			if first {
				end()
				return cmds
			}
			flush()
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			end()
			return cmds
		case c == ';' || c == '|' || c == '&' || c == '(' || c == ')':
			if end() {
				return cmds
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	end()
	return cmds
}

// parseComposeRun reads what follows `docker compose`: global flags, then
// run or exec, their flags, the service and the command. target is the
// directory the global flags name: --project-directory, or the folder of
// the first -f file.
func parseComposeRun(rest string) (svc string, cmd []string, target string, ok bool) {
	words := shellWords(rest)
	i := 0
	file, projectDir := "", ""
	skipFlags := func(global bool) {
		for i < len(words) && strings.HasPrefix(words[i], "-") {
			flag, value, inline := strings.Cut(words[i], "=")
			if !inline && composeValueFlags[flag] && i+1 < len(words) {
				value = words[i+1]
				i++
			}
			if global && (flag == "-f" || flag == "--file") && file == "" {
				file = value
			}
			if global && flag == "--project-directory" {
				projectDir = value
			}
			i++
		}
	}
	skipFlags(true)
	if i >= len(words) || (words[i] != "run" && words[i] != "exec") {
		return "", nil, "", false
	}
	i++
	skipFlags(false)
	if i >= len(words) {
		return "", nil, "", false
	}
	target = projectDir
	if target == "" && file != "" {
		target = path.Dir(file)
	}
	svc = words[i]
	if strings.ContainsAny(svc, "$%{") {
		svc = "" // a variable: any service
	}
	cmd = words[i+1:]
	if len(cmd) == 0 {
		return "", nil, "", false
	}
	return svc, cmd, target, true
}

// testRunners are programs that run a test suite.
var testRunners = map[string]bool{
	"pytest": true, "py.test": true, "tox": true, "nox": true, "nosetests": true, "jest": true, "mocha": true,
	"vitest": true, "ava": true, "karma": true, "rspec": true, "phpunit": true, "pest": true, "behave": true,
	"cucumber": true, "cucumber-js": true, "playwright": true, "cypress": true, "ctest": true, "unittest": true,
	"green": true, "ward": true, "codecept": true,
}

// testVerbs are subcommands that run tests when given to these programs.
var testVerbs = map[string][]string{
	"npm": {"test", "t", "run"}, "yarn": {"test", "run"}, "pnpm": {"test", "t", "run"}, "bun": {"test", "run"},
	"go": {"test"}, "cargo": {"test"}, "dotnet": {"test"}, "mvn": {"test", "verify", "integration-test"},
	"mvnw": {"test", "verify"}, "gradle": {"test", "check"}, "gradlew": {"test", "check"}, "rake": {"test", "spec"},
	"rails": {"test"}, "make": {"test", "check", "tests"}, "manage.py": {"test"}, "artisan": {"test"},
	"composer": {"test"}, "mix": {"test"},
}

// IsTestCommand reports whether a command (as words) runs a test suite:
// a test runner, a package manager's test script, `python -m pytest`, a
// shell running one of these, or a runner given a test directory.
func IsTestCommand(words []string) bool {
	for i := 0; i < len(words); i++ {
		w := words[i]
		base := path.Base(w)
		switch {
		case testRunners[base]:
			return true
		case (base == "sh" || base == "bash" || base == "ash") && i+2 < len(words) && words[i+1] == "-c":
			return slices.ContainsFunc(shellCommands(words[i+2], false), IsTestCommand)
		case strings.HasPrefix(base, "python") && i+2 < len(words) && words[i+1] == "-m":
			if testRunners[words[i+2]] || words[i+2] == "nose" || words[i+2] == "nose2" {
				return true
			}
		}
		if verbs, ok := testVerbs[base]; ok && i+1 < len(words) {
			next := words[i+1]
			if next == "run" && i+2 < len(words) {
				next = words[i+2]
				if base != "npm" && base != "yarn" && base != "pnpm" && base != "bun" {
					continue
				}
				if next == "test" || strings.HasPrefix(next, "test:") || strings.HasPrefix(next, "test-") {
					return true
				}
				continue
			}
			if slices.Contains(verbs, next) && next != "run" {
				return true
			}
		}
	}
	return false
}

// docsTools are programs that build documentation from a docs directory.
var docsTools = map[string]bool{"mkdocs": true, "sphinx-build": true, "sphinx-autobuild": true, "jekyll": true, "hugo": true, "docusaurus": true, "antora": true, "pdoc": true, "typedoc": true, "jsdoc": true}

// IsDocsCommand reports whether a command builds or serves documentation.
func IsDocsCommand(words []string) bool {
	for i, w := range words {
		base := path.Base(w)
		if docsTools[base] {
			return true
		}
		if (base == "sh" || base == "bash") && i+2 < len(words) && words[i+1] == "-c" {
			return slices.ContainsFunc(shellCommands(words[i+2], false), IsDocsCommand)
		}
		if base == "make" && i+1 < len(words) && (words[i+1] == "docs" || words[i+1] == "html") {
			return true
		}
		if w == "docs" || strings.HasPrefix(w, "docs/") {
			return true
		}
	}
	return false
}

// ShellCommands splits a RUN or compose command line into the words of each
// simple command (quotes removed).
func ShellCommands(s string) [][]string { return shellCommands(s, false) }

// Evidence is one reason to keep a path in the image's build context.
type Evidence struct {
	Where string // file:line, or "compose service NAME"
	What  string // the command, as words joined by spaces
}

// InImage says which of the repository's commands run tests (kind "tests")
// or build documentation (kind "docs") inside a container of one of the
// services; a command for an unknown or variable service counts for every
// build, since keeping a path is the safe side. The compose commands of the
// build's own services count too.
func (r *Repo) InImage(kind string, services []Service) []Evidence {
	is := IsTestCommand
	if kind == "docs" {
		is = IsDocsCommand
	}
	var out []Evidence
	for _, s := range services {
		if s.Command != nil && is(commandWords(s.Command)) {
			out = append(out, Evidence{Where: "compose service " + s.Name, What: JoinWords(s.Command)})
		}
	}
	if r == nil {
		return out
	}
	for _, run := range r.Runs {
		mine := run.Service == "" || !r.Services[run.Service]
		for _, s := range services {
			if s.Name == run.Service {
				mine = true
			}
		}
		if mine && is(run.Command) {
			out = append(out, Evidence{Where: run.Where(), What: JoinWords(run.Command)})
		}
	}
	return out
}

// commandWords turns a compose command (exec form, or one string for the
// shell) into words.
func commandWords(cmd []string) []string {
	if len(cmd) == 1 {
		return shellWords(cmd[0])
	}
	return cmd
}

// JoinWords writes words back as one command line, quoting those with spaces.
func JoinWords(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, " \t") {
			w = `"` + w + `"`
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}

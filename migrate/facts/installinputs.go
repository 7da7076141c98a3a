package facts

import (
	"encoding/json"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// InstallInput is what one dependency-install command reads from the
// build context.
type InstallInput struct {
	// Tool names the installer: npm, yarn, pnpm, pip, poetry, go, bundle,
	// composer.
	Tool string
	// Files are the manifests and lock files it reads, at the context's
	// root (context-relative).
	Files []string
	// Dirs are local package folders it installs (a requirements line
	// such as ./native), context-relative.
	Dirs []string
	// Why, when set, says why the install reads more than Files and Dirs
	// (install scripts, workspaces, local path dependencies, the project
	// itself), so that it cannot run before the sources are copied.
	Why string
}

// InstallInputs is the one answer to "which files of the build context
// does this dependency install read": the manifests and lock files of the
// installer and the local folders they name, or why it needs more. Every
// rule that copies the manifests before an install (multi-stage's
// builders, deps-first) asks it. ok is false when c is no dependency
// install this function knows.
func InstallInputs(b *Build, c dockerfile.Command) (in InstallInput, ok bool) {
	w := c.Words
	name := c.Name()
	if strings.HasPrefix(name, "python") && len(w) > 2 && w[1] == "-m" && w[2] == "poetry" {
		w, name = w[2:], "poetry"
	}
	if !c.Literal {
		defer func() {
			if ok && in.Why == "" {
				in.Why = "its words hold variables or globs"
			}
		}()
	}
	_, sub, isPip := c.Pip()
	if name == "pypy3" && len(w) > 3 && w[1] == "-m" && w[2] == "pip" {
		sub, isPip = w[3], true
	}
	if isPip {
		if sub != "install" {
			return in, false
		}
		in.Tool = "pip"
		reqs, ok := pipRequirementFiles(c.Words)
		if !ok || len(reqs) == 0 {
			in.Why = "pip installs more than requirement files (a local path, an archive, . or -e, or an option that reads a file)"
			return in, true
		}
		for _, r := range reqs {
			local, ok := RequirementsLocalDirs(b, r)
			if !ok {
				in.Why = r + " names something other than index packages and self-contained local package folders"
				return in, true
			}
			if !slices.Contains(in.Files, r) {
				in.Files = append(in.Files, r)
			}
			for _, d := range local {
				if !slices.Contains(in.Dirs, d) {
					in.Dirs = append(in.Dirs, d)
				}
			}
		}
		return in, true
	}
	sub = ""
	if len(w) > 1 {
		sub = dockerfile.Command{Words: w}.Subcommand()
	}
	args := dockerfile.NonFlags(w[1:])
	switch name {
	case "npm", "pnpm":
		if sub != "ci" && sub != "install" && sub != "i" {
			return in, false
		}
		in.Tool = name
		if name == "pnpm" && sub == "ci" {
			return in, false
		}
	case "yarn":
		if sub != "" && sub != "install" {
			return in, false
		}
		in.Tool = "yarn"
		if b.YarnBerry() {
			in.Why = "Yarn 2+ reads .yarnrc.yml's yarnPath and plugins under .yarn/"
			return in, true
		}
	case "poetry":
		if sub != "install" {
			return in, false
		}
		in.Tool = "poetry"
		switch {
		case !b.Has("pyproject.toml"):
			in.Why = "there is no pyproject.toml at the context's root"
		case !slices.Contains(w, "--no-root"):
			in.Why = "poetry install also installs the project itself, which needs its sources (--no-root would not)"
		}
		in.Files = existing(b, "pyproject.toml", "poetry.lock", "poetry.toml")
		return in, true
	case "go":
		if len(w) < 3 || w[1] != "mod" || w[2] != "download" {
			return in, false
		}
		in.Tool = "go"
		in.Files, in.Why = GoModInputs(b)
		if len(args) > 2 {
			in.Why = "it downloads named modules"
		}
		return in, true
	case "bundle":
		if sub != "" && sub != "install" {
			return in, false
		}
		in.Tool = "bundle"
		in.Files = existing(b, "Gemfile", "Gemfile.lock")
		data, err := b.ReadFile("Gemfile")
		switch {
		case err != nil:
			in.Why = "there is no readable Gemfile at the context's root"
		case gemLocal.Match(data):
			in.Why = "the Gemfile installs gems from the context (gemspec or path:)"
		case b.Has(".bundle"):
			in.Why = "the context has a .bundle configuration folder"
		}
		return in, true
	case "composer":
		if sub != "install" {
			return in, false
		}
		in.Tool = "composer"
		in.Files = existing(b, "composer.json", "composer.lock")
		in.Why = composerWhy(b, w) // install takes no package arguments
		return in, true
	default:
		return in, false
	}
	// npm, pnpm, yarn.
	if len(args) > 1 {
		in.Why = "it installs named packages"
		return in, true
	}
	in.Files = NodeManifests(b, in.Tool)
	in.Why = NodeInstallWhy(b)
	return in, true
}

// existing returns the files of the list the context has.
func existing(b *Build, files ...string) []string {
	var out []string
	for _, f := range files {
		if b.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// gemLocal matches Gemfile lines that install gems from the context.
var gemLocal = regexp.MustCompile(`(?m)^\s*(gemspec\b|.*\bpath(:|\s*=>))`)

// composerWhy says why `composer install` with these words reads more than
// composer.json and composer.lock: scripts that run (artisan and the like
// need the sources) unless --no-scripts, and an autoloader dump that scans
// classmap or files entries unless --no-autoloader.
func composerWhy(b *Build, words []string) string {
	data, err := b.ReadFile("composer.json")
	if err != nil {
		return "there is no readable composer.json at the context's root"
	}
	var c struct {
		Scripts  map[string]json.RawMessage `json:"scripts"`
		Autoload struct {
			Classmap []string        `json:"classmap"`
			Files    []string        `json:"files"`
			PSR4     json.RawMessage `json:"psr-4"`
		} `json:"autoload"`
		Repositories []struct {
			Type string `json:"type"`
		} `json:"repositories"`
	}
	if json.Unmarshal(data, &c) != nil {
		return "composer.json cannot be read"
	}
	for _, r := range c.Repositories {
		if r.Type == "path" {
			return "composer.json installs packages from the context (a path repository)"
		}
	}
	if !slices.Contains(words, "--no-scripts") {
		for _, s := range []string{"pre-install-cmd", "post-install-cmd", "pre-autoload-dump", "post-autoload-dump"} {
			if _, ok := c.Scripts[s]; ok {
				return "composer.json runs the " + s + " script during the install"
			}
		}
	}
	if !slices.Contains(words, "--no-autoloader") && len(c.Autoload.Classmap)+len(c.Autoload.Files) > 0 {
		return "the autoloader the install writes scans the sources (classmap or files entries)"
	}
	return ""
}

// GoModInputs returns the files `go mod download` reads (go.mod, go.sum),
// or why it needs more: a vendor directory, a go.work workspace, or a
// replace directive to a local path.
func GoModInputs(b *Build) (files []string, why string) {
	switch {
	case b.Context == "" || !b.Has("go.mod"):
		return nil, "there is no go.mod at the context's root"
	case b.Has("vendor") && readable(b, "vendor/modules.txt"):
		// (Files lists nothing under vendor/, which the facts never walk.)
		return nil, "the module vendors its dependencies"
	case b.Has("go.work"):
		return nil, "go.work makes it a workspace of several modules"
	}
	data, err := b.ReadFile("go.mod")
	if err != nil || goLocalReplace.Match(data) {
		return nil, "go.mod replaces a module with a local directory"
	}
	return existing(b, "go.mod", "go.sum"), ""
}

var goLocalReplace = regexp.MustCompile(`=>\s*[./]`)

// NodeInstallLifecycleScripts are the package.json scripts of the root
// package that a plain install (`npm install`/`npm ci`, and `yarn install`
// or `pnpm install` alike) runs, in npm's order: any of them may read the
// package's sources or need its development dependencies. prepublish is
// deprecated but npm still runs it on a local install.
var NodeInstallLifecycleScripts = []string{"preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"}

// NodeManifests lists the context files a Node package manager's install
// reads: package.json and, when present, its lock file and configuration.
func NodeManifests(b *Build, pm string) []string {
	return append([]string{"package.json"}, existing(b, map[string][]string{
		"npm":  {"package-lock.json", "npm-shrinkwrap.json", ".npmrc"},
		"yarn": {"yarn.lock", ".yarnrc", ".npmrc"},
		"pnpm": {"pnpm-lock.yaml", ".npmrc", ".pnpmfile.cjs"},
	}[pm]...)...)
}

// NodeInstallScripts says why a Node install cannot run from the manifests
// alone because of the package itself: root install scripts or workspaces
// ("" when neither).
func NodeInstallScripts(b *Build) string {
	if b.Node == nil {
		return "there is no package.json at the context's root"
	}
	for _, s := range NodeInstallLifecycleScripts {
		if _, ok := b.Node.Scripts[s]; ok {
			return "package.json has a " + s + " script, which runs during the install"
		}
	}
	return nodeWorkspace(b)
}

// nodeWorkspace says why the context is a workspace of several packages,
// or that its package.json cannot be read ("" when neither).
func nodeWorkspace(b *Build) string {
	if b.Has("pnpm-workspace.yaml") || b.Has("lerna.json") {
		return "the context is a workspace of several packages"
	}
	if b.Context == "" {
		return ""
	}
	data, err := b.ReadFile("package.json")
	if err != nil {
		return ""
	}
	var pkg struct {
		Workspaces json.RawMessage `json:"workspaces"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return "package.json cannot be read"
	}
	if len(pkg.Workspaces) > 0 && string(pkg.Workspaces) != "null" {
		return "package.json declares workspaces"
	}
	return ""
}

// NodeHasDevDependencies reports whether a Node install of the context
// may bring development dependencies, that is whether pruning them, or
// installing the production dependencies apart, can leave anything out:
// package.json declares devDependencies, or the context is a workspace
// whose packages may declare their own. Without a package.json to read
// the answer is yes.
func NodeHasDevDependencies(b *Build) bool {
	if b.Node == nil {
		return true
	}
	return len(b.Node.DevDependencies) > 0 || nodeWorkspace(b) != ""
}

// NodeInstallWhy says why a Node install cannot run before the sources are
// copied ("" when it can): install scripts or workspaces
// (NodeInstallScripts), dependencies installed from the context itself
// (file:, link:, workspace:, a path), or a .dockerignore that lets the
// context's node_modules in, which the later copy would lay over the
// installed one.
func NodeInstallWhy(b *Build) string {
	if why := NodeInstallScripts(b); why != "" {
		return why
	}
	for _, deps := range []map[string]string{b.Node.Dependencies, b.Node.DevDependencies} {
		for _, v := range deps {
			if strings.HasPrefix(v, "file:") || strings.HasPrefix(v, "link:") || strings.HasPrefix(v, "workspace:") || strings.HasPrefix(v, ".") || strings.HasPrefix(v, "/") {
				return "package.json installs a dependency from the context (" + v + ")"
			}
		}
	}
	if nodeModulesIncluded(b) {
		return "the .dockerignore lets the context's node_modules in"
	}
	return ""
}

// nodeModulesIncluded reports whether the context's .dockerignore
// re-includes node_modules (a `!...node_modules` line).
func nodeModulesIncluded(b *Build) bool {
	if b.Context == "" || !b.Has(".dockerignore") {
		return false
	}
	data, err := b.ReadFile(".dockerignore")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "!") && strings.Contains(line, "node_modules") {
			return true
		}
	}
	return false
}

// pipFlags are pip install options that take no value and read no file.
var pipFlags = []string{"install", "--no-cache-dir", "-U", "--upgrade", "--no-compile", "-q", "--quiet", "-v", "--verbose",
	"--prefer-binary", "--no-deps", "--require-hashes", "--disable-pip-version-check", "--no-warn-script-location", "--progress-bar=off"}

// pipRequirementFiles returns the -r files of a `pip install` whose other
// arguments are package names from an index; ok=false otherwise.
func pipRequirementFiles(words []string) ([]string, bool) {
	var files []string
	i := slices.Index(words, "install")
	if i < 0 {
		return nil, false
	}
	for j := i + 1; j < len(words); j++ {
		w := words[j]
		switch {
		case w == "-r" || w == "--requirement":
			if j+1 >= len(words) {
				return nil, false
			}
			j++
			files = append(files, words[j])
		case strings.HasPrefix(w, "--requirement="):
			files = append(files, strings.TrimPrefix(w, "--requirement="))
		case strings.HasPrefix(w, "-r") && len(w) > 2:
			files = append(files, w[2:])
		case strings.HasPrefix(w, "-"):
			if !slices.Contains(pipFlags, w) {
				return nil, false
			}
		case strings.ContainsAny(w, "/\\") || w == "." || strings.HasSuffix(w, ".whl") || strings.HasSuffix(w, ".tar.gz") || strings.HasSuffix(w, ".zip"):
			return nil, false // a local path or an archive
		}
	}
	for _, f := range files {
		if strings.Contains(f, "/") || strings.Contains(f, "$") {
			return nil, false // only files at the root of the copied context
		}
	}
	return files, true
}

// RequirementsLocalDirs reads a requirements file in the context and
// returns the local package folders it installs (lines such as ./native or
// libs/core/), ok=false unless every other line names a package from an
// index: editable or file: installs, archives, nested requirement or
// constraint files and paths outside the context are not followed. A
// local folder must hold a setup.py or pyproject.toml that does not reach
// outside the folder ("../"), since only the folder is copied before the
// install.
func RequirementsLocalDirs(b *Build, name string) ([]string, bool) {
	data, err := b.ReadFile(name)
	if err != nil {
		return nil, false
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "-") || strings.HasPrefix(line, "/") || strings.Contains(line, "file:") {
			return nil, false
		}
		if strings.HasPrefix(line, ".") || (strings.Contains(line, "/") && !strings.Contains(line, "://")) {
			dir, ok := localPackageDir(b, line)
			if !ok {
				return nil, false
			}
			dirs = append(dirs, dir)
		}
	}
	return dirs, true
}

// localPackageDir returns the context folder a requirements line such as
// ./native names, when it is a Python project folder inside the context
// whose metadata does not reach outside it.
func localPackageDir(b *Build, line string) (string, bool) {
	if strings.ContainsAny(line, "[]@;=<>!~ $\\") {
		return "", false
	}
	dir := path.Clean(line)
	if dir == "." || dir == ".." || strings.HasPrefix(dir, "../") || path.IsAbs(dir) {
		return "", false
	}
	found := false
	for _, meta := range []string{"setup.py", "pyproject.toml", "setup.cfg"} {
		data, err := b.ReadFile(dir + "/" + meta)
		if err != nil {
			continue
		}
		found = true
		if strings.Contains(string(data), "..") {
			return "", false
		}
	}
	return dir, found
}

// readable reports whether a context file can be read.
func readable(b *Build, rel string) bool {
	_, err := b.ReadFile(rel)
	return err == nil
}

// osPackageTools are the distributions' package managers.
var osPackageTools = map[string]bool{"apt-get": true, "apt": true, "apk": true, "yum": true, "dnf": true, "microdnf": true}

// ReadsNoContext reports whether a command reads nothing of the build
// context: a distribution package manager run whose words name no path (a
// local .deb or .rpm would), or the removal of package caches and lists.
// A RUN of such commands may stay between the manifests and the install.
func ReadsNoContext(c dockerfile.Command) bool {
	if len(c.Words) == 0 {
		return false
	}
	switch name := c.Name(); {
	case osPackageTools[name] && c.Literal:
		for _, w := range c.Words[1:] {
			if strings.ContainsAny(w, "/") || strings.HasSuffix(w, ".deb") || strings.HasSuffix(w, ".rpm") || strings.HasSuffix(w, ".apk") {
				return false
			}
		}
		return true
	case name == "rm":
		for _, w := range c.Words[1:] { // globs allowed: they stay under these caches
			if strings.Contains(w, "$") || strings.Contains(w, "..") || !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "/var/lib/apt/lists") && !strings.HasPrefix(w, "/var/cache/") && !strings.HasPrefix(w, "/tmp/") {
				return false
			}
		}
		return true
	}
	return false
}

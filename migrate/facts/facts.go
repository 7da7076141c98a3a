// Package facts gathers what the rules need to know about one build: the
// compose services that use it, the files of its context (lockfiles,
// manifests, health routes), and, from a parsed Dockerfile, each stage's
// base image family and user. Context facts are computed once per build.
package facts

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// Service is what a rule needs to know of one compose service.
type Service struct {
	Name           string
	Target         string
	Args           map[string]string
	Ports          []int
	User           string
	HasHealthcheck bool
	// HealthcheckDisabled: compose turns the image's health check off.
	HealthcheckDisabled bool
	Environment         map[string]string
	// Command is the compose command: override (nil when unset).
	Command []string
	// Entrypoint is the compose entrypoint: override (nil when unset).
	Entrypoint []string
	// Labels are the compose labels (Traefik and similar name ports there).
	Labels map[string]string
	// NetworkMode is compose's network_mode ("" = the project's bridge network).
	NetworkMode string
	// Mounts are the compose volumes of the service.
	Mounts []Mount
}

// Mount is one compose volume of a service.
type Mount struct {
	Type     string // "bind", "volume", "tmpfs"
	Source   string // absolute host path of a bind mount; volume name otherwise
	Target   string // container path
	ReadOnly bool
}

// Worker reports whether the service runs the image as a worker: its own
// command, no published or exposed port, so it serves no HTTP the image's
// health check could probe. This is the one decision the healthcheck rule
// and the planner's compose edit share.
func (s Service) Worker() bool { return s.Command != nil && len(s.Ports) == 0 }

// Build holds the facts of one build that do not depend on the Dockerfile's
// current text.
type Build struct {
	Context  string // absolute context directory
	Services []Service
	// Files is the set of context-relative paths (slash-separated) of the
	// files directly in the context and one level below, used to detect
	// manifests and lockfiles.
	Files map[string]bool
	// Node holds package.json facts when present.
	Node *NodePackage
	// HealthRoutes are HTTP paths that look like health endpoints, found in
	// the application's sources, most conventional first.
	HealthRoutes []string
	// GoCgo says why the Go module in the context needs cgo ("" when
	// nothing does or there is no go.mod).
	GoCgo string
	// read caches the context files rules read, so that each is read at
	// most once per build whatever the number of rules and passes.
	read map[string]readResult
	// SourcePorts are the ports the context's sources and server
	// configuration files listen on (see StageFacts.Ports).
	SourcePorts []Port
	// SourceWrites are the paths the context's sources write (see AppWrites).
	SourceWrites []sourceWrite
	// sourceDoubts are the context's source writes AppWrites cannot
	// resolve (see WriteDoubts).
	sourceDoubts []sourceDoubt
	// sqlite: a source or configuration file of the context names SQLite
	// (a migration run at start may then write a database file).
	sqlite bool
	// unreadable caches NotReadableByOthers.
	unreadable *[]string
	// Scan is what a bounded walk of the whole context found (ecosystems at
	// any depth, credential files); zero when not gathered from disk.
	Scan ContextScan
	// root confines those reads to the context: BuildKit never follows a
	// link out of it, so neither do the facts.
	root *safefs.Root
	// RouteExts maps each of HealthRoutes to the extensions of the source
	// files it was found in (nil when the facts were not gathered from disk).
	RouteExts map[string][]string
	// Repo is what the repository runs inside its containers (nil: nothing
	// known); the planner sets it.
	Repo *Repo
	// Inspected are the facts of the real base images (--inspect-images),
	// by reference as written in the Dockerfile after argument expansion;
	// they replace the image table's. The planner sets it.
	Inspected map[string]ImageFacts
}

// inspected returns the inspected facts of the image ref, if it was read.
func (b *Build) inspected(ref string) (ImageFacts, bool) {
	if b == nil {
		return ImageFacts{}, false
	}
	f, ok := b.Inspected[ref]
	return f, ok
}

// TestsInContainer returns the evidence that a test suite runs inside a
// container of one of services: a compose command, or a script, Makefile,
// CI workflow or README of the repository running one there. The ignore
// file keeps tests in the context for it, and prod-deps keeps development
// dependencies.
func (b *Build) TestsInContainer(services []Service) []Evidence {
	return b.Repo.InImage("tests", services)
}

// NodePackage is the part of package.json the rules use.
type NodePackage struct {
	Scripts         map[string]string `json:"scripts"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	PackageManager  string            `json:"packageManager"`
	Main            string            `json:"main"`
}

type readResult struct {
	data []byte
	err  error
}

// ReadFile returns the content of a context-relative file (slash-separated),
// read at most once per build.
func (b *Build) ReadFile(rel string) ([]byte, error) {
	if b.Context == "" {
		return nil, fs.ErrNotExist
	}
	if r, ok := b.read[rel]; ok {
		return r.data, r.err
	}
	if b.root == nil {
		root, err := safefs.New(b.Context)
		if err != nil {
			return nil, err
		}
		b.root = root
	}
	data, err := b.root.ReadFile(safefs.Manifest, filepath.Join(b.Context, filepath.FromSlash(rel)))
	if b.read == nil {
		b.read = map[string]readResult{}
	}
	b.read[rel] = readResult{data, err}
	return data, err
}

// Targets returns the distinct compose targets ("" = last stage).
func (b *Build) Targets() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range b.Services {
		if !seen[s.Target] {
			seen[s.Target] = true
			out = append(out, s.Target)
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

// Has reports whether a context-relative file exists.
func (b *Build) Has(rel string) bool { return b.Files[rel] }

// HasAny reports whether any of the files exists.
func (b *Build) HasAny(rels ...string) bool {
	for _, r := range rels {
		if b.Files[r] {
			return true
		}
	}
	return false
}

// Ecosystem names the language ecosystem(s) detected in the context.
func (b *Build) Ecosystems() []string {
	var out []string
	if b.Has("package.json") {
		out = append(out, "node")
	}
	if b.HasAny("requirements.txt", "pyproject.toml", "Pipfile", "setup.py", "uv.lock", "poetry.lock") || b.hasGlob("requirements") {
		out = append(out, "python")
	}
	if b.Has("go.mod") {
		out = append(out, "go")
	}
	if b.HasAny("pom.xml", "build.gradle", "build.gradle.kts") {
		out = append(out, "java")
	}
	return out
}

func (b *Build) hasGlob(prefix string) bool {
	for f := range b.Files {
		if !strings.Contains(f, "/") && strings.HasPrefix(f, prefix) && strings.HasSuffix(f, ".txt") {
			return true
		}
	}
	return false
}

// NodePackageManager returns npm, yarn, pnpm or "" (no package.json).
func (b *Build) NodePackageManager() string {
	switch {
	case b.Node == nil:
		return ""
	case b.Has("pnpm-lock.yaml") || strings.HasPrefix(b.Node.PackageManager, "pnpm"):
		return "pnpm"
	case b.Has("yarn.lock") || strings.HasPrefix(b.Node.PackageManager, "yarn"):
		return "yarn"
	}
	return "npm"
}

// NodeLockfile reports whether the Node package manager has a lockfile.
func (b *Build) NodeLockfile() bool {
	return b.HasAny("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
}

// YarnBerry reports whether the project uses Yarn 2+.
func (b *Build) YarnBerry() bool {
	if b.Node != nil && strings.HasPrefix(b.Node.PackageManager, "yarn@") && !strings.HasPrefix(b.Node.PackageManager, "yarn@1") {
		return true
	}
	return b.Has(".yarnrc.yml")
}

// PythonManager returns pip, poetry, pipenv, uv or "".
func (b *Build) PythonManager() string {
	switch {
	case b.Has("poetry.lock"):
		return "poetry"
	case b.Has("Pipfile.lock") || b.Has("Pipfile"):
		return "pipenv"
	case b.Has("uv.lock"):
		return "uv"
	case b.Has("requirements.txt") || b.hasGlob("requirements") || b.Has("pyproject.toml") || b.Has("setup.py"):
		return "pip"
	}
	return ""
}

// Gather computes the context facts of a build.
func Gather(contextDir string, services []Service) (*Build, error) {
	b := &Build{Context: contextDir, Services: services, Files: map[string]bool{}}
	entries, err := os.ReadDir(contextDir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b.Files[e.Name()] = true
		if e.IsDir() && !skipDir(e.Name()) {
			sub, err := os.ReadDir(filepath.Join(contextDir, e.Name()))
			if err != nil {
				continue
			}
			for _, s := range sub {
				b.Files[e.Name()+"/"+s.Name()] = true
			}
		}
	}
	// The context's files are read through one os.Root (confined to the
	// context, as BuildKit reads it), and only when the listing above has
	// the name (or, for a deeper path, its first component): resolving every
	// probe's path anew cost two system calls per path component.
	root, err := os.OpenRoot(contextDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	read := func(kind safefs.Kind, rel string) ([]byte, bool) {
		top, _, _ := strings.Cut(rel, "/")
		if !b.Files[top] {
			return nil, false
		}
		data, err := safefs.ReadWalked(kind, root, filepath.FromSlash(rel))
		return data, err == nil
	}
	if data, ok := read(safefs.Manifest, "package.json"); ok {
		var np NodePackage
		if err := json.Unmarshal(data, &np); err == nil {
			b.Node = &np
		}
	}
	// One walk of the sources for every question asked of them.
	routes := routeScan{}
	walkSources(contextDir, func(f sourceFile) {
		routes.add(f)
		b.SourcePorts = addSourcePorts(b.SourcePorts, f)
		b.SourceWrites = addSourceWrites(b.SourceWrites, f)
		b.sourceDoubts = addWriteDoubts(b.sourceDoubts, f)
		b.sqlite = b.sqlite || namesSQLite(f.data)
	})
	for _, rel := range []string{"prisma/schema.prisma", "config/database.yml", "alembic.ini", "database/database.sqlite"} {
		if data, ok := read(safefs.Source, rel); ok && (namesSQLite(data) || strings.HasSuffix(rel, ".sqlite")) {
			b.sqlite = true
		}
	}
	b.HealthRoutes, b.RouteExts = routes.result()
	b.Scan = ScanContext(contextDir)
	if b.Files["go.mod"] {
		b.GoCgo = goCgo(contextDir, root)
	}
	return b, nil
}

func skipDir(name string) bool {
	switch name {
	case ".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", "target", "vendor":
		return true
	}
	return false
}

// healthRoute matches a quoted path that looks like a health endpoint.
// A Go 1.22 pattern may name the method inside the quotes ("GET /health").
var healthRoute = regexp.MustCompile(`["'](?:(?:GET|HEAD) )?(/(?:api/)?(?:health|healthz|healthcheck|ready|readyz|live|livez|up|ping|status))["']`)

// unsafeRoute matches a route declaration for a method that changes state
// (POST, PUT, PATCH, DELETE) on the line of a health-route match.
var unsafeRoute = regexp.MustCompile(`(?i)(\.(post|put|patch|delete)\s*\(|@(post|put|patch|delete)(mapping)?\b|methods\s*=\s*\[\s*["'](post|put|patch|delete)["']\s*\]|method\s*[:=]\s*["'](post|put|patch|delete)["']|["'](POST|PUT|PATCH|DELETE) /|http\.Method(Post|Put|Patch|Delete)|\b(post|put|patch|delete)\s+["']/)`)

// safeRoute reports whether the health-route match at [start, end) of data
// is declared for a method-safe request: the declaration on its line names
// no state-changing method.
func safeRoute(data []byte, start, end int) bool {
	ls := start
	for ls > 0 && data[ls-1] != '\n' {
		ls--
	}
	le := end
	for le < len(data) && data[le] != '\n' {
		le++
	}
	return !unsafeRoute.Match(data[ls:le])
}

// routeRank orders candidates: the more conventional a name, the earlier.
var routeRank = map[string]int{"/healthz": 0, "/health": 1, "/api/health": 2, "/api/healthz": 3, "/up": 4, "/livez": 5, "/live": 6, "/readyz": 7, "/ready": 8, "/healthcheck": 9, "/ping": 10, "/status": 11}

// HealthRoutesIn returns the health routes found in source files with one
// of the extensions, in HealthRoutes order. A context often holds several
// components (a Python backend's context may contain a Node front end), so
// a rule probing one runtime asks only for routes written in its language.
func (b *Build) HealthRoutesIn(exts ...string) []string {
	if b.RouteExts == nil || len(exts) == 0 {
		return b.HealthRoutes
	}
	var out []string
	for _, r := range b.HealthRoutes {
		for _, e := range b.RouteExts[r] {
			if slices.Contains(exts, e) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// routeScan collects the health endpoints declared in the sources and the
// extensions of the files each was found in.
type routeScan map[string][]string

func (rs routeScan) add(f sourceFile) {
	switch f.ext {
	case ".js", ".mjs", ".cjs", ".ts", ".py", ".go", ".java", ".kt", ".rb":
	default:
		return
	}
	for _, loc := range healthRoute.FindAllSubmatchIndex(f.data, -1) {
		if !safeRoute(f.data, loc[0], loc[1]) {
			continue
		}
		if r := string(f.data[loc[2]:loc[3]]); !slices.Contains(rs[r], f.ext) {
			rs[r] = append(rs[r], f.ext)
		}
	}
}

// result lists the routes, most conventional first.
func (rs routeScan) result() ([]string, map[string][]string) {
	out := make([]string, 0, len(rs))
	for r := range rs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out, rs
}

func rank(r string) int {
	if v, ok := routeRank[r]; ok {
		return v
	}
	return 100
}

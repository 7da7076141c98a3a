package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// ProdDeps installs only production dependencies in runtime stages.
var ProdDeps = &Rule{
	ID:    "prod-deps",
	Title: "Install only production dependencies in the runtime image",
	Doc: "Test runners, compilers, linters and type definitions are needed to build and check " +
		"the code, not to run it, yet they often make up most of node_modules or site-packages. " +
		"In the stages compose runs, npm, yarn, pnpm and poetry installs are told to skip development " +
		"dependencies (npm installs become `npm ci` when the lockfile is copied in and matches " +
		"package.json), and pip installs stop keeping their download cache unless it is a cache mount. " +
		"Stages a compose service uses for development or tests, stages that later build, test or " +
		"start the app with a development tool, images the repository runs its tests in (a CI workflow, " +
		"script, Makefile or README running a test runner through `docker compose run` or `exec`), and " +
		"installs whose lifecycle scripts need one are left as they are; splitting those into build and " +
		"runtime stages is a separate rule's job.",
	After: []string{"multi-stage"},
	Run:   runProdDeps,
}

func runProdDeps(p *Pass) {
	for _, st := range p.Runtime() {
		if why := p.Stage(st).DevelopmentReason(); why != "" {
			continue
		}
		info := p.Stage(st).Info
		if !info.Family.HasShell() && info.Family != facts.Unknown {
			continue
		}
		runs := st.Find("run")
		ps := &prodDepsStage{runs: runs}
		for i, in := range runs {
			sc, ok := in.Script()
			if !ok {
				continue
			}
			pd := &prodDepsRun{p: p, st: st, in: in, info: info, s: ps, i: i}
			changed := false
			for j, c := range sc.Commands {
				pd.rest = sc.Commands[j+1:]
				if nc, ok := pd.fix(c); ok {
					sc.Commands[j] = nc
					changed = true
				}
			}
			if changed {
				p.Edit(dockerfile.Replace(in, p.File.RewriteRun(in, in.Flags, sc)))
			}
		}
	}
}

type prodDepsRun struct {
	p    *Pass
	st   *dockerfile.Stage
	in   *dockerfile.Instruction
	info facts.StageInfo
	// s holds the stage's answers; in is s.runs[i].
	s *prodDepsStage
	i int
	// rest are the commands after the one being fixed in the same RUN.
	rest []dockerfile.Command
}

func prodDepsHas(words []string, flags ...string) bool {
	for _, w := range words {
		for _, f := range flags {
			if w == f || strings.HasPrefix(f, "--") && strings.HasPrefix(w, f+"=") {
				return true
			}
		}
	}
	return false
}

// fix returns the production-only form of one command, ok=false to keep it.
func (r *prodDepsRun) fix(c dockerfile.Command) (dockerfile.Command, bool) {
	if len(c.Words) == 0 {
		return c, false
	}
	if _, sub, ok := c.Pip(); ok && sub == "install" {
		return r.fixPip(c)
	}
	if !c.Literal {
		return c, false
	}
	switch c.Name() {
	case "npm", "yarn", "pnpm":
		// Behaviour change 5: in a stage whose node_modules never reach
		// the running app, a production-only install saves nothing and
		// breaks the asset build at its first development dependency.
		if why := r.assetsOnly(); why != "" {
			r.p.Report(r.in.Start, "%s install left with its development dependencies: %s", c.Name(), why)
			return c, false
		}
	}
	switch c.Name() {
	case "npm":
		return r.fixNpm(c)
	case "yarn":
		return r.fixYarn(c)
	case "pnpm":
		return r.fixPnpm(c)
	case "poetry":
		return r.fixPoetry(c)
	case "pipenv":
		return r.fixPipenv(c)
	}
	return c, false
}

// fixPip stops pip from keeping its download cache in the layer.
func (r *prodDepsRun) fixPip(c dockerfile.Command) (dockerfile.Command, bool) {
	if slices.Contains(c.Words, "--no-cache-dir") || prodDepsHas(c.Words, "--cache-dir") {
		return c, false
	}
	for _, m := range r.in.CacheMountTargets() {
		if strings.Contains(m, "pip") || strings.HasSuffix(m, "/.cache") {
			return c, false
		}
	}
	if _, ok := r.p.Stage(r.st).EnvValue(r.in, "PIP_NO_CACHE_DIR"); ok {
		return c, false
	}
	i := slices.Index(c.Words, "install")
	if c.Literal {
		return dockerfile.NewCommand(slices.Insert(slices.Clone(c.Words), i+1, "--no-cache-dir")...), true
	}
	at := strings.Index(c.Src, " install")
	if at < 0 || i < 0 {
		return c, false
	}
	at += len(" install")
	return dockerfile.Command{
		Words: slices.Insert(slices.Clone(c.Words), i+1, "--no-cache-dir"),
		Src:   c.Src[:at] + " --no-cache-dir" + c.Src[at:],
	}, true
}

// nodeReady checks what every Node package-manager rewrite needs: the
// context's package.json is the one installed, and nothing later in the
// stage (or at run time) needs development dependencies.
func (r *prodDepsRun) nodeReady(c dockerfile.Command) bool {
	np := r.p.Facts.Node
	if np == nil || !r.copied("package.json") {
		return false
	}
	if !slices.Contains(c.Words, "--ignore-scripts") {
		for _, s := range facts.NodeInstallLifecycleScripts {
			if script, ok := np.Scripts[s]; ok && prodDepsNodeDev(np, script, 0) {
				r.p.Report(r.in.Start, "development dependencies kept: the %q script of package.json uses one", s)
				return false
			}
		}
	}
	if line, what := r.needsDevLater(); what != "" {
		r.p.Report(line, "development dependencies kept in this stage: %s needs them (splitting the build into its own stage is the multi-stage rule's job)", what)
		return false
	}
	return !r.testsInImage()
}

// testsInImage reports (and says why) when the repository runs a test
// suite inside a container of this stage's image: a CI workflow, script,
// Makefile or README running `docker compose run|exec SVC <test runner>`,
// or a compose command that does. The runner and its plugins are
// development dependencies, so a production-only install would break
// those tests.
func (r *prodDepsRun) testsInImage() bool {
	ev := r.p.Facts.TestsInContainer(r.p.Stage(r.st).Services)
	if len(ev) == 0 {
		return false
	}
	where := ev[0].Where + " runs `" + ev[0].What + "`"
	if len(ev) > 1 {
		where += fmt.Sprintf(" (and %d more)", len(ev)-1)
	}
	r.p.Report(r.in.Start, "development dependencies kept: the tests run inside this image (%s in the container), and the test tools are development dependencies", where)
	return true
}

// npmVersion tells whether the stage's npm knows --omit=dev (npm 7+):
// 1 yes, 0 unknown, -1 no.
func (r *prodDepsRun) npmVersion() int {
	if r.info.Image.Base() != "node" {
		return 0
	}
	m := prodDepsMajor.FindStringSubmatch(r.info.Image.Tag)
	if m == nil {
		return 1 // latest, lts, current, alpine, slim...: a current Node
	}
	if n, _ := strconv.Atoi(m[1]); n >= 15 {
		return 1
	}
	return -1
}

var prodDepsMajor = regexp.MustCompile(`^(\d+)`)

var prodDepsNpmDeprecated = []string{"--production", "--only=production", "--only=prod", "--prod"}

func (r *prodDepsRun) fixNpm(c dockerfile.Command) (dockerfile.Command, bool) {
	nf := dockerfile.NonFlags(c.Words[1:])
	if len(nf) != 1 || !slices.Contains([]string{"ci", "install", "i"}, nf[0]) {
		return c, false // installs named packages, or is no install
	}
	if prodDepsHas(c.Words, "--include", "--production=false", "--dev", "--also", "--prefix", "-g", "--global", "--workspace", "-w") {
		return c, false
	}
	hasOmit := slices.Contains(c.Words, "--omit=dev") || slices.Contains(c.Words, "--omit")
	deprecated := prodDepsHas(c.Words, prodDepsNpmDeprecated...)
	ver := r.npmVersion()
	toCi := nf[0] != "ci" && ver == 1 && r.p.Facts.HasAny("package-lock.json", "npm-shrinkwrap.json") &&
		(r.copied("package-lock.json") || r.copied("npm-shrinkwrap.json")) && facts.NpmLockInSync(r.p.Facts)
	if hasOmit && !toCi || (deprecated && ver != 1 && !toCi) {
		return c, false
	}
	if !r.nodeReady(c) {
		return c, false
	}
	words := []string{"npm"}
	for _, w := range c.Words[1:] {
		switch {
		case w == nf[0] && toCi:
			w = "ci"
		case ver == 1 && slices.Contains(prodDepsNpmDeprecated, w):
			continue
		}
		words = append(words, w)
	}
	if !slices.Contains(words, "--omit=dev") && !slices.Contains(words, "--omit") && !(ver == -1 && deprecated) {
		if ver == -1 {
			words = append(words, "--production")
		} else {
			words = append(words, "--omit=dev")
		}
	}
	if slices.Equal(words, c.Words) {
		return c, false
	}
	return dockerfile.NewCommand(words...), true
}

func (r *prodDepsRun) fixYarn(c dockerfile.Command) (dockerfile.Command, bool) {
	nf := dockerfile.NonFlags(c.Words[1:])
	fb := r.p.Facts
	if fb.YarnBerry() {
		if len(nf) > 1 || len(nf) == 1 && nf[0] != "install" {
			return c, false
		}
		if facts.YarnMajor(fb) < 4 {
			r.p.NeedsHuman(r.in.Start, "Yarn 2/3 installs production dependencies with `yarn workspaces focus --all --production`, which needs the workspace-tools plugin: add it, or confirm the Yarn version in packageManager")
			return c, false
		}
		if !r.nodeReady(c) {
			return c, false
		}
		return dockerfile.NewCommand("yarn", "workspaces", "focus", "--all", "--production"), true
	}
	if len(nf) > 1 || len(nf) == 1 && nf[0] != "install" {
		return c, false
	}
	if prodDepsHas(c.Words, "--production", "--prod", "--production=false", "--cwd", "--modules-folder") {
		return c, false
	}
	if !r.nodeReady(c) {
		return c, false
	}
	words := slices.Clone(c.Words)
	if !prodDepsHas(words, "--frozen-lockfile", "--pure-lockfile") && r.copied("yarn.lock") && facts.YarnLockInSync(fb) {
		words = append(words, "--frozen-lockfile")
	}
	words = append(words, "--production")
	return dockerfile.NewCommand(words...), true
}

func (r *prodDepsRun) fixPnpm(c dockerfile.Command) (dockerfile.Command, bool) {
	nf := dockerfile.NonFlags(c.Words[1:])
	if len(nf) != 1 || nf[0] != "install" && nf[0] != "i" {
		return c, false
	}
	if prodDepsHas(c.Words, "--prod", "-P", "--production", "--dev", "-D", "--filter", "-F", "--dir", "-C", "-r", "--recursive") {
		return c, false
	}
	if !r.nodeReady(c) {
		return c, false
	}
	return dockerfile.NewCommand(append(slices.Clone(c.Words), "--prod")...), true
}

func (r *prodDepsRun) fixPoetry(c dockerfile.Command) (dockerfile.Command, bool) {
	if c.Subcommand() != "install" || prodDepsHas(c.Words, "--no-dev", "--only", "--without", "--with", "--all-groups", "--sync") {
		return c, false
	}
	groups, ok := facts.PoetryGroups(r.p.Facts)
	if !ok || !r.copied("pyproject.toml") {
		return c, false
	}
	for _, g := range groups {
		if !prodDepsDevGroups[g] {
			r.p.NeedsHuman(r.in.Start, "pyproject.toml declares dependency group %q: decide whether the runtime image needs it, then install with --only main or --without for the development groups", g)
			return c, false
		}
	}
	if len(groups) == 0 {
		return c, false // nothing to leave out
	}
	major, minor, known := r.poetryVersion()
	if !known {
		r.p.NeedsHuman(r.in.Start, "the Poetry version is unknown: use `poetry install --only main` (Poetry 1.2+) or `--no-dev` (older) to leave out development dependencies")
		return c, false
	}
	if line, what := r.needsDevLater(); what != "" {
		r.p.Report(line, "development dependencies kept in this stage: %s needs them", what)
		return c, false
	}
	if r.testsInImage() {
		return c, false
	}
	flag := []string{"--only", "main"}
	if major < 1 || major == 1 && minor < 2 {
		flag = []string{"--no-dev"}
	}
	return dockerfile.NewCommand(append(slices.Clone(c.Words), flag...)...), true
}

var prodDepsDevGroups = map[string]bool{"dev": true, "test": true, "tests": true, "lint": true, "docs": true, "typing": true, "develop": true, "development": true}

func (r *prodDepsRun) fixPipenv(c dockerfile.Command) (dockerfile.Command, bool) {
	if c.Subcommand() != "install" || !slices.Contains(c.Words, "--dev") && !slices.Contains(c.Words, "-d") {
		return c, false
	}
	if len(dockerfile.NonFlags(c.Words[1:])) != 1 {
		return c, false
	}
	if line, what := r.needsDevLater(); what != "" {
		r.p.Report(line, "development dependencies kept in this stage: %s needs them", what)
		return c, false
	}
	if r.testsInImage() {
		return c, false
	}
	var words []string
	for _, w := range c.Words {
		if w != "--dev" && w != "-d" {
			words = append(words, w)
		}
	}
	return dockerfile.NewCommand(words...), true
}

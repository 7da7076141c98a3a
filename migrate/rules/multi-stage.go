package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// MultiStage splits a single build stage that compiles or installs build
// tools into builder stages and a lean runtime stage.
var MultiStage = &Rule{
	ID:    "multi-stage",
	Title: "Build in builder stages and ship a lean runtime stage",
	Rationale: "Compilers, header packages, dev dependencies and build inputs are needed to " +
		"produce an application, not to run it; when they sit in the image compose runs, " +
		"they cost size on every pull and give an attacker tools. The stage compose builds is " +
		"rebuilt from the same base (or the matching minimal runtime image for Go and Java): " +
		"the work that needs the tools moves to builder stages, and the runtime stage receives " +
		"only the installed dependencies, the build output and the files, settings and " +
		"run-time libraries the original image had. Files that are already multi-stage, " +
		"development targets, unknown ecosystems and stages that mix build and other work in " +
		"one RUN are left as written; a toolchain left in an existing runtime stage is reported.",
	Run: runSplit,
}

// splitKind says what an instruction of the original stage does.
type splitKind int

const (
	splitMeta     splitKind = iota // ARG, ENV, WORKDIR, EXPOSE, CMD, LABEL...
	splitPkgs                      // RUN that only installs OS packages
	splitTool                      // RUN that sets up a package manager (corepack, npm config...)
	splitDeps                      // RUN that installs language dependencies
	splitBuild                     // RUN that builds the application
	splitCopy                      // COPY/ADD from the build context
	splitCopyFrom                  // COPY --from another stage or image
	splitOther                     // RUN doing anything else
	splitMixed                     // RUN mixing build work with other work
	splitNeutral                   // a command that changes nothing relevant (cd, echo, cache cleanup)
)

// splitItem is one instruction of the stage being split.
type splitItem struct {
	in   *dockerfile.Instruction
	lead string // comment and blank lines written before the instruction
	text string // the instruction as written ("\n" line endings)
	kind splitKind
	// cmds are the RUN's commands (nil when the RUN could not be parsed).
	cmds []dockerfile.Command
	// install are the OS package specs the RUN installs and keeps;
	// removed says the RUN also removed packages it installed.
	install []string
	removed bool
	upgrade bool
	// workdir is the working directory the instruction runs in.
	workdir string
	// dest is the absolute destination of a COPY/ADD ("" when unknown).
	dest string
	// srcs are a COPY/ADD's sources.
	srcs []string
	// installs is true when the RUN installs language dependencies (a
	// build RUN may install first).
	installs bool
	// rtPkgs memoizes runtimePkgs (its findings must be reported once).
	rtPkgs *string
}

// splitCtx is the state of one split attempt.
type splitCtx struct {
	p       *Pass
	f       *dockerfile.File
	st      *dockerfile.Stage
	info    facts.StageInfo
	release string
	items   []*splitItem
	// rtFamily and rtRelease describe the runtime image packages are
	// installed into.
	rtFamily  facts.Family
	rtRelease string
	// extraTools are ecosystem-specific build-only packages (python3 for node-gyp).
	extraTools map[string]bool
	nonRoot    bool // a USER before the installs: cache mounts would be unwritable
}

// splitOut is a planner's result: builder stages and the runtime stage.
type splitOut struct {
	builders []string
	runtime  string
	summary  string
}

// splitClassifier classifies one command of a RUN for an ecosystem.
type splitClassifier func(c dockerfile.Command) splitKind

// splitPlanner plans a split for one ecosystem, or reports why not (nil).
type splitPlanner struct {
	classify splitClassifier
	plan     func(c *splitCtx) *splitOut
}

var splitPlanners = map[string]splitPlanner{
	"node":   {splitNodeClassify, splitNode},
	"python": {splitPythonClassify, splitPython},
	"go":     {splitGoClassify, splitGo},
	"java":   {splitJavaClassify, splitJava},
}

// splitEcosystems maps official image names to the ecosystem they build.
var splitEcosystems = map[string]string{
	"node": "node", "python": "python", "pypy": "python", "golang": "go",
	"maven": "java", "gradle": "java", "eclipse-temurin": "java", "openjdk": "java",
	"amazoncorretto": "java", "sapmachine": "java", "ibm-semeru-runtimes": "java",
	"nginx": "static", "nginx-unprivileged": "static", "httpd": "static", "caddy": "static",
	"ruby": "ruby", "php": "php", "rust": "rust", "sdk": "dotnet", "elixir": "elixir",
	"composer": "php", "perl": "perl",
}

func runSplit(p *Pass) {
	for _, st := range p.Runtime() {
		info := facts.Stage(p.File, st, splitArgs(p, st))
		if reason := devReason(p, st); reason != "" {
			p.Report(st.From.Start, "no split: %s", reason)
			continue
		}
		eco := splitEcosystems[info.Image.Base()]
		if !splitStandalone(p.File, st) {
			splitReportLeaks(p, st, info, eco)
			continue
		}
		c := &splitCtx{p: p, f: p.File, st: st, info: info, release: facts.DebianRelease(info.Image.Tag),
			rtFamily: info.Family, extraTools: map[string]bool{}}
		c.rtRelease = c.release
		if eco == "node" {
			c.extraTools = splitNodeTools
		}
		planner, ok := splitPlanners[eco]
		if !ok {
			c.items = splitItems(c, splitGenericClassify)
			switch {
			case eco == "static":
				splitStaticReport(c)
			case eco != "":
				p.Report(st.From.Start, "no split for %s: part 1 rules only", eco)
			case c.hasToolchain():
				p.NeedsHuman(st.From.Start, "no split: %s is not an image the multi-stage split knows; build tools stay in the runtime stage", info.Image.Ref)
			}
			continue
		}
		if _, taken := facts.GlobalArgs(p.File, nil)[splitPlatformArg]; taken && c.constPlatform() {
			p.NeedsHuman(st.From.Start, "no split: the constant --platform would need a global ARG %s, which the file already declares", splitPlatformArg)
			continue
		}
		if strings.Contains(st.Base, "$") && strings.Contains(info.Image.Ref, "$") {
			p.NeedsHuman(st.From.Start, "no split: the base image %q depends on a build argument without a default", st.Base)
			continue
		}
		c.items = splitItems(c, planner.classify)
		if it := c.first(splitMixed); it != nil {
			p.NeedsHuman(it.in.Start, "no split: this RUN mixes building with other work; split it so the build part can move to a builder stage")
			continue
		}
		out := planner.plan(c)
		if out == nil {
			continue
		}
		c.apply(out)
		return // one split per run; the engine re-parses and runs the rule again
	}
}

// splitArgs returns the build args of the services that build st.
func splitArgs(p *Pass, st *dockerfile.Stage) map[string]string {
	for _, s := range splitServices(p, st) {
		return s.Args
	}
	return nil
}

// splitServices returns the compose services that build stage st.
func splitServices(p *Pass, st *dockerfile.Stage) []facts.Service {
	var out []facts.Service
	for _, s := range p.Facts.Services {
		if t := p.File.Target(s.Target); t != nil && t.Index == st.Index {
			out = append(out, s)
		}
	}
	return out
}

// splitStandalone reports whether st is a self-contained stage: built on an
// image, taking nothing from other stages, and not the base of another
// stage. Anything else is already multi-stage and keeps its structure.
func splitStandalone(f *dockerfile.File, st *dockerfile.Stage) bool {
	if st.BaseStage != nil {
		return false
	}
	for _, o := range f.Stages {
		if o.BaseStage == st {
			return false
		}
	}
	for _, in := range st.Instructions {
		for _, from := range splitFromRefs(in) {
			if splitStageRef(f, from) != nil {
				return false
			}
		}
	}
	return true
}

// splitFromRefs returns the --from values of a COPY and the from= values of a RUN's mounts.
func splitFromRefs(in *dockerfile.Instruction) []string {
	out := in.Flag("from")
	for _, m := range in.Flag("mount") {
		for _, kv := range strings.Split(m, ",") {
			if v, ok := strings.CutPrefix(kv, "from="); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// splitStageRef resolves a --from value to a stage of the file (nil for an image).
func splitStageRef(f *dockerfile.File, ref string) *dockerfile.Stage {
	if st := f.Stage(ref); st != nil {
		return st
	}
	var n int
	if _, err := fmt.Sscanf(ref, "%d", &n); err == nil && fmt.Sprint(n) == ref && n < len(f.Stages) {
		return f.Stages[n]
	}
	return nil
}

// splitItems reads the stage's instructions after FROM.
func splitItems(c *splitCtx, classify splitClassifier) []*splitItem {
	var items []*splitItem
	wd := "/"
	prevEnd := c.st.From.End
	for _, in := range c.st.Instructions[1:] {
		it := &splitItem{in: in, lead: splitNorm(strings.Join(c.f.Lines[prevEnd:in.Start-1], "")), text: splitNorm(c.f.Text(in))}
		if !strings.HasSuffix(it.text, "\n") {
			it.text += "\n"
		}
		prevEnd = in.End
		switch in.Cmd {
		case "workdir":
			if len(in.Args) > 0 {
				wd = splitJoin(wd, in.Args[0])
			}
		case "user":
			if len(in.Args) > 0 && !facts.IsRoot(in.Args[0]) {
				c.nonRoot = true
			}
		}
		it.workdir = wd
		switch in.Cmd {
		case "copy", "add":
			it.kind = splitCopy
			if len(in.Flag("from")) > 0 {
				it.kind = splitCopyFrom
			}
			if n := len(in.Args); n >= 2 {
				it.srcs = in.Args[:n-1]
				it.dest = splitJoin(wd, in.Args[n-1])
				if strings.HasSuffix(in.Args[n-1], "/") || in.Args[n-1] == "." {
					it.dest += "/"
				}
			}
		case "run":
			c.classifyRun(it, classify)
		default:
			it.kind = splitMeta
		}
		items = append(items, it)
	}
	return items
}

// splitJoin resolves p against the working directory wd.
func splitJoin(wd, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Clean(wd + "/" + p)
}

// splitNorm converts CRLF text to "\n" line endings (edits are converted back).
func splitNorm(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// splitAssign matches leading VAR=value words of a command, which the
// script parser does not accept; they matter for the build, not for
// classifying it.
var splitAssign = regexp.MustCompile(`(^|&&)(\s*)(?:[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|'[^']*'|[^\s&;|]*)\s+)+`)

// classifyRun sets the kind, commands and OS packages of a RUN.
func (c *splitCtx) classifyRun(it *splitItem, classify splitClassifier) {
	src, ok := it.in.ShellForm()
	if !ok {
		it.kind = splitOther
		if splitMentionsBuild(strings.Join(it.in.Args, " ")) {
			it.kind = splitMixed
		}
		return
	}
	sc, ok := dockerfile.ParseScript(splitAssign.ReplaceAllString(src, "$1$2"))
	if !ok {
		it.kind = splitOther
		if splitMentionsBuild(src) {
			it.kind = splitMixed
		}
		return
	}
	it.cmds = sc.Commands
	has := map[splitKind]bool{}
	var pk splitPkgState
	for _, cmd := range sc.Commands {
		if handled, ok := pk.add(cmd); handled {
			if !ok {
				it.kind = splitMixed
				return
			}
			has[splitPkgs] = true
			continue
		}
		has[classify(cmd)] = true
	}
	it.install, it.removed, it.upgrade = pk.kept(), pk.removedAny, pk.upgrade
	it.installs = has[splitDeps]
	buildTools := len(c.buildOnly(it.install)) > 0
	work := has[splitDeps] || has[splitBuild] || has[splitTool]
	switch {
	case has[splitOther] && (work || buildTools):
		it.kind = splitMixed
	case has[splitBuild]:
		it.kind = splitBuild
	case has[splitDeps]:
		it.kind = splitDeps
	case has[splitTool]:
		it.kind = splitTool
	case has[splitOther]:
		it.kind = splitOther
	case has[splitPkgs]:
		it.kind = splitPkgs
	default:
		it.kind = splitOther
	}
}

// splitMentionsBuild spots build work in a RUN the parser cannot read.
var splitBuildWords = regexp.MustCompile(`\b(npm|yarn|pnpm|pip3?|poetry|pipenv|uv|go|mvn|mvnw|gradle|gradlew|apk|apt-get|apt|make|gcc|tsc)\b`)

func splitMentionsBuild(s string) bool { return splitBuildWords.MatchString(s) }

// splitGenericClassify knows no ecosystem: only OS packages.
func splitGenericClassify(c dockerfile.Command) splitKind { return splitNeutralOr(c, splitOther) }

// splitNeutralOr returns splitNeutral for commands that change nothing the
// split cares about, else def.
func splitNeutralOr(c dockerfile.Command, def splitKind) splitKind {
	switch c.Name() {
	case "cd", "echo", "true", ":", "set":
		return splitNeutral
	case "rm":
		for _, w := range c.Words[1:] {
			if strings.HasPrefix(w, "-") {
				continue
			}
			if !strings.Contains(w, "/.cache") && !strings.Contains(w, "/tmp/") && !strings.HasPrefix(w, "/var/cache/") && !strings.HasPrefix(w, "/var/lib/apt/lists") && w != "/tmp/*" {
				return def
			}
		}
		return splitNeutral
	}
	return def
}

// splitPkgState collects the OS packages a RUN installs and removes.
type splitPkgState struct {
	installed  []string
	virtual    map[string][]string // apk --virtual groups
	removed    map[string]bool
	removedAny bool
	upgrade    bool
}

// splitValueFlags are package-manager flags that take a separate value.
var splitValueFlags = map[string]bool{
	"--virtual": true, "-t": true, "--repository": true, "-X": true, "--root": true, "-p": true,
	"--arch": true, "--keys-dir": true, "--cache-dir": true, "-o": true, "--target-release": true,
	"-c": true, "--setopt": true, "--enablerepo": true, "--disablerepo": true,
}

// add records a package-manager command. handled is false for other
// commands; ok is false when the command cannot be read safely.
func (s *splitPkgState) add(c dockerfile.Command) (handled, ok bool) {
	name := c.Name()
	switch name {
	case "apk", "apt-get", "apt", "dnf", "yum", "microdnf":
	case "rm":
		if splitNeutralOr(c, splitOther) == splitNeutral {
			return false, true
		}
		return false, true
	default:
		return false, true
	}
	if !c.Literal {
		return true, false
	}
	sub := ""
	virtual := ""
	var pkgs []string
	words := c.Words[1:]
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, "-") {
			if splitValueFlags[w] && name != "apk" && w == "-t" {
				i++ // apt -t release
				continue
			}
			if w == "--virtual" || (name == "apk" && w == "-t") {
				if i+1 < len(words) {
					virtual = words[i+1]
				}
				i++
				continue
			}
			if v, ok := strings.CutPrefix(w, "--virtual="); ok {
				virtual = v
				continue
			}
			if splitValueFlags[w] {
				i++
			}
			continue
		}
		if sub == "" {
			sub = w
			continue
		}
		pkgs = append(pkgs, w)
	}
	switch sub {
	case "add", "install", "reinstall":
		if virtual != "" {
			if s.virtual == nil {
				s.virtual = map[string][]string{}
			}
			s.virtual[virtual] = append(s.virtual[virtual], pkgs...)
		}
		s.installed = append(s.installed, pkgs...)
	case "del", "remove", "purge", "autoremove", "erase":
		if s.removed == nil {
			s.removed = map[string]bool{}
		}
		for _, p := range pkgs {
			s.removedAny = true
			s.removed[splitPkgName(p)] = true
			for _, v := range s.virtual[p] {
				s.removed[splitPkgName(v)] = true
			}
		}
	case "upgrade", "dist-upgrade", "full-upgrade":
		s.upgrade = true
	case "update", "clean", "makecache", "cache", "fix", "":
	default:
		return true, false
	}
	return true, true
}

// kept returns the installed specs that the RUN did not remove again.
func (s *splitPkgState) kept() []string {
	var out []string
	for _, p := range s.installed {
		if !s.removed[splitPkgName(p)] {
			out = append(out, p)
		}
	}
	return out
}

// splitPkgName strips a version or architecture from a package spec.
func splitPkgName(spec string) string {
	if i := strings.IndexAny(spec, "=<>~:"); i > 0 {
		return spec[:i]
	}
	return spec
}

// buildOnly returns the specs that are compilers, headers or -dev packages.
func (c *splitCtx) buildOnly(specs []string) []string {
	var out []string
	for _, s := range specs {
		n := splitPkgName(s)
		if facts.IsBuildTool(n) || facts.IsDevPackage(n) || c.extraTools[n] {
			out = append(out, s)
		}
	}
	return out
}

// hasToolchain reports whether the stage keeps a build tool installed.
func (c *splitCtx) hasToolchain() bool {
	for _, it := range c.items {
		if len(c.buildOnly(it.install)) > 0 {
			return true
		}
	}
	return false
}

// first returns the first item of a kind.
func (c *splitCtx) first(k splitKind) *splitItem {
	for _, it := range c.items {
		if it.kind == k {
			return it
		}
	}
	return nil
}

// span returns the indexes of the first and last item matching pred (-1 when none).
func (c *splitCtx) span(pred func(*splitItem) bool) (int, int) {
	first, last := -1, -1
	for i, it := range c.items {
		if pred(it) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// otherBetween returns a RUN doing unrelated work between two builder
// items: it cannot be placed on either side of the split safely.
func (c *splitCtx) otherBetween(first, last int) *splitItem {
	if first < 0 {
		return nil
	}
	for _, it := range c.items[first : last+1] {
		if it.kind == splitOther {
			return it
		}
	}
	return nil
}

// kw writes an instruction keyword in the file's casing.
func (c *splitCtx) kw(k string) string { return keyword(c.f, k) }

// fromLine writes a FROM for a new stage, keeping the original's flags.
func (c *splitCtx) fromLine(image, name string) string {
	parts := []string{c.kw("FROM")}
	parts = append(parts, c.fromFlags()...)
	parts = append(parts, image)
	if name != "" {
		parts = append(parts, c.kw("AS"), name)
	}
	return strings.Join(parts, " ") + "\n"
}

// origFrom returns the original FROM line(s) with the comments before it
// removed (they stay above the first new stage).
func (c *splitCtx) origFrom() string {
	t := splitNorm(c.f.Text(c.st.From))
	if !strings.HasSuffix(t, "\n") {
		t += "\n"
	}
	if c.constPlatform() {
		t = strings.Replace(t, "--platform="+c.st.Platform, "--platform=$"+splitPlatformArg, 1)
	}
	return t
}

// splitPlatformArg is the global ARG that carries a constant --platform to
// every stage derived from the original FROM: BuildKit flags a constant
// platform on each FROM, so repeating it would add warnings.
const splitPlatformArg = "PLATFORM"

// constPlatform reports whether the original FROM has a constant --platform.
func (c *splitCtx) constPlatform() bool {
	return c.st.Platform != "" && !strings.Contains(c.st.Platform, "$")
}

// fromFlags returns the original FROM's flags for a derived stage.
func (c *splitCtx) fromFlags() []string {
	var out []string
	for _, fl := range c.st.From.Flags {
		if c.constPlatform() && strings.HasPrefix(fl, "--platform=") {
			fl = "--platform=$" + splitPlatformArg
		}
		out = append(out, fl)
	}
	return out
}

// stageName returns a name for a new stage that no stage uses yet.
func (c *splitCtx) stageName(want string) string {
	name := want
	for i := 2; c.f.Stage(name) != nil; i++ {
		name = fmt.Sprintf("%s-%d", want, i)
	}
	return name
}

// splitBuilderMeta reports the instructions a builder stage repeats.
func splitBuilderMeta(cmd string) bool {
	switch cmd {
	case "arg", "env", "workdir", "shell", "user":
		return true
	}
	return false
}

// withMounts adds cache mounts to a RUN's text, skipping targets it
// already mounts and all of them when the stage runs as a non-root user.
func (c *splitCtx) withMounts(it *splitItem, targets ...string) string {
	if c.nonRoot {
		return it.text
	}
	have := it.in.CacheMountTargets()
	var flags []string
	for _, t := range targets {
		if !slices.Contains(have, t) {
			flags = append(flags, "--mount=type=cache,target="+t)
		}
	}
	if len(flags) == 0 {
		return it.text
	}
	trimmed := strings.TrimLeft(it.text, " \t")
	indent := it.text[:len(it.text)-len(trimmed)]
	rest := strings.TrimLeft(trimmed[3:], " \t")
	return indent + trimmed[:3] + " " + c.flagLines(flags) + rest
}

// flagLines writes RUN flags one per line, as the other rules do.
func (c *splitCtx) flagLines(flags []string) string {
	var b strings.Builder
	for _, f := range flags {
		b.WriteString(f + " " + string(c.f.Escape) + "\n    ")
	}
	return b.String()
}

// run writes a RUN of one command, its flags on lines of their own.
func (c *splitCtx) run(flags []string, words ...string) string {
	return c.kw("RUN") + " " + c.flagLines(flags) + strings.Join(words, " ") + "\n"
}

// runtimePkgs returns the RUN that installs what a package RUN left in the
// runtime: build tools dropped, -dev packages replaced by their libraries.
// It is the original text when nothing changes and "" when nothing is left.
func (c *splitCtx) runtimePkgs(it *splitItem) string {
	if it.rtPkgs == nil {
		text := c.computeRuntimePkgs(it)
		it.rtPkgs = &text
	}
	return *it.rtPkgs
}

func (c *splitCtx) computeRuntimePkgs(it *splitItem) string {
	if len(it.install) == 0 && !it.upgrade {
		if it.kind == splitPkgs && !it.removed {
			return it.text // update-only or cleanup: keep as written
		}
		return ""
	}
	var keep []string
	changed := it.kind != splitPkgs
	for _, spec := range it.install {
		n := splitPkgName(spec)
		switch {
		case facts.IsBuildTool(n) || c.extraTools[n]:
			changed = true
		case facts.IsDevPackage(n):
			changed = true
			if rt, ok := facts.DevRuntimePackage(c.rtFamily, c.rtRelease, n); ok {
				if !slices.Contains(keep, rt) {
					keep = append(keep, rt)
				}
				continue
			}
			c.p.NeedsHuman(it.in.Start, "no known run-time package for %s on %s; it stays in the runtime stage", n, c.rtFamily)
			keep = append(keep, spec)
		default:
			keep = append(keep, spec)
		}
	}
	if c.rtFamily != c.info.Family || c.rtRelease != c.release {
		changed = true
	}
	if !changed {
		return it.text
	}
	if len(keep) == 0 && !it.upgrade {
		return ""
	}
	return c.installRun(keep, it.upgrade)
}

// installRun writes a clean package install for the runtime family.
func (c *splitCtx) installRun(pkgs []string, upgrade bool) string {
	var cmds []dockerfile.Command
	switch c.rtFamily {
	case facts.Alpine:
		if upgrade {
			cmds = append(cmds, dockerfile.NewCommand("apk", "upgrade", "--no-cache"))
		}
		if len(pkgs) > 0 {
			cmds = append(cmds, dockerfile.NewCommand(append([]string{"apk", "add", "--no-cache"}, pkgs...)...))
		}
	case facts.Debian:
		cmds = append(cmds, dockerfile.NewCommand("apt-get", "update"))
		if upgrade {
			cmds = append(cmds, dockerfile.NewCommand("apt-get", "upgrade", "-y"))
		}
		if len(pkgs) > 0 {
			cmds = append(cmds, dockerfile.NewCommand(append([]string{"apt-get", "install", "--no-install-recommends", "-y"}, pkgs...)...))
		}
		rm := dockerfile.NewCommand("rm", "-rf", "/var/lib/apt/lists/*")
		rm.Src = "rm -rf /var/lib/apt/lists/*"
		cmds = append(cmds, rm)
	case facts.RHEL:
		if len(pkgs) > 0 {
			cmds = append(cmds, dockerfile.NewCommand(append([]string{"dnf", "install", "-y"}, pkgs...)...))
		}
		cmds = append(cmds, dockerfile.NewCommand("dnf", "clean", "all"))
	default:
		return ""
	}
	return dockerfile.RenderRun(c.kw("RUN"), nil, &dockerfile.Script{Commands: cmds}, c.f.Escape)
}

// stageText accumulates the text of one stage.
type stageText struct{ b strings.Builder }

func (s *stageText) add(text string) {
	if text != "" {
		s.b.WriteString(text)
	}
}

// item writes an item's text, with its comments when lead is true.
func (s *stageText) item(it *splitItem, text string, lead bool) {
	if text == "" {
		return
	}
	if lead {
		s.b.WriteString(it.lead)
	}
	s.b.WriteString(text)
}

func (s *stageText) String() string { return s.b.String() }

// apply replaces the stage with the planned stages and renumbers the
// numeric stage references of later stages.
func (c *splitCtx) apply(out *splitOut) {
	text := strings.Join(append(append([]string(nil), out.builders...), out.runtime), "\n")
	if c.constPlatform() {
		arg := c.kw("ARG") + " " + splitPlatformArg + "=" + c.st.Platform + "\n"
		if first := c.f.Stages[0].From; first == c.st.From {
			text = arg + text
		} else {
			c.p.Edit(dockerfile.InsertBefore(first, arg))
		}
	}
	c.p.Edit(dockerfile.Edit{Start: c.st.From.Start, End: c.st.Last().End, Text: text})
	n := len(out.builders)
	for _, later := range c.f.Stages[c.st.Index+1:] {
		for _, in := range later.Instructions {
			if in.Cmd != "copy" && in.Cmd != "run" && in.Cmd != "add" {
				continue
			}
			old := splitNorm(c.f.Text(in))
			renum := splitFromNum.ReplaceAllStringFunc(old, func(m string) string {
				sub := splitFromNum.FindStringSubmatch(m)
				var k int
				fmt.Sscanf(sub[2], "%d", &k)
				if k >= c.st.Index {
					k += n
				}
				return sub[1] + fmt.Sprint(k)
			})
			if renum != old {
				if !strings.HasSuffix(renum, "\n") {
					renum += "\n"
				}
				c.p.Edit(dockerfile.Replace(in, renum))
			}
		}
	}
	c.p.Report(c.st.From.Start, "%s", out.summary)
}

// splitFromNum matches numeric stage references in COPY --from and RUN --mount.
var splitFromNum = regexp.MustCompile(`(--from=|[,=]from=)(\d+)\b`)

// splitReportLeaks reports build tools installed in a runtime stage of a
// file that is already multi-stage.
func splitReportLeaks(p *Pass, st *dockerfile.Stage, info facts.StageInfo, eco string) {
	c := &splitCtx{p: p, f: p.File, st: st, info: info, rtFamily: info.Family, extraTools: map[string]bool{}}
	if eco == "node" {
		c.extraTools = splitNodeTools
	}
	c.items = splitItems(c, splitGenericClassify)
	for _, it := range c.items {
		if tools := c.buildOnly(it.install); len(tools) > 0 {
			p.NeedsHuman(it.in.Start, "the runtime stage installs build tools (%s); move them to a builder stage", strings.Join(tools, ", "))
		}
	}
	if eco == "static" {
		splitStaticReport(c)
	}
}

// entryWords returns the words of the stage's effective ENTRYPOINT and CMD
// (and compose command overrides); ok is false when a shell form cannot be
// read as one plain command.
func (c *splitCtx) entryWords() (entry [][]string, ok bool) {
	var ep, cmd *splitItem
	for _, it := range c.items {
		switch it.in.Cmd {
		case "entrypoint":
			ep = it
		case "cmd":
			cmd = it
		}
	}
	words := func(it *splitItem) ([]string, bool) {
		if it == nil {
			return nil, true
		}
		if it.in.JSON {
			return it.in.Args, true
		}
		src, ok := it.in.ShellForm()
		if !ok {
			return nil, false
		}
		sc, ok := dockerfile.ParseScript(src)
		if !ok || len(sc.Commands) != 1 {
			return nil, false
		}
		return sc.Commands[0].Words, true
	}
	epw, ok1 := words(ep)
	cmdw, ok2 := words(cmd)
	if !ok1 || !ok2 {
		return nil, false
	}
	if ep != nil {
		if ep.in.JSON {
			entry = append(entry, append(append([]string(nil), epw...), cmdw...))
		} else {
			entry = append(entry, epw)
		}
	} else if cmd != nil {
		entry = append(entry, cmdw)
	}
	for _, s := range splitServices(c.p, c.st) {
		if len(s.Command) > 0 {
			if ep != nil {
				entry = append(entry, append(append([]string(nil), epw...), s.Command...))
			} else {
				entry = append(entry, s.Command)
			}
		}
	}
	return entry, true
}

// builderItems adds to a compiled-language builder stage the original
// instructions up to the last build step: builder metadata, the installs and
// builds with cache mounts, other RUNs only before the first build step, and
// everything else (COPY, ENV...) as written.
func (c *splitCtx) builderItems(b *stageText, firstB, lastB int, caches ...string) {
	for i, it := range c.items[:lastB+1] {
		switch it.kind {
		case splitMeta:
			if splitBuilderMeta(it.in.Cmd) {
				b.add(it.text)
			}
		case splitDeps, splitBuild:
			b.item(it, c.withMounts(it, caches...), true)
		case splitOther:
			if i < firstB {
				b.add(it.text)
			}
		default:
			b.add(it.text)
		}
	}
}

package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// MultiStage splits a single build stage that compiles or installs build
// tools into builder stages and a lean runtime stage.
var MultiStage = &Rule{
	ID:    "multi-stage",
	Title: "Build in builder stages and ship a lean runtime stage",
	Doc: "Compilers, header packages, dev dependencies and build inputs are needed to " +
		"produce an application, not to run it; when they sit in the image compose runs, " +
		"they cost size on every pull and give an attacker tools. The stage compose builds is " +
		"rebuilt from the same base (or the matching minimal runtime image for Go and Java): " +
		"the work that needs the tools moves to builder stages, and the runtime stage receives " +
		"only the installed dependencies, the build output and the files, settings and " +
		"run-time libraries the original image had. Files that are already multi-stage, " +
		"development targets, unknown ecosystems, stages that mix build and other work in " +
		"one RUN, and Node, Go and Java images the repository runs its tests in (through " +
		"`docker compose run` or `exec` in a CI workflow, script, Makefile or README) are left " +
		"as written; a toolchain left in an existing runtime stage is reported.",
	After: []string{"maintainer-label", "instruction-casing", "from-as-casing", "workdir-absolute", "add-to-copy", "base-image-tag", "env-key-value", "exec-form"},
	Run:   runSplit,
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
		info := p.Stage(st).Info
		if reason := p.Stage(st).DevelopmentReason(); reason != "" {
			p.Report(st.From.Start, "no split: %s", reason)
			continue
		}
		if name, line := p.Stage(st).SecretVar(); name != "" {
			p.NeedsHuman(line, "no split: %s looks like a secret, and the runtime stage would carry it as the original does; pass it to the build step that needs it with `RUN --mount=type=secret` and the split can go ahead", name)
			continue
		}
		eco := splitEcosystems[info.Image.Base()]
		if !splitStandalone(p, st) {
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
		if ok && eco != "python" {
			// The Python runtime keeps the whole environment and every
			// source; the others keep only what the app runs.
			if ev := p.Facts.TestsInContainer(p.Stage(st).Services); len(ev) > 0 {
				p.Report(st.From.Start, "no split: the tests run inside this image (%s runs `%s` in the container), and a runtime stage with only what the app runs (no build tools, development dependencies or test files) could not run them", ev[0].Where, ev[0].What)
				continue
			}
		}
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

// splitStandalone reports whether st is a self-contained stage: built on an
// image, taking nothing from other stages, and not the base of another
// stage. Anything else is already multi-stage and keeps its structure.
func splitStandalone(p *Pass, st *dockerfile.Stage) bool {
	f := p.File
	if sf := p.Stage(st); len(sf.Chain) > 1 || len(sf.Derived) > 0 {
		return false
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
	for _, m := range in.Mounts() {
		if m.From != "" {
			out = append(out, m.From)
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
				wd = facts.JoinPath(wd, in.Args[0])
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
				it.dest = facts.JoinPath(wd, in.Args[n-1])
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
		sc, ok := it.in.Script()
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
	for _, s := range c.p.Stage(c.st).Services {
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

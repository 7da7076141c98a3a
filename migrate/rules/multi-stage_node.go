package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// splitNodeTools are packages node-gyp needs to compile native modules;
// on a Node image they are build tools.
var splitNodeTools = map[string]bool{"python3": true, "python": true, "py3-pip": true, "py3-setuptools": true, "python3-pip": true}

// splitNodeOutDirs are the directories a build script conventionally writes.
var splitNodeOutDirs = map[string]bool{"dist": true, "build": true, "out": true}

// splitNodeBuildScript matches the names of package.json scripts that build.
var splitNodeBuildScript = regexp.MustCompile(`^(build|compile|bundle|tsc|prebuild|postbuild)(:.*)?$`)

// splitNodeBuildTools are CLIs that build when run directly or via npx.
var splitNodeBuildTools = map[string]bool{"tsc": true, "webpack": true, "vite": true, "rollup": true, "esbuild": true, "next": true, "nest": true, "ng": true, "parcel": true, "babel": true, "swc": true, "tsup": true}

func splitNodeClassify(c dockerfile.Command) splitKind {
	w := c.Words
	sub := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	switch c.Name() {
	case "npm":
		switch sub(1) {
		case "install", "i", "ci", "add":
			for _, x := range w[2:] {
				if x == "-g" || x == "--global" {
					return splitTool
				}
			}
			return splitDeps
		case "run", "run-script":
			if splitNodeBuildScript.MatchString(sub(2)) {
				return splitBuild
			}
		case "config", "set":
			return splitTool
		case "cache", "prune":
			return splitNeutral
		}
	case "yarn":
		switch sub(1) {
		case "", "install":
			return splitDeps
		case "global", "config", "set", "policies":
			return splitTool
		case "cache":
			return splitNeutral
		case "run":
			if splitNodeBuildScript.MatchString(sub(2)) {
				return splitBuild
			}
		default:
			if splitNodeBuildScript.MatchString(sub(1)) {
				return splitBuild
			}
		}
	case "pnpm":
		switch sub(1) {
		case "install", "i", "fetch":
			return splitDeps
		case "config", "setup", "env":
			return splitTool
		case "store", "prune":
			return splitNeutral
		case "run":
			if splitNodeBuildScript.MatchString(sub(2)) {
				return splitBuild
			}
		default:
			if splitNodeBuildScript.MatchString(sub(1)) {
				return splitBuild
			}
		}
	case "corepack":
		return splitTool
	case "npx":
		for _, x := range w[1:] {
			if !strings.HasPrefix(x, "-") {
				if splitNodeBuildTools[x] {
					return splitBuild
				}
				break
			}
		}
	default:
		if splitNodeBuildTools[c.Name()] {
			return splitBuild
		}
	}
	return splitNeutralOr(c, splitOther)
}

// nodeMode is how the runtime gets its files.
type nodeMode int

const (
	nodeSelective nodeMode = iota // node_modules from deps, build output from build
	nodeWhole                     // the whole pruned working dir from build
	nodeDepsOnly                  // no build step: node_modules from deps, sources from the context
)

func splitNode(c *splitCtx) *splitOut {
	p := c.p
	c.extraTools = splitNodeTools
	line := c.st.From.Start
	pm := p.Facts.NodePackageManager()
	if pm == "" || p.Facts.Node == nil {
		p.Report(line, "no split: no package.json in the build context")
		return nil
	}
	builderItem := func(it *splitItem) bool {
		return it.kind == splitDeps || it.kind == splitBuild || len(c.buildOnly(it.install)) > 0
	}
	firstB, lastB := c.span(builderItem)
	hasBuild := c.first(splitBuild) != nil
	deps := c.firstInstall()
	if !hasBuild && !c.hasToolchain() {
		p.Report(line, "no split: no build step or build tools in the stage; the dependency install is left to prod-deps")
		return nil
	}
	if deps == nil {
		p.NeedsHuman(line, "no split: the stage builds or installs build tools but installs no Node dependencies the split can recognise")
		return nil
	}
	var later []*dockerfile.Instruction
	for _, in := range c.st.Find("run") {
		if in.Start > deps.in.Start {
			later = append(later, in)
		}
	}
	if why := p.Stage(c.st).NodeAssetsOnly(later); why != "" {
		p.Report(line, "no split: %s; a production-only install would leave the asset build without its development dependencies", why)
		return nil
	}
	if pm == "yarn" && p.Facts.YarnBerry() {
		p.NeedsHuman(line, "no split: Yarn 2+ has no production-only install the split can rely on")
		return nil
	}
	if it := c.otherBetween(firstB, lastB); it != nil {
		p.NeedsHuman(it.in.Start, "no split: this RUN sits between the install and build steps; it cannot be placed in a builder or the runtime safely")
		return nil
	}
	wd := deps.workdir
	for _, it := range c.items[firstB : lastB+1] {
		if (it.kind == splitDeps || it.kind == splitBuild) && it.workdir != wd {
			p.NeedsHuman(it.in.Start, "no split: dependencies and build run in different directories")
			return nil
		}
	}
	if wd == "/" || strings.Contains(wd, "$") {
		p.NeedsHuman(line, "no split: the install runs in %s; set a WORKDIR for the application first", wd)
		return nil
	}
	refs, prog, known := splitNodeEntry(c, wd)
	if _, dev := p.Facts.Node.DevDependencies[prog]; dev && prog != "" {
		p.NeedsHuman(line, "no split: the container starts %s, a devDependency, which a production install leaves out", prog)
		return nil
	}
	needsWhole := facts.NodeInstallScripts(p.Facts) != ""
	for _, it := range c.items {
		if it.kind == splitDeps && (len(it.install) > 0 || it.removed) {
			needsWhole = true // the toolchain is installed and removed inside the install RUN
		}
	}
	mode := nodeDepsOnly
	outDir := ""
	if hasBuild {
		mode = nodeWhole
		if d := splitNodeOutDir(refs); known && d != "" && !needsWhole {
			mode, outDir = nodeSelective, d
		}
	} else if needsWhole {
		p.NeedsHuman(line, "no split: package.json has install scripts or workspaces, so dependencies cannot be installed from the manifests alone")
		return nil
	}

	major := splitNodeMajor(c.info.Image.Tag)
	manifests := facts.NodeManifests(p.Facts, pm)
	depsName := c.stageName("deps")
	buildName := c.stageName("build")
	depsAt := c.indexOf(deps)
	// With npm, the production node_modules is the full install pruned of
	// its dev dependencies: one install (one download, one run of the OS
	// package installs before it) serves the build and the runtime, and a
	// dependency change re-runs it once instead of twice. When package.json
	// declares no devDependencies the full install is the production one,
	// for every package manager: nothing to prune, and no second install.
	noDev := !facts.NodeHasDevDependencies(p.Facts)
	noDeps := len(p.Facts.Node.Dependencies) == 0
	once := mode == nodeSelective && (pm == "npm" || noDev) && splitNodeInstallOnce(c, deps, depsAt, lastB)
	installName := ""
	if once {
		installName = c.stageName("install")
		if noDev && !noDeps {
			depsName = installName // the runtime copies the install's node_modules as they are
		}
	}
	out := &splitOut{}

	rt := make([]string, len(c.items))
	for i, it := range c.items {
		rt[i] = c.nodeRuntimeText(it, i, mode, outDir, manifests, depsName, buildName, wd, lastB)
	}
	if mode != nodeWhole && !once {
		var s stageText
		s.add(c.fromLine(c.st.Base, depsName))
		for i, it := range c.items {
			if i > depsAt && it.kind != splitTool {
				continue
			}
			switch {
			case it.kind == splitMeta && splitBuilderMeta(it.in.Cmd):
				s.add(it.text)
			case it.kind == splitPkgs, it.kind == splitTool:
				s.add(it.text)
			}
		}
		s.add(c.kw("COPY") + " " + strings.Join(manifests, " ") + " ./\n")
		install := splitNodeInstall(pm, p.Facts.NodeLockfile(), major)
		if p.Facts.Node != nil && len(p.Facts.Node.Dependencies) == 0 {
			// With no production dependency the install creates no
			// node_modules, and the runtime's COPY --from of it would fail.
			install = append(install, "&&", "mkdir", "-p", "node_modules")
		}
		s.add(c.run(c.nodeMounts(pm), install...))
		out.builders = append(out.builders, s.String())
	}
	if mode != nodeDepsOnly {
		// Manifests first: the install layer then survives a source change.
		copyAt := -1
		// The context's node_modules must not overwrite the install: the
		// .dockerignore composeopt writes for a Node build excludes it,
		// unless the user's own file explicitly re-includes it.
		if !needsWhole && deps.kind == splitDeps && facts.NodeInstallWhy(p.Facts) == "" {
			copyAt = splitNodeCopyAllBefore(c, depsAt, wd)
		}
		var s stageText
		if once {
			s.add(c.fromLine(c.st.Base, installName))
		} else {
			s.add(c.fromLine(c.st.Base, buildName))
		}
		args := "" // ARGs of the install stage, declared again in the stages derived from it
		for i, it := range c.items[:lastB+1] {
			if it.kind == splitMeta && !splitBuilderMeta(it.in.Cmd) {
				continue
			}
			if i == copyAt {
				s.add(c.kw("COPY") + " " + strings.Join(manifests, " ") + " ./\n")
				continue
			}
			s.item(it, it.text, rt[i] == "")
			if once && i < depsAt && it.kind == splitMeta && it.in.Cmd == "arg" {
				args += it.text
			}
			if i != depsAt {
				continue
			}
			if once {
				out.builders = append(out.builders, s.String())
				if depsName != installName {
					out.builders = append(out.builders, c.nodePruneStage(installName, depsName, args, pm, major, noDev))
				}
				s = stageText{}
				s.add(c.kw("FROM") + " " + installName + " " + c.kw("AS") + " " + buildName + "\n")
				s.add(args)
			}
			if copyAt >= 0 {
				s.item(c.items[copyAt], c.items[copyAt].text, true)
			}
		}
		if mode == nodeWhole && !noDev {
			s.add(c.run(nil, splitNodePrune(pm, p.Facts.NodeLockfile(), major)...))
		}
		out.builders = append(out.builders, s.String())
	}
	var s stageText
	s.add(c.origFrom())
	for i, it := range c.items {
		s.item(it, rt[i], true)
	}
	out.runtime = s.String()

	switch {
	case once && noDev:
		deps := ""
		if depsName != installName {
			deps = depsName + " (that install, with an empty node_modules if it made none), "
		}
		out.summary = fmt.Sprintf("split into %s (the full install, once: package.json declares no devDependencies, so it is the production install too), %s%s (the build) and a runtime stage with node_modules, %s/ and %s only; the start command references only %s/",
			installName, deps, buildName, outDir, strings.Join(manifests, ", "), outDir)
	case once:
		out.summary = fmt.Sprintf("split into %s (the full install, once), %s (that install with the dev dependencies pruned), %s (the build) and a runtime stage with node_modules, %s/ and %s only; the start command references only %s/",
			installName, depsName, buildName, outDir, strings.Join(manifests, ", "), outDir)
	case mode == nodeSelective:
		out.summary = fmt.Sprintf("split into %s (production dependencies), %s (full install and build) and a runtime stage with node_modules, %s/ and %s only; the start command references only %s/",
			depsName, buildName, outDir, strings.Join(manifests, ", "), outDir)
	case mode == nodeWhole && noDev:
		out.summary = fmt.Sprintf("split into %s (install and build; package.json declares no devDependencies, so there is nothing to prune) and a runtime stage that copies its %s; the start command does not reference only a build output directory, so nothing else is left out", buildName, wd)
	case mode == nodeWhole:
		out.summary = fmt.Sprintf("split into %s (install, build, then prune dev dependencies) and a runtime stage that copies the pruned %s; the start command does not reference only a build output directory, so nothing else is left out", buildName, wd)
	default:
		out.summary = fmt.Sprintf("split into %s (build tools and production dependencies) and a runtime stage without build tools", depsName)
	}
	return out
}

// splitNodeInstallOnce reports whether the runtime's production
// dependencies can be the build's install (pruned of its dev dependencies
// when there are any, which the caller allows only for npm, whose prune
// works offline from the lockfile and the installed tree): the install is
// a RUN of its own that no later install before the build adds to.
func splitNodeInstallOnce(c *splitCtx, deps *splitItem, depsAt, lastB int) bool {
	if deps.kind != splitDeps || depsAt < 0 {
		return false
	}
	for _, it := range c.items[depsAt+1 : lastB+1] {
		if it.installs || it.kind == splitDeps {
			return false
		}
	}
	return true
}

// nodePruneStage is the production dependencies stage derived from the
// install stage: the same node_modules with the dev dependencies removed
// (noDev: package.json declares none, so nothing is pruned).
func (c *splitCtx) nodePruneStage(installName, depsName, args, pm string, major int, noDev bool) string {
	var prune []string
	if !noDev {
		prune = splitNodePrune(pm, c.p.Facts.NodeLockfile(), major)
	}
	if c.p.Facts.Node != nil && len(c.p.Facts.Node.Dependencies) == 0 {
		// An install of nothing but dev dependencies (or of nothing) may
		// leave no node_modules, and the runtime's COPY --from of it
		// would fail.
		if len(prune) > 0 {
			prune = append(prune, "&&")
		}
		prune = append(prune, "mkdir", "-p", "node_modules")
	}
	return c.kw("FROM") + " " + installName + " " + c.kw("AS") + " " + depsName + "\n" + args + c.run(nil, prune...)
}

// indexOf returns the item's index.
func (c *splitCtx) indexOf(it *splitItem) int {
	for i, x := range c.items {
		if x == it {
			return i
		}
	}
	return -1
}

// nodeRuntimeText returns what item i becomes in the runtime stage.
func (c *splitCtx) nodeRuntimeText(it *splitItem, i int, mode nodeMode, outDir string, manifests []string, depsName, buildName, wd string, lastB int) string {
	underWD := it.dest != "" && (it.dest == wd+"/" || strings.HasPrefix(it.dest, wd+"/") || it.dest == wd)
	switch it.kind {
	case splitMeta, splitTool, splitOther, splitCopyFrom:
		return it.text
	case splitPkgs:
		return c.runtimePkgs(it)
	case splitCopy:
		if mode == nodeDepsOnly || !underWD {
			return it.text
		}
		if mode == nodeSelective && c.firstCopyInto(wd) == it {
			return c.kw("COPY") + " " + strings.Join(manifests, " ") + " ./\n"
		}
		if mode == nodeWhole && i > lastB {
			return it.text // copied after the build: part of the runtime as written
		}
		return ""
	case splitDeps, splitBuild:
		text := c.runtimePkgs(it)
		if mode != nodeWhole && it.installs && c.firstInstall() == it {
			text += c.kw("COPY") + " --from=" + depsName + " " + wd + "/node_modules ./node_modules\n"
		}
		if mode == nodeSelective && c.lastOf(splitBuild) == it {
			text += c.kw("COPY") + " --from=" + buildName + " " + wd + "/" + outDir + " ./" + outDir + "\n"
		}
		if mode == nodeWhole && i == lastB {
			text += c.kw("COPY") + " --from=" + buildName + " " + wd + " " + wd + "\n"
		}
		return text
	}
	return it.text
}

// firstInstall returns the first RUN that installs language dependencies.
func (c *splitCtx) firstInstall() *splitItem {
	for _, it := range c.items {
		if it.installs {
			return it
		}
	}
	return nil
}

// firstCopyInto returns the first context COPY into the working dir.
func (c *splitCtx) firstCopyInto(wd string) *splitItem {
	for _, it := range c.items {
		if it.kind == splitCopy && (it.dest == wd+"/" || it.dest == wd || strings.HasPrefix(it.dest, wd+"/")) {
			return it
		}
	}
	return nil
}

// lastOf returns the last item of a kind.
func (c *splitCtx) lastOf(k splitKind) *splitItem {
	var last *splitItem
	for _, it := range c.items {
		if it.kind == k {
			last = it
		}
	}
	return last
}

// nodeMounts returns the cache mount of the package manager's download cache.
func (c *splitCtx) nodeMounts(pm string) []string {
	if c.nonRoot {
		return nil
	}
	target := map[string]string{"npm": "/root/.npm", "yarn": "/usr/local/share/.cache/yarn", "pnpm": "/root/.local/share/pnpm/store"}[pm]
	return []string{"--mount=type=cache,target=" + target}
}

// splitNodeInstall is the production-only install command.
func splitNodeInstall(pm string, lock bool, major int) []string {
	switch pm {
	case "yarn":
		if lock {
			return []string{"yarn", "install", "--frozen-lockfile", "--production"}
		}
		return []string{"yarn", "install", "--production"}
	case "pnpm":
		if lock {
			return []string{"pnpm", "install", "--frozen-lockfile", "--prod"}
		}
		return []string{"pnpm", "install", "--prod"}
	}
	omit := "--omit=dev"
	if major > 0 && major < 16 {
		omit = "--only=production" // npm 6 and older
	}
	if lock {
		return []string{"npm", "ci", omit}
	}
	return []string{"npm", "install", omit}
}

// splitNodePrune removes dev dependencies from a full install.
func splitNodePrune(pm string, lock bool, major int) []string {
	switch pm {
	case "yarn":
		cmd := []string{"yarn", "install", "--production", "--ignore-scripts", "--prefer-offline"}
		if lock {
			cmd = append(cmd, "--frozen-lockfile")
		}
		return cmd
	case "pnpm":
		return []string{"pnpm", "prune", "--prod"}
	}
	if major > 0 && major < 16 {
		return []string{"npm", "prune", "--production"}
	}
	return []string{"npm", "prune", "--omit=dev"}
}

// splitNodeMajor returns the Node major version of an image tag (0 = unknown).
func splitNodeMajor(tag string) int {
	digits := tag
	if i := strings.IndexFunc(tag, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		digits = tag[:i]
	}
	n, _ := strconv.Atoi(digits)
	return n
}

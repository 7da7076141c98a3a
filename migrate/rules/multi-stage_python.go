package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// splitVenv is where the builder installs the application's dependencies.
const splitVenv = "/opt/venv"

// splitPythonCaches are the download caches of the Python installers.
var splitPythonCaches = map[string]string{
	"pip": "/root/.cache/pip", "poetry": "/root/.cache/pypoetry", "pipenv": "/root/.cache/pipenv", "uv": "/root/.cache/uv",
}

// splitPythonInstaller returns the installer a command runs ("" for none).
func splitPythonInstaller(c dockerfile.Command) string {
	w := c.Words
	switch {
	case c.Name() == "pip" || c.Name() == "pip3" || strings.HasPrefix(c.Name(), "pip3."):
		return "pip"
	case (strings.HasPrefix(c.Name(), "python") || c.Name() == "pypy3") && len(w) > 2 && w[1] == "-m":
		switch w[2] {
		case "pip":
			return "pip"
		case "poetry", "pipenv", "uv":
			return w[2]
		}
	case c.Name() == "poetry" || c.Name() == "pipenv" || c.Name() == "uv":
		return c.Name()
	}
	return ""
}

func splitPythonClassify(c dockerfile.Command) splitKind {
	inst := splitPythonInstaller(c)
	sub := ""
	for _, w := range c.Words[1:] {
		if !strings.HasPrefix(w, "-") && w != "pip" && w != "poetry" && w != "pipenv" && w != "uv" {
			sub = w
			break
		}
	}
	switch inst {
	case "pip":
		switch sub {
		case "install":
			return splitDeps
		case "config":
			return splitTool
		case "cache":
			return splitNeutral
		}
		return splitOther
	case "poetry", "pipenv", "uv":
		switch sub {
		case "install", "sync", "config", "lock", "export", "self", "venv":
			return splitDeps
		case "cache":
			return splitNeutral
		}
		return splitOther
	}
	if (strings.HasPrefix(c.Name(), "python") || c.Name() == "pypy3") && len(c.Words) > 2 && strings.HasSuffix(c.Words[1], "setup.py") && c.Words[2] == "install" {
		return splitDeps
	}
	return splitNeutralOr(c, splitOther)
}

// splitPythonBadFlags are pip options that install outside the venv.
var splitPythonBadFlags = []string{"--target", "-t", "--prefix", "--root", "--user"}

func splitPython(c *splitCtx) *splitOut {
	p := c.p
	line := c.st.From.Start
	if !strings.HasPrefix(c.info.Image.Base(), "python") && c.info.Image.Base() != "pypy" {
		p.Report(line, "no split: only official python images are split")
		return nil
	}
	firstD, lastD := c.span(func(it *splitItem) bool { return it.kind == splitDeps })
	if firstD < 0 {
		if c.hasToolchain() {
			p.NeedsHuman(line, "no split: build tools are installed but no Python dependency install was recognised")
		}
		return nil
	}
	if it := c.otherBetween(firstD, lastD); it != nil {
		p.NeedsHuman(it.in.Start, "no split: this RUN sits between dependency installs; it cannot be placed in a builder or the runtime safely")
		return nil
	}
	if it := c.first(splitBuild); it != nil {
		p.NeedsHuman(it.in.Start, "no split: a Python build step whose output lands outside the virtual env")
		return nil
	}
	for _, it := range c.items[firstD : lastD+1] {
		for _, cmd := range it.cmds {
			if splitPythonInstaller(cmd) == "" {
				continue
			}
			for _, w := range cmd.Words {
				flag, _, _ := strings.Cut(w, "=")
				if slices.Contains(splitPythonBadFlags, flag) {
					p.NeedsHuman(it.in.Start, "no split: %s installs outside a virtual env; drop it so the builder can install into %s", flag, splitVenv)
					return nil
				}
			}
		}
	}
	if entries, ok := c.entryWords(); ok {
		for _, e := range entries {
			if len(e) > 0 && strings.HasPrefix(e[0], "/usr/local/bin/") && !strings.HasPrefix(path.Base(e[0]), "python") {
				p.NeedsHuman(line, "no split: the start command runs %s, which the install puts there only outside a virtual env", e[0])
				return nil
			}
		}
	}
	mgr := p.Facts.PythonManager()
	builder := c.stageName("builder")
	venvEnv := c.kw("ENV") + " VIRTUAL_ENV=" + splitVenv + " PATH=\"" + splitVenv + "/bin:$PATH\"\n"

	// Builder: the original up to the last install, with the venv created
	// before the first COPY or install and cache mounts on the installs.
	var b stageText
	b.add(c.fromLine(c.st.Base, builder))
	narrowAt, narrowText := splitPythonNarrowCopy(c, firstD, lastD)
	venvDone := false
	for i, it := range c.items[:lastD+1] {
		if !venvDone && (it.kind == splitCopy || it.kind == splitCopyFrom || it.kind == splitDeps || it.kind == splitTool) {
			b.add(c.run(nil, "python", "-m", "venv", splitVenv))
			env := strings.TrimSuffix(venvEnv, "\n")
			if mgr == "uv" {
				env += " UV_PROJECT_ENVIRONMENT=" + splitVenv
			}
			b.add(env + "\n")
			venvDone = true
		}
		switch it.kind {
		case splitMeta:
			if splitBuilderMeta(it.in.Cmd) {
				b.add(it.text)
			}
		case splitDeps, splitTool:
			b.item(it, c.withMounts(it, c.pythonMounts(it)...), true)
		case splitPkgs:
			b.item(it, it.text, c.runtimePkgs(it) == "")
		case splitCopy, splitCopyFrom:
			if i == narrowAt {
				b.add(narrowText)
			} else {
				b.add(it.text)
			}
		case splitOther:
			if i < firstD {
				b.add(it.text)
			}
		}
	}

	// Runtime: the original with the installs replaced by the venv. When
	// the original copies the whole context before installing, the venv is
	// copied before that COPY, so that a change to the sources reuses the
	// venv layer instead of copying it again (it holds nothing of the
	// context).
	venvCopy := c.kw("COPY") + " --from=" + builder + " " + splitVenv + " " + splitVenv + "\n" + venvEnv
	venvAt := firstD
	for i, it := range c.items[:firstD] {
		if it.kind == splitCopy && slices.ContainsFunc(it.srcs, func(src string) bool { return path.Clean(src) == "." }) {
			venvAt = i
			break
		}
	}
	var r stageText
	r.add(c.origFrom())
	for i, it := range c.items {
		if i == venvAt && venvAt < firstD {
			r.add(venvCopy)
		}
		switch it.kind {
		case splitPkgs:
			r.item(it, c.runtimePkgs(it), true)
		case splitDeps, splitTool:
			text := c.runtimePkgs(it)
			if i == firstD && venvAt == firstD {
				text += venvCopy
			}
			r.item(it, text, false)
		default:
			r.item(it, it.text, true)
		}
	}
	return &splitOut{
		builders: []string{b.String()},
		runtime:  r.String(),
		summary: fmt.Sprintf("split into %s (build tools, dependencies installed into the virtual env %s) and a runtime stage that copies the env and keeps only run-time libraries",
			builder, splitVenv),
	}
}

// pythonMounts returns the cache mounts for the installers a RUN uses.
func (c *splitCtx) pythonMounts(it *splitItem) []string {
	var out []string
	for _, cmd := range it.cmds {
		inst := splitPythonInstaller(cmd)
		if t := splitPythonCaches[inst]; t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
		if inst == "pipenv" && !slices.Contains(out, splitPythonCaches["pip"]) {
			out = append(out, splitPythonCaches["pip"])
		}
	}
	return out
}

// splitPythonNarrowCopy finds the `COPY . DEST` that feeds the builder's
// pip installs and, when those installs read only requirement files that
// name packages from an index (no local paths, editable installs or nested
// files), returns its index and a COPY of just those files. Then a change to
// the application's sources no longer re-runs the installs on rebuild; the
// runtime still copies the whole context as the original did. It returns
// -1 whenever the requirements might need other files of the context.
func splitPythonNarrowCopy(c *splitCtx, firstD, lastD int) (int, string) {
	at := -1
	for i, it := range c.items[:firstD] {
		if it.kind != splitCopy {
			continue
		}
		if at >= 0 || it.in.Cmd != "copy" || len(it.in.Args) != 2 || it.in.Args[0] != "." || len(it.in.Flags) > 0 {
			return -1, ""
		}
		at = i
	}
	if at < 0 {
		return -1, ""
	}
	var files, dirs []string
	for _, it := range c.items[firstD : lastD+1] {
		if it.kind != splitDeps {
			continue
		}
		if it.cmds == nil {
			return -1, ""
		}
		for _, cmd := range it.cmds {
			switch splitPythonInstaller(cmd) {
			case "":
				continue
			case "pip":
			default:
				return -1, ""
			}
			in, ok := facts.InstallInputs(c.p.Facts, cmd)
			if !ok || in.Why != "" {
				return -1, ""
			}
			for _, r := range in.Files {
				if !slices.Contains(files, r) {
					files = append(files, r)
				}
			}
			for _, d := range in.Dirs {
				if !slices.Contains(dirs, d) {
					dirs = append(dirs, d)
				}
			}
		}
	}
	if len(files) == 0 {
		return -1, ""
	}
	dest := c.items[at].in.Args[1]
	if !strings.HasSuffix(dest, "/") {
		dest += "/"
	}
	text := c.kw("COPY") + " " + strings.Join(files, " ") + " " + dest + "\n"
	for _, d := range dirs {
		text += c.kw("COPY") + " " + d + " " + dest + d + "/\n"
	}
	return at, text
}

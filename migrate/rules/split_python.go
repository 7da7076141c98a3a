package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
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
			b.add(it.text)
		case splitOther:
			if i < firstD {
				b.add(it.text)
			}
		}
	}

	// Runtime: the original with the installs replaced by the venv.
	var r stageText
	r.add(c.origFrom())
	for i, it := range c.items {
		switch it.kind {
		case splitPkgs:
			r.item(it, c.runtimePkgs(it), true)
		case splitDeps, splitTool:
			text := c.runtimePkgs(it)
			if i == firstD {
				text += c.kw("COPY") + " --from=" + builder + " " + splitVenv + " " + splitVenv + "\n" + venvEnv
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

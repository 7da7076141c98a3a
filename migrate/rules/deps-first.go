package rules

import (
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// DepsFirst copies the dependency manifests before the install and the
// rest of the context after it.
var DepsFirst = &Rule{
	ID:    "deps-first",
	Title: "Install dependencies before copying the sources",
	Doc: "BuildKit reuses a layer only while everything before it is unchanged, so a `COPY . .` " +
		"ahead of `npm ci`, `pip install -r requirements.txt`, `go mod download`, `bundle install` or " +
		"`composer install` makes every edit of a source file download and install all the " +
		"dependencies again. The rule copies the manifests and lock files the install reads first, " +
		"runs the install, and copies the rest of the context after it; an install RUN that goes on " +
		"with other commands (a build) is split after the install. It acts only when the install " +
		"reads nothing else, as decided from the context: no install scripts or workspaces in " +
		"package.json, no dependency installed from a local path, a requirements file that names " +
		"only index packages or self-contained package folders, no `poetry install` without " +
		"--no-root, no local replace in go.mod, no gemspec or path gems, no composer scripts or " +
		"classmap autoloading, manifests the .dockerignore lets in. The copy must go into the " +
		"install's working directory with nothing between them but metadata and RUNs that only " +
		"install distribution packages. Development stages " +
		"and stages the multi-stage split already ordered are left alone; where the install needs " +
		"more, the finding says what.",
	After: []string{"multi-stage"},
	Run:   runDepsFirst,
}

func runDepsFirst(p *Pass) {
	for _, st := range p.File.Stages {
		if p.Stage(st).DevelopmentReason() != "" {
			continue
		}
		depsFirstStage(p, st)
	}
}

// depsFirstMeta are instructions that may sit between the COPY and the
// install: they read no file (a WORKDIR may move the install, which must
// then run where the context was copied).
func depsFirstMeta(cmd string) bool {
	switch cmd {
	case "env", "arg", "label", "expose", "stopsignal", "maintainer", "workdir":
		return true
	}
	return false
}

func depsFirstStage(p *Pass, st *dockerfile.Stage) {
	sf := p.Stage(st)
	ins := st.Instructions
	for i, cp := range ins {
		if cp.Cmd != "copy" || len(cp.Args) != 2 || len(cp.Heredocs) > 0 || strings.TrimSuffix(cp.Args[0], "/") != "." && cp.Args[0] != "./" {
			continue
		}
		if cp.HasFlag("from") || cp.HasFlag("parents") || cp.HasFlag("exclude") {
			continue
		}
		// The install: the first instruction after the COPY that is not
		// metadata, a RUN in the directory the context was copied into.
		j := i + 1
		for j < len(ins) && (depsFirstMeta(ins[j].Cmd) || depsFirstSystemRun(ins[j])) {
			j++
		}
		if j == len(ins) || ins[j].Cmd != "run" {
			return
		}
		run := ins[j]
		dest := facts.JoinPath(sf.Workdir(cp), cp.Args[1])
		if sf.Workdir(run) != dest || strings.Contains(dest, "$") {
			return
		}
		sc, ok := run.Script()
		if !ok || len(sc.Commands) == 0 {
			return
		}
		var inputs []facts.InstallInput
		for _, c := range sc.Commands {
			in, ok := facts.InstallInputs(p.Facts, c)
			if !ok {
				break
			}
			if in.Why != "" {
				if len(inputs) > 0 {
					break // it runs after the sources are copied, as before
				}
				if depsFirstCopiedBefore(ins[:i]) {
					return // the manifests were copied first already: the install needs more
				}
				p.Report(cp.Start, "the context is copied before `%s` as written: the install reads more than its manifests (%s)", c.Src, in.Why)
				return
			}
			inputs = append(inputs, in)
		}
		if len(inputs) == 0 {
			return
		}
		files, dirs, why := depsFirstInputs(p.Facts, inputs)
		if why != "" {
			p.Report(cp.Start, "the context is copied before the install as written: %s", why)
			return
		}
		if len(inputs) < len(sc.Commands) && !depsFirstSplittable(run) {
			p.Report(run.Start, "the context is copied before the install as written: the install shares its RUN with later commands, and the RUN's flags or mounts may serve them too")
			return
		}
		p.Edit(dockerfile.Replace(cp, depsFirstCopies(p.File, cp, files, dirs)))
		rest := p.File.Text(cp)
		if !strings.HasSuffix(rest, "\n") {
			rest += "\n"
		}
		if len(inputs) < len(sc.Commands) {
			install := &dockerfile.Script{Commands: sc.Commands[:len(inputs)]}
			after := &dockerfile.Script{Commands: sc.Commands[len(inputs):]}
			p.Edit(dockerfile.Replace(run, p.File.RewriteRun(run, run.Flags, install)+rest+
				dockerfile.RenderRun(p.File.Keyword("run"), nil, after, p.File.Escape)))
		} else {
			if !strings.HasSuffix(p.File.Lines[run.End-1], "\n") {
				rest = "\n" + rest // the RUN ends the file without a newline
			}
			p.Edit(dockerfile.InsertAfter(run, rest))
		}
		var tools []string
		for _, in := range inputs {
			if !slices.Contains(tools, in.Tool) {
				tools = append(tools, in.Tool)
			}
		}
		p.Report(cp.Start, "%s now runs after copying only %s, and the rest of the context is copied after it, so a source change no longer re-runs the install",
			strings.Join(tools, " and "), strings.Join(append(slices.Clone(files), dirs...), ", "))
		return
	}
}

// depsFirstInputs merges what the installs read, without the files the
// .dockerignore excludes (COPY . . skipped them; naming one would fail the
// build), and says why the order must stay when a manifest an install
// needs is excluded.
func depsFirstInputs(b *facts.Build, inputs []facts.InstallInput) (files, dirs []string, why string) {
	for _, in := range inputs {
		if len(in.Files) == 0 {
			return nil, nil, in.Tool + " reads no manifest the context has"
		}
		for i, f := range in.Files {
			if !b.Has(f) {
				return nil, nil, "the context has no " + f + " at its root"
			}
			if facts.Ignored(b, f) {
				if i == 0 {
					return nil, nil, "the .dockerignore excludes " + f
				}
				continue
			}
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
		for _, d := range in.Dirs {
			if facts.Ignored(b, d) {
				return nil, nil, "the .dockerignore excludes " + d
			}
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return files, dirs, ""
}

// depsFirstSplittable reports whether a RUN can be cut after its install:
// no flags (a mount or network setting may serve the later commands) and
// no heredoc.
func depsFirstSplittable(run *dockerfile.Instruction) bool {
	return len(run.Flags) == 0 && len(run.Heredocs) == 0
}

// depsFirstCopies renders the COPYs of the manifests and local package
// folders, with the flags of the COPY they come from.
func depsFirstCopies(f *dockerfile.File, cp *dockerfile.Instruction, files, dirs []string) string {
	kw, _, _ := f.WrittenKeyword(cp)
	if kw == "" {
		kw = f.Keyword("copy")
	}
	flags := ""
	for _, fl := range cp.Flags {
		flags += fl + " "
	}
	dest := dockerfile.DirDest(cp.Args[1])
	text := kw + " " + flags + strings.Join(files, " ") + " " + dest + "\n"
	for _, d := range dirs {
		text += kw + " " + flags + d + " " + dest + d + "/\n"
	}
	return text
}

// depsFirstCopiedBefore reports whether some context files are copied
// before the instruction list ends (the manifests, typically).
func depsFirstCopiedBefore(ins []*dockerfile.Instruction) bool {
	for _, in := range ins {
		if in.Cmd == "copy" && !in.HasFlag("from") {
			return true
		}
	}
	return false
}

// depsFirstSystemRun reports a RUN that only installs distribution
// packages (facts.ReadsNoContext): it reads nothing of the context, so it
// may stay between the manifests and the install.
func depsFirstSystemRun(in *dockerfile.Instruction) bool {
	if in.Cmd != "run" {
		return false
	}
	for _, m := range in.Mounts() {
		if m.Type == "bind" {
			return false // a bind mount may read the context
		}
	}
	sc, ok := in.Script()
	if !ok || len(sc.Commands) == 0 {
		return false
	}
	for _, c := range sc.Commands {
		if !facts.ReadsNoContext(c) {
			return false
		}
	}
	return true
}

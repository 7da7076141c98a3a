package rules

import (
	"path"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// PkgCache keeps package-manager caches and indexes out of image layers.
var PkgCache = &Rule{
	ID:    "pkg-cache",
	Title: "Leave no package-manager cache in the image",
	Doc: "Package indexes and downloaded archives are only needed while packages " +
		"install; left in a layer they add megabytes to every pull and can never be " +
		"removed by a later RUN. apk gets --no-cache; apt-get refreshes its index, installs " +
		"with -y --no-install-recommends and deletes /var/lib/apt/lists in the same RUN; " +
		"dnf, yum and microdnf end with `clean all`. A RUN that mounts the cache directory " +
		"as a BuildKit cache is left alone, since the mount already keeps it out of the image.",
	After: []string{"multi-stage", "prod-deps"},
	Run:   runPkgCache,
}

func runPkgCache(p *Pass) {
	for _, st := range p.File.Stages {
		runs := st.Find("run")
		for i, in := range runs {
			if len(in.Heredocs) > 0 {
				if text, ok := pkgCacheHeredoc(p.File, in); ok {
					p.Edit(dockerfile.Replace(in, text))
				}
				continue
			}
			if text, ok := pkgCacheShellC(p.File, in); ok {
				p.Edit(dockerfile.Replace(in, text))
				continue
			}
			sc, ok := in.Script()
			if !ok {
				continue
			}
			mounts := in.CacheMountTargets()
			// An index refresh alone in its RUN leaves the index in a layer.
			// It can go when every later use of the package manager (in this
			// stage and the stages built on it) is a RUN this rule rewrites,
			// since each rewritten install refreshes the index itself.
			later := append(runs[i+1:len(runs):len(runs)], p.Stage(st).DerivedRuns()...)
			if isOnly(sc, "apt-get", "update") && len(mounts) == 0 && allRewritable(later, "apt") {
				p.Edit(dockerfile.Replace(in, ""))
				continue
			}
			if isOnly(sc, "apk", "update") && allRewritable(later, "apk") {
				p.Edit(dockerfile.Replace(in, ""))
				continue
			}
			changed := fixApk(sc, mounts)
			changed = fixAptGet(sc, mounts) || changed
			changed = fixRPM(sc, mounts) || changed
			if changed {
				p.Edit(dockerfile.Replace(in, p.File.RewriteRun(in, in.Flags, sc)))
			}
		}
	}
}

func isOnly(sc *dockerfile.Script, name, sub string) bool {
	return len(sc.Commands) == 1 && sc.Commands[0].Name() == name && slices.Contains(sc.Commands[0].Words[1:], sub) && len(dockerfile.NonFlags(sc.Commands[0].Words[1:])) == 1
}

// allRewritable reports whether every RUN that mentions tool is a plain
// shell-form script this rule can parse (and so refresh the index in).
func allRewritable(runs []*dockerfile.Instruction, tool string) bool {
	for _, in := range runs {
		if !strings.Contains(strings.Join(in.Args, " "), tool) {
			continue
		}
		if _, ok := in.Script(); !ok {
			return false
		}
	}
	return true
}

// fixApk adds --no-cache to apk add and drops what it makes useless.
func fixApk(sc *dockerfile.Script, mounts []string) bool {
	if dockerfile.UnderAny(mounts, "/var/cache/apk") || dockerfile.UnderAny(mounts, "/etc/apk/cache") {
		return false
	}
	hasAdd := false
	for _, c := range sc.Commands {
		if c.Name() == "apk" && c.Subcommand() == "add" && c.Literal {
			hasAdd = true
		}
	}
	if !hasAdd {
		return false
	}
	changed := false
	var out []dockerfile.Command
	for _, c := range sc.Commands {
		switch {
		case c.Name() == "apk" && c.Subcommand() == "update" && len(dockerfile.NonFlags(c.Words[1:])) == 1:
			changed = true
			continue
		case c.RemovesUnder("/var/cache/apk"):
			changed = true
			continue
		case c.Name() == "apk" && c.Subcommand() == "add" && c.Literal:
			words := []string{"apk"}
			hasNoCache := false
			for _, w := range c.Words[1:] {
				switch w {
				case "--update", "-U", "--update-cache":
					changed = true
					continue
				case "--no-cache":
					hasNoCache = true
				}
				words = append(words, w)
			}
			if !hasNoCache {
				words = insertAfter(words, "add", "--no-cache")
				changed = true
			}
			if changed {
				c = dockerfile.NewCommand(words...)
			}
		}
		out = append(out, c)
	}
	sc.Commands = out
	return changed
}

func insertAfter(words []string, after, w string) []string {
	i := slices.Index(words, after)
	if i < 0 {
		return append(words, w)
	}
	return slices.Insert(words, i+1, w)
}

// fixAptGet makes apt-get installs non-interactive, lean and cache-free.
func fixAptGet(sc *dockerfile.Script, mounts []string) bool {
	install := -1
	update := -1
	for i, c := range sc.Commands {
		if c.Name() != "apt-get" {
			continue
		}
		switch c.Subcommand() {
		case "install":
			if install < 0 {
				install = i
			}
		case "update":
			if update < 0 {
				update = i
			}
		}
	}
	if install < 0 {
		return false
	}
	changed := false
	for i, c := range sc.Commands {
		if c.Name() != "apt-get" || c.Subcommand() != "install" || !c.Literal {
			continue
		}
		words := c.Words
		if !slices.ContainsFunc(words, isAssumeYes) {
			words = insertAfter(words, "install", "-y")
		}
		if !slices.Contains(words, "--no-install-recommends") {
			words = insertAfter(words, "install", "--no-install-recommends")
		}
		if len(words) != len(c.Words) {
			sc.Commands[i] = dockerfile.NewCommand(words...)
			changed = true
		}
	}
	listsMounted := dockerfile.UnderAny(mounts, "/var/lib/apt/lists") || dockerfile.UnderAny(mounts, "/var/lib/apt")
	if update < 0 || update > install {
		upd := dockerfile.NewCommand("apt-get", "update")
		sc.Commands = slices.Insert(sc.Commands, install, upd)
		changed = true
	}
	if !listsMounted && !slices.ContainsFunc(sc.Commands, func(c dockerfile.Command) bool { return c.RemovesUnder("/var/lib/apt/lists") }) {
		sc.Commands = append(sc.Commands, dockerfile.NewCommand("rm", "-rf", "/var/lib/apt/lists/*"))
		sc.Commands[len(sc.Commands)-1].Src = "rm -rf /var/lib/apt/lists/*"
		changed = true
	}
	return changed
}

func isAssumeYes(w string) bool {
	switch w {
	case "-y", "--yes", "--assume-yes", "-qq", "-yq", "-qy":
		return true
	}
	return false
}

// fixRPM ends dnf/yum/microdnf installs with `clean all`.
func fixRPM(sc *dockerfile.Script, mounts []string) bool {
	if dockerfile.UnderAny(mounts, "/var/cache/dnf") || dockerfile.UnderAny(mounts, "/var/cache/yum") {
		return false
	}
	tool := ""
	for _, c := range sc.Commands {
		switch c.Name() {
		case "dnf", "yum", "microdnf":
			if c.Subcommand() == "install" {
				tool = c.Name()
			}
			if c.Subcommand() == "clean" {
				return false
			}
		}
	}
	if tool == "" {
		return false
	}
	sc.Commands = append(sc.Commands, dockerfile.NewCommand(tool, "clean", "all"))
	return true
}

// pkgCacheHeredoc rewrites the package-manager lines of a RUN whose script
// is a heredoc (`RUN <<EOT` ... `EOT`). Each line is fixed on its own and
// keeps its place, so the script's exit status still comes from the same
// lines: an index clean-up is chained to its install with &&, never added
// as a line of its own that would hide a failed install. A line that
// mentions a package manager but is not a plain && chain leaves the whole
// RUN alone.
func pkgCacheHeredoc(f *dockerfile.File, in *dockerfile.Instruction) (string, bool) {
	if len(in.Heredocs) != 1 || in.End-in.Start < 2 {
		return "", false
	}
	first := strings.Fields(strings.TrimSpace(f.Lines[in.Start-1]))
	if len(first) < 2 || !strings.HasPrefix(first[len(first)-1], "<<") {
		return "", false // the heredoc is not the script itself (e.g. `RUN cat <<EOT > file`)
	}
	for _, w := range first[1 : len(first)-1] {
		if !strings.HasPrefix(w, "--") {
			return "", false // a command reads the heredoc (`RUN cat <<EOT`)
		}
	}
	mounts := in.CacheMountTargets()
	body := f.Lines[in.Start : in.End-1]
	out := make([]string, len(body))
	changed := false
	lastInstall := map[string]int{"apk": -1, "apt-get": -1}
	for i, line := range body {
		out[i] = line
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || !mentionsPkgTool(trimmed) {
			continue
		}
		sc, ok := dockerfile.ParseScript(trimmed)
		if !ok {
			return "", false
		}
		for _, c := range sc.Commands {
			if (c.Name() == "apk" && c.Subcommand() == "add") || (c.Name() == "apt-get" && c.Subcommand() == "install") {
				lastInstall[c.Name()] = i
			}
		}
		if fixApk(sc, mounts) || fixAptGet(sc, mounts) || fixRPM(sc, mounts) {
			indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			eol := line[len(strings.TrimRight(line, "\r\n")):]
			out[i] = indent + joinCommands(sc) + eol
			changed = true
		}
	}
	// A refresh alone on its line is redundant once every install after it
	// refreshes the index itself.
	for i, line := range out {
		sc, ok := dockerfile.ParseScript(strings.TrimSpace(line))
		if !ok {
			continue
		}
		for _, tool := range []string{"apt-get", "apk"} {
			if isOnly(sc, tool, "update") && lastInstall[tool] > i && (tool == "apk" || len(mounts) == 0) {
				out[i] = ""
				changed = true
			}
		}
	}
	if !changed {
		return "", false
	}
	return f.Lines[in.Start-1] + strings.Join(out, "") + f.Lines[in.End-1], true
}

func mentionsPkgTool(line string) bool {
	for _, tool := range []string{"apk ", "apt-get ", "dnf ", "yum ", "microdnf "} {
		if strings.Contains(line+" ", tool) {
			return true
		}
	}
	return false
}

// joinCommands renders a script on one line.
func joinCommands(sc *dockerfile.Script) string {
	parts := make([]string, len(sc.Commands))
	for i, c := range sc.Commands {
		parts[i] = c.Src
	}
	return strings.Join(parts, " && ")
}

// pkgCacheShellC rewrites a RUN whose whole command is a script handed to
// a shell with -c, in shell form (`RUN sh -c '...'`) or exec form
// (`RUN ["/bin/sh", "-c", "..."]`): the script is fixed like a plain RUN
// and handed back to the same shell the same way.
func pkgCacheShellC(f *dockerfile.File, in *dockerfile.Instruction) (string, bool) {
	var words []string
	if in.JSON {
		words = in.Args
	} else {
		sc, ok := in.Script()
		if !ok || len(sc.Commands) != 1 || !sc.Commands[0].Literal {
			return "", false
		}
		words = sc.Commands[0].Words
	}
	if len(words) != 3 || words[1] != "-c" {
		return "", false
	}
	switch path.Base(words[0]) {
	case "sh", "bash", "ash", "dash":
	default:
		return "", false
	}
	inner, ok := dockerfile.ParseScript(words[2])
	if !ok {
		return "", false
	}
	mounts := in.CacheMountTargets()
	changed := fixApk(inner, mounts)
	changed = fixAptGet(inner, mounts) || changed
	changed = fixRPM(inner, mounts) || changed
	if !changed {
		return "", false
	}
	script := joinCommands(inner)
	kw := strings.Fields(f.Lines[in.Start-1])[0]
	flags := ""
	for _, fl := range in.Flags {
		flags += fl + " "
	}
	if in.JSON {
		return kw + " " + flags + dockerfile.ExecForm([]string{words[0], "-c", script}) + "\n", true
	}
	return kw + " " + flags + words[0] + " -c " + dockerfile.Quote(script) + "\n", true
}

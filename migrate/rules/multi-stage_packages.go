package rules

import (
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

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
			if c.rtFamily == c.info.Family && c.rtRelease == c.release && facts.ImageShipsLibraryOf(c.info.Image, n) {
				continue // the runtime's base image has the library already
			}
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

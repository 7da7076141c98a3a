package facts

import (
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// StageServices returns the compose services that build the stage.
func (b *Build) StageServices(f *dockerfile.File, st *dockerfile.Stage) []Service {
	var out []Service
	for _, s := range b.Services {
		if t := f.Target(s.Target); t != nil && t.Index == st.Index {
			out = append(out, s)
		}
	}
	return out
}

// ArgNames returns the ARG names declared in the chain and before the
// first FROM.
func (sf *StageFacts) ArgNames() map[string]bool {
	names := map[string]bool{}
	add := func(in *dockerfile.Instruction) {
		for _, a := range in.Args {
			k, _, _ := strings.Cut(a, "=")
			names[k] = true
		}
	}
	for _, in := range sf.f.Instructions {
		if in.Stage >= 0 {
			break
		}
		if in.Cmd == "arg" {
			add(in)
		}
	}
	for _, in := range sf.Instructions("arg", nil) {
		add(in)
	}
	return names
}

var (
	distroInstallCmd = regexp.MustCompile(`\b(apk\s+add|apt-get\s+install|apt\s+install|dnf\s+install|yum\s+install|microdnf\s+install)\b[^&;|]*`)
	pythonPkg        = regexp.MustCompile(`(^|\s)python3?(\.\d+)?(\s|$)`)
	nodePkg          = regexp.MustCompile(`(^|\s)nodejs(-current)?(\s|$)`)
)

// ecosystems are the build's ecosystems (none for stage facts computed
// without a build, as Stage does).
func (sf *StageFacts) ecosystems() []string {
	if sf.b == nil {
		return nil
	}
	return sf.b.Ecosystems()
}

// distroInstalls reports whether a RUN of the chain installs a package
// whose name matches pkg with the distribution's package manager.
func (sf *StageFacts) distroInstalls(pkg *regexp.Regexp) bool {
	for _, in := range sf.Instructions("run", nil) {
		for _, m := range distroInstallCmd.FindAllString(strings.Join(in.Args, " "), -1) {
			if pkg.MatchString(m) {
				return true
			}
		}
	}
	return false
}

// PythonCommand returns the Python interpreter's command name when the
// stage runs Python: "python" for images built on the official Python
// images (and PyPy's), "python3" when the stage chain installs Python from
// the distribution's packages in a Python project; "" otherwise.
func (sf *StageFacts) PythonCommand() string {
	info := sf.Info
	base := info.Image.Base()
	switch {
	case strings.HasPrefix(base, "python"), strings.HasPrefix(base, "pypy"):
		if strings.HasPrefix(base, "pypy") {
			return "pypy3"
		}
		if info.Family == Distroless {
			return "python3"
		}
		return "python"
	case slices.Contains(sf.ecosystems(), "python") && sf.distroInstalls(pythonPkg):
		return "python3"
	}
	return ""
}

// RunsNode reports whether the stage runs Node: an image built on the Node
// images (official, Bitnami, distroless), or a Node project whose stage
// chain installs nodejs from the distribution.
func (sf *StageFacts) RunsNode() bool {
	if strings.HasPrefix(sf.Info.Image.Base(), "node") {
		return true
	}
	return slices.Contains(sf.ecosystems(), "node") && sf.distroInstalls(nodePkg)
}

// AppLanguage is the one answer to "in which language is the application
// this stage runs written": the interpreter that runs it ("python",
// "python3", "pypy3", "node"; "" for compiled code or when unknown) and
// the extensions of its source files (nil when unknown, meaning any). The
// health route and the write doubts are searched in those sources only: a
// context often holds several components (a Node front end beside a
// Python back end).
func (sf *StageFacts) AppLanguage() (runtime string, exts []string) {
	if py := sf.PythonCommand(); py != "" && !strings.HasPrefix(sf.Info.Image.Base(), "node") {
		return py, []string{".py"}
	}
	if sf.RunsNode() {
		return "node", []string{".js", ".mjs", ".cjs", ".ts"}
	}
	switch eco := sf.ecosystems(); {
	case slices.Equal(eco, []string{"go"}):
		return "", []string{".go"}
	case slices.Equal(eco, []string{"java"}):
		return "", []string{".java", ".kt"}
	}
	return "", nil
}

// Healthcheck returns the HEALTHCHECK in effect at the end of the stage:
// the last one of its chain, since a stage inherits its base's (nil when
// the chain has none). A HEALTHCHECK NONE is returned too: it is in
// effect, and turns the check off (see HealthcheckRuns).
func (sf *StageFacts) Healthcheck() *dockerfile.Instruction {
	hs := sf.Instructions("healthcheck", nil)
	if len(hs) == 0 {
		return nil
	}
	return hs[len(hs)-1]
}

// HealthcheckRuns reports whether the stage's image checks its health: a
// HEALTHCHECK of its chain is in effect (Healthcheck) and it is not NONE.
func (sf *StageFacts) HealthcheckRuns() bool {
	in := sf.Healthcheck()
	return in != nil && !(len(in.Args) > 0 && strings.EqualFold(in.Args[0], "none"))
}

// CopiesWholeContext reports whether the stage or one it is built on
// copies the whole build context (a COPY or ADD of "." or "/" without
// --from).
func (sf *StageFacts) CopiesWholeContext() bool {
	for _, in := range sf.Instructions("", nil) {
		if (in.Cmd != "copy" && in.Cmd != "add") || in.HasFlag("from") || len(in.Args) < 2 {
			continue
		}
		for _, a := range in.Args[:len(in.Args)-1] {
			if c := strings.TrimPrefix(path.Clean(filepath.ToSlash(a)), "/"); c == "." || c == "" {
				return true
			}
		}
	}
	return false
}

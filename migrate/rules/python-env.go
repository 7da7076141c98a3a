package rules

import (
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// PythonEnv sets the interpreter's container-friendly environment in
// Python runtime stages.
var PythonEnv = &Rule{
	ID:    "python-env",
	Title: "Set PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED in Python images",
	Rationale: "PYTHONUNBUFFERED=1 sends print and logging output straight to the container log " +
		"instead of holding it in a buffer that is lost when the process dies. " +
		"PYTHONDONTWRITEBYTECODE=1 stops the interpreter from writing __pycache__ directories into " +
		"the image while later build steps and the application run; it is set right after FROM so that " +
		"it already applies to those steps (pip still byte-compiles the packages it installs unless it " +
		"is given --no-compile). PYTHONHASHSEED=random is not added: hash randomization has been the " +
		"interpreter's default since Python 3.3, so the setting changes nothing. Variables the stage " +
		"already sets, or declares as ARG, are left as they are.",
	Run: runPythonEnv,
}

// pythonenvVars are the variables the rule sets, in the order written.
var pythonenvVars = []string{"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}

func runPythonEnv(p *Pass) {
	for _, st := range p.Runtime() {
		if devReason(p, st) != "" {
			continue
		}
		chain := pythonenvChain(st)
		info := facts.Stage(p.File, st, pythonenvArgs(p, st))
		if info.Family == facts.Windows || pythonenvRuntime(p, info, chain) == "" {
			continue
		}
		env := pythonenvEnv(chain)
		args := pythonenvArgNames(p.File, chain)
		var set []string
		for _, k := range pythonenvVars {
			if _, ok := env[k]; ok || args[k] {
				continue
			}
			set = append(set, k+"=1")
		}
		if len(set) == 0 {
			continue
		}
		// After FROM and the stage's leading ARGs, before anything that runs.
		at := st.Instructions[0]
		for _, in := range st.Instructions[1:] {
			if in.Cmd != "arg" {
				break
			}
			at = in
		}
		p.Edit(dockerfile.InsertAfter(at, keyword(p.File, "env")+" "+strings.Join(set, " ")+"\n"))
	}
}

// pythonenvRuntime returns the Python interpreter's command name when the
// stage runs Python: "python" for images built on the official Python
// images (and PyPy's), "python3" when the stage chain installs Python from
// the distribution's packages in a Python project; "" otherwise.
func pythonenvRuntime(p *Pass, info facts.StageInfo, chain []*dockerfile.Stage) string {
	base := info.Image.Base()
	switch {
	case strings.HasPrefix(base, "python"), strings.HasPrefix(base, "pypy"):
		if strings.HasPrefix(base, "pypy") {
			return "pypy3"
		}
		if info.Family == facts.Distroless {
			return "python3"
		}
		return "python"
	case slices.Contains(p.Facts.Ecosystems(), "python") && pythonenvInstalls(chain, pythonenvPythonPkg):
		return "python3"
	}
	return ""
}

var (
	pythonenvInstallCmd = regexp.MustCompile(`\b(apk\s+add|apt-get\s+install|apt\s+install|dnf\s+install|yum\s+install|microdnf\s+install)\b[^&;|]*`)
	pythonenvPythonPkg  = regexp.MustCompile(`(^|\s)python3?(\.\d+)?(\s|$)`)
)

// pythonenvInstalls reports whether a RUN of the chain installs a package
// whose name matches pkg with the distribution's package manager.
func pythonenvInstalls(chain []*dockerfile.Stage, pkg *regexp.Regexp) bool {
	for _, st := range chain {
		for _, in := range st.Find("run") {
			src := strings.Join(in.Args, " ")
			for _, m := range pythonenvInstallCmd.FindAllString(src, -1) {
				if pkg.MatchString(m) {
					return true
				}
			}
		}
	}
	return false
}

// The helpers below are shared by the python-env, node-env and healthcheck
// rules.

// pythonenvChain returns the stage and the stages it builds on, root first.
func pythonenvChain(st *dockerfile.Stage) []*dockerfile.Stage {
	var chain []*dockerfile.Stage
	for s := st; s != nil && len(chain) < 64; s = s.BaseStage {
		chain = append([]*dockerfile.Stage{s}, chain...)
	}
	return chain
}

// pythonenvServices returns the compose services that build the stage.
func pythonenvServices(p *Pass, st *dockerfile.Stage) []facts.Service {
	var out []facts.Service
	for _, s := range p.Facts.Services {
		if t := p.File.Target(s.Target); t != nil && t.Index == st.Index {
			out = append(out, s)
		}
	}
	return out
}

// pythonenvArgs returns the compose build args of the services that build
// the stage (the first service to set an arg wins).
func pythonenvArgs(p *Pass, st *dockerfile.Stage) map[string]string {
	args := map[string]string{}
	for _, s := range pythonenvServices(p, st) {
		for k, v := range s.Args {
			if _, ok := args[k]; !ok {
				args[k] = v
			}
		}
	}
	return args
}

// pythonenvEnv returns the variables set by ENV in the chain (last value wins).
func pythonenvEnv(chain []*dockerfile.Stage) map[string]string {
	env := map[string]string{}
	for _, st := range chain {
		for _, in := range st.Find("env") {
			for i := 0; i+1 < len(in.Args); i += 3 {
				env[in.Args[i]] = in.Args[i+1]
			}
		}
	}
	return env
}

// pythonenvArgNames returns the ARG names declared in the chain and before
// the first FROM.
func pythonenvArgNames(f *dockerfile.File, chain []*dockerfile.Stage) map[string]bool {
	names := map[string]bool{}
	add := func(in *dockerfile.Instruction) {
		for _, a := range in.Args {
			k, _, _ := strings.Cut(a, "=")
			names[k] = true
		}
	}
	for _, in := range f.Instructions {
		if in.Stage >= 0 {
			break
		}
		if in.Cmd == "arg" {
			add(in)
		}
	}
	for _, st := range chain {
		for _, in := range st.Find("arg") {
			add(in)
		}
	}
	return names
}

// pythonenvTrailing returns the first instruction of the run of
// instructions at the end of the stage whose command is in cmds, or nil
// when the stage does not end with one.
func pythonenvTrailing(st *dockerfile.Stage, cmds ...string) *dockerfile.Instruction {
	var first *dockerfile.Instruction
	for i := len(st.Instructions) - 1; i > 0; i-- {
		if !slices.Contains(cmds, st.Instructions[i].Cmd) {
			break
		}
		first = st.Instructions[i]
	}
	return first
}

// pythonenvInsertEnd records an insertion before the stage's trailing
// instructions whose command is in cmds, or after its last instruction.
func pythonenvInsertEnd(p *Pass, st *dockerfile.Stage, text string, cmds ...string) {
	if at := pythonenvTrailing(st, cmds...); at != nil {
		p.Edit(dockerfile.InsertBefore(at, text))
		return
	}
	p.Edit(dockerfile.InsertAfter(st.Last(), text))
}

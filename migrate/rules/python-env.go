package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// PythonEnv sets the interpreter's container-friendly environment in
// Python runtime stages.
var PythonEnv = &Rule{
	ID:    "python-env",
	Title: "Set PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED in Python images",
	Doc: "PYTHONUNBUFFERED=1 sends print and logging output straight to the container log " +
		"instead of holding it in a buffer that is lost when the process dies. " +
		"PYTHONDONTWRITEBYTECODE=1 stops the interpreter from writing __pycache__ directories into " +
		"the image while later build steps and the application run; it is set right after FROM so that " +
		"it already applies to those steps (pip still byte-compiles the packages it installs unless it " +
		"is given --no-compile). PYTHONHASHSEED=random is not added: hash randomization has been the " +
		"interpreter's default since Python 3.3, so the setting changes nothing. Variables the stage " +
		"already sets, or declares as ARG, are left as they are.",
	After: []string{"multi-stage"},
	Run:   runPythonEnv,
}

// pythonenvVars are the variables the rule sets, in the order written.
var pythonenvVars = []string{"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}

func runPythonEnv(p *Pass) {
	for _, st := range p.Runtime() {
		if p.Stage(st).DevelopmentReason() != "" {
			continue
		}
		sf := p.Stage(st)
		info := sf.Info
		if info.Family == facts.Windows || sf.PythonCommand() == "" {
			continue
		}
		env := sf.Env(nil)
		args := sf.ArgNames()
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
		p.Edit(dockerfile.InsertAfter(at, p.File.Keyword("env")+" "+strings.Join(set, " ")+"\n"))
	}
}

// The helpers below are shared by the python-env, node-env and healthcheck
// rules.

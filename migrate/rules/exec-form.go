package rules

import (
	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// ExecForm turns shell-form CMD/ENTRYPOINT into exec form when the command
// uses no shell feature.
var ExecForm = &Rule{
	ID:    "exec-form",
	Title: "Use exec form for CMD and ENTRYPOINT",
	Doc: "In shell form the container's first process is /bin/sh, which does not " +
		"pass SIGTERM on to the application, so `docker stop` waits for its timeout and " +
		"then kills it without a clean shutdown. When the command uses no shell feature " +
		"(variables, pipes, globs, &&), the JSON form runs the same program directly.",
	Run: runExecForm,
}

func runExecForm(p *Pass) {
	for _, in := range p.File.Instructions {
		if in.Cmd != "cmd" && in.Cmd != "entrypoint" {
			continue
		}
		sc, ok := in.Script()
		if !ok || len(sc.Commands) != 1 || !sc.Commands[0].Literal {
			continue
		}
		if in.Cmd == "entrypoint" && !entrypointAlone(p, in) {
			continue
		}
		words := sc.Commands[0].Words
		if isShellBuiltin(words[0]) {
			continue
		}
		text := dockerfile.ExecForm(words)
		p.Edit(dockerfile.Replace(in, p.File.Keyword(in.Cmd)+" "+text+"\n"))
	}
}

// isShellBuiltin reports commands that only exist inside a shell.
func isShellBuiltin(name string) bool {
	switch name {
	case "cd", "export", "source", ".", "exec", "set", "ulimit", "umask", "eval", "trap", "wait", "alias":
		return true
	}
	return false
}

// entrypointAlone reports whether a shell-form ENTRYPOINT can become exec
// form without starting to receive arguments it used to ignore: its stage
// has no CMD and no compose service passes a command.
func entrypointAlone(p *Pass, in *dockerfile.Instruction) bool {
	if len(p.File.Stages[in.Stage].Find("cmd")) > 0 {
		return false
	}
	for _, s := range p.Facts.Services {
		if s.Command != nil {
			return false
		}
	}
	return true
}

package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// splitSecretVar returns the first ARG or ENV of the chain whose name
// denotes a credential, with its line. The split repeats a stage's ARG and
// ENV lines in the stages it writes, so it never runs on such a stage: it
// must not be the step that carries a secret into a new runtime stage.
func splitSecretVar(chain []*dockerfile.Stage) (string, int) {
	for _, st := range chain {
		for _, in := range st.Instructions {
			switch in.Cmd {
			case "arg":
				for _, a := range in.Args {
					if name, _, _ := strings.Cut(a, "="); facts.SecretName(name) {
						return "ARG " + name, in.Start
					}
				}
			case "env":
				for i := 0; i+1 < len(in.Args); i += 3 {
					if facts.SecretName(in.Args[i]) {
						return "ENV " + in.Args[i], in.Start
					}
				}
			}
		}
	}
	return "", 0
}

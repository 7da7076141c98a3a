package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// EnvKeyValue rewrites the legacy `ENV key value` form.
var EnvKeyValue = &Rule{
	ID:    "env-key-value",
	Title: "Write ENV as key=value",
	Doc: "The space-separated `ENV key value` form can set only one variable, " +
		"reads ambiguously when the value has spaces, and BuildKit's checks flag it " +
		"(LegacyKeyValueFormat). The key=value form means the same to the builder.",
	Run: runEnvKeyValue,
}

func runEnvKeyValue(p *Pass) {
	for _, in := range p.File.Instructions {
		if in.Cmd != "env" || !legacyKeyValue(in) {
			continue
		}
		key, value := in.Args[0], in.Args[1]
		p.Edit(dockerfile.Replace(in, p.File.Keyword(in.Cmd)+" "+key+"="+quoteEnvValue(value)+"\n"))
	}
}

// legacyKeyValue reports whether an ENV/LABEL uses the `key value` form.
// BuildKit's parser yields (key, value, separator) triples, and the
// separator is empty for the legacy form.
func legacyKeyValue(in *dockerfile.Instruction) bool {
	return len(in.Args) == 3 && in.Args[2] == ""
}

// quoteEnvValue double-quotes a value that contains spaces or quotes,
// keeping $ expansions working as they did in the legacy form.
func quoteEnvValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'\\") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

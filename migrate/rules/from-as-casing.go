package rules

import (
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// FromAsCasing matches the AS of `FROM image AS name` to the FROM keyword.
var FromAsCasing = &Rule{
	ID:    "from-as-casing",
	Title: "Write AS in the same case as FROM",
	Doc: "`FROM image as name` under an upper-case FROM (or the reverse) fails BuildKit's " +
		"FromAsCasing check; the builder itself accepts both. Only the AS keyword changes, to the " +
		"case of its FROM.",
	Run: runFromAsCasing,
}

func runFromAsCasing(p *Pass) {
	for _, st := range p.File.Stages {
		in := st.From
		if len(in.Args) != 3 || in.Start != in.End {
			continue
		}
		kw, _, line := p.File.WrittenKeyword(in)
		want := p.File.CasedLike(kw, "as")
		if kw == "" || kw != strings.ToUpper(kw) && kw != strings.ToLower(kw) || in.Args[1] == want {
			continue
		}
		re := regexp.MustCompile(`^(.*\s)(?i:as)(\s+` + regexp.QuoteMeta(in.Args[2]) + `\s*)$`)
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		p.Edit(dockerfile.Edit{Start: in.Start, End: in.Start, Text: m[1] + want + m[2] + "\n"})
	}
}

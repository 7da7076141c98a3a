package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// MaintainerLabel replaces the deprecated MAINTAINER instruction.
var MaintainerLabel = &Rule{
	ID:    "maintainer-label",
	Title: "Replace MAINTAINER with the OCI authors label",
	Doc: "MAINTAINER has been deprecated for years and BuildKit's checks flag it " +
		"(MaintainerDeprecated). The standard org.opencontainers.image.authors label carries the " +
		"same contact and is what registries and scanners read. When the stage already has that " +
		"label, the MAINTAINER line is simply dropped.",
	Run: runMaintainerLabel,
}

func runMaintainerLabel(p *Pass) {
	for _, st := range p.File.Stages {
		if p.Stage(st).DevelopmentReason() != "" {
			continue
		}
		hasLabel := false
		for _, in := range st.Find("label") {
			for i := 0; i < len(in.Args); i += 3 {
				if strings.Trim(in.Args[i], `"`) == "org.opencontainers.image.authors" {
					hasLabel = true
				}
			}
		}
		for _, in := range st.Find("maintainer") {
			if hasLabel {
				p.Edit(dockerfile.Replace(in, ""))
				continue
			}
			v := strings.TrimSpace(strings.Join(in.Args, " "))
			if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
				v = v[1 : len(v)-1]
			}
			esc := string(p.File.Escape)
			v = strings.NewReplacer(esc, esc+esc, `"`, esc+`"`, "$", esc+"$").Replace(v)
			kw, _, _ := p.File.WrittenKeyword(in)
			p.Edit(dockerfile.Replace(in, p.File.CasedLike(kw, "label")+` org.opencontainers.image.authors="`+v+`"`+"\n"))
		}
	}
}

package rules

import (
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// nonrootImageUser returns the non-root account the base image ships for
// applications (the image facts table: node, app in .NET 8+, nonroot...).
func nonrootImageUser(info facts.StageInfo) string {
	return info.ImageUser
}

// nonrootShadowUtils reports whether useradd is known to exist in a
// RHEL-like stage: the base image ships it (image facts), or a RUN installs
// shadow-utils (returned so the account is created after it).
func nonrootShadowUtils(sf *facts.StageFacts) (*dockerfile.Instruction, bool) {
	for _, in := range sf.Instructions("run", nil) {
		if strings.Contains(strings.Join(in.Args, " "), "shadow-utils") {
			return in, true
		}
	}
	return nil, sf.Info.Base.UserTools == "useradd"
}

// nonrootCreatedAccounts returns the accounts that useradd/adduser
// commands of the chain create, by name, with the RUN creating each; and a
// RUN that calls them in a way the rule cannot read.
func nonrootCreatedAccounts(sf *facts.StageFacts) (map[string]*dockerfile.Instruction, *dockerfile.Instruction) {
	out := map[string]*dockerfile.Instruction{}
	for _, in := range sf.Instructions("run", nil) {
		src := strings.Join(in.Args, " ")
		if !nonrootUserTool.MatchString(src) {
			continue
		}
		sc, ok := in.Script()
		if !ok {
			return nil, in
		}
		for _, c := range sc.Commands {
			ua, ok := facts.ParseUserAdd(c)
			if !ok {
				if nonrootUserTool.MatchString(c.Src) {
					return nil, in
				}
				continue
			}
			if ua.Name == "" || !c.Literal {
				return nil, in
			}
			out[ua.Name] = in
		}
	}
	return out, nil
}

var nonrootUserTool = regexp.MustCompile(`\b(useradd|adduser)\b`)

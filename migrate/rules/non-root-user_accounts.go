package rules

import (
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

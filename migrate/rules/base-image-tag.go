package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/facts"
)

// BaseImageTag reports base images that float with :latest.
var BaseImageTag = &Rule{
	ID:    "base-image-tag",
	Title: "Report base images without a version tag",
	Doc: "An untagged base image means :latest, which moves whenever the publisher pushes, so " +
		"the same Dockerfile builds a different image from one day to the next and can break without " +
		"any change in the project. The right version cannot be chosen offline, so the rule only " +
		"reports these FROM lines; stage references and scratch are not images and are skipped.",
	Run: runBaseImageTag,
}

func runBaseImageTag(p *Pass) {
	for _, st := range p.File.Stages {
		if st.BaseStage != nil || strings.EqualFold(st.Base, "scratch") {
			continue
		}
		ref := facts.Expand(st.Base, facts.GlobalArgs(p.File, p.Stage(st).BuildArgs))
		if ref == "" || strings.Contains(ref, "$") || strings.EqualFold(ref, "scratch") {
			continue
		}
		im := facts.ParseImage(ref)
		switch {
		case im.Digest != "":
		case im.Tag == "":
			p.NeedsHuman(st.From.Start, "base image %s has no tag, so it means :latest and changes whenever it is republished; pin a version tag (or a digest)", ref)
		case strings.EqualFold(im.Tag, "latest"):
			p.NeedsHuman(st.From.Start, "base image %s uses :latest, which changes whenever it is republished; pin a version tag (or a digest)", ref)
		}
	}
}

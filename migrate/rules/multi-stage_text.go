package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// kw writes an instruction keyword in the file's casing.
func (c *splitCtx) kw(k string) string { return c.f.Keyword(k) }

// fromLine writes a FROM for a new stage, keeping the original's flags.
func (c *splitCtx) fromLine(image, name string) string {
	parts := []string{c.kw("FROM")}
	parts = append(parts, c.fromFlags()...)
	parts = append(parts, image)
	if name != "" {
		parts = append(parts, c.kw("AS"), name)
	}
	return strings.Join(parts, " ") + "\n"
}

// origFrom returns the original FROM line(s) with the comments before it
// removed (they stay above the first new stage).
func (c *splitCtx) origFrom() string {
	t := splitNorm(c.f.Text(c.st.From))
	if !strings.HasSuffix(t, "\n") {
		t += "\n"
	}
	if c.constPlatform() {
		t = strings.Replace(t, "--platform="+c.st.Platform, "--platform=$"+splitPlatformArg, 1)
	}
	return t
}

// splitPlatformArg is the global ARG that carries a constant --platform to
// every stage derived from the original FROM: BuildKit flags a constant
// platform on each FROM, so repeating it would add warnings.
const splitPlatformArg = "PLATFORM"

// constPlatform reports whether the original FROM has a constant --platform.
func (c *splitCtx) constPlatform() bool {
	return c.st.Platform != "" && !strings.Contains(c.st.Platform, "$")
}

// fromFlags returns the original FROM's flags for a derived stage.
func (c *splitCtx) fromFlags() []string {
	var out []string
	for _, fl := range c.st.From.Flags {
		if c.constPlatform() && strings.HasPrefix(fl, "--platform=") {
			fl = "--platform=$" + splitPlatformArg
		}
		out = append(out, fl)
	}
	return out
}

// stageName returns a name for a new stage that no stage uses yet.
func (c *splitCtx) stageName(want string) string {
	name := want
	for i := 2; c.f.Stage(name) != nil; i++ {
		name = fmt.Sprintf("%s-%d", want, i)
	}
	return name
}

// splitBuilderMeta reports the instructions a builder stage repeats.
func splitBuilderMeta(cmd string) bool {
	switch cmd {
	case "arg", "env", "workdir", "shell", "user":
		return true
	}
	return false
}

// withMounts adds cache mounts to a RUN's text, skipping targets it
// already mounts and all of them when the stage runs as a non-root user.
func (c *splitCtx) withMounts(it *splitItem, targets ...string) string {
	if c.nonRoot {
		return it.text
	}
	have := it.in.CacheMountTargets()
	var flags []string
	for _, t := range targets {
		if !slices.Contains(have, t) {
			flags = append(flags, "--mount=type=cache,target="+t)
		}
	}
	if len(flags) == 0 {
		return it.text
	}
	trimmed := strings.TrimLeft(it.text, " \t")
	indent := it.text[:len(it.text)-len(trimmed)]
	rest := strings.TrimLeft(trimmed[3:], " \t")
	return indent + trimmed[:3] + " " + c.flagLines(flags) + rest
}

// flagLines writes RUN flags one per line, as the other rules do.
func (c *splitCtx) flagLines(flags []string) string {
	var b strings.Builder
	for _, f := range flags {
		b.WriteString(f + " " + string(c.f.Escape) + "\n    ")
	}
	return b.String()
}

// run writes a RUN of one command, its flags on lines of their own.
func (c *splitCtx) run(flags []string, words ...string) string {
	return c.kw("RUN") + " " + c.flagLines(flags) + strings.Join(words, " ") + "\n"
}

// stageText accumulates the text of one stage.
type stageText struct{ b strings.Builder }

func (s *stageText) add(text string) {
	if text != "" {
		s.b.WriteString(text)
	}
}

// item writes an item's text, with its comments when lead is true.
func (s *stageText) item(it *splitItem, text string, lead bool) {
	if text == "" {
		return
	}
	if lead {
		s.b.WriteString(it.lead)
	}
	s.b.WriteString(text)
}

func (s *stageText) String() string { return s.b.String() }

// apply replaces the stage with the planned stages and renumbers the
// numeric stage references of later stages.
func (c *splitCtx) apply(out *splitOut) {
	text := strings.Join(append(append([]string(nil), out.builders...), out.runtime), "\n")
	if c.constPlatform() {
		arg := c.kw("ARG") + " " + splitPlatformArg + "=" + c.st.Platform + "\n"
		if first := c.f.Stages[0].From; first == c.st.From {
			text = arg + text
		} else {
			c.p.Edit(dockerfile.InsertBefore(first, arg))
		}
	}
	c.p.Edit(dockerfile.Edit{Start: c.st.From.Start, End: c.st.Last().End, Text: text})
	n := len(out.builders)
	for _, later := range c.f.Stages[c.st.Index+1:] {
		for _, in := range later.Instructions {
			if in.Cmd != "copy" && in.Cmd != "run" && in.Cmd != "add" {
				continue
			}
			old := splitNorm(c.f.Text(in))
			renum := splitFromNum.ReplaceAllStringFunc(old, func(m string) string {
				sub := splitFromNum.FindStringSubmatch(m)
				var k int
				fmt.Sscanf(sub[2], "%d", &k)
				if k >= c.st.Index {
					k += n
				}
				return sub[1] + fmt.Sprint(k)
			})
			if renum != old {
				if !strings.HasSuffix(renum, "\n") {
					renum += "\n"
				}
				c.p.Edit(dockerfile.Replace(in, renum))
			}
		}
	}
	c.p.Report(c.st.From.Start, "%s", out.summary)
}

// splitFromNum matches numeric stage references in COPY --from and RUN --mount.
var splitFromNum = regexp.MustCompile(`(--from=|[,=]from=)(\d+)\b`)

// builderItems adds to a compiled-language builder stage the original
// instructions up to the last build step: builder metadata, the installs and
// builds with cache mounts, other RUNs only before the first build step, and
// everything else (COPY, ENV...) as written.
func (c *splitCtx) builderItems(b *stageText, firstB, lastB int, caches ...string) {
	for i, it := range c.items[:lastB+1] {
		switch it.kind {
		case splitMeta:
			if splitBuilderMeta(it.in.Cmd) {
				b.add(it.text)
			}
		case splitDeps, splitBuild:
			b.item(it, c.withMounts(it, caches...), true)
		case splitOther:
			if i < firstB {
				b.add(it.text)
			}
		default:
			b.add(it.text)
		}
	}
}

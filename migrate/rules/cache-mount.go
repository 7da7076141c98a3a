package rules

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// CacheMount gives dependency installs a BuildKit cache mount.
var CacheMount = &Rule{
	ID:    "cache-mount",
	Title: "Keep dependency downloads in a BuildKit cache mount",
	Doc: "Every change to a manifest re-runs the install step, which then fetches every " +
		"package again. A `RUN --mount=type=cache` on the tool's download directory (npm, yarn, " +
		"pnpm, pip, go, maven, gradle, apt's package lists) keeps those downloads on the builder " +
		"between builds and out of the image. Mounts are added to every stage that installs, " +
		"dev targets included (they never reach the image), and all-or-nothing per tool in a " +
		"chain of stages, so that no later step relies on a cache the mount moved out of the image. " +
		"RUNs that cannot be parsed, tools pointed at another cache directory, users whose uid or " +
		"home is unknown, and non-root installs that would need root-owned parent directories are left alone.",
	After: []string{"prod-deps", "pkg-cache"},
	Run:   runCacheMount,
}

// cachemountRun is one RUN of a chain of stages, as the rule sees it.
type cachemountRun struct {
	in     *dockerfile.Instruction
	stage  *dockerfile.Stage
	text   string
	script *dockerfile.Script // nil when ParseScript refused the RUN
	env    *cachemountEnv
	mounts []string
}

// cachemountChange is what the rule does to one RUN.
type cachemountChange struct {
	flags []string
	drop  map[int]bool // command indexes removed from the script
	noPip bool         // drop --no-cache-dir from pip commands
}

func runCacheMount(p *Pass) {
	// Stages that share a root image form a component: a cache directory
	// written by one of them is visible to those built FROM it.
	comps := map[int][]*dockerfile.Stage{}
	var order []int
	for _, st := range p.File.Stages {
		root := p.Stage(st).Info.Root
		if _, ok := comps[root.Index]; !ok {
			order = append(order, root.Index)
		}
		comps[root.Index] = append(comps[root.Index], st)
	}
	changes := map[*dockerfile.Instruction]*cachemountChange{}
	var runs []*cachemountRun
	for _, ri := range order {
		comp := comps[ri]
		info := p.Stage(comp[0]).Info
		if info.Family == facts.Windows {
			continue
		}
		compRuns := cachemountRuns(p, comp)
		runs = append(runs, compRuns...)
		for _, tool := range cachemountTools {
			cachemountTool1(p, tool, comp, compRuns, changes)
		}
		for _, r := range compRuns {
			cachemountApt(r, changes)
		}
	}
	for _, r := range runs {
		ch := changes[r.in]
		if ch == nil || len(ch.flags) == 0 {
			continue
		}
		sc := &dockerfile.Script{}
		for i, c := range r.script.Commands {
			if ch.drop[i] {
				continue
			}
			if ch.noPip {
				if _, _, ok := c.Pip(); ok && slices.Contains(c.Words, "--no-cache-dir") {
					c = cachemountDropWord(c, "--no-cache-dir")
				}
			}
			sc.Commands = append(sc.Commands, c)
		}
		flags := append(append([]string(nil), r.in.Flags...), ch.flags...)
		p.Edit(dockerfile.Replace(r.in, p.File.RewriteRun(r.in, flags, sc)))
	}
}

// cachemountRuns lists the RUNs of a component with the user and ENV in
// effect at each.
func cachemountRuns(p *Pass, comp []*dockerfile.Stage) []*cachemountRun {
	var out []*cachemountRun
	for _, st := range comp {
		sf := p.Stage(st)
		for _, in := range st.Find("run") {
			// The RUNs of the chain before this one may create its user.
			env := func(k string) (string, bool) { return sf.EnvValue(in, k) }
			added := func(name string) (facts.UserAdd, bool) { return sf.UserAdded(name, in) }
			out = append(out, cachemountNewRun(p, st, in, sf.Info, sf.User(in), env, added))
		}
	}
	return out
}

func cachemountNewRun(p *Pass, st *dockerfile.Stage, in *dockerfile.Instruction, info facts.StageInfo, user string, env func(string) (string, bool), added func(name string) (facts.UserAdd, bool)) *cachemountRun {
	r := &cachemountRun{in: in, stage: st, mounts: in.CacheMountTargets()}
	r.text = strings.Join(in.Args, " ")
	for _, h := range in.Heredocs {
		r.text += "\n" + h.Content
	}
	if sc, ok := in.Script(); ok {
		r.script = sc
	}
	e := &cachemountEnv{p: p, info: info, env: env}
	cachemountWho(e, user, added)
	r.env = e
	return r
}

// cachemountTool1 decides, for one tool and one component, which RUNs get
// a mount: all of the tool's installs, or none.
func cachemountTool1(p *Pass, tool *cachemountTool, comp []*dockerfile.Stage, runs []*cachemountRun, changes map[*dockerfile.Instruction]*cachemountChange) {
	type plan struct {
		r       *cachemountRun
		targets []string
		drop    []int
	}
	var plans []plan
	block := func(r *cachemountRun, format string, a ...any) {
		p.Report(r.in.Start, "no %s cache mount in this stage: %s", tool.name, fmt.Sprintf(format, a...))
	}
	for _, r := range runs {
		if !strings.Contains(r.text, tool.word) || !tool.detect.MatchString(r.text) {
			continue
		}
		if slices.ContainsFunc(r.mounts, tool.mine) {
			continue // the user's own mount is kept, and no second one is added
		}
		if r.script == nil {
			block(r, "a RUN that installs with %s is not a plain && chain", tool.name)
			return
		}
		var targets []string
		for _, c := range r.script.Commands {
			if !tool.uses(c) {
				continue
			}
			if r.env.unknown != "" {
				p.NeedsHuman(r.in.Start, "no %s cache mount: %s", tool.name, r.env.unknown)
				return
			}
			ts, why := tool.targets(r.env, c)
			if why != "" {
				block(r, "%s", why)
				return
			}
			for _, t := range ts {
				if !slices.Contains(targets, t) {
					targets = append(targets, t)
				}
			}
		}
		if len(targets) == 0 {
			block(r, "a RUN mentions %s in a way the rule does not recognize", tool.name)
			return
		}
		if !r.env.root {
			for _, t := range targets {
				if path.Dir(t) != r.env.home || !r.env.homeExists {
					block(r, "the cache directory %s of user uid %d would get root-owned parent directories", t, r.env.uid)
					return
				}
			}
		}
		pl := plan{r: r, targets: targets}
		for i, c := range r.script.Commands {
			if tool.uses(c) {
				continue
			}
			if tool.cleanup(c) {
				pl.drop = append(pl.drop, i)
				continue
			}
			hit, onlyInside := cachemountTouches(c, targets, r.env.home)
			if !hit {
				continue
			}
			if c.Name() == "rm" && onlyInside {
				pl.drop = append(pl.drop, i)
				continue
			}
			block(r, "`%s` uses the cache directory", c.Src)
			return
		}
		plans = append(plans, pl)
	}
	if len(plans) == 0 {
		return
	}
	// A container that runs the tool when it starts reads the cache the
	// install filled (mvn spring-boot:run, gradle bootRun, go run): with a
	// mount, the image would hold an empty one.
	if why := cachemountRuntimeUse(p, tool, comp); why != "" {
		p.Report(plans[0].r.in.Start, "no %s cache mount: %s, which reads the cache directory the mount would leave empty in the image", tool.name, why)
		return
	}
	// Another stage copying the cache directory would get an empty one.
	inComp := map[string]bool{}
	for _, st := range comp {
		inComp[strconv.Itoa(st.Index)] = true
		if st.Name != "" {
			inComp[st.Name] = true
		}
	}
	// The plans' targets, each once in the order first met (the plans
	// mostly share them: a COPY is checked against each target once, not
	// once per install).
	var targets []string
	seen := map[string]bool{}
	for _, pl := range plans {
		for _, t := range pl.targets {
			if !seen[t] {
				seen[t] = true
				targets = append(targets, t)
			}
		}
	}
	for _, in := range p.File.Instructions {
		if in.Cmd != "copy" && in.Cmd != "add" || len(in.Args) < 2 {
			continue
		}
		from := in.Flag("from")
		for _, t := range targets {
			if len(from) > 0 && inComp[strings.ToLower(from[0])] {
				for _, src := range in.Args[:len(in.Args)-1] {
					if cachemountOverlap(src, t) {
						p.Report(in.Start, "no %s cache mount: this COPY takes files from the cache directory %s", tool.name, t)
						return
					}
				}
			}
			if in.Stage >= 0 && slices.Contains(comp, p.File.Stages[in.Stage]) && facts.Under(facts.JoinPath(p.Stage(p.File.Stages[in.Stage]).Workdir(in), in.Args[len(in.Args)-1]), t) {
				p.Report(in.Start, "no %s cache mount: this COPY puts files into the cache directory %s", tool.name, t)
				return
			}
		}
	}
	for _, pl := range plans {
		ch := changes[pl.r.in]
		if ch == nil {
			ch = &cachemountChange{drop: map[int]bool{}}
			changes[pl.r.in] = ch
		}
		for _, t := range pl.targets {
			flag := "--mount=type=cache,target=" + t
			if !pl.r.env.root {
				flag += fmt.Sprintf(",uid=%d,gid=%d", pl.r.env.uid, pl.r.env.gid)
			}
			if !slices.Contains(ch.flags, flag) {
				ch.flags = append(ch.flags, flag)
			}
		}
		for _, i := range pl.drop {
			ch.drop[i] = true
		}
		if tool.name == "pip" {
			ch.noPip = true
		}
	}
}

// cachemountApt mounts apt's package lists on a root RUN that refreshes
// them, installs, and deletes them anyway. The image is the same as before
// (no lists), and `apt-get update` only fetches what changed since the last
// build. /var/cache/apt is not mounted: Debian and Ubuntu images ship
// docker-clean, which empties it after every install, and removing that
// file would change the image for whoever builds FROM it.
func cachemountApt(r *cachemountRun, changes map[*dockerfile.Instruction]*cachemountChange) {
	if r.script == nil || !r.env.root || r.env.unknown != "" {
		return
	}
	for _, m := range r.mounts {
		if cachemountOverlap(m, "/var/lib/apt/lists") {
			return
		}
	}
	update, install := -1, -1
	var rms []int
	for i, c := range r.script.Commands {
		if c.Name() == "apt-get" || c.Name() == "apt" {
			switch c.Subcommand() {
			case "update":
				if update < 0 {
					update = i
				}
			case "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep":
				if install < 0 {
					install = i
				}
			}
			continue
		}
		if hit, _ := cachemountTouches(c, []string{"/var/lib/apt/lists"}, "/root"); hit {
			if !c.RemovesUnder("/var/lib/apt/lists") {
				return
			}
			rms = append(rms, i)
		}
	}
	if update < 0 || install < update || len(rms) == 0 || rms[0] < install {
		return
	}
	ch := changes[r.in]
	if ch == nil {
		ch = &cachemountChange{drop: map[int]bool{}}
		changes[r.in] = ch
	}
	ch.flags = append(ch.flags, "--mount=type=cache,target=/var/lib/apt/lists,sharing=locked")
	for _, i := range rms {
		ch.drop[i] = true
	}
}

// cachemountTouches reports whether a command names a path inside or above
// one of the targets, and whether all the paths it names are inside.
func cachemountTouches(c dockerfile.Command, targets []string, home string) (hit, onlyInside bool) {
	onlyInside = true
	paths := 0
	for _, w := range c.Words[1:] {
		if strings.HasPrefix(w, "-") {
			continue
		}
		w = cachemountExpandHome(w, home)
		if !strings.HasPrefix(w, "/") {
			onlyInside = false
			continue
		}
		paths++
		inside := false
		for _, t := range targets {
			if cachemountOverlap(w, t) {
				hit = true
			}
			if facts.Under(path.Clean(strings.TrimSuffix(w, "*")), t) {
				inside = true
			}
		}
		onlyInside = onlyInside && inside
	}
	return hit, onlyInside && paths > 0
}

func cachemountExpandHome(w, home string) string {
	for _, pre := range []string{"~", "$HOME", "${HOME}"} {
		if w == pre || strings.HasPrefix(w, pre+"/") {
			return home + strings.TrimPrefix(w, pre)
		}
	}
	return w
}

// cachemountOverlap reports whether one path contains the other; a
// relative path (a COPY --from source) is read from the root.
func cachemountOverlap(a, b string) bool {
	a = path.Clean("/" + strings.TrimSuffix(a, "*"))
	return facts.Under(a, b) || facts.Under(b, a)
}

func cachemountDropWord(c dockerfile.Command, word string) dockerfile.Command {
	var words []string
	for _, w := range c.Words {
		if w != word {
			words = append(words, w)
		}
	}
	if c.Literal {
		return dockerfile.NewCommand(words...)
	}
	src := strings.Replace(c.Src, " "+word, "", 1)
	return dockerfile.Command{Words: words, Src: src, Literal: false}
}

// cachemountRuntimeUse says where a stage of the component runs, when its
// container starts, the tool whose download cache the mount would keep out
// of the image (maven, gradle, go); "" when none does.
func cachemountRuntimeUse(p *Pass, tool *cachemountTool, comp []*dockerfile.Stage) string {
	for _, st := range comp {
		if t, where := p.Stage(st).StartsBuildTool(); t == tool.name {
			return where
		}
	}
	return ""
}

package rules

import (
	"fmt"
	"path"
	"regexp"
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
	Rationale: "Every change to a manifest re-runs the install step, which then fetches every " +
		"package again. A `RUN --mount=type=cache` on the tool's download directory (npm, yarn, " +
		"pnpm, pip, go, maven, gradle, apt's package lists) keeps those downloads on the builder " +
		"between builds and out of the image. Mounts are added to every stage that installs, " +
		"dev targets included (they never reach the image), and all-or-nothing per tool in a " +
		"chain of stages, so that no later step relies on a cache the mount moved out of the image. " +
		"RUNs that cannot be parsed, tools pointed at another cache directory, users whose uid or " +
		"home is unknown, and non-root installs that would need root-owned parent directories are left alone.",
	Run: runCacheMount,
}

// cachemountTool describes one dependency tool and where its cache lives.
type cachemountTool struct {
	name string
	// detect finds an install by the tool in any RUN text, parsed or not.
	detect *regexp.Regexp
	// uses reports whether a parsed command is such an install.
	uses func(c dockerfile.Command) bool
	// mine reports whether an existing cache-mount target is the tool's.
	mine func(target string) bool
	// cleanup reports whether a command empties the tool's cache (useless,
	// and self-defeating, once the cache is a mount).
	cleanup func(c dockerfile.Command) bool
	// targets returns the cache directories for an install, or why none.
	targets func(e *cachemountEnv, c dockerfile.Command) ([]string, string)
}

// cachemountEnv is what is known at one RUN: user, home and ENV values.
type cachemountEnv struct {
	p    *Pass
	info facts.StageInfo
	env  map[string]string
	// root is true when the RUN runs as root.
	root bool
	// uid, gid and homeExists describe a known non-root user.
	uid, gid   int
	home       string
	homeExists bool
	// unknown explains why the user could not be resolved ("" = resolved).
	unknown string
}

// get returns an ENV value set by the Dockerfile, ok=false when unset; a
// value with an expansion is reported as set but unusable ("$").
func (e *cachemountEnv) get(keys ...string) (string, bool) {
	for _, k := range keys {
		if v, ok := e.env[k]; ok {
			if strings.Contains(v, "$") || !strings.HasPrefix(v, "/") {
				return "$", true
			}
			return strings.TrimSuffix(v, "/"), true
		}
	}
	return "", false
}

// under returns dir joined below an ENV directory, or the fallback.
func (e *cachemountEnv) dirOr(key, sub, fallback string) (string, string) {
	if v, ok := e.get(key); ok {
		if v == "$" {
			return "", key + " is set to a value the rule cannot resolve"
		}
		return path.Join(v, sub), ""
	}
	return fallback, ""
}

func cachemountHasFlag(c dockerfile.Command, names ...string) bool {
	for _, w := range c.Words[1:] {
		for _, n := range names {
			if w == n || strings.HasPrefix(w, n+"=") {
				return true
			}
		}
	}
	return false
}

func cachemountSub(c dockerfile.Command, subs ...string) bool {
	return len(c.Words) > 0 && slices.Contains(subs, subcommand(c))
}

var cachemountTools = []*cachemountTool{
	{
		name:   "npm",
		detect: regexp.MustCompile(`(^|[\s;&|(])npm(\s+-\S+)*\s+(ci|install|i|add|update|up)(\s|$|[;&|)])`),
		uses: func(c dockerfile.Command) bool {
			return c.Name() == "npm" && cachemountSub(c, "ci", "install", "i", "add", "update", "up")
		},
		mine:    func(t string) bool { return strings.Contains(t, ".npm") || strings.Contains(t, "npm-cache") },
		cleanup: func(c dockerfile.Command) bool { return c.Name() == "npm" && subcommand(c) == "cache" },
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			if cachemountHasFlag(c, "--cache") {
				return nil, "npm is given its own --cache"
			}
			if v, ok := e.get("npm_config_cache", "NPM_CONFIG_CACHE"); ok {
				if v == "$" {
					return nil, "npm_config_cache cannot be resolved"
				}
				return []string{v}, ""
			}
			return []string{path.Join(e.home, ".npm")}, ""
		},
	},
	{
		name:   "yarn",
		detect: regexp.MustCompile(`(^|[\s;&|(])yarn(\s+-\S+)*\s*($|[;&|)]|(install|add|global|workspaces)\b)`),
		uses: func(c dockerfile.Command) bool {
			if c.Name() != "yarn" {
				return false
			}
			nf := nonFlags(c.Words[1:])
			return len(nf) == 0 || slices.Contains([]string{"install", "add", "global", "workspaces"}, nf[0])
		},
		mine: func(t string) bool { return strings.Contains(t, "yarn") },
		cleanup: func(c dockerfile.Command) bool {
			nf := nonFlags(c.Words[1:])
			return c.Name() == "yarn" && len(nf) >= 2 && nf[0] == "cache" && nf[1] == "clean"
		},
		targets: cachemountYarnTargets,
	},
	{
		name:   "pnpm",
		detect: regexp.MustCompile(`(^|[\s;&|(])pnpm(\s+-\S+)*\s+(install|i|add|fetch|deploy|update|up)(\s|$|[;&|)])`),
		uses: func(c dockerfile.Command) bool {
			return c.Name() == "pnpm" && cachemountSub(c, "install", "i", "add", "fetch", "deploy", "update", "up")
		},
		mine: func(t string) bool { return strings.Contains(t, "pnpm") },
		cleanup: func(c dockerfile.Command) bool {
			nf := nonFlags(c.Words[1:])
			return c.Name() == "pnpm" && len(nf) >= 2 && nf[0] == "store" && nf[1] == "prune"
		},
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			if cachemountHasFlag(c, "--store-dir") {
				return nil, "pnpm is given its own --store-dir"
			}
			if _, ok := e.env["npm_config_store_dir"]; ok {
				return nil, "npm_config_store_dir moves the pnpm store"
			}
			if dir, why := e.dirOr("PNPM_HOME", "store", ""); dir != "" || why != "" {
				return cachemountOne(dir, why)
			}
			return cachemountOne(e.dirOr("XDG_DATA_HOME", "pnpm/store", path.Join(e.home, ".local/share/pnpm/store")))
		},
	},
	{
		name:   "pip",
		detect: regexp.MustCompile(`(^|[\s;&|(])(pip[0-9.]*|python[0-9.]*\s+-m\s+pip)(\s+-\S+)*\s+(install|download|wheel)(\s|$|[;&|)])`),
		uses: func(c dockerfile.Command) bool {
			_, sub, ok := cachemountPip(c)
			return ok && (sub == "install" || sub == "download" || sub == "wheel")
		},
		mine: func(t string) bool { return strings.Contains(t, "pip") },
		cleanup: func(c dockerfile.Command) bool {
			_, sub, ok := cachemountPip(c)
			return ok && sub == "cache"
		},
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			if cachemountHasFlag(c, "--cache-dir") {
				return nil, "pip is given its own --cache-dir"
			}
			if _, ok := e.env["PIP_NO_CACHE_DIR"]; ok {
				return nil, "PIP_NO_CACHE_DIR turns pip's cache off"
			}
			if v, ok := e.get("PIP_CACHE_DIR"); ok {
				if v == "$" {
					return nil, "PIP_CACHE_DIR cannot be resolved"
				}
				return []string{v}, ""
			}
			return cachemountOne(e.dirOr("XDG_CACHE_HOME", "pip", path.Join(e.home, ".cache/pip")))
		},
	},
	{
		name:   "go",
		detect: regexp.MustCompile(`(^|[\s;&|(])go\s+(mod\s+download|build|install|get|test|run|generate|vet|list)\b`),
		uses: func(c dockerfile.Command) bool {
			if c.Name() != "go" {
				return false
			}
			nf := nonFlags(c.Words[1:])
			if len(nf) >= 2 && nf[0] == "mod" && nf[1] == "download" {
				return true
			}
			return len(nf) > 0 && slices.Contains([]string{"build", "install", "get", "test", "run", "generate", "vet", "list"}, nf[0])
		},
		mine: func(t string) bool { return strings.Contains(t, "/pkg/mod") || strings.Contains(t, "go-build") },
		cleanup: func(c dockerfile.Command) bool {
			if c.Name() != "go" || subcommand(c) != "clean" {
				return false
			}
			for _, w := range c.Words[2:] {
				if w != "-modcache" && w != "-cache" {
					return false
				}
			}
			return len(c.Words) > 2
		},
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			gopath := path.Join(e.home, "go")
			if e.info.Image.Base() == "golang" {
				gopath = "/go" // the official images set GOPATH=/go
			}
			if v, ok := e.env["GOPATH"]; ok {
				first, _, _ := strings.Cut(v, ":")
				if strings.Contains(first, "$") || !strings.HasPrefix(first, "/") {
					return nil, "GOPATH cannot be resolved"
				}
				gopath = first
			}
			mod, why := e.dirOr("GOMODCACHE", "", path.Join(gopath, "pkg/mod"))
			if why != "" {
				return nil, why
			}
			out := []string{mod}
			if v := e.env["GOCACHE"]; v == "off" {
				return out, ""
			}
			build, why := e.dirOr("GOCACHE", "", "")
			if why != "" {
				return nil, why
			}
			if build == "" {
				build, why = e.dirOr("XDG_CACHE_HOME", "go-build", path.Join(e.home, ".cache/go-build"))
				if why != "" {
					return nil, why
				}
			}
			return append(out, build), ""
		},
	},
	{
		name:   "maven",
		detect: regexp.MustCompile(`(^|[\s/])mvnw?(\s|$)`),
		uses: func(c dockerfile.Command) bool {
			return path.Base(c.Name()) == "mvn" || path.Base(c.Name()) == "mvnw"
		},
		mine:    func(t string) bool { return strings.Contains(t, ".m2") },
		cleanup: func(dockerfile.Command) bool { return false },
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			for _, w := range c.Words {
				if strings.Contains(w, "maven.repo.local") || w == "-s" || w == "--settings" || w == "-gs" || w == "--global-settings" {
					return nil, "maven is given its own settings or local repository"
				}
			}
			// The repository only: ~/.m2 may hold a settings.xml the build copied in.
			return []string{path.Join(e.home, ".m2/repository")}, ""
		},
	},
	{
		name:   "gradle",
		detect: regexp.MustCompile(`(^|[\s/])gradlew?(\s|$)`),
		uses: func(c dockerfile.Command) bool {
			return path.Base(c.Name()) == "gradle" || path.Base(c.Name()) == "gradlew"
		},
		mine:    func(t string) bool { return strings.Contains(t, ".gradle") || strings.Contains(t, "gradle") },
		cleanup: func(dockerfile.Command) bool { return false },
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			if cachemountHasFlag(c, "--gradle-user-home", "-g", "--project-cache-dir") {
				return nil, "gradle is given its own user home"
			}
			home, why := e.dirOr("GRADLE_USER_HOME", "", path.Join(e.home, ".gradle"))
			if why != "" {
				return nil, why
			}
			// Dependency caches and wrapper distributions; gradle.properties
			// and init scripts in the user home stay visible.
			out := []string{path.Join(home, "caches")}
			if path.Base(c.Name()) == "gradlew" {
				out = append(out, path.Join(home, "wrapper"))
			}
			return out, ""
		},
	},
}

func cachemountOne(dir, why string) ([]string, string) {
	if why != "" {
		return nil, why
	}
	return []string{dir}, ""
}

var (
	cachemountPipName    = regexp.MustCompile(`^pip[0-9.]*$`)
	cachemountPythonName = regexp.MustCompile(`^python[0-9.]*$`)
)

// cachemountPip recognizes pip, pip3, pip3.12 and `python -m pip`; it
// returns the index of the first word after "pip" and the subcommand.
func cachemountPip(c dockerfile.Command) (int, string, bool) {
	name := c.Name()
	if cachemountPipName.MatchString(name) {
		return 1, subcommand(c), true
	}
	if cachemountPythonName.MatchString(name) && len(c.Words) > 2 && c.Words[1] == "-m" && c.Words[2] == "pip" {
		rest := dockerfile.Command{Words: c.Words[2:]}
		return 3, subcommand(rest), true
	}
	return 0, "", false
}

func cachemountYarnTargets(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
	if cachemountHasFlag(c, "--cache-folder") {
		return nil, "yarn is given its own --cache-folder"
	}
	fb := e.p.Facts
	if fb.YarnBerry() {
		// Yarn 2+: with Plug'n'Play the installed packages are the cache's
		// zip files, so the cache must stay in the image; a global cache
		// (default from Yarn 4) under the home is safe with node_modules.
		rc := facts.CachemountYarnrc(fb)
		linker := rc["nodeLinker"]
		global := rc["enableGlobalCache"]
		if linker != "node-modules" && linker != "pnpm" {
			return nil, "Yarn Plug'n'Play reads packages from its cache at run time"
		}
		if global == "false" || (global != "true" && facts.CachemountYarnMajor(fb) < 4) {
			return nil, "this Yarn keeps its cache in the project"
		}
		if _, ok := e.env["YARN_CACHE_FOLDER"]; ok {
			return nil, "YARN_CACHE_FOLDER moves the Yarn cache"
		}
		if v, ok := e.get("YARN_GLOBAL_FOLDER"); ok {
			if v == "$" {
				return nil, "YARN_GLOBAL_FOLDER cannot be resolved"
			}
			return []string{path.Join(v, "cache")}, ""
		}
		return []string{path.Join(e.home, ".yarn/berry/cache")}, ""
	}
	if v, ok := e.get("YARN_CACHE_FOLDER"); ok {
		if v == "$" {
			return nil, "YARN_CACHE_FOLDER cannot be resolved"
		}
		return []string{v}, ""
	}
	// Yarn 1 keeps root's cache under /usr/local/share instead of the home.
	fallback := path.Join(e.home, ".cache/yarn")
	if e.root {
		fallback = "/usr/local/share/.cache/yarn"
	}
	return cachemountOne(e.dirOr("XDG_CACHE_HOME", "yarn", fallback))
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
	args := map[string]string{}
	if len(p.Facts.Services) > 0 {
		args = p.Facts.Services[0].Args
	}
	// Stages that share a root image form a component: a cache directory
	// written by one of them is visible to those built FROM it.
	comps := map[int][]*dockerfile.Stage{}
	var order []int
	for _, st := range p.File.Stages {
		root := st
		for i := 0; root.BaseStage != nil && i < 64; i++ {
			root = root.BaseStage
		}
		if _, ok := comps[root.Index]; !ok {
			order = append(order, root.Index)
		}
		comps[root.Index] = append(comps[root.Index], st)
	}
	changes := map[*dockerfile.Instruction]*cachemountChange{}
	var runs []*cachemountRun
	for _, ri := range order {
		comp := comps[ri]
		info := facts.Stage(p.File, comp[0], args)
		if info.Family == facts.Windows {
			continue
		}
		compRuns := cachemountRuns(p, comp, args)
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
				if _, _, ok := cachemountPip(c); ok && slices.Contains(c.Words, "--no-cache-dir") {
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
func cachemountRuns(p *Pass, comp []*dockerfile.Stage, args map[string]string) []*cachemountRun {
	var out []*cachemountRun
	for _, st := range comp {
		info := facts.Stage(p.File, st, args)
		var chain []*dockerfile.Stage
		for s := st; s != nil && len(chain) < 64; s = s.BaseStage {
			chain = append([]*dockerfile.Stage{s}, chain...)
		}
		user := ""
		env := map[string]string{}
		var seen []*dockerfile.Instruction // RUNs of the chain so far (for useradd)
		for _, s := range chain {
			for _, in := range s.Instructions {
				switch in.Cmd {
				case "user":
					if len(in.Args) > 0 {
						user = in.Args[0]
					}
				case "env":
					for i := 0; i+1 < len(in.Args); i += 3 {
						env[in.Args[i]] = strings.Trim(in.Args[i+1], `"'`)
					}
				case "run":
					if s == st {
						out = append(out, cachemountNewRun(p, st, in, info, user, env, seen))
					}
					seen = append(seen, in)
				}
			}
		}
	}
	return out
}

func cachemountNewRun(p *Pass, st *dockerfile.Stage, in *dockerfile.Instruction, info facts.StageInfo, user string, env map[string]string, seen []*dockerfile.Instruction) *cachemountRun {
	r := &cachemountRun{in: in, stage: st, mounts: in.CacheMountTargets()}
	r.text = strings.Join(in.Args, " ")
	for _, h := range in.Heredocs {
		r.text += "\n" + h.Content
	}
	if src, ok := in.ShellForm(); ok {
		if sc, ok := dockerfile.ParseScript(src); ok {
			r.script = sc
		}
	}
	e := &cachemountEnv{p: p, info: info, env: map[string]string{}}
	for k, v := range env {
		e.env[k] = v
	}
	cachemountWho(e, user, seen)
	r.env = e
	return r
}

// cachemountWho resolves the user a RUN runs as.
func cachemountWho(e *cachemountEnv, user string, seen []*dockerfile.Instruction) {
	name, group, _ := strings.Cut(user, ":")
	if facts.IsRoot(user) {
		if user == "" && (strings.Contains(e.info.Image.Tag, "nonroot") || strings.Contains(e.info.Image.Name, "unprivileged")) {
			e.unknown = "the base image's default user is not root"
			return
		}
		e.root = true
		e.home = "/root"
		if v, ok := e.env["HOME"]; ok {
			if strings.Contains(v, "$") || !strings.HasPrefix(v, "/") {
				e.unknown = "HOME cannot be resolved"
				return
			}
			e.home = strings.TrimSuffix(v, "/")
		}
		return
	}
	if strings.Contains(user, "$") {
		e.unknown = fmt.Sprintf("USER %s is set from a variable", user)
		return
	}
	if _, ok := e.env["HOME"]; ok {
		e.unknown = "HOME is changed for user " + name
		return
	}
	gid := -1
	if group != "" {
		g, err := strconv.Atoi(group)
		if err != nil {
			e.unknown = fmt.Sprintf("the gid of group %s is unknown", group)
			return
		}
		gid = g
	}
	switch {
	case e.info.ImageUser != "" && (name == e.info.ImageUser || name == strconv.Itoa(e.info.ImageUID)):
		e.uid, e.home, e.homeExists = e.info.ImageUID, "/home/"+e.info.ImageUser, e.info.ImageUser == "node"
		if gid < 0 {
			gid = e.info.ImageUID
		}
	default:
		u, ok := cachemountCreated(seen, name)
		if !ok {
			e.unknown = fmt.Sprintf("the uid or home of user %s is unknown", name)
			return
		}
		e.uid, e.home, e.homeExists = u.uid, u.home, u.homeExists
		if gid < 0 {
			gid = u.gid
		}
	}
	e.gid = gid
}

type cachemountUser struct {
	uid, gid   int
	home       string
	homeExists bool
}

// cachemountValueOpts are the useradd/adduser options that take a value.
var cachemountValueOpts = map[string]bool{
	"-u": true, "--uid": true, "-g": true, "--gid": true, "-G": true, "--groups": true, "--ingroup": true,
	"-d": true, "--home-dir": true, "--home": true, "-h": true, "-s": true, "--shell": true,
	"-c": true, "--comment": true, "--gecos": true, "-k": true, "--skel": true, "-K": true, "--key": true,
	"-e": true, "--expiredate": true, "-f": true, "--inactive": true, "-p": true, "--password": true,
	"-b": true, "--base-dir": true, "--firstuid": true, "--lastuid": true,
}

// cachemountCreated finds the useradd/adduser that created a user with an
// explicit uid, and whether it created the home directory.
func cachemountCreated(runs []*dockerfile.Instruction, name string) (cachemountUser, bool) {
	for _, in := range runs {
		src, ok := in.ShellForm()
		if !ok {
			continue
		}
		sc, ok := dockerfile.ParseScript(src)
		if !ok {
			continue
		}
		for _, c := range sc.Commands {
			if c.Name() != "useradd" && c.Name() != "adduser" {
				continue
			}
			opts := map[string]string{}
			var pos []string
			for i := 1; i < len(c.Words); i++ {
				w := c.Words[i]
				if k, v, ok := strings.Cut(w, "="); ok && strings.HasPrefix(k, "--") {
					opts[k] = v
					continue
				}
				if cachemountValueOpts[w] && i+1 < len(c.Words) {
					opts[w] = c.Words[i+1]
					i++
					continue
				}
				if strings.HasPrefix(w, "-") {
					opts[w] = ""
					continue
				}
				pos = append(pos, w)
			}
			if len(pos) == 0 || pos[0] != name {
				continue
			}
			u := cachemountUser{home: "/home/" + name}
			uidText := opts["-u"] + opts["--uid"]
			uid, err := strconv.Atoi(uidText)
			if err != nil {
				return u, false
			}
			u.uid, u.gid = uid, uid
			if g, err := strconv.Atoi(opts["-g"] + opts["--gid"]); err == nil && c.Name() == "useradd" {
				u.gid = g
			}
			for _, k := range []string{"-d", "--home-dir", "--home", "-h"} {
				if v, ok := opts[k]; ok && (k != "-h" || c.Name() == "adduser") {
					u.home = strings.TrimSuffix(v, "/")
				}
			}
			_, system := opts["--system"]
			_, sysShort := opts["-r"]
			if c.Name() == "useradd" {
				_, m := opts["-m"]
				_, cm := opts["--create-home"]
				u.homeExists = m || cm
			} else {
				_, noHome := opts["-H"]
				_, noCreate := opts["--no-create-home"]
				u.homeExists = !noHome && !noCreate && !system && !sysShort
			}
			if u.home == "/nonexistent" || u.home == "/dev/null" || u.home == "" {
				u.homeExists = false
			}
			return u, true
		}
	}
	return cachemountUser{}, false
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
		if !tool.detect.MatchString(r.text) {
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
	// Another stage copying the cache directory would get an empty one.
	inComp := map[string]bool{}
	for _, st := range comp {
		inComp[strconv.Itoa(st.Index)] = true
		if st.Name != "" {
			inComp[st.Name] = true
		}
	}
	for _, in := range p.File.Instructions {
		if in.Cmd != "copy" && in.Cmd != "add" || len(in.Args) < 2 {
			continue
		}
		from := in.Flag("from")
		for _, pl := range plans {
			for _, t := range pl.targets {
				if len(from) > 0 && inComp[strings.ToLower(from[0])] {
					for _, src := range in.Args[:len(in.Args)-1] {
						if cachemountOverlap(src, t) {
							p.Report(in.Start, "no %s cache mount: this COPY takes files from the cache directory %s", tool.name, t)
							return
						}
					}
				}
				if in.Stage >= 0 && slices.Contains(comp, p.File.Stages[in.Stage]) && cachemountWithin(in.Args[len(in.Args)-1], t) {
					p.Report(in.Start, "no %s cache mount: this COPY puts files into the cache directory %s", tool.name, t)
					return
				}
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
			switch subcommand(c) {
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
			if !isRmCache(c, "/var/lib/apt/lists") {
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
			if cachemountWithin(strings.TrimSuffix(w, "*"), t) {
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

// cachemountWithin reports whether p is dir or below it.
func cachemountWithin(p, dir string) bool {
	p = path.Clean("/" + strings.TrimSuffix(p, "/"))
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// cachemountOverlap reports whether one path contains the other.
func cachemountOverlap(a, b string) bool {
	a = strings.TrimSuffix(strings.TrimSuffix(a, "*"), "/")
	if a == "" {
		a = "/"
	}
	return cachemountWithin(a, b) || cachemountWithin(b, path.Clean(a))
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

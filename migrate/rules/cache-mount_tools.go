package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// cachemountTool describes one dependency tool and where its cache lives.
type cachemountTool struct {
	name string
	// detect finds an install by the tool in any RUN text, parsed or not.
	detect *regexp.Regexp
	// word is in every text detect matches: a RUN without it skips the
	// regexp (asked of every RUN for every tool, twice a pass).
	word string
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
	// env returns the value ENV gives a variable at the RUN.
	env func(string) (string, bool)
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
		if v, ok := e.env(k); ok {
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
	return len(c.Words) > 0 && slices.Contains(subs, c.Subcommand())
}

var cachemountTools = []*cachemountTool{
	{
		name:   "npm",
		detect: regexp.MustCompile(`(^|[\s;&|(])npm(\s+-\S+)*\s+(ci|install|i|add|update|up)(\s|$|[;&|)])`),
		word:   "npm",
		uses: func(c dockerfile.Command) bool {
			return c.Name() == "npm" && cachemountSub(c, "ci", "install", "i", "add", "update", "up")
		},
		mine:    func(t string) bool { return strings.Contains(t, ".npm") || strings.Contains(t, "npm-cache") },
		cleanup: func(c dockerfile.Command) bool { return c.Name() == "npm" && c.Subcommand() == "cache" },
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
		word:   "yarn",
		uses: func(c dockerfile.Command) bool {
			if c.Name() != "yarn" {
				return false
			}
			nf := dockerfile.NonFlags(c.Words[1:])
			return len(nf) == 0 || slices.Contains([]string{"install", "add", "global", "workspaces"}, nf[0])
		},
		mine: func(t string) bool { return strings.Contains(t, "yarn") },
		cleanup: func(c dockerfile.Command) bool {
			nf := dockerfile.NonFlags(c.Words[1:])
			return c.Name() == "yarn" && len(nf) >= 2 && nf[0] == "cache" && nf[1] == "clean"
		},
		targets: cachemountYarnTargets,
	},
	{
		name:   "pnpm",
		detect: regexp.MustCompile(`(^|[\s;&|(])pnpm(\s+-\S+)*\s+(install|i|add|fetch|deploy|update|up)(\s|$|[;&|)])`),
		word:   "pnpm",
		uses: func(c dockerfile.Command) bool {
			return c.Name() == "pnpm" && cachemountSub(c, "install", "i", "add", "fetch", "deploy", "update", "up")
		},
		mine: func(t string) bool { return strings.Contains(t, "pnpm") },
		cleanup: func(c dockerfile.Command) bool {
			nf := dockerfile.NonFlags(c.Words[1:])
			return c.Name() == "pnpm" && len(nf) >= 2 && nf[0] == "store" && nf[1] == "prune"
		},
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			if cachemountHasFlag(c, "--store-dir") {
				return nil, "pnpm is given its own --store-dir"
			}
			if _, ok := e.env("npm_config_store_dir"); ok {
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
		word:   "pip",
		uses: func(c dockerfile.Command) bool {
			_, sub, ok := c.Pip()
			return ok && (sub == "install" || sub == "download" || sub == "wheel")
		},
		mine: func(t string) bool { return strings.Contains(t, "pip") },
		cleanup: func(c dockerfile.Command) bool {
			_, sub, ok := c.Pip()
			return ok && sub == "cache"
		},
		targets: func(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
			if cachemountHasFlag(c, "--cache-dir") {
				return nil, "pip is given its own --cache-dir"
			}
			if _, ok := e.env("PIP_NO_CACHE_DIR"); ok {
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
		word:   "go",
		uses: func(c dockerfile.Command) bool {
			if c.Name() != "go" {
				return false
			}
			nf := dockerfile.NonFlags(c.Words[1:])
			if len(nf) >= 2 && nf[0] == "mod" && nf[1] == "download" {
				return true
			}
			return len(nf) > 0 && slices.Contains([]string{"build", "install", "get", "test", "run", "generate", "vet", "list"}, nf[0])
		},
		mine: func(t string) bool { return strings.Contains(t, "/pkg/mod") || strings.Contains(t, "go-build") },
		cleanup: func(c dockerfile.Command) bool {
			if c.Name() != "go" || c.Subcommand() != "clean" {
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
			if v, ok := e.env("GOPATH"); ok {
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
			if v, _ := e.env("GOCACHE"); v == "off" {
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
		word:   "mvn",
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
		word:   "gradle",
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

func cachemountYarnTargets(e *cachemountEnv, c dockerfile.Command) ([]string, string) {
	if cachemountHasFlag(c, "--cache-folder") {
		return nil, "yarn is given its own --cache-folder"
	}
	fb := e.p.Facts
	if fb.YarnBerry() {
		// Yarn 2+: with Plug'n'Play the installed packages are the cache's
		// zip files, so the cache must stay in the image; a global cache
		// (default from Yarn 4) under the home is safe with node_modules.
		rc := facts.Yarnrc(fb)
		linker := rc["nodeLinker"]
		global := rc["enableGlobalCache"]
		if linker != "node-modules" && linker != "pnpm" {
			return nil, "Yarn Plug'n'Play reads packages from its cache at run time"
		}
		if global == "false" || (global != "true" && facts.YarnMajor(fb) < 4) {
			return nil, "this Yarn keeps its cache in the project"
		}
		if _, ok := e.env("YARN_CACHE_FOLDER"); ok {
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

package rules

import (
	"path"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/facts"
)

// needsDevLater finds a later step of the stage, of a stage built FROM it,
// or the command the container runs, that uses a development dependency.
func (r *prodDepsRun) needsDevLater() (int, string) {
	np := r.p.Facts.Node
	check := func(text string, runTime bool) bool {
		return prodDepsTextNeedsDev(np, text, runTime)
	}
	for _, c := range r.rest {
		if check(c.Src, false) {
			return r.in.Start, "`" + c.Src + "`"
		}
	}
	if j := r.laterDev(); j < len(r.s.runs) {
		in := r.s.runs[j]
		return in.Start, "`" + strings.Join(in.Args, " ") + "`"
	}
	// What follows depends on the stage only.
	if r.s.devTail == nil {
		line, what := r.needsDevAfterStage()
		r.s.devTail = &prodDepsLine{line, what}
	}
	if r.s.devTail.what == "" {
		return 0, ""
	}
	line := r.s.devTail.line
	if line == 0 {
		line = r.in.Start
	}
	return line, r.s.devTail.what
}

// needsDevAfterStage finds a stage built FROM the stage, or the command
// the container runs, that uses a development dependency; line is 0 when
// the finding belongs on the install (a service's command).
func (r *prodDepsRun) needsDevAfterStage() (int, string) {
	check := func(text string, runTime bool) bool {
		return prodDepsTextNeedsDev(r.p.Facts.Node, text, runTime)
	}
	sf := r.p.Stage(r.st)
	for _, in := range sf.DerivedRuns() {
		if check(strings.Join(in.Args, " "), false) {
			return in.Start, "`" + strings.Join(in.Args, " ") + "` in stage " + r.p.File.Stages[in.Stage].Name
		}
	}
	for _, in := range r.st.Instructions {
		if (in.Cmd == "cmd" || in.Cmd == "entrypoint") && check(strings.Join(in.Args, " "), true) {
			return in.Start, "the container command"
		}
	}
	for _, s := range sf.Services {
		if len(s.Command) > 0 && check(strings.Join(s.Command, " "), true) {
			return 0, "the command of service " + s.Name
		}
	}
	for _, sc := range sf.StartScripts() {
		if check(sc.Text, true) {
			return 0, "the start script " + sc.Path
		}
	}
	return 0, ""
}

// prodDepsDevTools are programs that normally come from development dependencies.
var prodDepsDevTools = map[string]bool{
	"tsc": true, "webpack": true, "webpack-cli": true, "vite": true, "rollup": true, "esbuild": true,
	"parcel": true, "babel": true, "babel-node": true, "jest": true, "mocha": true, "vitest": true,
	"ts-node": true, "tsx": true, "nodemon": true, "eslint": true, "prettier": true, "husky": true,
	"lint-staged": true, "nest": true, "ng": true, "gulp": true, "grunt": true, "tsup": true, "swc": true,
	"ava": true, "tap": true, "nyc": true, "c8": true, "cypress": true, "playwright": true,
	"pytest": true, "py.test": true, "tox": true, "nox": true, "mypy": true, "flake8": true, "ruff": true,
	"black": true, "pylint": true, "coverage": true, "isort": true,
}

// prodDepsBins maps development packages to the programs they install.
var prodDepsBins = map[string]string{
	"typescript": "tsc", "@nestjs/cli": "nest", "@angular/cli": "ng", "@babel/cli": "babel",
	"@babel/node": "babel-node", "@swc/cli": "swc", "@playwright/test": "playwright",
}

var prodDepsSplit = regexp.MustCompile(`[\s;&|()"'=]+`)

// prodDepsTextNeedsDev reports whether a command line uses a development
// tool, directly, through npx, or through a package.json script. At run
// time only named scripts are followed; during the build any package
// manager command other than an install counts (build, test, run ...).
func prodDepsTextNeedsDev(np *facts.NodePackage, text string, runTime bool) bool {
	words := prodDepsSplit.Split(text, -1)
	for i, w := range words {
		base := path.Base(w)
		if prodDepsDevTools[base] || prodDepsIsDevDep(np, base) {
			return true
		}
		switch base {
		case "npm", "yarn", "pnpm", "npx", "bun":
			rest := words[i+1:]
			for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
				rest = rest[1:]
			}
			if len(rest) == 0 {
				continue
			}
			sub := rest[0]
			switch sub {
			case "ci", "install", "i", "add", "prune", "cache", "config", "set", "dedupe", "rebuild", "workspaces", "store", "fetch", "--version", "-v":
				continue
			}
			if base == "npx" {
				return true
			}
			script := sub
			if sub == "run" || sub == "run-script" {
				if len(rest) < 2 {
					continue
				}
				script = rest[1]
			}
			if sub == "t" {
				script = "test"
			}
			if np == nil {
				return !runTime
			}
			body, ok := np.Scripts[script]
			if !ok {
				if runTime {
					continue
				}
				return true
			}
			if prodDepsNodeDev(np, body, 1) || !runTime && (script == "build" || script == "test") {
				return true
			}
		}
	}
	return false
}

// prodDepsNodeDev reports whether a package.json script uses a development tool.
func prodDepsNodeDev(np *facts.NodePackage, script string, depth int) bool {
	if depth > 4 {
		return true
	}
	words := prodDepsSplit.Split(script, -1)
	for i, w := range words {
		if prodDepsDevTools[w] || prodDepsIsDevDep(np, w) {
			return true
		}
		if (w == "npm" || w == "yarn" || w == "pnpm") && i+1 < len(words) {
			next := words[i+1]
			if next == "run" && i+2 < len(words) {
				next = words[i+2]
			}
			if body, ok := np.Scripts[next]; ok && prodDepsNodeDev(np, body, depth+1) {
				return true
			}
		}
		if w == "npx" {
			return true
		}
	}
	return false
}

func prodDepsIsDevDep(np *facts.NodePackage, word string) bool {
	if np == nil || word == "" {
		return false
	}
	if _, ok := np.Dependencies[word]; ok {
		return false
	}
	for dep := range np.DevDependencies {
		if dep == word || prodDepsBins[dep] == word {
			return true
		}
	}
	return false
}

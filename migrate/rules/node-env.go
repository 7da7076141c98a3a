package rules

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// NodeEnv sets NODE_ENV=production in Node runtime stages.
var NodeEnv = &Rule{
	ID:    "node-env",
	Title: "Set NODE_ENV=production in Node runtime images",
	Doc: "Many Node libraries (Express, React's server renderer, most loggers) switch off " +
		"debugging aids and enable caching only when NODE_ENV is production, so an image without it " +
		"runs the slower development code paths. The variable also makes npm, yarn and pnpm skip " +
		"devDependencies, which is why it is placed at the end of the stage, after every RUN that might " +
		"still need them for a build. Stages that set NODE_ENV, take it from a build ARG or compose " +
		"build arg, are built for development, start a development server, or are images the " +
		"repository runs its tests in (through `docker compose run` or `exec`) are left alone.",
	After: []string{"multi-stage"},
	Run:   runNodeEnv,
}

// nodeenvTail are the commands that may follow the inserted ENV: none of
// them runs a program during the build.
var nodeenvTail = []string{"cmd", "entrypoint", "user", "healthcheck", "expose", "stopsignal", "label", "volume"}

func runNodeEnv(p *Pass) {
	for _, st := range p.Runtime() {
		if p.Stage(st).DevelopmentReason() != "" {
			continue
		}
		sf := p.Stage(st)
		info := sf.Info
		if info.Family == facts.Windows || !sf.RunsNode() {
			continue
		}
		if _, ok := sf.Env(nil)["NODE_ENV"]; ok {
			continue
		}
		if sf.ArgNames()["NODE_ENV"] {
			continue
		}
		if nodeenvComposeArg(p) {
			continue
		}
		if len(st.Find("onbuild")) > 0 {
			p.NeedsHuman(st.From.Start, "stage %s has ONBUILD triggers that run in images built from it; NODE_ENV=production was not added because it would change what they install", st.DisplayName())
			continue
		}
		if why := nodeenvDevCommand(p, st); why != "" {
			p.NeedsHuman(st.From.Start, "stage %s %s; NODE_ENV=production was not added: check that the image really is meant for production", st.DisplayName(), why)
			continue
		}
		// The same evidence that keeps the test files and the development
		// dependencies: test runners (Jest among them) keep a NODE_ENV they
		// find, so the suite would run with production settings.
		if ev := p.Facts.TestsInContainer(sf.Services); len(ev) > 0 {
			p.Report(st.From.Start, "NODE_ENV=production was not added to stage %s: the tests run inside this image (%s runs `%s` in the container) and would then run with production settings; set it in the environment of the services that run the app instead", st.DisplayName(), ev[0].Where, ev[0].What)
			continue
		}
		p.Edit(dockerfile.InsertAtEnd(st, p.File.Keyword("env")+" NODE_ENV=production\n", nodeenvTail...))
	}
}

// nodeenvComposeArg reports whether a compose service passes NODE_ENV as a
// build arg.
func nodeenvComposeArg(p *Pass) bool {
	for _, s := range p.Facts.Services {
		if _, ok := s.Args["NODE_ENV"]; ok {
			return true
		}
	}
	return false
}

var (
	// nodeenvDevServer matches commands that start development servers.
	nodeenvDevServer = regexp.MustCompile(`\b(nodemon|ts-node-dev|webpack-dev-server|next\s+dev|nuxi?\s+dev|webpack\s+serve|ng\s+serve|react-scripts\s+start|vue-cli-service\s+serve|tsx\s+watch)\b|\s--watch\b`)
	// nodeenvVite matches vite started without a subcommand, or with dev/serve.
	nodeenvVite = regexp.MustCompile(`\bvite(\s*$|\s*["']|\s+(dev|serve)\b|\s+-)`)
	// nodeenvInstall matches package installs run when the container starts.
	nodeenvInstall = regexp.MustCompile(`\b(npm\s+(install|ci|i)|yarn\s+install|pnpm\s+(install|i))\b|^\s*yarn\s*$`)
	// nodeenvScriptRun matches `npm start`, `npm run x`, `yarn x`, `pnpm x`.
	nodeenvScriptRun = regexp.MustCompile(`\b(?:npm(?:\s+run(?:-script)?)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([A-Za-z0-9:_.-]+)`)
)

// nodeenvDevCommand describes why the stage's start command looks like
// development use ("" when it does not): a development server or watcher,
// or packages installed when the container starts.
func nodeenvDevCommand(p *Pass, st *dockerfile.Stage) string {
	cmds := p.Stage(st).StartCommands()
	// One level of package.json scripts run by the commands.
	if p.Facts.Node != nil {
		var names []string
		for _, c := range cmds {
			for _, m := range nodeenvScriptRun.FindAllStringSubmatch(c, -1) {
				names = append(names, m[1])
			}
		}
		sort.Strings(names)
		for _, n := range slices.Compact(names) {
			if sc, ok := p.Facts.Node.Scripts[n]; ok {
				cmds = append(cmds, sc)
			}
		}
	}
	for _, c := range cmds {
		if m := nodeenvDevServer.FindString(c); m != "" {
			return "starts a development server (" + strings.TrimSpace(m) + ")"
		}
		if nodeenvVite.MatchString(c) {
			return "starts the vite development server"
		}
		if m := nodeenvInstall.FindString(c); m != "" {
			return "installs packages when the container starts (" + strings.TrimSpace(m) + ")"
		}
	}
	return ""
}

package facts

import (
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// nodeStart matches a start command that runs Node.
var nodeStart = regexp.MustCompile(`(^|[\s/"'])(node|nodejs|npm|npx|yarn|pnpm|bun|deno|next|nuxt|ts-node|tsx|nodemon|pm2|pm2-runtime|react-scripts|vite|remix|astro|strapi|nest)(\s|$|["'])|\.(c|m)?js(\s|$|["'])|\.ts(\s|$|["'])`)

// NodeAssetsOnly says why the Node dependencies a stage installs serve
// only to build assets ("" when the app may use them at run time): one of
// the later RUNs given removes node_modules, or every way the stage starts
// (StartCommandLines: the image's ENTRYPOINT and CMD where compose keeps
// them, the compose entrypoint and command of its services, and the start
// scripts those run) runs something other than Node. prod-deps and the
// Node split both ask it.
func (sf *StageFacts) NodeAssetsOnly(later []*dockerfile.Instruction) string {
	for _, in := range later {
		t := strings.Join(in.Args, " ")
		if strings.Contains(t, "rm ") && strings.Contains(t, "node_modules") {
			return "a later RUN removes node_modules, so they never reach the image"
		}
	}
	// A container that starts with neither compose's entrypoint or command
	// nor any ENTRYPOINT or CMD of the chain runs the base image's own
	// command: unknown here.
	baseCommand := len(sf.Services) == 0
	for _, s := range sf.Services {
		baseCommand = baseCommand || len(s.Entrypoint) == 0 && len(s.Command) == 0
	}
	// One command line per container: the image's ENTRYPOINT and CMD
	// together, each service's entrypoint and command together.
	var starts []string
	prev := "\x00" // the service of the last line in starts
	for _, c := range sf.StartCommandLines() {
		if c.Service == "" {
			baseCommand = false
		}
		l := strings.TrimSpace(strings.Join(c.Args, " "))
		switch {
		case l == "":
		case c.Service == prev:
			starts[len(starts)-1] += " " + l
		default:
			starts, prev = append(starts, l), c.Service
		}
	}
	if baseCommand || len(starts) == 0 {
		return ""
	}
	for _, s := range starts {
		if nodeStart.MatchString(s) {
			return ""
		}
	}
	// A start script (sh -c ./start.sh, docker-entrypoint.sh) that runs
	// Node uses them.
	for _, sc := range sf.StartScripts() {
		if nodeStart.MatchString(sc.Text) {
			return ""
		}
	}
	return "the stage starts `" + starts[0] + "`, not Node, so node_modules only serve to build assets"
}

package facts

import (
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// NodeAssetsOnly reads what starts the container as compose runs it: a
// compose entrypoint replaces the image's ENTRYPOINT and clears its CMD,
// and a compose command replaces the CMD. A service whose entrypoint or
// command runs Node uses node_modules at run time, whatever the image's
// own CMD says.
func TestNodeAssetsOnly(t *testing.T) {
	const static = "FROM node:20-alpine\nWORKDIR /app\nRUN npm ci\nCMD [\"python3\", \"-m\", \"http.server\", \"8000\"]\n"
	const node = "FROM node:20-alpine\nWORKDIR /app\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n"
	const none = "FROM node:20-alpine\nWORKDIR /app\nRUN npm ci\n"
	for _, c := range []struct {
		name       string
		dockerfile string
		services   []Service
		want       string // "" = the app may use node_modules; else a part of the reason
	}{
		{"image serves static files", static, []Service{{Name: "web"}}, "`python3 -m http.server 8000`, not Node"},
		{"image runs node", node, []Service{{Name: "web"}}, ""},
		{"no service, image runs node", node, nil, ""},
		{"compose entrypoint runs node", static, []Service{{Name: "web", Entrypoint: []string{"node", "server.js"}}}, ""},
		{"compose entrypoint runs npm", static, []Service{{Name: "web", Entrypoint: []string{"npm", "start"}}}, ""},
		{"compose command runs node", static, []Service{{Name: "web", Command: []string{"node", "server.js"}}}, ""},
		{"one of two services runs node", static, []Service{{Name: "web"}, {Name: "api", Entrypoint: []string{"node", "api.js"}}}, ""},
		// The compose entrypoint clears the image's CMD: the container
		// runs nginx, not node server.js.
		{"compose entrypoint replaces a node image", node, []Service{{Name: "web", Entrypoint: []string{"nginx", "-g", "daemon off;"}}}, "`nginx -g daemon off;`, not Node"},
		{"compose entrypoint and command, no node", node, []Service{{Name: "web", Entrypoint: []string{"python3"}, Command: []string{"-m", "http.server"}}}, "`python3 -m http.server`, not Node"},
		{"compose command, no node", node, []Service{{Name: "web", Command: []string{"python3", "-m", "http.server"}}}, "`python3 -m http.server`, not Node"},
		// Neither the chain nor compose names a command: the base
		// image's own, unknown here.
		{"base image command", none, []Service{{Name: "web"}}, ""},
		{"base image command for one service", none, []Service{{Name: "web", Command: []string{"python3"}}, {Name: "api"}}, ""},
		{"compose entrypoint only, no CMD in the chain", none, []Service{{Name: "web", Entrypoint: []string{"python3", "-m", "http.server"}}}, "`python3 -m http.server`, not Node"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := dockerfile.Parse([]byte(c.dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			b := &Build{Files: map[string]bool{}, Services: c.services}
			got := NewStages(b, f).Of(f.Stages[0]).NodeAssetsOnly(nil)
			if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
				t.Errorf("NodeAssetsOnly = %q, want %q", got, c.want)
			}
		})
	}
}

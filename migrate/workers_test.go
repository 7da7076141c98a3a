package migrate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/compose"
)

// The worker health-check finding names the compose file and the line of
// the worker's service key, whether compose is edited (the key's line in
// the edited file) or not (a flow mapping: needs a human), instead of no
// line in the Dockerfile.
func TestWorkerFindingNamesComposeLine(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"compose.yaml": "services:\n  web:\n    build: ./app\n    ports: [\"8000:8000\"]\n" +
			"  jobs:\n    build: ./app\n    command: [\"python\", \"jobs.py\"]\n" +
			"  cron: {build: {context: ./app}, command: [\"python\", \"cron.py\"]}\n",
		"app/Dockerfile":       "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nEXPOSE 8000\nCMD [\"python\", \"app.py\"]\n",
		"app/app.py":           "print('hi')\n",
		"app/requirements.txt": "flask\n",
	})
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Make(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	compose := filepath.Join(dir, "compose.yaml")
	want := map[string]struct {
		line  int
		human bool
	}{"jobs": {7, false}, "cron": {14, true}} // lines of the edited file: each build: ./app became three lines, jobs gained two
	seen := 0
	for _, bp := range plan.Builds {
		for _, f := range bp.Findings {
			for svc, w := range want {
				if f.Rule != "healthcheck" || !strings.HasPrefix(f.Message, "service "+svc+" ") {
					continue
				}
				seen++
				if f.File != compose || f.Line != w.line || f.NeedsHuman != w.human {
					t.Errorf("%s: finding at %s:%d (needs human %v), want %s:%d (%v): %s", svc, f.File, f.Line, f.NeedsHuman, compose, w.line, w.human, f.Message)
				}
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d worker findings, want %d", seen, len(want))
	}
}

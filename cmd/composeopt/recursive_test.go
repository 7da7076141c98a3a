package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (slash-separated paths relative to dir).
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, content)
	}
}

const sharedDockerfile = `FROM node:20-alpine AS base
WORKDIR /app
COPY package.json ./
RUN npm install
COPY . .

FROM base AS api
EXPOSE 3000
CMD ["node", "server.js"]

FROM base AS worker
CMD ["node", "worker.js"]
`

// Two compose files in one folder build one Dockerfile with different
// targets and ports. Planning one, applying, then planning the other must
// not touch the optimized Dockerfile the first wrote (its content depends
// on every service of the repository that builds the Dockerfile, not on
// the project planned), and both compose files end up pointing at it.
func TestSharedDockerfileOneOutput(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"Dockerfile":   sharedDockerfile,
		"package.json": `{"name": "x", "version": "1.0.0", "dependencies": {"express": "4"}}` + "\n",
		"server.js":    "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT || 3000)\n",
		"worker.js":    "setInterval(() => {}, 1000)\n",
		"compose.yaml": "services:\n  api:\n    build:\n      context: .\n      target: api\n    ports:\n      - \"3000:3000\"\n",
		"compose.test.yaml": "services:\n  api-test:\n    build:\n      context: .\n      target: api\n    environment:\n      PORT: \"4000\"\n" +
			"    ports:\n      - \"4000:4000\"\n  worker:\n    build:\n      context: .\n      target: worker\n",
	})
	if _, stderr, code := composeopt(t, dir, "apply"); code != 0 {
		t.Fatalf("apply compose.yaml: exit %d\n%s", code, stderr)
	}
	first, err := os.ReadFile(filepath.Join(dir, "Dockerfile.optimized"))
	if err != nil {
		t.Fatal(err)
	}
	diff, stderr, code := composeopt(t, dir, "-f", "compose.test.yaml", "plan")
	if code != 0 {
		t.Fatalf("plan compose.test.yaml: exit %d\n%s", code, stderr)
	}
	if strings.Contains(diff, "Dockerfile.optimized b/Dockerfile.optimized") || !strings.Contains(diff, "compose.test.yaml") {
		t.Fatalf("planning the other compose file changes the shared output, or not its compose file:\n%s", diff)
	}
	if _, stderr, code := composeopt(t, dir, "-f", "compose.test.yaml", "apply"); code != 0 {
		t.Fatalf("apply compose.test.yaml: exit %d\n%s", code, stderr)
	}
	if second, _ := os.ReadFile(filepath.Join(dir, "Dockerfile.optimized")); string(second) != string(first) {
		t.Errorf("Dockerfile.optimized changed:\n%s\n---\n%s", first, second)
	}
	for _, f := range []string{"compose.yaml", "compose.test.yaml"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		if want := "dockerfile: Dockerfile.optimized"; strings.Count(string(data), want) != strings.Count(string(data), "build:") {
			t.Errorf("%s does not point every build at Dockerfile.optimized:\n%s", f, data)
		}
	}
	for _, args := range [][]string{{"plan", "--exit-code"}, {"-f", "compose.test.yaml", "plan", "--exit-code"}, {"plan", "-r", "--exit-code"}} {
		if out, stderr, code := composeopt(t, dir, args...); code != 0 {
			t.Errorf("%v after both applies: exit %d\n%s%s", args, code, out, stderr)
		}
	}
}

// monorepo writes a samples repository of n compose projects in
// subfolders, patterned on docker/awesome-compose: varied stacks, an
// override file, side-by-side compose files, projects sharing a context,
// plus folders discovery must skip and one project that does not load.
func monorepo(t *testing.T, dir string, n int) {
	t.Helper()
	files := map[string]string{
		".gitignore": "build-output/\n",
		// Neither of these is a project of the repository.
		"node_modules/pkg/compose.yaml": "services:\n  x:\n    build: .\n",
		"build-output/compose.yaml":     "services:\n  x:\n    build: .\n",
		// A project that does not load: reported, the others go on.
		"broken/compose.yaml": "services:\n  web:\n    build: [\n",
	}
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("samples/%02d", i)
		switch i % 5 {
		case 0: // Node API with a database
			files[d+"/compose.yaml"] = "services:\n  api:\n    build: ./api\n    ports:\n      - \"3000:3000\"\n  db:\n    image: postgres:16\n"
			files[d+"/api/Dockerfile"] = "FROM node:20-alpine\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\nEXPOSE 3000\nCMD node server.js\n"
			files[d+"/api/package.json"] = `{"name": "api", "version": "1.0.0", "dependencies": {"express": "4"}}` + "\n"
			files[d+"/api/server.js"] = "require('express')().get('/health', (q, r) => r.send('ok')).listen(3000)\n"
		case 1: // Python web app and worker from one Dockerfile, with an override file
			files[d+"/docker-compose.yml"] = "services:\n  web:\n    build:\n      context: app\n    ports:\n      - \"5000:5000\"\n  worker:\n    build:\n      context: app\n    command: [\"python\", \"worker.py\"]\n"
			files[d+"/docker-compose.override.yml"] = "services:\n  web:\n    environment:\n      DEBUG: \"1\"\n"
			files[d+"/app/Dockerfile"] = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
			files[d+"/app/requirements.txt"] = "flask==3.0.0\n"
			files[d+"/app/app.py"] = "from flask import Flask\napp = Flask(__name__)\n"
			files[d+"/app/worker.py"] = "print('work')\n"
		case 2: // Go service
			files[d+"/compose.yml"] = "services:\n  svc:\n    build:\n      context: .\n      dockerfile: build/Dockerfile\n"
			files[d+"/build/Dockerfile"] = "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build -o /usr/local/bin/svc .\nCMD [\"svc\"]\n"
			files[d+"/go.mod"] = "module example.com/svc\n\ngo 1.22\n"
			files[d+"/main.go"] = "package main\n\nfunc main() {}\n"
		case 3: // Side-by-side compose files sharing a Dockerfile
			files[d+"/compose.yaml"] = "services:\n  app:\n    build: .\n    ports:\n      - \"8080:8080\"\n"
			files[d+"/compose.ci.yaml"] = "services:\n  app-ci:\n    build: .\n    command: [\"sh\", \"-c\", \"echo test\"]\n"
			files[d+"/Dockerfile"] = "FROM alpine:3.20\nRUN apk add curl\nCOPY . /srv\nCMD [\"/srv/run.sh\"]\n"
			files[d+"/run.sh"] = "#!/bin/sh\nexec sleep 1000\n"
		case 4: // Two Dockerfiles in one context
			files[d+"/compose.yaml"] = "services:\n  api:\n    build:\n      context: .\n      dockerfile: api.Dockerfile\n  cron:\n    build:\n      context: .\n      dockerfile: cron.Dockerfile\n"
			files[d+"/api.Dockerfile"] = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD [\"/app/api\"]\n"
			files[d+"/cron.Dockerfile"] = "FROM alpine:3.20\nRUN apk add tzdata\nCOPY . /app\nCMD [\"crond\", \"-f\"]\n"
		}
	}
	writeTree(t, dir, files)
}

// The acceptance run of issue 11: on a repository of 30+ compose projects,
// `plan -r` prints one diff that git apply accepts, `apply -r` writes
// exactly that, and `plan -r --exit-code` then exits 0.
func TestRecursiveMonorepo(t *testing.T) {
	dir := t.TempDir()
	monorepo(t, dir, 32)
	gitRepoFixture(t, dir)
	diff, stderr, code := composeopt(t, dir, "plan", "-r")
	if code != 0 {
		t.Fatalf("plan -r: exit %d\n%s", code, stderr)
	}
	// Many builds: one line per build with its counts, the items that need
	// a human grouped at the end; -v adds every finding under its build.
	for _, want := range []string{"samples/00:api: migrate samples/00/api/Dockerfile → Dockerfile.optimized (rules: ", "\nsamples/31:web, samples/31:worker: migrate",
		"\nsamples/03:compose.ci.yaml:app-ci: migrate", "finding", "\nskipped (image-only service (no build:)): samples/00:db, samples/05:db,", "\nNeeds a human (", "\n  - broken:(project): skipped: ", "\n39 compose projects, 1 not planned.\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "\n    samples/") {
		t.Errorf("the summary of many builds lists findings one by one:\n%s", stderr)
	}
	if _, verbose, _ := composeopt(t, dir, "plan", "-r", "-v"); !strings.Contains(verbose, "\n    samples/00/api/Dockerfile.optimized:") || !strings.Contains(verbose, "\nbroken:(project): skipped: needs a human: ") {
		t.Errorf("plan -r -v does not list every finding:\n%s", verbose)
	}
	for _, skipped := range []string{"node_modules/pkg", "build-output/"} {
		if strings.Contains(stderr+diff, skipped) {
			t.Errorf("%s was not skipped:\n%s", skipped, stderr)
		}
	}
	// One pull-request body with a section per project, one JSON plan.
	md, _, code := composeopt(t, dir, "plan", "-r", "--format", "markdown")
	for _, want := range []string{"\n### `samples/00`\n", "\n| **api** | `samples/00/api/Dockerfile` → `Dockerfile.optimized` |", "\n### `broken`\n", "**broken:(project)**"} {
		if code != 0 || !strings.Contains(md, want) {
			t.Errorf("plan -r --format markdown (exit %d) lacks %q", code, want)
		}
	}
	js, _, code := composeopt(t, dir, "plan", "-r", "--format", "json")
	if code != 0 {
		t.Errorf("plan -r --format json: exit %d", code)
	}
	validatePlanJSON(t, []byte(js))
	patch := filepath.Join(t.TempDir(), "plan.diff")
	writeFile(t, patch, diff)
	git(t, dir, "apply", "--check", patch)
	viaGit := t.TempDir()
	if err := os.CopyFS(viaGit, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	git(t, viaGit, "apply", patch)

	if _, stderr, code := composeopt(t, dir, "apply", "-r"); code != 0 {
		t.Fatalf("apply -r: exit %d\n%s", code, stderr)
	}
	if a, b := tree(t, dir), tree(t, viaGit); a != b {
		t.Errorf("apply -r and git apply of plan -r disagree")
	}
	if out, stderr, code := composeopt(t, dir, "plan", "-r", "--exit-code"); code != 0 || out != "" {
		t.Errorf("plan -r --exit-code after apply -r: exit %d\n%s%s", code, out, stderr)
	}
	// Every project builds its optimized files now.
	if out, stderr, code := composeopt(t, dir, "check", "-r"); code != 0 {
		t.Errorf("check -r after apply -r: exit %d\n%s%s", code, out, stderr)
	}
}

func TestRecursiveRefusesProjectFlags(t *testing.T) {
	dir := t.TempDir()
	monorepo(t, dir, 1)
	for _, args := range [][]string{{"-f", "x.yaml", "plan", "-r"}, {"plan", "-r", "api"}, {"--env-file", "a.env", "plan", "-r"}} {
		if _, stderr, code := composeopt(t, dir, args...); code != 1 || !strings.Contains(stderr, "-r/--recursive") {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
}

// One Dockerfile built from two contexts: the first build is migrated, the
// second is reported (the plan used to fail as a whole on a duplicate path
// in the change set).
func TestSameDockerfileTwoContexts(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"src/cart/Dockerfile": "FROM alpine:3.20\nRUN apk add curl\nCOPY . /app\nCMD [\"/app/run\"]\n",
		"compose.yaml": "services:\n  cart:\n    build:\n      context: .\n      dockerfile: src/cart/Dockerfile\n" +
			"  cart-local:\n    build:\n      context: src/cart\n",
	})
	diff, stderr, code := composeopt(t, dir, "plan")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "cart: migrate src/cart/Dockerfile") || !strings.Contains(stderr, "cart-local: not migrated: src/cart/Dockerfile is also built from context . (services cart)") {
		t.Errorf("summary:\n%s", stderr)
	}
	if strings.Count(diff, "+++ b/src/cart/Dockerfile.optimized\n") != 1 {
		t.Errorf("diff:\n%s", diff)
	}
}

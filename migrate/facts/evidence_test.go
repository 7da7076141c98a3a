package facts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestScanRuns(t *testing.T) {
	src := strings.Join([]string{
		"test:",
		"\tdocker compose -f compose.yaml run --rm \\",
		"\t  -e APP_ENV=test web pytest tests/",
		"      - run: docker-compose exec -T app npm run test:unit && echo done",
		"Run `docker compose exec api bundle exec rspec` to test.",
		"docker compose up -d db",
		"docker compose run --rm ${SERVICE} go test ./...",
		"docker compose run --entrypoint=sh worker -c 'python -m pytest -x'",
	}, "\n")
	got := scanRuns("Makefile", []byte(src))
	want := []Run{
		{Service: "web", Command: []string{"pytest", "tests/"}, File: "Makefile", Line: 2},
		{Service: "app", Command: []string{"npm", "run", "test:unit"}, File: "Makefile", Line: 4},
		{Service: "api", Command: []string{"bundle", "exec", "rspec"}, File: "Makefile", Line: 5},
		{Service: "", Command: []string{"go", "test", "./..."}, File: "Makefile", Line: 7},
		{Service: "worker", Command: []string{"-c", "python -m pytest -x"}, File: "Makefile", Line: 8},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d runs %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].Service != want[i].Service || !slices.Equal(got[i].Command, want[i].Command) || got[i].Line != want[i].Line {
			t.Errorf("run %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestIsTestCommand(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		want bool
	}{
		{"pytest tests/", true},
		{"python -m pytest", true},
		{"python manage.py test", true},
		{"npm test", true},
		{"npm run test:e2e", true},
		{"yarn test", true},
		{"go test ./...", true},
		{"./mvnw verify", true},
		{"sh -c 'npm ci && npm test'", true},
		{"bundle exec rspec", true},
		{"npm start", false},
		{"npm run build", false},
		{"python app.py", false},
		{"gunicorn app:app", false},
		{"go run .", false},
		{"psql -U postgres", false},
	} {
		if got := IsTestCommand(shellWords(c.cmd)); got != c.want {
			t.Errorf("IsTestCommand(%q) = %v, want %v", c.cmd, got, c.want)
		}
	}
	if !IsDocsCommand(shellWords("mkdocs build -f docs/mkdocs.yml")) || IsDocsCommand(shellWords("npm start")) {
		t.Error("IsDocsCommand")
	}
}

func TestGatherRepoAndInImage(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".github/workflows/ci.yml", "steps:\n  - run: docker compose run web pytest\n")
	write("README.md", "    docker compose exec other-project-svc npm test\n")
	write("node_modules/x/README.md", "docker compose run web pytest\n") // not evidence
	write("src/app.py", "docker compose run web pytest\n")               // not a script, CI or README
	// A symlinked script is not followed.
	outside := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(outside, []byte("docker compose run api go test ./...\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "run.sh")); err != nil {
		t.Fatal(err)
	}
	r := GatherRepo(dir, map[string]bool{"web": true, "api": true})
	if len(r.Runs) != 2 {
		t.Fatalf("runs = %+v, want the workflow's and the README's", r.Runs)
	}
	if ev := r.InImage("tests", []Service{{Name: "web"}}); len(ev) != 2 {
		// the README names a service the project does not have: it may be any
		t.Errorf("web evidence = %+v", ev)
	}
	if ev := r.InImage("tests", []Service{{Name: "api"}}); len(ev) != 1 || ev[0].Where != "README.md:1" {
		t.Errorf("api evidence = %+v", ev)
	}
	if ev := r.InImage("tests", []Service{{Name: "api", Command: []string{"pytest", "-q"}}}); len(ev) != 2 || ev[0].Where != "compose service api" {
		t.Errorf("compose command evidence = %+v", ev)
	}
	if ev := r.InImage("docs", []Service{{Name: "web"}}); len(ev) != 0 {
		t.Errorf("docs evidence = %+v", ev)
	}
}

func TestCredentialKind(t *testing.T) {
	files := map[string]string{
		"deploy/id_rsa":            "-----BEGIN OPENSSH PRIVATE KEY-----\n",
		"certs/server.key":         "-----BEGIN EC PRIVATE KEY-----\n",
		"certs/ca.pem":             "-----BEGIN CERTIFICATE-----\n",
		".npmrc":                   "//registry.npmjs.org/:_authToken=abc\n",
		"sub/.npmrc":               "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
		".pypirc":                  "[pypi]\nusername = __token__\npassword = pypi-abc\n",
		".aws/credentials":         "[default]\naws_secret_access_key = abc\n",
		"gcp/service-account.json": `{"type": "service_account", "private_key": "-----BEGIN"}`,
		"config/prod.env":          "A=1\n",
		".env.example":             "A=\n",
		"package.json":             "{}\n",
	}
	want := map[string]bool{"deploy/id_rsa": true, "certs/server.key": true, ".npmrc": true, ".pypirc": true,
		".aws/credentials": true, "gcp/service-account.json": true, "config/prod.env": true}
	for rel, content := range files {
		kind, registry := CredentialKind(rel, func() ([]byte, bool) { return []byte(content), true })
		if (kind != "") != want[rel] {
			t.Errorf("CredentialKind(%s) = %q, want credential %v", rel, kind, want[rel])
		}
		if registry != (rel == ".npmrc") {
			t.Errorf("CredentialKind(%s) registry = %v", rel, registry)
		}
	}
	// Without content, the name decides.
	if k, _ := CredentialKind("keys/tls.pem", nil); k == "" {
		t.Error("a .pem without content must count as a key by its name")
	}
}

func TestScanContext(t *testing.T) {
	dir := t.TempDir()
	for rel, content := range map[string]string{
		"pom.xml":                 "<project/>",
		"frontend/package.json":   "{}",
		"tools/Tool/Tool.csproj":  "<Project/>",
		"node_modules/a/pom.xml":  "",
		"deploy/id_ed25519":       "key",
		"frontend/node_modules/x": "",
	} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sc := ScanContext(dir)
	if !slices.Equal(sc.Ecosystems, []string{"node", "java", "dotnet"}) {
		t.Errorf("ecosystems = %q", sc.Ecosystems)
	}
	if len(sc.Credentials) != 1 || sc.Credentials[0].Path != "deploy/id_ed25519" {
		t.Errorf("credentials = %+v", sc.Credentials)
	}
}

func TestJDWPPorts(t *testing.T) {
	got := JDWPPorts(`["java", "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005", "-jar", "app.jar"]`,
		"JAVA_TOOL_OPTIONS=-Xrunjdwp:transport=dt_socket,address=8000,server=y", "java -jar app.jar --server.port=8080")
	if !slices.Equal(got, []int{5005, 8000}) {
		t.Errorf("JDWPPorts = %v", got)
	}
}

// Health routes declared for a state-changing method are not probed.
func TestHealthRoutesMethodSafe(t *testing.T) {
	dir := t.TempDir()
	for rel, body := range map[string]string{
		"app.py":    "@app.post(\"/health\")\ndef h(): pass\n@app.route(\"/ping\", methods=[\"POST\"])\ndef p(): pass\n@app.get(\"/status\")\ndef s(): pass\n",
		"server.js": "app.delete('/ready', f)\napp.get('/live', f)\n",
		"main.go":   "mux.HandleFunc(\"POST /healthz\", h)\nmux.HandleFunc(\"GET /up\", u)\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	routes, _ := findHealthRoutes(dir)
	if !slices.Equal(routes, []string{"/up", "/live", "/status"}) {
		t.Errorf("routes = %q, want only the GET ones", routes)
	}
}

// Read from a repository root, a project deep below it has its own scripts
// read as when it is planned alone: the depth limit counts from the
// nearest project directory, not from the root.
func TestGatherRepoDepthFromProjects(t *testing.T) {
	dir := t.TempDir()
	project := filepath.Join(dir, "teams", "core", "services", "api")
	script := filepath.Join(project, "scripts", "ci", "test.sh")
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("docker compose run web pytest\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	services := map[string]bool{"web": true}
	if r := GatherRepo(dir, services); len(r.Runs) != 0 {
		t.Errorf("without the project, a script 6 directories down was read: %+v", r.Runs)
	}
	r := GatherRepo(dir, services, project)
	if len(r.Runs) != 1 || r.Runs[0].File != "teams/core/services/api/scripts/ci/test.sh" {
		t.Errorf("runs = %+v, want the project's script, named from the root", r.Runs)
	}
}

// Each run is attributed to the compose project it works in, when the
// evidence says which; otherwise it may be any project's.
func TestGatherRepoAttributesRuns(t *testing.T) {
	dir := t.TempDir()
	api, shop := filepath.Join(dir, "services", "api"), filepath.Join(dir, "services", "shop")
	files := map[string]string{
		"Makefile": "test-api:\n\tdocker compose -f services/api/compose.yaml run web pytest\n" +
			"test-shop:\n\tcd services/shop && docker compose run web npm test\n" +
			"test-dir:\n\tdocker compose --project-directory=services/api exec web pytest\n" +
			"test-any:\n\tdocker compose run web pytest\n",
		".github/workflows/one.yml": "defaults:\n  run:\n    working-directory: services/shop\nsteps:\n  - run: docker compose run web npm test\n",
		".github/workflows/two.yml": "jobs:\n  a:\n    steps:\n      - working-directory: services/api\n        run: docker compose run web pytest\n" +
			"  b:\n    steps:\n      - working-directory: services/shop\n        run: docker compose run web npm test\n",
		"services/api/README.md":       "    docker compose run web pytest\n",
		"services/api/scripts/test.sh": "docker compose -f ../compose.yaml run web pytest\n",
		"services/shop/compose.yaml":   "services: {}\n",
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := GatherRepo(dir, map[string]bool{"web": true}, api, shop)
	want := map[string]string{
		"Makefile:2": api, "Makefile:4": shop, "Makefile:6": api, "Makefile:8": "",
		".github/workflows/one.yml:5": shop, ".github/workflows/two.yml:5": "", ".github/workflows/two.yml:9": "",
		"services/api/README.md:1": api, "services/api/scripts/test.sh:1": api,
	}
	got := map[string]string{}
	for _, run := range r.Runs {
		got[run.Where()] = run.Project
	}
	for where, project := range want {
		if p, ok := got[where]; !ok || p != project {
			t.Errorf("%s: project %q (found %v), want %q", where, p, ok, project)
		}
	}
	if n := len(r.ForProjects([]string{shop}).Runs); n != 5 {
		t.Errorf("runs for shop = %d, want 5 (its own two and the three that may be any project's)", n)
	}
}

// findHealthRoutes scans the context's sources for health endpoints, as
// Gather's one walk of the sources does.
func findHealthRoutes(dir string) ([]string, map[string][]string) {
	rs := routeScan{}
	walkSources(dir, rs.add)
	return rs.result()
}

// TestNearestProject: the deepest project folder holding a directory,
// within the root, including a root of "/" (a repository at the file
// system's root, as in some CI containers).
func TestNearestProject(t *testing.T) {
	sep := string(filepath.Separator)
	for _, root := range []string{sep, filepath.Join(sep, "repo")} {
		api := filepath.Join(root, "services", "api")
		projects := map[string]bool{root: true, api: true}
		for d, want := range map[string]string{
			filepath.Join(api, "app"):            api,
			api:                                  api,
			filepath.Join(root, "services", "x"): root,
			root:                                 root,
		} {
			if got := nearestProject(d, root, projects); got != want {
				t.Errorf("root %s: nearestProject(%s) = %q, want %q", root, d, got, want)
			}
		}
	}
	if got := nearestProject(filepath.Join(string(filepath.Separator), "elsewhere"), filepath.Join(string(filepath.Separator), "repo"), map[string]bool{}); got != "" {
		t.Errorf("outside the root: %q", got)
	}
}

package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// writeTree creates files (slash-separated relative names) in a new
// temporary directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, opts Options) *Project {
	t.Helper()
	p, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func findService(p *Project, name string) *Service {
	for _, s := range p.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func findSkip(p *Project, name string) *Skip {
	for i := range p.Skipped {
		if p.Skipped[i].Service == name {
			return &p.Skipped[i]
		}
	}
	return nil
}

func TestLoadMatrixStudio(t *testing.T) {
	p := load(t, Options{WorkingDir: matrixStudio})
	dir, _ := filepath.Abs(matrixStudio)
	if p.Name != "atlantiplex" || p.Dir != dir || !slices.Equal(p.Files, []string{filepath.Join(dir, "docker-compose.yml")}) {
		t.Fatalf("project = %q %q %q", p.Name, p.Dir, p.Files)
	}
	var names []string
	for _, s := range p.Services {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"stage-server", "flask-backend", "worker", "redis"}) {
		t.Fatalf("services = %v", names)
	}
	stage := findService(p, "stage-server")
	if stage.Image != "atlantiplex-stage:dev" || stage.Environment["PORT"] != "3000" || !slices.Equal(stage.Ports, []int{3000}) || stage.Command != nil {
		t.Errorf("stage-server = %+v", stage)
	}
	worker := findService(p, "worker")
	if !slices.Equal(worker.Command, []string{"python", "-m", "backend.worker"}) || !slices.Equal(worker.Profiles, []string{"jobs"}) ||
		worker.Build.Args["APP_ENV"] != "production" {
		t.Errorf("worker = %+v %+v", worker, worker.Build)
	}
	if len(p.Builds) != 2 {
		t.Fatalf("builds = %d", len(p.Builds))
	}
	py := p.Builds[1]
	if py.Dockerfile != filepath.Join(dir, "matrix-studio/Dockerfile.python") || py.Current != py.Dockerfile ||
		!slices.Equal(py.Services, []string{"flask-backend", "worker"}) || !slices.Equal(py.Targets, []string{""}) || py.SharedContext {
		t.Errorf("python build = %+v", py)
	}
	if s := findSkip(p, "redis"); s == nil || s.Reason != "image-only service (no build:)" || s.NeedsHuman {
		t.Errorf("redis skip = %+v", s)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings = %q", p.Warnings)
	}

	refs := map[*Build]string{}
	for _, b := range p.Builds {
		refs[b] = b.Dockerfile + ".optimized"
	}
	edits, err := EditDockerfileRefs(p, refs)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 1 {
		t.Fatalf("%d edits", len(edits))
	}
	want := strings.Replace(string(edits[0].Old), "dockerfile: Dockerfile   # Node.js stage server", "dockerfile: Dockerfile.optimized   # Node.js stage server", 1)
	want = strings.ReplaceAll(want, "dockerfile: Dockerfile.python\n", "dockerfile: Dockerfile.python.optimized\n")
	if string(edits[0].New) != want {
		t.Errorf("edited file:\n%s", edits[0].New)
	}
}

func TestLoadServicesFilter(t *testing.T) {
	p := load(t, Options{WorkingDir: matrixStudio, Services: []string{"worker"}})
	if len(p.Services) != 1 || len(p.Builds) != 1 || !slices.Equal(p.Builds[0].Services, []string{"worker"}) {
		t.Fatalf("services %d builds %+v", len(p.Services), p.Builds)
	}
	// worker shares its build with flask-backend, which is not selected:
	// the edit must not change flask-backend either.
	_, err := EditDockerfileRefs(p, map[*Build]string{p.Builds[0]: p.Builds[0].Dockerfile + ".optimized"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), Options{WorkingDir: matrixStudio, Services: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown service: err = %v", err)
	}
}

func TestLoadService(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml": `services:
  api:
    build: .
    environment:
      A: "1"
      B:
    command: serve --port 80
    entrypoint: ["/init"]
    user: "1000:1000"
    ports: ["8080:80", "9000-9001:9000-9001/udp"]
    expose: ["7000", "7100-7101"]
    healthcheck:
      test: ["CMD", "true"]
  off:
    image: x
    healthcheck:
      disable: true
`,
		"Dockerfile": "FROM alpine\n",
	})
	p := load(t, Options{WorkingDir: dir})
	api := findService(p, "api")
	if !slices.Equal(api.Command, []string{"serve", "--port", "80"}) || !slices.Equal(api.Entrypoint, []string{"/init"}) ||
		api.User != "1000:1000" || !api.HasHealthcheck || len(api.Environment) != 1 || api.Environment["A"] != "1" ||
		!slices.Equal(api.Ports, []int{80, 7000, 7100, 7101, 9000, 9001}) {
		t.Errorf("api = %+v", api)
	}
	if off := findService(p, "off"); off.HasHealthcheck {
		t.Errorf("disabled healthcheck reported")
	}
}

func TestLoadSkipsAndWarnings(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml": `services:
  inline:
    build:
      context: .
      dockerfile: Dockerfile
      dockerfile_inline: "FROM alpine"
  git:
    build: https://github.com/docker/compose.git#main
  gh:
    build:
      context: github.com/example/repo
  tarball:
    build: https://example.com/ctx.tar.gz
  image:
    image: nginx
  var:
    build:
      context: .
      dockerfile: ${DOCKERFILE}
  missing:
    build:
      context: ./nowhere
  env:
    image: ${UNSET_IMAGE_VAR}:${TAG:-latest}
    env_file: ./missing.env
  optional-env:
    image: x
    env_file:
      - path: ./also-missing.env
        required: false
`,
		"Dockerfile": "FROM alpine\n",
	})
	p := load(t, Options{WorkingDir: dir})
	if len(p.Builds) != 0 {
		t.Errorf("builds = %+v", p.Builds[0])
	}
	for name, reason := range map[string]string{
		"inline":  "dockerfile_inline",
		"git":     "remote build context",
		"gh":      "remote build context",
		"tarball": "remote build context",
		"image":   "image-only service (no build:)",
		"var":     "dockerfile: is set from ${DOCKERFILE}, which is not set; point it at the optimized file by hand",
		"missing": "does not exist",
	} {
		s := findSkip(p, name)
		if s == nil || !strings.Contains(s.Reason, reason) {
			t.Errorf("%s: skip = %+v, want reason %q", name, s, reason)
			continue
		}
		if s.NeedsHuman != (name == "var") {
			t.Errorf("%s: NeedsHuman = %v", name, s.NeedsHuman)
		}
	}
	joined := strings.Join(p.Warnings, "\n")
	for _, w := range []string{"UNSET_IMAGE_VAR", "DOCKERFILE", "missing.env"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings %q lack %s", p.Warnings, w)
		}
	}
	if strings.Contains(joined, "TAG") || strings.Contains(joined, "also-missing") {
		t.Errorf("unexpected warning in %q", p.Warnings)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"bad.yaml":     "services:\n  web:\n    image: x\n   build: .\n",
		"invalid.yaml": "services:\n  web:\n    image: x\n    bogus: 1\n",
	})
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"bad.yaml", []string{filepath.Join(dir, "bad.yaml"), "line 3"}},
		{"invalid.yaml", []string{filepath.Join(dir, "invalid.yaml"), "bogus"}},
		{"absent.yaml", []string{filepath.Join(dir, "absent.yaml"), "no such file"}},
	} {
		_, err := Load(context.Background(), Options{WorkingDir: dir, Files: []string{tc.file}})
		if err == nil {
			t.Errorf("%s: no error", tc.file)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.file, err, w)
			}
		}
	}
	empty := t.TempDir()
	if _, err := Load(context.Background(), Options{WorkingDir: empty}); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("no compose file: err = %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestLoadDiscovery(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml":          "services:\n  web:\n    build: ./web\n",
		"compose.override.yaml": "services:\n  web:\n    build:\n      dockerfile: Dockerfile.dev\n",
		"web/Dockerfile.dev":    "FROM alpine\n",
		"sub/dir/.keep":         "",
		"other.yaml":            "services:\n  other:\n    build: ./web\n    image: o\n",
		"web/Dockerfile":        "FROM alpine\n",
	})
	// Discovery walks up from a subdirectory and picks the override file.
	p := load(t, Options{WorkingDir: filepath.Join(dir, "sub/dir")})
	if p.Dir != dir || len(p.Files) != 2 || len(p.Builds) != 1 || p.Builds[0].Dockerfile != filepath.Join(dir, "web/Dockerfile.dev") {
		t.Fatalf("project %q files %q builds %+v", p.Dir, p.Files, p.Builds)
	}
	// COMPOSE_FILE wins over discovery.
	t.Setenv("COMPOSE_FILE", "other.yaml")
	p = load(t, Options{WorkingDir: dir})
	if len(p.Files) != 1 || findService(p, "other") == nil {
		t.Fatalf("COMPOSE_FILE ignored: %q", p.Files)
	}
}

func TestLoadAlreadyMigrated(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml":         "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n",
		"Dockerfile":           "FROM alpine\n",
		"Dockerfile.optimized": dockerfile.HeaderLine("Dockerfile", []byte("FROM alpine\n")) + "\nFROM alpine\n",
	})
	p := load(t, Options{WorkingDir: dir})
	if len(p.Builds) != 1 {
		t.Fatalf("builds = %v", p.Builds)
	}
	b := p.Builds[0]
	if b.Dockerfile != filepath.Join(dir, "Dockerfile") || b.Current != filepath.Join(dir, "Dockerfile.optimized") || b.Ref != RefOK {
		t.Fatalf("build = %+v", b)
	}
	edits, err := EditDockerfileRefs(p, map[*Build]string{b: b.Current})
	if err != nil || len(edits) != 0 {
		t.Fatalf("edits = %v, err = %v", edits, err)
	}
}

// TestLoadDanglingReferences: compose pointing at a generated file that is
// gone, stale (its original changed) or not generated at all is recognised,
// with the original beside it as the build's Dockerfile. The old loader
// skipped the missing file as "does not exist" (so plan said "No changes"),
// and took the others at face value.
func TestLoadDanglingReferences(t *testing.T) {
	orig := "FROM alpine\n"
	for _, tc := range []struct {
		name      string
		optimized *string
		want      RefState
	}{
		{"current", ptr(dockerfile.HeaderLine("Dockerfile", []byte(orig)) + "\n" + orig), RefOK},
		{"missing", nil, RefMissing},
		{"stale", ptr(dockerfile.HeaderLine("Dockerfile", []byte("FROM debian\n")) + "\n" + orig), RefStale},
		{"old header", ptr("# Generated by composeopt from Dockerfile; edit Dockerfile and re-run composeopt.\n" + orig), RefStale},
		{"foreign", ptr("FROM alpine:3.20\n"), RefForeign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"compose.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n",
				"Dockerfile":   orig,
			}
			if tc.optimized != nil {
				files["Dockerfile.optimized"] = *tc.optimized
			}
			dir := writeTree(t, files)
			p := load(t, Options{WorkingDir: dir})
			if len(p.Builds) != 1 {
				t.Fatalf("builds = %v, skipped = %v", p.Builds, p.Skipped)
			}
			b := p.Builds[0]
			if b.Dockerfile != filepath.Join(dir, "Dockerfile") || b.Current != filepath.Join(dir, "Dockerfile.optimized") || b.Ref != tc.want {
				t.Fatalf("build = %+v, want Ref %q", b, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestLoadSharedContextAndProfiles(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml": `services:
  api:
    build: {context: ., dockerfile: Dockerfile.api}
    profiles: [prod]
  web:
    build:
      context: .
      dockerfile: Dockerfile.web
      target: runtime
  web-dev:
    profiles: [dev]
    build:
      context: .
      dockerfile: Dockerfile.web
      target: dev
`,
		"Dockerfile.api": "FROM alpine\n",
		"Dockerfile.web": "FROM alpine AS dev\nFROM alpine AS runtime\n",
	})
	p := load(t, Options{WorkingDir: dir})
	if len(p.Builds) != 2 {
		t.Fatalf("builds = %d", len(p.Builds))
	}
	for _, b := range p.Builds {
		if !b.SharedContext {
			t.Errorf("%s: SharedContext false", b.Dockerfile)
		}
	}
	if web := p.Builds[1]; !slices.Equal(web.Targets, []string{"runtime", "dev"}) || !slices.Equal(web.Services, []string{"web", "web-dev"}) {
		t.Errorf("web build = %+v", web)
	}
}

// matrixStudio is the example monorepo, kept once for the whole repository
// in the golden test cases.
const matrixStudio = "../golden/testdata/matrix-studio/in"

// A compose file whose anchor holds an alias to itself is refused before
// compose-go expands it (14 s for three lines) and before the locator
// follows the merge (a stack overflow).
func TestLoadRefusesSelfAlias(t *testing.T) {
	for _, text := range []string{
		"services:\n  a: &s\n    <<: *s\n    build: .\n",
		"x-: &b\n      <<: *b\n      context: v",
		"services:\n  a:\n    build: &b\n      context: .\n      args: [*b]\n",
	} {
		dir := writeTree(t, map[string]string{"compose.yaml": text, "Dockerfile": "FROM alpine\n"})
		_, err := Load(context.Background(), Options{WorkingDir: dir})
		if err == nil || !strings.Contains(err.Error(), "alias to the anchor itself") || !strings.Contains(err.Error(), "compose.yaml:") {
			t.Errorf("%q: err = %v", text, err)
		}
	}
}

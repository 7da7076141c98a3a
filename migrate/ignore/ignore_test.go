package ignore

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// makeContext creates the given files (context-relative) in a temp dir.
func makeContext(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// isExcluded evaluates content the way BuildKit does.
func isExcluded(t *testing.T, content []byte, p string) bool {
	t.Helper()
	patterns, err := ignorefile.ReadAll(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := pm.MatchesOrParentMatches(p)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestGenerate(t *testing.T) {
	nodeFiles := []string{"package.json", "package-lock.json", "src/index.js", "src/__tests__/a.test.js",
		"node_modules/left-pad/index.js", "README.md", "CHANGELOG.md", "docs/guide.md", ".env", ".env.example",
		"tests/e2e.js", "Dockerfile", "docker-compose.yml", "npm-debug.log", "dist/bundle.js", ".git/HEAD"}
	pyFiles := []string{"pyproject.toml", "app/__init__.py", "app/__pycache__/x.cpython-312.pyc", "README.md",
		".venv/bin/python", "tests/test_app.py", ".pytest_cache/v", ".git/HEAD"}

	tests := []struct {
		name     string
		files    []string
		in       Input
		excluded []string
		included []string
		// prefix must begin the output byte for byte (the user's lines).
		prefix       string
		wantWarnings []string
		check        func(t *testing.T, out Output)
	}{
		{
			name:  "new file for a node context",
			files: nodeFiles,
			in: Input{Ecosystems: []string{"node"}, RebuiltOutputs: []string{"dist"}, Header: "Defaults for the node service",
				Keep: []string{"package.json", "package-lock.json", "src/"}},
			excluded: []string{"node_modules/left-pad/index.js", ".git/HEAD", ".env", "README.md", "docs/guide.md",
				"tests/e2e.js", "Dockerfile", "docker-compose.yml", "npm-debug.log", "dist/bundle.js"},
			included: []string{"package.json", "src/index.js", "src/__tests__/a.test.js", ".env.example"},
			check: func(t *testing.T, out Output) {
				if !bytes.HasPrefix(out.Content, []byte(BeginMarker+"\n# Defaults for the node service\n")) {
					t.Errorf("section header missing:\n%s", out.Content)
				}
				if !bytes.HasSuffix(out.Content, []byte(EndMarker+"\n")) {
					t.Errorf("end marker missing:\n%s", out.Content)
				}
				// __tests__ sits inside the kept src/, so that default must go.
				if slices.Contains(out.Added, "**/__tests__") {
					t.Errorf("**/__tests__ added although src/ is kept: %v", out.Added)
				}
			},
		},
		{
			name:     "new file for a python context copying everything",
			files:    pyFiles,
			in:       Input{Ecosystems: []string{"python"}, Keep: []string{"."}},
			excluded: []string{"app/__pycache__/x.cpython-312.pyc", ".venv/bin/python", ".pytest_cache/v", ".git/HEAD", "tests/test_app.py"},
			included: []string{"pyproject.toml", "app/__init__.py", "README.md"},
		},
		{
			name:  "merge keeps user lines and adds no duplicates",
			files: nodeFiles,
			in: Input{Ecosystems: []string{"node"}, Keep: []string{"."},
				Existing: []byte("# mine\nnode_modules\n/.git\n  *.log  \n!important.log"),
			},
			prefix:   "# mine\nnode_modules\n/.git\n  *.log  \n!important.log\n\n" + BeginMarker + "\n",
			excluded: []string{"node_modules/left-pad/index.js", ".env"},
			included: []string{"important.log"},
			check: func(t *testing.T, out Output) {
				for _, dup := range []string{"**/node_modules", ".git", "**/*.log"} {
					if slices.Contains(out.Added, dup) {
						t.Errorf("%q duplicates a user line: %v", dup, out.Added)
					}
				}
			},
		},
		{
			name:     "kept README.md is re-included",
			files:    nodeFiles,
			in:       Input{Ecosystems: []string{"node"}, Keep: []string{"package.json", "README.md"}},
			excluded: []string{"CHANGELOG.md"},
			included: []string{"README.md"},
			check: func(t *testing.T, out Output) {
				if !slices.Contains(out.Added, "*.md") || !slices.Contains(out.Added, "!README.md") {
					t.Errorf("want *.md plus !README.md, got %v", out.Added)
				}
			},
		},
		{
			name:     "kept tests directory is not excluded",
			files:    pyFiles,
			in:       Input{Ecosystems: []string{"python"}, Keep: []string{"app/", "tests/"}},
			excluded: []string{"app/__pycache__/x.cpython-312.pyc"},
			included: []string{"tests/test_app.py", "app/__init__.py"},
			check: func(t *testing.T, out Output) {
				if slices.Contains(out.Added, "tests") || !slices.Contains(out.Added, "test") {
					t.Errorf("want test but not tests, got %v", out.Added)
				}
			},
		},
		{
			name:  "CRLF existing file",
			files: nodeFiles,
			in: Input{Ecosystems: []string{"node"}, Keep: []string{"src/"},
				Existing: []byte("node_modules\r\n# keep\r\n")},
			prefix:   "node_modules\r\n# keep\r\n\r\n" + BeginMarker + "\r\n",
			excluded: []string{".git/HEAD"},
			check: func(t *testing.T, out Output) {
				if n := bytes.Count(out.Content, []byte("\n")); n != bytes.Count(out.Content, []byte("\r\n")) {
					t.Errorf("bare LF in CRLF file:\n%q", out.Content)
				}
			},
		},
		{
			name:  "user line excluding a kept path is kept and reported",
			files: nodeFiles,
			in: Input{Ecosystems: []string{"node"}, Keep: []string{"package.json", "src/"},
				Existing: []byte("src\n")},
			prefix:       "src\n",
			wantWarnings: []string{`a user line excludes "src"`},
		},
		{
			name:     "explicitly kept .env and prebuilt jar survive",
			files:    []string{".env", "target/app.jar", "target/classes/A.class", "build.gradle"},
			in:       Input{Ecosystems: []string{"java"}, Keep: []string{".env", "target/*.jar"}},
			included: []string{".env", "target/app.jar"},
			excluded: []string{".git/HEAD", ".gradle/x"},
		},
		{
			name:     "user re-include is not undone by a default",
			files:    nodeFiles,
			in:       Input{Ecosystems: []string{"node"}, Keep: []string{"src/"}, Existing: []byte("docs/*.tmp\n!docs/guide.md\n.env.example\n")},
			included: []string{"docs/guide.md"},
			excluded: []string{".env.example", "README.md"},
			check: func(t *testing.T, out Output) {
				if slices.Contains(out.Added, "docs") || slices.Contains(out.Added, "!**/.env.example") {
					t.Errorf("defaults override user lines: %v", out.Added)
				}
			},
		},
		{
			name:         "unknown ecosystem is reported",
			in:           Input{Ecosystems: []string{"cobol"}},
			excluded:     []string{".git/HEAD"},
			wantWarnings: []string{`ecosystem "cobol"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.ContextDir = makeContext(t, tt.files...)
			out, err := Generate(in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out.Content, []byte(tt.prefix)) {
				t.Errorf("user lines changed; want prefix %q, got:\n%q", tt.prefix, out.Content)
			}
			for _, p := range tt.excluded {
				if !isExcluded(t, out.Content, p) {
					t.Errorf("%s should be excluded by:\n%s", p, out.Content)
				}
			}
			for _, p := range tt.included {
				if isExcluded(t, out.Content, p) {
					t.Errorf("%s should stay in the context with:\n%s", p, out.Content)
				}
			}
			for _, w := range tt.wantWarnings {
				if !strings.Contains(strings.Join(out.Warnings, "\n"), w) {
					t.Errorf("want warning containing %q, got %q", w, out.Warnings)
				}
			}
			if len(tt.wantWarnings) == 0 && len(out.Warnings) > 0 {
				t.Errorf("unexpected warnings: %q", out.Warnings)
			}
			if tt.check != nil {
				tt.check(t, out)
			}

			// Idempotence: a second run changes nothing and adds nothing.
			in.Existing = out.Content
			again, err := Generate(in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Content, out.Content) || len(again.Added) != 0 {
				t.Errorf("second run differs (added %v):\n%q\nvs\n%q", again.Added, again.Content, out.Content)
			}
		})
	}
}

func TestGenerateUpdatesOwnSection(t *testing.T) {
	dir := makeContext(t, "docs/index.md", "src/main.go")
	first, err := Generate(Input{ContextDir: dir, Ecosystems: []string{"go"}, Keep: []string{"src/"}})
	if err != nil {
		t.Fatal(err)
	}
	if !isExcluded(t, first.Content, "docs/index.md") {
		t.Fatalf("docs should be excluded at first:\n%s", first.Content)
	}
	user := []byte("# user\n*.tmp\n")
	existing := append(append([]byte(nil), user...), first.Content...)

	// The Dockerfile now copies docs/ and is a node build as well.
	second, err := Generate(Input{ContextDir: dir, Ecosystems: []string{"go", "node"}, Keep: []string{"src/", "docs/"}, Existing: existing})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(second.Content, user) {
		t.Errorf("user lines changed:\n%s", second.Content)
	}
	if isExcluded(t, second.Content, "docs/index.md") {
		t.Errorf("docs still excluded:\n%s", second.Content)
	}
	if !isExcluded(t, second.Content, "node_modules/x") {
		t.Errorf("node defaults missing:\n%s", second.Content)
	}
	if n := bytes.Count(second.Content, []byte(BeginMarker)); n != 1 {
		t.Errorf("want one composeopt section, got %d:\n%s", n, second.Content)
	}
	if len(second.Warnings) != 1 || !strings.Contains(second.Warnings[0], `removed "docs"`) {
		t.Errorf("want a warning about removing docs, got %q", second.Warnings)
	}
}

func TestGenerateHeaderStaysOneLine(t *testing.T) {
	out, err := Generate(Input{Header: "line one\nline two"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Content, []byte(BeginMarker+"\n# line one line two\n.git\n")) {
		t.Errorf("unexpected header:\n%s", out.Content)
	}
}

// Retained defaults are not added, and an earlier composeopt line for one
// of them is removed; Exclude adds paths that only an explicit Keep overrides.
func TestRetainAndExclude(t *testing.T) {
	dir := makeContext(t, "tests/test_a.py", "docs/index.md", "deploy/id_rsa", "keys/signing.key", "app.py")
	in := Input{ContextDir: dir, Keep: []string{".", "keys/signing.key"}, Retain: []string{"test", "tests", "**/__tests__"},
		Exclude: []string{"deploy/id_rsa", "keys/signing.key"}}
	out, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if isExcluded(t, out.Content, "tests/test_a.py") {
		t.Errorf("retained tests/ excluded:\n%s", out.Content)
	}
	if !isExcluded(t, out.Content, "docs/index.md") {
		t.Errorf("docs/ not excluded:\n%s", out.Content)
	}
	if !isExcluded(t, out.Content, "deploy/id_rsa") {
		t.Errorf("credential not excluded:\n%s", out.Content)
	}
	if isExcluded(t, out.Content, "keys/signing.key") {
		t.Errorf("explicitly copied file excluded:\n%s", out.Content)
	}

	// A file written by an earlier run that excluded tests/: the line goes.
	old, err := Generate(Input{ContextDir: dir, Keep: []string{"."}})
	if err != nil {
		t.Fatal(err)
	}
	if !isExcluded(t, old.Content, "tests/test_a.py") {
		t.Fatalf("default no longer excludes tests/:\n%s", old.Content)
	}
	in.Existing = old.Content
	again, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if isExcluded(t, again.Content, "tests/test_a.py") || !slices.Contains(again.Retired, "tests") {
		t.Errorf("earlier tests line kept (retired %q):\n%s", again.Retired, again.Content)
	}
	// Idempotent.
	in.Existing = again.Content
	third, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(third.Content, again.Content) {
		t.Errorf("second run changed the file:\n%s\n---\n%s", again.Content, third.Content)
	}
}

func TestDotnetDefaults(t *testing.T) {
	dir := makeContext(t, "Api/Api.csproj", "Api/bin/Debug/Api.dll", "Api/obj/project.assets.json", "Api/Program.cs")
	out, err := Generate(Input{ContextDir: dir, Keep: []string{"."}, Ecosystems: []string{"dotnet"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Api/bin/Debug/Api.dll", "Api/obj/project.assets.json"} {
		if !isExcluded(t, out.Content, p) {
			t.Errorf("%s not excluded:\n%s", p, out.Content)
		}
	}
	if isExcluded(t, out.Content, "Api/Program.cs") {
		t.Errorf("source excluded:\n%s", out.Content)
	}
	if len(out.Warnings) > 0 {
		t.Errorf("warnings: %q", out.Warnings)
	}
}

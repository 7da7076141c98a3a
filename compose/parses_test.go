package compose

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// parseFiles is a project with -f files, an included file and an
// extends: file, every one with a build.
var parseFiles = map[string]string{
	"compose.yaml": `include:
  - lib/compose.yaml
services:
  web:
    build: ./web
    ports: ["80:80"]
  worker:
    extends:
      file: base.yaml
      service: base
    command: ["./work"]
`,
	"compose.override.yaml": "services:\n  web:\n    environment: [A=1]\n",
	"base.yaml":             "services:\n  base:\n    build:\n      context: ./worker\n",
	"lib/compose.yaml":      "services:\n  lib:\n    build: ./app\n",
	"web/Dockerfile":        "FROM alpine\n",
	"worker/Dockerfile":     "FROM alpine\n",
	"lib/app/Dockerfile":    "FROM alpine\n",
}

// TestLoadParsesEachFileOnce: the locator reuses the precheck's parse of
// every compose file whose bytes it reads again unchanged (4 files, 4
// parses; before, the locator parsed them all again), and still parses a
// file whose bytes changed after the precheck.
func TestLoadParsesEachFileOnce(t *testing.T) {
	dir := writeTree(t, parseFiles)
	y0 := YAMLParses()
	p := load(t, Options{WorkingDir: dir})
	if n := YAMLParses() - y0; n != 4 {
		t.Errorf("loading 4 compose files parsed YAML %d times, want 4", n)
	}
	if len(p.Builds) != 3 {
		t.Fatalf("%d builds, want 3", len(p.Builds))
	}
	// The locator's trees are the precheck's, which it reads unchanged.
	for path, f := range p.state.loc.files {
		if f.doc == nil || f.root != deref(f.doc) {
			t.Errorf("%s: no parse kept", path)
		}
	}

	// base.yaml changes between the precheck and the locator (the Started
	// hook runs in between): it is parsed again, and the build is located
	// in the new bytes (same length, so a size check could not tell).
	dir = writeTree(t, parseFiles)
	base := filepath.Join(dir, "base.yaml")
	changed := strings.Replace(parseFiles["base.yaml"], "./worker", "./w0rker", 1)
	if len(changed) != len(parseFiles["base.yaml"]) {
		t.Fatal("the test wants the same length")
	}
	if err := os.MkdirAll(filepath.Join(dir, "w0rker"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "w0rker", "Dockerfile"), []byte("FROM alpine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	y0 = YAMLParses()
	p, err := Load(context.Background(), Options{WorkingDir: dir, Started: func(string, func() Guess) {
		if err := os.WriteFile(base, []byte(changed), 0o644); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n := YAMLParses() - y0; n != 5 {
		t.Errorf("a file changed after the precheck: %d parses, want 5 (4 + the changed file again)", n)
	}
	if f := p.state.loc.files[base]; f == nil || string(f.src) != changed {
		t.Fatalf("the locator does not hold base.yaml's new bytes")
	}
	c := p.state.chains["worker"]
	if len(c) == 0 || c[len(c)-1].direct("context") == nil || c[len(c)-1].direct("context").value.Value != "./w0rker" {
		t.Errorf("worker's build is not located in the new bytes: %+v", c)
	}
}

// TestEditParses: checking the edits parses only the edited texts. The
// dockerfile: edit is compared with the locator's parse of the original
// (before: parsed again), the health check is located in that check's
// parse of the edited file and checked against a decode of it (before:
// both parsed again); only the text with the health checks is parsed.
func TestEditParses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refs    bool
		disable []string
		want    int64
	}{
		{"dockerfile edits", true, nil, 1},
		{"health checks", false, []string{"web", "lib"}, 1},
		{"both", true, []string{"web", "lib"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, parseFiles)
			p := load(t, Options{WorkingDir: dir, Files: []string{"compose.yaml"}})
			refs := map[*Build]string{}
			if tc.refs {
				for _, b := range p.Builds {
					if strings.HasSuffix(b.Context, "web") {
						refs[b] = b.Dockerfile + ".optimized"
					}
				}
			}
			// lib comes from include: and cannot get a health check.
			y0 := YAMLParses()
			edits, err := EditProject(p, refs, tc.disable)
			n := YAMLParses() - y0
			if len(tc.disable) > 0 && (err == nil || !strings.Contains(err.Error(), "include:")) {
				t.Fatalf("err = %v, want lib refused", err)
			}
			if len(tc.disable) == 0 && err != nil {
				t.Fatal(err)
			}
			if len(edits) != 1 {
				t.Fatalf("%d edits, want 1", len(edits))
			}
			if n != tc.want {
				t.Errorf("%d YAML parses, want %d", n, tc.want)
			}
			got := string(edits[0].New)
			if tc.refs != strings.Contains(got, "dockerfile: Dockerfile.optimized") || (len(tc.disable) > 0) != strings.Contains(got, "disable: true") {
				t.Errorf("edited file:\n%s", got)
			}
		})
	}
}

// TestCheckInsertedDecode: decoding a parse of before (what checkInserted
// does) gives what decoding the text gives (what it did), for the YAML
// features compose files use, and for the compose files of the tests.
func TestCheckInsertedDecode(t *testing.T) {
	docs := []string{
		"",
		"# only a comment\n",
		"services:\n  a: &a\n    build: .\n    x: [1, 2.5, true, null, ~, 0x1f, 1e3, .inf, -.Inf]\n  b:\n    <<: *a\n    x: {y: 2001-12-14t21:59:43.10-05:00}\n",
		"x: &m {a: 1}\ny: &n {b: 2}\nz:\n  <<: [*m, *n]\n  c: !!str 3\nt: !custom {k: v}\nbin: !!binary aGVsbG8=\nts: 2024-01-02\n",
		"a: |\n  multi\n  line\nb: >-\n  folded\n  text\n'q': \"\\u00e9\"\n? complex\n: key\n",
		"- a\n- b\n",
		"plain\n",
		"a: 1\n---\nb: 2\n",
		"s: !!set {a, b}\no: !!omap [{a: 1}]\nn: 12_345\noct: 0o17\nbig: 123456789012345678901234567890\n",
	}
	for _, f := range parseFiles {
		docs = append(docs, f)
	}
	filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			if b, err := os.ReadFile(p); err == nil {
				docs = append(docs, string(b))
			}
		}
		return nil
	})
	for i, src := range docs {
		var want map[string]any
		wantErr := yaml.Unmarshal([]byte(src), &want)
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			continue // checkInserted's before always parses
		}
		var got map[string]any
		gotErr := doc.Decode(&got)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Errorf("doc %d: errors %v and %v", i, wantErr, gotErr)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("doc %d: decoded\n%#v\nwant\n%#v", i, got, want)
		}
	}
}

// TestDisableOneByOneReparses: when a file's batch of health checks fails
// and its services are done one by one, each is located in the file's
// bytes after the one before (the parse of the dockerfile: edit's check,
// cached for older bytes, is not used).
func TestDisableOneByOneReparses(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml": "services:\n  a: &w\n    build: .\n  other:\n    <<: *w\n  b:\n    build: .\n  c:\n    build: .\n",
		"Dockerfile":   "FROM alpine\n",
	})
	p := load(t, Options{WorkingDir: dir})
	edits, err := EditProject(p, optimizeAll(p), []string{"a", "b", "c"})
	if err == nil || !strings.Contains(err.Error(), "changes more than that service") {
		t.Fatalf("err = %v, want service a refused", err)
	}
	want := "services:\n  a: &w\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n  other:\n    <<: *w\n  b:\n    healthcheck:\n      disable: true\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n  c:\n    healthcheck:\n      disable: true\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n"
	if len(edits) != 1 || string(edits[0].New) != want {
		t.Fatalf("edits = %q, want b's and c's health checks", edits)
	}
}

package compose

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var contextPath = regexp.MustCompile(`(?m)(?:build|context):\s*["']?([A-Za-z0-9_./-]+)`)

// FuzzProveEdits: whenever proveEdits accepts the edits of a compose file
// without re-loading it, the re-load accepts the same edits (same files,
// same errors). Run with `go test ./compose -run '^$' -fuzz FuzzProveEdits`.
func FuzzProveEdits(f *testing.F) {
	for _, s := range []string{
		"services:\n  a:\n    build: ./app\n  b:\n    build:\n      context: ./app\n      dockerfile: Dockerfile\n      target: x\n",
		"x-b: &b\n  context: ./app\nservices:\n  a:\n    build: *b\n  c: {build: {context: ., args: [A=1]}}\n",
		"services:\n  a:\n    build: &b\n      context: .\n    labels: *b\n",
		"x-s: &s\n  build:\n    context: .\n    dockerfile: Dockerfile\nservices:\n  a:\n    <<: *s\n  b:\n    extends: a\n    build:\n      context: ./b\n",
		"x-b: &b\n  context: .\n  dockerfile: Dockerfile\nservices:\n  a:\n    build:\n      <<: *b\n      target: a\n  c:\n    build:\n      <<: *b\n      context: ./c\n",
		"services:\n  base:\n    build:\n      context: .\n  web:\n    extends: base\n    command: [\"web\"]\n  w2:\n    <<: *x\n",
	} {
		f.Add(s)
	}
	// And the compose files of the golden cases.
	composeName := regexp.MustCompile(`^(docker-)?compose(\.[a-z]+)?\.ya?ml$`)
	filepath.WalkDir("../golden/testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && composeName.MatchString(d.Name()) {
			if data, err := os.ReadFile(p); err == nil && len(data) <= 8<<10 {
				f.Add(string(data))
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 8<<10 {
			return
		}
		dir := t.TempDir()
		ctxs := []string{"."}
		for _, m := range contextPath.FindAllStringSubmatch(text, 20) {
			ctxs = append(ctxs, m[1])
		}
		for _, c := range ctxs {
			c = filepath.Clean(c)
			if filepath.IsAbs(c) || strings.HasPrefix(c, "..") {
				continue
			}
			if os.MkdirAll(filepath.Join(dir, c), 0o755) == nil {
				os.WriteFile(filepath.Join(dir, c, "Dockerfile"), []byte("FROM alpine\n"), 0o644)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(context.Background(), Options{WorkingDir: dir})
		if err != nil {
			return
		}
		refs := optimizeAll(p)
		p0 := proved.Load()
		edits, err := EditDockerfileRefs(p, refs)
		if proved.Load() == p0 {
			return // verified by the re-load anyway
		}
		reloadAlways = true
		slow, slowErr := EditDockerfileRefs(p, refs)
		reloadAlways = false
		if fmt.Sprint(err) != fmt.Sprint(slowErr) || !reflect.DeepEqual(edits, slow) {
			t.Fatalf("proven edits the re-load does not accept:\n%s\nproof: %v\nre-load: %v", text, err, slowErr)
		}
	})
}

func TestMoreDocuments(t *testing.T) {
	for src, want := range map[string]bool{
		"services:\n  a:\n    build: .\n":                      false,
		"# c\n%YAML 1.2\n---\nservices: {}\n":                  false,
		"--- {services: {}}\n":                                 false,
		"services:\n  a:\n    command: |\n      ---\n":         false,
		"services: {}\n---\nservices: {}\n":                    true,
		"---\nservices: {}\n--- \n":                            true,
		"services: {}\n...\n":                                  true,
		"services: {}\r\n---\r\nx: 1\r\n":                      true,
		"services:\n  a:\n    image: \"x\n---\n    y\"\n":      true,
		"services:\n  a:\n    labels: [---x]\n---x: 1\n":       false,
		"services:\n  a:\n    image: x\n-----\n":               false,
		"services:\n  a:\n    image: x\n---\t# second\nb: 1\n": true,
	} {
		if got := moreDocuments([]byte(src)); got != want {
			t.Errorf("moreDocuments(%q) = %v, want %v", src, got, want)
		}
	}
}

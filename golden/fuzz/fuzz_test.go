// Package fuzz holds the fuzz targets of the two code paths that rewrite
// user files: the Dockerfile rules and the compose editor. They are seeded
// from the golden cases; crashers found by `go test -fuzz` are kept in
// testdata/fuzz and run as regression cases by every `go test`.
//
//	make fuzz                      # each target for FUZZTIME (default 10m), one at a time
//	go test ./golden/fuzz -run '^$' -fuzz FuzzRules -fuzztime 10m -parallel 1
package fuzz

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/rules"
)

// seedFiles returns the golden files whose base name matches re.
func seedFiles(f *testing.F, re *regexp.Regexp) [][]byte {
	f.Helper()
	var out [][]byte
	for _, root := range []string{"../testdata", "../e2e"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || !re.MatchString(d.Name()) {
				return nil
			}
			if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
				out = append(out, data)
			}
			return nil
		})
	}
	if len(out) == 0 {
		f.Fatal("no seeds found in the golden cases")
	}
	return out
}

// factSets are the context shapes a fuzzed Dockerfile is planned against
// (the fuzzer picks one): which manifests exist, and the service's ports.
var factSets = []struct {
	files []string
	ports []int
}{
	{nil, nil},
	{[]string{"requirements.txt"}, []int{8000}},
	{[]string{"package.json", "package-lock.json"}, []int{3000}},
	{[]string{"go.mod", "go.sum"}, []int{8080}},
	{[]string{"pom.xml"}, []int{8080}},
	{[]string{"poetry.lock", "pyproject.toml"}, []int{80}},
	{[]string{"yarn.lock", "package.json"}, nil},
	{[]string{"Gemfile", "Gemfile.lock"}, []int{443}},
}

// FuzzRules: whatever BuildKit parses, the rules do not panic, their output
// parses, and running them again on their output changes nothing.
func FuzzRules(f *testing.F) {
	for _, seed := range seedFiles(f, regexp.MustCompile(`^Dockerfile(\.[a-z]+)?$`)) {
		for i := range factSets {
			f.Add(seed, uint8(i), "")
		}
	}
	f.Add([]byte("FROM python:3.12\nCOPY . .\nCMD python app.py\n"), uint8(1), "web")
	f.Fuzz(func(t *testing.T, src []byte, set uint8, target string) {
		df, err := dockerfile.Parse(src)
		if err != nil || len(df.Stages) == 0 {
			return
		}
		if target != "" && df.Stage(target) == nil {
			return // the planner refuses a target the file does not define
		}
		fs := factSets[int(set)%len(factSets)]
		fb := &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app", Target: target, Ports: fs.ports}}}
		for _, name := range fs.files {
			fb.Files[name] = true
		}
		res, err := rules.Apply(src, fb, rules.All(), rules.DefaultOptions())
		if err != nil {
			return // an error is a refusal the planner reports, not a crash
		}
		if len(res.Applied) == 0 {
			if string(res.Output) != string(src) {
				t.Fatalf("no rule applied but the output differs:\n%q\n%q", src, res.Output)
			}
			return
		}
		if _, err := dockerfile.Parse(res.Output); err != nil {
			t.Fatalf("the rules' output does not parse: %v\n--- input\n%s\n--- output\n%s", err, src, res.Output)
		}
		again, err := rules.Apply(res.Output, fb, rules.All(), rules.DefaultOptions())
		if err != nil {
			t.Fatalf("second run failed: %v\n--- output\n%s", err, res.Output)
		}
		if string(again.Output) != string(res.Output) || len(again.Applied) != 0 {
			t.Fatalf("not idempotent: %v changed their own output\n--- input\n%s\n--- first\n%s\n--- second\n%s", again.Applied, src, res.Output, again.Output)
		}
	})
}

var buildPath = regexp.MustCompile(`(?m)(?:build|context):\s*["']?([A-Za-z0-9_./-]+)["']?\s*$`)

// skeleton creates, under dir, a Dockerfile in every relative context the
// compose text seems to name, so that its builds exist.
func skeleton(t *testing.T, dir string, text []byte) {
	t.Helper()
	ctxs := []string{"."}
	for _, m := range buildPath.FindAllSubmatch(text, 20) {
		ctxs = append(ctxs, string(m[1]))
	}
	for _, c := range ctxs {
		c = filepath.Clean(c)
		if filepath.IsAbs(c) || strings.HasPrefix(c, "..") {
			continue
		}
		d := filepath.Join(dir, c)
		if err := os.MkdirAll(d, 0o755); err != nil {
			continue
		}
		os.WriteFile(filepath.Join(d, "Dockerfile"), []byte("FROM alpine:3.20\n"), 0o644)
	}
}

// view is what must not change when only dockerfile: keys are edited.
type view struct {
	Services []compose.Service
	Skipped  []compose.Skip
	Builds   []string
}

func viewOf(p *compose.Project) view {
	v := view{Skipped: p.Skipped}
	for _, s := range p.Services {
		c := *s
		if c.Build != nil {
			b := *c.Build
			b.Dockerfile = ""
			c.Build = &b
		}
		v.Services = append(v.Services, c)
	}
	for _, b := range p.Builds {
		v.Builds = append(v.Builds, fmt.Sprintf("%s|%s|%v|%v", b.Context, b.Dockerfile, b.Services, b.Targets))
	}
	return v
}

// FuzzComposeEdit: for any compose file compose-go loads, pointing every
// build at its .optimized Dockerfile does not panic, and the edited project,
// loaded again from disk, builds every edited service from its new file and
// is otherwise the same project.
func FuzzComposeEdit(f *testing.F) {
	for _, seed := range seedFiles(f, regexp.MustCompile(`^(docker-)?compose(\.[a-z]+)?\.ya?ml$`)) {
		f.Add(seed)
	}
	f.Add([]byte("services:\n  a:\n    build: ./app\n  b:\n    build:\n      context: ./app\n      dockerfile: Dockerfile\n      target: x\n"))
	f.Add([]byte("x-b: &b\n  context: ./app\nservices:\n  a:\n    build: *b\n  c: {build: {context: ., args: [A=1]}}\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		if len(text) > 16<<10 {
			return
		}
		dir := t.TempDir()
		skeleton(t, dir, text)
		file := filepath.Join(dir, "compose.yaml")
		if err := os.WriteFile(file, text, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := compose.Options{Files: []string{file}, WorkingDir: dir}
		p, err := compose.Load(context.Background(), opts)
		if err != nil {
			return
		}
		refs := map[*compose.Build]string{}
		for _, b := range p.Builds {
			refs[b] = b.Dockerfile + ".optimized"
			if err := os.WriteFile(refs[b], []byte("# Generated by composeopt from "+filepath.Base(b.Dockerfile)+"; edit "+filepath.Base(b.Dockerfile)+" and re-run composeopt.\nFROM alpine:3.20\n"), 0o644); err != nil {
				return // a context that is not a directory
			}
		}
		edits, _ := compose.EditDockerfileRefs(p, refs)
		if len(edits) == 0 {
			return
		}
		for _, e := range edits {
			if err := os.WriteFile(e.Path, e.New, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		q, err := compose.Load(context.Background(), opts)
		if err != nil {
			t.Fatalf("the edited project does not load: %v\n--- before\n%s\n--- after\n%s", err, text, edits[0].New)
		}
		if !reflect.DeepEqual(viewOf(p), viewOf(q)) {
			t.Fatalf("the edit changed more than the Dockerfile:\n%+v\n%+v\n--- before\n%s\n--- after\n%s", viewOf(p), viewOf(q), text, edits[0].New)
		}
		edited := 0
		for _, b := range q.Builds {
			if strings.HasSuffix(b.Current, ".optimized") {
				edited++
				if !slices.ContainsFunc(p.Builds, func(o *compose.Build) bool { return refs[o] == b.Current }) {
					t.Fatalf("build %v points at %s, which no edit asked for", b.Services, b.Current)
				}
			}
		}
		if edited == 0 {
			t.Fatalf("edits were returned but no build points at an optimized file:\n%s", edits[0].New)
		}
	})
}

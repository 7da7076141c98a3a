package compose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// optimizeAll maps every build of p to "<original>.optimized".
func optimizeAll(p *Project) map[*Build]string {
	refs := map[*Build]string{}
	for _, b := range p.Builds {
		refs[b] = b.Dockerfile + ".optimized"
	}
	return refs
}

func TestEditDockerfileRefs(t *testing.T) {
	const df = "FROM alpine\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  Options
		// only, when set, restricts the migration to the builds of these services.
		only []string
		// want maps files to their expected new content; others must not change.
		want map[string]string
		// wantErr, when set, must appear in the error.
		wantErr string
		// reloads says the edits cannot be proven from the YAML alone
		// (proveEdits): a compose-go re-load verifies them.
		reloads bool
	}{{
		name: "short form keeps the comment",
		files: map[string]string{
			"compose.yaml":   "services:\n    app:\n        build: ./app   # the app\n        image: app\n",
			"app/Dockerfile": df,
		},
		want: map[string]string{
			"compose.yaml": "services:\n    app:\n        build:\n            context: ./app   # the app\n            dockerfile: Dockerfile.optimized\n        image: app\n",
		},
	}, {
		name: "insert after context, quoting kept",
		files: map[string]string{
			"compose.yaml": "services:\n  a:\n    build:\n      context: \"./a\"\n      args: {X: 1}\n  b:\n    build:\n      context: ./b\n      dockerfile: 'Dockerfile.b'\n",
			"a/Dockerfile": df, "b/Dockerfile.b": df,
		},
		want: map[string]string{
			"compose.yaml": "services:\n  a:\n    build:\n      context: \"./a\"\n      dockerfile: Dockerfile.optimized\n      args: {X: 1}\n  b:\n    build:\n      context: ./b\n      dockerfile: 'Dockerfile.b.optimized'\n",
		},
	}, {
		name: "no context key",
		files: map[string]string{
			"compose.yaml": "services:\n  a:\n    build:\n      target: prod\n",
			"Dockerfile":   df,
		},
		want: map[string]string{
			"compose.yaml": "services:\n  a:\n    build:\n      dockerfile: Dockerfile.optimized\n      target: prod\n",
		},
	}, {
		name: "flow mapping",
		files: map[string]string{
			"compose.yaml": "services:\n  a:\n    build: {context: ./a, target: x}\n  b:\n    build: {context: ./b, dockerfile: Dockerfile}\n",
			"a/Dockerfile": df, "b/Dockerfile": df,
		},
		want: map[string]string{
			"compose.yaml": "services:\n  a:\n    build: {context: ./a, dockerfile: Dockerfile.optimized, target: x}\n  b:\n    build: {context: ./b, dockerfile: Dockerfile.optimized}\n",
		},
	}, {
		name: "anchor shared by two services of the same build",
		files: map[string]string{
			"compose.yaml": "x-build: &build\n  build:\n    context: .\n    dockerfile: Dockerfile\n\nservices:\n  a:\n    <<: *build\n  b:\n    <<: *build\n    command: [\"b\"]\n",
			"Dockerfile":   df,
		},
		want: map[string]string{
			"compose.yaml": "x-build: &build\n  build:\n    context: .\n    dockerfile: Dockerfile.optimized\n\nservices:\n  a:\n    <<: *build\n  b:\n    <<: *build\n    command: [\"b\"]\n",
		},
	}, {
		name: "merged build anchor used by another build: override in the service",
		files: map[string]string{
			"compose.yaml": "x-b: &b\n  context: .\n  dockerfile: Dockerfile\nservices:\n  a:\n    build:\n      <<: *b\n      target: a\n  c:\n    build:\n      <<: *b\n      context: ./c\n",
			"Dockerfile":   df, "c/Dockerfile": df,
		},
		only: []string{"a"},
		want: map[string]string{
			"compose.yaml": "x-b: &b\n  context: .\n  dockerfile: Dockerfile\nservices:\n  a:\n    build:\n      dockerfile: Dockerfile.optimized\n      <<: *b\n      target: a\n  c:\n    build:\n      <<: *b\n      context: ./c\n",
		},
	}, {
		name: "explicit build next to a service anchor",
		files: map[string]string{
			"compose.yaml": "x-s: &s\n  build:\n    context: .\n    dockerfile: Dockerfile\nservices:\n  a:\n    <<: *s\n  c:\n    <<: *s\n    build: ./c\n  d:\n    <<: *s\n",
			"Dockerfile":   df, "c/Dockerfile": df,
		},
		only: []string{"c"},
		want: map[string]string{"compose.yaml": "x-s: &s\n  build:\n    context: .\n    dockerfile: Dockerfile\nservices:\n  a:\n    <<: *s\n  c:\n    <<: *s\n    build:\n      context: ./c\n      dockerfile: Dockerfile.optimized\n  d:\n    <<: *s\n"},
	}, {
		name: "anchor and short form of the same build",
		files: map[string]string{
			"compose.yaml": "x-s: &s\n  build:\n    context: .\n    dockerfile: Dockerfile\nservices:\n  a:\n    <<: *s\n  c:\n    <<: *s\n    environment: [X=1]\n  d:\n    build: .\n",
			"Dockerfile":   df,
		},
		want: map[string]string{"compose.yaml": "x-s: &s\n  build:\n    context: .\n    dockerfile: Dockerfile.optimized\nservices:\n  a:\n    <<: *s\n  c:\n    <<: *s\n    environment: [X=1]\n  d:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n"},
	}, {
		name: "override sets only args: edit the base file",
		files: map[string]string{
			"a.yaml":     "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile\n",
			"b.yaml":     "services:\n  web:\n    build:\n      args:\n        X: \"1\"\n",
			"Dockerfile": df,
		},
		opts: Options{Files: []string{"a.yaml", "b.yaml"}},
		want: map[string]string{"a.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n"},
	}, {
		name: "override sets the dockerfile: edit the override",
		files: map[string]string{
			"a.yaml":         "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile\n",
			"b.yaml":         "services:\n  web:\n    build:\n      dockerfile: Dockerfile.dev\n",
			"Dockerfile":     df,
			"Dockerfile.dev": df,
		},
		opts: Options{Files: []string{"a.yaml", "b.yaml"}},
		want: map[string]string{"b.yaml": "services:\n  web:\n    build:\n      dockerfile: Dockerfile.dev.optimized\n"},
	}, {
		name: "include: relative paths of the included file",
		files: map[string]string{
			"compose.yaml":       "include:\n  - path: ./svc/compose.yaml\nservices:\n  top:\n    image: x\n",
			"svc/compose.yaml":   "services:\n  api:\n    build:\n      context: ./api\n",
			"svc/api/Dockerfile": df,
		},
		want: map[string]string{"svc/compose.yaml": "services:\n  api:\n    build:\n      context: ./api\n      dockerfile: Dockerfile.optimized\n"},
	}, {
		name: "extends in the same file",
		files: map[string]string{
			"compose.yaml": "services:\n  base:\n    build:\n      context: .\n      dockerfile: Dockerfile\n  web:\n    extends: base\n    command: [\"web\"]\n",
			"Dockerfile":   df,
		},
		want: map[string]string{"compose.yaml": "services:\n  base:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n  web:\n    extends: base\n    command: [\"web\"]\n"},
	}, {
		name: "extends from another file",
		files: map[string]string{
			"compose.yaml":          "services:\n  web:\n    extends:\n      file: common/base.yaml\n      service: base\n",
			"common/base.yaml":      "services:\n  base:\n    build: ./app\n",
			"common/app/Dockerfile": df,
		},
		want: map[string]string{"common/base.yaml": "services:\n  base:\n    build:\n      context: ./app\n      dockerfile: Dockerfile.optimized\n"},
	}, {
		name: "CRLF",
		files: map[string]string{
			"compose.yaml": "services:\r\n  web:\r\n    build:\r\n      context: .\r\n    image: w\r\n  api:\r\n    build: ./api # api\r\n",
			"Dockerfile":   df, "api/Dockerfile": df,
		},
		want: map[string]string{"compose.yaml": "services:\r\n  web:\r\n    build:\r\n      context: .\r\n      dockerfile: Dockerfile.optimized\r\n    image: w\r\n  api:\r\n    build:\r\n      context: ./api # api\r\n      dockerfile: Dockerfile.optimized\r\n"},
	}, {
		name: "no trailing newline",
		files: map[string]string{
			"compose.yaml": "services:\n  web:\n    build:\n      context: .",
			"Dockerfile":   df,
		},
		want: map[string]string{"compose.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized"},
	}, {
		name: "build anchor also used as labels: the re-load refuses it",
		files: map[string]string{
			"compose.yaml": "services:\n  a:\n    build: &b\n      context: .\n    labels: *b\n",
			"Dockerfile":   df,
		},
		reloads: true,
		wantErr: "changes more than the Dockerfile",
	}, {
		name: "a custom tag: verified by the re-load",
		files: map[string]string{
			"a.yaml":     "services:\n  web:\n    build:\n      context: .\n    command: [x]\n",
			"b.yaml":     "services:\n  web:\n    command: !reset []\n",
			"Dockerfile": df,
		},
		opts:    Options{Files: []string{"a.yaml", "b.yaml"}},
		reloads: true,
		want:    map[string]string{"a.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n    command: [x]\n"},
	}, {
		name: "two YAML documents: verified by the re-load",
		files: map[string]string{
			"compose.yaml": "services:\n  web:\n    build: .\n---\nservices:\n  web:\n    image: w\n",
			"Dockerfile":   df,
		},
		reloads: true,
		want:    map[string]string{"compose.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.optimized\n---\nservices:\n  web:\n    image: w\n"},
	}, {
		name: "short form inside a flow mapping is refused",
		files: map[string]string{
			"compose.yaml": "services:\n  web: {build: .}\n",
			"Dockerfile":   df,
		},
		wantErr: "by hand",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			opts := tc.opts
			opts.WorkingDir = dir
			p := load(t, opts)
			refs := optimizeAll(p)
			if tc.only != nil {
				for b := range refs {
					keep := false
					for _, s := range tc.only {
						keep = keep || strings.Contains(strings.Join(b.Services, ","), s)
					}
					if !keep {
						delete(refs, b)
					}
				}
			}
			p0 := proved.Load()
			edits, err := EditDockerfileRefs(p, refs)
			if want := !tc.reloads && tc.wantErr == ""; want != (proved.Load() > p0) {
				t.Errorf("proved without a re-load: %v, want %v", !want, want)
			}
			// The re-load agrees with the proof.
			reloadAlways = true
			slow, slowErr := EditDockerfileRefs(p, refs)
			reloadAlways = false
			if fmt.Sprint(err) != fmt.Sprint(slowErr) || !reflect.DeepEqual(edits, slow) {
				t.Fatalf("the proof and the re-load disagree:\n%v\n%v\nedits %d and %d", err, slowErr, len(edits), len(slow))
			}
			if tc.wantErr != "" {
				var ee *EditError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ee) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if len(edits) != 0 {
					t.Fatalf("edits returned despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, e := range edits {
				rel, _ := filepath.Rel(dir, e.Path)
				got[filepath.ToSlash(rel)] = string(e.New)
				if string(e.Old) != tc.files[filepath.ToSlash(rel)] {
					t.Errorf("%s: Old is not the original content", rel)
				}
			}
			for f, w := range tc.want {
				if got[f] != w {
					t.Errorf("%s:\n got: %q\nwant: %q", f, got[f], w)
				}
			}
			for f := range got {
				if _, ok := tc.want[f]; !ok {
					t.Errorf("unexpected edit of %s", f)
				}
			}
			// Applying the edits and loading again is idempotent.
			for _, e := range edits {
				if err := os.WriteFile(e.Path, e.New, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p2 := load(t, opts)
			refs2 := map[*Build]string{}
			for _, b := range p2.Builds {
				for ob, path := range refs {
					if ob.Dockerfile == b.Dockerfile {
						refs2[b] = path
					}
				}
			}
			again, err := EditDockerfileRefs(p2, refs2)
			if err != nil || len(again) != 0 {
				t.Errorf("second run: %d edits, err %v", len(again), err)
			}
		})
	}
}

func TestEditRefusesSharedAnchor(t *testing.T) {
	files := map[string]string{
		"compose.yaml": "x-s: &s\n  build:\n    context: .\n    dockerfile: Dockerfile\nservices:\n  a:\n    <<: *s\n  b:\n    extends: a\n    build:\n      context: ./b\n",
		"Dockerfile":   "FROM alpine\n",
		"b/Dockerfile": "FROM alpine\n",
	}
	dir := writeTree(t, files)
	p := load(t, Options{WorkingDir: dir})
	if len(p.Builds) != 2 || p.Builds[0].Services[0] != "a" {
		t.Fatalf("builds = %+v", p.Builds)
	}
	a := p.Builds[0]

	// a's Dockerfile comes from the anchor only, and b inherits it: a alone
	// cannot be migrated without changing b.
	edits, err := EditDockerfileRefs(p, map[*Build]string{a: a.Dockerfile + ".optimized"})
	var ee *EditError
	if !errors.As(err, &ee) || ee.Build != a || ee.Service != "a" || !strings.Contains(err.Error(), "also use") || len(edits) != 0 {
		t.Fatalf("edits %d, err = %v", len(edits), err)
	}

	// Both builds: the anchor edit is right for both (Dockerfile.optimized
	// relative to each context).
	edits, err = EditDockerfileRefs(p, optimizeAll(p))
	if err != nil || len(edits) != 1 || string(edits[0].New) != strings.Replace(files["compose.yaml"], "dockerfile: Dockerfile\n", "dockerfile: Dockerfile.optimized\n", 1) {
		t.Fatalf("edits %v, err %v", edits, err)
	}

	// The verification catches an edit that changes another service, even
	// when planning is bypassed.
	op := &editOp{kind: opReplace, elem: p.state.chains["a"][0], value: "Dockerfile.optimized", builds: []*Build{a}}
	_, bad, _, err := applyAndVerify(p.state, []*editOp{op}, map[string]string{"a": "Dockerfile.optimized"}, []*Build{a},
		map[*Build]string{a: a.Dockerfile + ".optimized"}, nil)
	if err != nil || len(bad) != 1 || bad[0].Service != "b" || !strings.Contains(bad[0].Error(), "compose.yaml") {
		t.Fatalf("bad %v, err %v", bad, err)
	}
}

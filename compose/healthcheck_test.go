package compose

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEditProjectDisablesHealthchecks(t *testing.T) {
	const df = "FROM alpine\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		svcs    []string
		refs    bool // apply the dockerfile: edits first
		want    string
		wantErr string
	}{{
		name: "inserted at the top of the service, comments kept",
		files: map[string]string{
			"compose.yaml": "services:\n  web:\n    build: .\n    ports: [\"80:80\"]\n  worker:   # background jobs\n    build: .\n    command: [\"python\", \"worker.py\"] # no port\n",
			"Dockerfile":   df,
		},
		svcs: []string{"worker"},
		want: "services:\n  web:\n    build: .\n    ports: [\"80:80\"]\n  worker:   # background jobs\n    healthcheck:\n      disable: true\n    build: .\n    command: [\"python\", \"worker.py\"] # no port\n",
	}, {
		name: "on top of the dockerfile edit, CRLF and four-space indentation",
		files: map[string]string{
			"compose.yaml": "services:\r\n    worker:\r\n        build: .\r\n        command: celery -A app worker\r\n",
			"Dockerfile":   df,
		},
		svcs: []string{"worker"},
		refs: true,
		want: "services:\r\n    worker:\r\n        healthcheck:\r\n            disable: true\r\n        build:\r\n            context: .\r\n            dockerfile: Dockerfile.optimized\r\n        command: celery -A app worker\r\n",
	}, {
		name: "the last -f file defining the service gets the edit",
		files: map[string]string{
			"compose.yaml":          "services:\n  worker:\n    build: .\n",
			"compose.override.yaml": "services:\n  worker:\n    command: [\"./work\"]\n",
			"Dockerfile":            df,
		},
		svcs: []string{"worker"},
		want: "services:\n  worker:\n    healthcheck:\n      disable: true\n    command: [\"./work\"]\n",
	}, {
		name: "an anchor other services merge is refused",
		files: map[string]string{
			"compose.yaml": "services:\n  worker: &w\n    build: .\n    command: [\"./work\"]\n  other:\n    <<: *w\n",
			"Dockerfile":   df,
		},
		svcs:    []string{"worker"},
		wantErr: "changes more than that service",
	}, {
		name: "several services of one file get theirs in one edit",
		files: map[string]string{
			"compose.yaml": "services:\n  a:\n    build: .\n    command: [\"./a\"]\n  web:\n    build: .\n  b:\n    build: .\n  c:\n    build: .\n",
			"Dockerfile":   df,
		},
		svcs: []string{"c", "a", "b"},
		want: "services:\n  a:\n    healthcheck:\n      disable: true\n    build: .\n    command: [\"./a\"]\n  web:\n    build: .\n  b:\n    healthcheck:\n      disable: true\n    build: .\n  c:\n    healthcheck:\n      disable: true\n    build: .\n",
	}, {
		name: "a service another extends: verified by the re-load, which refuses it",
		files: map[string]string{
			"compose.yaml": "services:\n  worker:\n    build: .\n    command: [\"./work\"]\n  other:\n    extends: worker\n",
			"Dockerfile":   df,
		},
		svcs:    []string{"worker"},
		wantErr: "could not be verified",
	}, {
		name: "a flow mapping is refused",
		files: map[string]string{
			"compose.yaml": "services:\n  worker: {build: ., command: [\"./work\"]}\n",
			"Dockerfile":   df,
		},
		svcs:    []string{"worker"},
		wantErr: "by hand",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			p := load(t, Options{WorkingDir: dir})
			refs := map[*Build]string{}
			if tc.refs {
				refs = optimizeAll(p)
			}
			p0 := proved.Load()
			edits, err := EditProject(p, refs, tc.svcs)
			if tc.wantErr == "" && proved.Load() == p0 {
				t.Errorf("not proven without a re-load")
			}
			// The re-load agrees with the proof.
			reloadAlways = true
			slow, slowErr := EditProject(p, refs, tc.svcs)
			reloadAlways = false
			if fmt.Sprint(err) != fmt.Sprint(slowErr) || !reflect.DeepEqual(edits, slow) {
				t.Fatalf("the proof and the re-load disagree:\n%v\n%v\nedits %d and %d", err, slowErr, len(edits), len(slow))
			}
			if tc.wantErr != "" {
				var ee *EditError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ee) || ee.Service != tc.svcs[0] {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if len(edits) != 0 {
					t.Fatalf("edits = %d, want none", len(edits))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(edits) != 1 {
				t.Fatalf("got %d edits, want 1", len(edits))
			}
			if tc.files["compose.override.yaml"] != "" && filepath.Base(edits[0].Path) != "compose.override.yaml" {
				t.Errorf("edited %s, want the override file", edits[0].Path)
			}
			if got := string(edits[0].New); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
			if string(edits[0].Old) != tc.files[filepath.Base(edits[0].Path)] {
				t.Errorf("Old is not the file on disk")
			}
		})
	}
}

// A file's services are edited together; when one of them cannot be (an
// anchor other services merge), it alone is refused and the others are
// still edited, as when each is done on its own.
func TestEditProjectDisablesHealthchecksBatchFallback(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml": "services:\n  a: &w\n    build: .\n  other:\n    <<: *w\n  b:\n    build: .\n",
		"Dockerfile":   "FROM alpine\n",
	})
	p := load(t, Options{WorkingDir: dir})
	edits, err := EditProject(p, map[*Build]string{}, []string{"a", "b"})
	var ee *EditError
	if err == nil || !errors.As(err, &ee) || ee.Service != "a" || !strings.Contains(err.Error(), "changes more than that service") {
		t.Fatalf("err = %v, want service a refused", err)
	}
	want := "services:\n  a: &w\n    build: .\n  other:\n    <<: *w\n  b:\n    healthcheck:\n      disable: true\n    build: .\n"
	if len(edits) != 1 || string(edits[0].New) != want {
		t.Fatalf("edits = %v, want b's health check only", edits)
	}
}

package compose

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	svc := "services:\n  a:\n    image: alpine\n"
	write("compose.yaml", svc)
	write("docker-compose.yml", svc) // docker compose prefers compose.yaml: an extra project
	write("compose.override.yaml", svc)
	write("docker-compose.override.yml", svc) // an unused override is no project
	write("compose.test.yaml", svc)
	write("notes.yaml", svc) // not a compose file name
	write("apps/web/docker-compose.yaml", svc)
	write("apps/web/docker-compose.override.yml", svc)
	write("node_modules/x/compose.yaml", svc)
	write("vendor/x/compose.yaml", svc)
	write(".git/compose.yaml", svc)
	write("ignored/compose.yaml", svc)
	write(".gitignore", "ignored/\n")
	if err := os.WriteFile(filepath.Join(outside, "compose.yaml"), []byte(svc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "linked-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "linked-file"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "compose.yaml"), filepath.Join(root, "linked-file", "compose.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("git"); err == nil {
		cmd := exec.Command("git", "init", "-q")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	} else {
		os.RemoveAll(filepath.Join(root, "ignored"))
	}

	found, warnings, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		var files []string
		for _, p := range f.Files {
			r, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(r))
		}
		got = append(got, f.Label+"="+strings.Join(files, ","))
	}
	want := []string{
		".=compose.yaml,compose.override.yaml",
		"compose.test.yaml=compose.test.yaml",
		"docker-compose.yml=docker-compose.yml",
		"apps/web=apps/web/docker-compose.yaml,apps/web/docker-compose.override.yml",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Discover:\n got %q\nwant %q", got, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "linked-file") || !strings.Contains(warnings[0], "outside") {
		t.Errorf("warnings: %q", warnings)
	}
}

package verify

import (
	"encoding/json"
	"github.com/composeopt/composeopt/migrate/safefs/safefstest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPickFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile":              "FROM scratch\n",
		".dockerignore":           "ignored/\n",
		"requirements.txt":        "x\n",
		"web/stage/package.json":  "{}\n",
		"backend/app.py":          "print(1)\n",
		"backend/test_app.py":     "print(2)\n",
		"ignored/a.py":            "print(3)\n",
		"node_modules/x/index.js": "1\n",
		"README.md":               "hi\n",
	})
	src, man, err := pickFiles(dir, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if src != "backend/app.py" {
		t.Errorf("source = %q, want backend/app.py", src)
	}
	if man != "requirements.txt" {
		t.Errorf("manifest = %q, want requirements.txt", man)
	}
}

func TestPickFilesDockerfileIgnore(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile.optimized":              "FROM scratch\n",
		"Dockerfile.optimized.dockerignore": "a.go\n",
		"a.go":                              "package a\n",
		"b.go":                              "package a\n",
	})
	src, _, err := pickFiles(dir, filepath.Join(dir, "Dockerfile.optimized"))
	if err != nil {
		t.Fatal(err)
	}
	if src != "b.go" {
		t.Errorf("source = %q, want b.go (a.go is ignored)", src)
	}
}

func TestTouchAndCopy(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"main.go": "package main\n", "package.json": "{}\n", "sub/x.txt": "x"})
	if err := os.Symlink("main.go", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"main.go", "package.json"} {
		if err := touch(filepath.Join(dst, f), "n1"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dst, "main.go"))
	if !strings.HasPrefix(string(got), "package main\n") || !strings.Contains(string(got), "// composeopt verify") {
		t.Errorf("touched main.go = %q", got)
	}
	got, _ = os.ReadFile(filepath.Join(dst, "package.json"))
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil || v["//"] != "composeopt verify: rebuild probe n1" {
		t.Errorf("touched package.json = %q (%v), want a \"//\" key", got, err)
	}
	if err := touch(filepath.Join(dst, "package.json"), "n2"); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(filepath.Join(dst, "package.json"))
	if err := json.Unmarshal(got, &v); err != nil {
		t.Errorf("touched twice: invalid JSON %q: %v", got, err)
	}
	orig, _ := os.ReadFile(filepath.Join(src, "main.go"))
	if string(orig) != "package main\n" {
		t.Errorf("original changed: %q", orig)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "main.go" {
		t.Errorf("symlink not kept: %q %v", l, err)
	}
	if got := inContext(src, dst, filepath.Join(src, "Dockerfile")); got != filepath.Join(dst, "Dockerfile") {
		t.Errorf("inContext inside = %q", got)
	}
	if got := inContext(src, dst, "/elsewhere/Dockerfile"); got != "/elsewhere/Dockerfile" {
		t.Errorf("inContext outside = %q", got)
	}
}

func TestHealthPathAndPorts(t *testing.T) {
	var info imageInfo
	if path, _ := healthRoute(&info); path != "" {
		t.Errorf("no healthcheck: %q", path)
	}
	info.Config.Healthcheck = &healthConfig{Test: []string{"CMD-SHELL", "curl -fsS http://localhost:3000/healthz || exit 1"}}
	if path, port := healthRoute(&info); path != "/healthz" || port != 3000 {
		t.Errorf("healthRoute = %q, %d", path, port)
	}
	info.Config.Healthcheck = &healthConfig{Test: []string{"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/ping"}}
	if path, port := healthRoute(&info); path != "/ping" || port != 80 {
		t.Errorf("healthRoute without a port = %q, %d", path, port)
	}
	info.Config.Healthcheck = &healthConfig{Test: []string{"CMD", "python", "-c", "import socket; socket.create_connection(('127.0.0.1', 5000), timeout=4).close()"}}
	if path, _ := healthRoute(&info); path != "" {
		t.Errorf("a TCP-connect HEALTHCHECK names route %q", path)
	}
	ports := exposedPorts(map[string]struct{}{"8080/tcp": {}, "53/udp": {}, "3000/tcp": {}})
	if len(ports) != 2 || ports[0] != 3000 || ports[1] != 8080 {
		t.Errorf("exposedPorts = %v", ports)
	}
}

func TestEngineMissingCLI(t *testing.T) {
	err := Engine(t.Context(), Options{Docker: "/nonexistent/docker"})
	if err == nil || !strings.Contains(err.Error(), "no Docker engine reachable") {
		t.Fatalf("Engine = %v", err)
	}
}

func TestIgnoreMatcherFIFO(t *testing.T) {
	dir := t.TempDir()
	safefstest.Mkfifo(t, filepath.Join(dir, ".dockerignore"))
	done := make(chan error, 1)
	go func() {
		_, err := ignoreMatcher(dir, filepath.Join(dir, "Dockerfile"))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("a FIFO .dockerignore: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO .dockerignore hangs")
	}
}

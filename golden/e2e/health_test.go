package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EHealthProbes builds and runs the health-probes fixture: the
// service with a GET health route gets a probe of that route, the one
// without (its / counts visits) a TCP connect that sends no request, and
// both optimized containers must become healthy under `composeopt verify`.
// The worker sharing the counter's image gets `healthcheck: disable: true`.
func TestE2EHealthProbes(t *testing.T) {
	requireEngine(t)
	fx := fixture{dir: "health-probes", services: []string{"routed", "counter"}}
	dir := migrateFixture(t, fx)
	read := func(rel string) string {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if df := read("routed/Dockerfile.optimized"); !strings.Contains(df, "http://127.0.0.1:8071/healthz") {
		t.Errorf("routed: the HEALTHCHECK does not probe /healthz:\n%s", df)
	}
	if df := read("counter/Dockerfile.optimized"); !strings.Contains(df, "require('net').connect(8072") || strings.Contains(df, "http://") {
		t.Errorf("counter: the HEALTHCHECK is not a TCP connect:\n%s", df)
	}
	if c := read("compose.yaml"); !strings.Contains(c, "  counter-worker:\n    healthcheck:\n      disable: true\n") {
		t.Errorf("compose: the worker's health check is not disabled:\n%s", c)
	}
	for _, r := range verifyRun(t, dir, fx.services...) {
		if !r.Optimized.Built {
			t.Errorf("%s: optimized does not build: %s", r.Service, r.Optimized.BuildError)
			continue
		}
		if r.Healthy != "healthy" {
			t.Errorf("%s: optimized container health is %q, want healthy", r.Service, r.Healthy)
		}
		if !r.NonRoot || !r.Running {
			t.Errorf("%s: non-root %v, running %v", r.Service, r.NonRoot, r.Running)
		}
		if r.HTTP == nil || !r.HTTP.Match {
			t.Errorf("%s: optimized does not answer HTTP like the original: %+v", r.Service, r.HTTP)
		}
		if !r.OK {
			t.Errorf("%s: verify reports failure: %s", r.Service, strings.Join(r.Errors, "; "))
		}
	}
}

package verify

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReporterPlain(t *testing.T) {
	var b bytes.Buffer
	p := newReporter(&b, false, []string{"web", "api"})
	p.begin("web", "building original")
	p.logf("web", "building %s…", "original")
	p.end("web", "building original")
	p.finish("web", "ok")
	p.close()
	if got, want := b.String(), "[web] building original…\n"; got != want {
		t.Errorf("plain progress = %q, want only the detail line %q", got, want)
	}
}

func TestReporterLive(t *testing.T) {
	var b bytes.Buffer
	p := newReporter(&b, true, []string{"web", "api-server"})
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	p.begin("web", "building original")
	p.begin("web", "building optimized")
	now = now.Add(3 * time.Second)
	p.logf("api-server", "no HEALTHCHECK")
	p.finish("api-server", "FAIL: runs as root")
	p.close()
	out := b.String()
	// The last frame: cursor up over the two status lines, clear, redraw.
	last := out[strings.LastIndex(out, "\x1b[2A"):]
	want := "\x1b[2A\x1b[J" +
		"  web         building optimized (3s), building original (3s)\n" +
		"  api-server  FAIL: runs as root\n"
	if last != want {
		t.Errorf("last frame = %q, want %q", last, want)
	}
	// A detail line goes above the status block.
	if !strings.Contains(out, "\x1b[J[api-server] no HEALTHCHECK\n  web ") {
		t.Errorf("detail line not printed above the block: %q", out)
	}
}

func TestWriteChart(t *testing.T) {
	var b bytes.Buffer
	WriteChart(&b, []Result{
		{Service: "stage-server", Original: ImageResult{Built: true, Size: 800 << 20}, Optimized: ImageResult{Built: true, Size: 300 << 20}},
		{Service: "broken", Original: ImageResult{Built: true, Size: 100 << 20}},
		{Service: "api", Original: ImageResult{Built: true, Size: 400 << 20}, Optimized: ImageResult{Built: true, Size: 100 << 20}},
	})
	want := `
image size    original ░  optimized █
stage-server  ░░░░░░░░░░░░░░░░░░░░░░░░ 800.0MiB
              █████████                300.0MiB (-62%)
api           ░░░░░░░░░░░░             400.0MiB
              ███                      100.0MiB (-75%)
`
	if b.String() != want {
		t.Errorf("chart:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteChart(&b, []Result{{Service: "broken"}})
	if b.Len() != 0 {
		t.Errorf("chart with no sizes: %q", b.String())
	}
}

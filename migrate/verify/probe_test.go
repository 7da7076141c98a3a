package verify

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// probeDocker answers `docker port` with $PROBE_ADDR (the test server).
const probeDocker = "#!/bin/sh\n[ \"$1\" = port ] && echo \"$PROBE_ADDR\"\n"

func probeSession(t *testing.T, addr string) *session {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "docker")
	if err := os.WriteFile(bin, []byte(probeDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PROBE_ADDR", addr)
	return newSession(newDocker(Options{Docker: bin}), Target{Service: "web"}, Options{})
}

// Without a health route in the image's HEALTHCHECK, the run check
// connects to the port and sends nothing: a GET of / (a visit counter, a
// session) would act on the app. With one, it requests that route only.
func TestProbeObservesNeverActs(t *testing.T) {
	var hits atomic.Int32
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		paths = append(paths, r.URL.Path)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, portText, _ := net.SplitHostPort(addr)

	s := probeSession(t, addr)
	var info imageInfo
	info.Config.Healthcheck = &healthConfig{Test: []string{"CMD", "node", "-e", "require('net').connect(3000)"}}
	h := s.compareProbe(t.Context(), "orig", "opt", []int{3000}, &info)
	if h.Probe != ProbeTCP || !h.Match || h.Original != 1 || h.Optimized != 1 {
		t.Errorf("TCP probe = %+v, errors %v", h, s.r.Errors)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the TCP probe sent %d HTTP requests (%v)", n, paths)
	}
	if cell := httpCell(h); cell != "TCP 3000 open/open" {
		t.Errorf("table cell %q", cell)
	}

	info.Config.Healthcheck = &healthConfig{Test: []string{"CMD-SHELL", "curl -fsS http://127.0.0.1:" + portText + "/healthz || exit 1"}}
	h = s.compareProbe(t.Context(), "orig", "opt", []int{3000}, &info)
	if h.Probe != "GET /healthz" || !h.Match || h.Optimized != 200 {
		t.Errorf("GET probe = %+v, errors %v", h, s.r.Errors)
	}
	if len(paths) != 2 || paths[0] != "/healthz" || paths[1] != "/healthz" {
		t.Errorf("requests %v, want /healthz on each container", paths)
	}
}

// tcpOpen counts a listener only: a refused port, or a connection closed
// at once (Docker's proxy before the app listens), is not open.
func TestTCPOpen(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open until the listener closes
		}
	}()
	if err := tcpOpen(t.Context(), silent.Addr().String()); err != nil {
		t.Errorf("silent listener: %v", err)
	}
	closing, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer closing.Close()
	go func() {
		for {
			c, err := closing.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if err := tcpOpen(t.Context(), closing.Addr().String()); err == nil {
		t.Error("a connection closed at once counts as open")
	}
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := gone.Addr().String()
	gone.Close()
	if err := tcpOpen(t.Context(), addr); err == nil {
		t.Error("a refused port counts as open")
	}
}

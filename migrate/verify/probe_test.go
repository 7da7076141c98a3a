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

// compareDocker answers `docker port` with $PROBE_ORIG for a container
// named orig*, fails for one named down*, and answers $PROBE_ADDR for any
// other.
const compareDocker = `#!/bin/sh
[ "$1" = port ] || exit 1
case "$2" in
down*) echo "no public port" >&2; exit 1 ;;
orig*) echo "$PROBE_ORIG" ;;
*) echo "$PROBE_ADDR" ;;
esac
`

// The TCP connect and the GET probe judge the two answers the same way and
// say which probe failed: the optimized failing where the original answers
// is an error, both failing or the original not running is a note, and
// two GETs must give the same status.
func TestCompareOutcomes(t *testing.T) {
	serve := func(code int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	bin := filepath.Join(t.TempDir(), "docker")
	if err := os.WriteFile(bin, []byte(compareDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PROBE_ADDR", serve(200))
	t.Setenv("PROBE_ORIG", serve(500))
	tcp := &imageInfo{}
	get := &imageInfo{}
	get.Config.Healthcheck = &healthConfig{Test: []string{"CMD", "curl", "-f", "http://localhost:3000/healthz"}}

	for _, c := range []struct {
		name      string
		info      *imageInfo
		orig, opt string
		probe     string
		match     bool
		err, note string // prefixes; "" for none
	}{
		{"tcp both open", tcp, "orig", "opt", ProbeTCP, true, "", ""},
		{"tcp optimized closed", tcp, "orig", "down", ProbeTCP, false,
			"optimized does not accept a TCP connection on port 3000 (the original does): ", ""},
		{"tcp neither", tcp, "down-orig", "down", ProbeTCP, false, "", "neither accepts a connection: optimized: "},
		{"tcp original not running", tcp, "", "opt", ProbeTCP, false, "", "original gave no answer to compare with: original not running"},
		{"get same status", get, "opt-too", "opt", "GET /healthz", true, "", ""},
		{"get different status", get, "orig", "opt", "GET /healthz", false,
			"GET /healthz on port 3000: original answers 500, optimized 200", ""},
		{"get optimized silent", get, "orig", "down", "GET /healthz", false,
			"optimized does not answer GET /healthz on port 3000 (original: 500): ", ""},
		{"get neither", get, "down-orig", "down", "GET /healthz", false, "", "neither answers: optimized: "},
		{"get original not running", get, "", "opt", "GET /healthz", false, "", "original gave no answer to compare with: original not running"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSession(newDocker(Options{Docker: bin}), Target{Service: "web"}, Options{})
			h := s.compareProbe(t.Context(), c.orig, c.opt, []int{3000}, c.info)
			if h.Probe != c.probe || h.Match != c.match || h.Port != 3000 {
				t.Errorf("compare = %+v, want probe %q match %v", h, c.probe, c.match)
			}
			switch {
			case c.err == "" && len(s.r.Errors) > 0:
				t.Errorf("errors %q, want none", s.r.Errors)
			case c.err != "" && (len(s.r.Errors) != 1 || !strings.HasPrefix(s.r.Errors[0], c.err)):
				t.Errorf("errors %q, want one starting %q", s.r.Errors, c.err)
			}
			if !strings.HasPrefix(h.Note, c.note) || (c.note == "") != (h.Note == "") {
				t.Errorf("note %q, want one starting %q", h.Note, c.note)
			}
		})
	}
}

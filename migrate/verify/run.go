package verify

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/composeopt/composeopt/migrate/lockfile"
)

// defaultSettle is how long a service without HEALTHCHECK must stay up
// when Options.Settle is 0.
const defaultSettle = 5 * time.Second

// Limits for the run checks.
const (
	maxHealthWait  = 5 * time.Minute
	oneShotTimeout = 10 * time.Minute
	httpWait       = 30 * time.Second // how long a port may take to answer
)

// session holds one target's verification: its result so far and what it
// created, for clean-up.
type session struct {
	d          *docker
	t          Target
	o          Options
	r          *Result
	origTag    string
	optTag     string
	mu         sync.Mutex // guards images (the two cold builds run at once)
	images     []string
	containers []string
	tmpDirs    []func() // removes a temporary directory
	cleaned    bool
}

func newSession(d *docker, t Target, o Options) *session {
	id := randomID()
	name := sanitize(t.Service)
	return &session{
		d: d, t: t, o: o, r: &Result{Service: t.Service},
		origTag: "composeopt-verify/" + name + ":original-" + id,
		optTag:  "composeopt-verify/" + name + ":optimized-" + id,
	}
}

// buildOriginal and buildOptimized are the cold builds (phase 1).
func (s *session) buildOriginal(ctx context.Context) {
	s.d.rep.begin(s.t.Service, "building original")
	defer s.d.rep.end(s.t.Service, "building original")
	s.d.logf(s.t.Service, "building original (cold)…")
	s.r.Original = s.coldBuild(ctx, s.t.Dockerfile, s.origTag)
	if !s.r.Original.Built {
		// Not the optimizer's fault, but worth saying: nothing to compare with.
		s.d.logf(s.t.Service, "original does not build: %s", firstLine(s.r.Original.BuildError))
	}
}

func (s *session) buildOptimized(ctx context.Context) {
	s.d.rep.begin(s.t.Service, "building optimized")
	defer s.d.rep.end(s.t.Service, "building optimized")
	s.d.logf(s.t.Service, "building optimized (cold)…")
	s.r.Optimized = s.coldBuild(ctx, s.t.Optimized, s.optTag)
}

// rebuilds times the rebuilds (phase 2) when the optimized image built.
func (s *session) rebuilds(ctx context.Context) {
	if !s.r.Optimized.Built {
		return
	}
	if err := s.measureRebuilds(ctx); err != nil {
		s.fail("rebuild measurement: %v", err)
	}
}

// finish runs the checks (phase 3) and settles the result.
func (s *session) finish(ctx context.Context) {
	t, r := s.t, s.r
	defer func() {
		r.OK = len(r.Errors) == 0
		result := "ok"
		if !r.OK {
			result = "FAIL: " + firstLine(r.Errors[0])
		}
		s.d.rep.finish(t.Service, result)
		s.d.logf(t.Service, "done: ok=%v", r.OK)
	}()
	if !r.Optimized.Built {
		s.fail("optimized image does not build: %s", r.Optimized.BuildError)
		return
	}
	if ctx.Err() != nil {
		s.fail("cancelled: %v", ctx.Err())
		return
	}
	s.d.rep.begin(t.Service, "running")
	defer s.d.rep.end(t.Service, "running")
	s.runChecks(ctx, s.origTag, s.optTag)
}

func (s *session) addImage(tag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images = append(s.images, tag)
}

func (s *session) fail(format string, args ...any) {
	s.r.Errors = append(s.r.Errors, fmt.Sprintf(format, args...))
}

// coldBuild builds dockerfile without cache and inspects the result.
func (s *session) coldBuild(ctx context.Context, dockerfile, tag string) ImageResult {
	var ir ImageResult
	if _, err := os.Stat(dockerfile); err != nil {
		ir.BuildError = fmt.Sprintf("dockerfile: %v", err)
		return ir
	}
	took, err := s.d.build(ctx, buildSpec{
		context: s.t.Context, dockerfile: dockerfile, target: s.t.BuildTarget,
		tag: tag, args: s.t.Args, noCache: true,
	})
	ir.ColdBuild = took
	if err != nil {
		ir.BuildError = err.Error()
		return ir
	}
	s.addImage(tag)
	info, err := s.d.inspectImage(ctx, tag)
	if err != nil {
		ir.BuildError = fmt.Sprintf("built, but cannot inspect: %v", err)
		return ir
	}
	ir.Built, ir.Image = true, tag
	ir.Size, ir.Layers = info.Size, len(info.RootFS.Layers)
	s.d.logf(s.t.Service, "  %s: %s, %d layers, cold build %s", filepath.Base(dockerfile), humanBytes(ir.Size), ir.Layers, ir.ColdBuild.Round(100*time.Millisecond))
	return ir
}

// measureRebuilds copies the context, touches a source file (and a manifest
// with RebuildDeps) and times cached rebuilds of both Dockerfiles.
func (s *session) measureRebuilds(ctx context.Context) error {
	t := s.t
	tmp, done, err := lockfile.TempDir("verify")
	if err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}
	s.tmpDirs = append(s.tmpDirs, done)
	ctxCopy := filepath.Join(tmp, "context")
	if err := copyTree(t.Context, ctxCopy); err != nil {
		return fmt.Errorf("copying build context %s: %w", t.Context, err)
	}
	dockerfiles := []string{t.Dockerfile, t.Optimized}
	source, manifest, err := pickFiles(t.Context, dockerfiles...)
	if err != nil {
		return err
	}

	// rebuild times both images after one edit of the context copy.
	rebuild := func(rel, what, suffix string, set func(*ImageResult, time.Duration)) error {
		if err := touch(filepath.Join(ctxCopy, filepath.FromSlash(rel)), randomID()); err != nil {
			return err
		}
		for i, ir := range []*ImageResult{&s.r.Original, &s.r.Optimized} {
			if !ir.Built {
				continue
			}
			label := [...]string{"original", "optimized"}[i]
			s.d.logf(t.Service, "rebuilding %s after %s change (%s)…", label, what, rel)
			step := "rebuilding " + label + " after " + what + " change"
			s.d.rep.begin(t.Service, step)
			tag := ir.Image + "-" + suffix // distinct tags leave no dangling images
			took, err := s.d.build(ctx, buildSpec{
				context: ctxCopy, dockerfile: inContext(t.Context, ctxCopy, dockerfiles[i]),
				target: t.BuildTarget, tag: tag, args: t.Args,
			})
			s.d.rep.end(t.Service, step)
			if err != nil {
				return fmt.Errorf("rebuilding %s after touching %s: %w", label, rel, err)
			}
			s.addImage(tag)
			set(ir, took)
			s.d.logf(t.Service, "  %s rebuild: %s", label, took.Round(100*time.Millisecond))
		}
		return nil
	}

	if source == "" {
		s.d.logf(t.Service, "no application source file found in the context: rebuild time not measured")
	} else if err := rebuild(source, "source", "rebuild-src", func(ir *ImageResult, d time.Duration) { ir.Rebuild = d }); err != nil {
		return err
	}
	if s.o.RebuildDeps {
		if manifest == "" {
			s.d.logf(t.Service, "no dependency manifest found in the context: dependency rebuild not measured")
		} else if err := rebuild(manifest, "dependency manifest", "rebuild-deps", func(ir *ImageResult, d time.Duration) { ir.RebuildDeps = d }); err != nil {
			return err
		}
	}
	return nil
}

// runChecks runs the optimized image (and the original, for comparison).
func (s *session) runChecks(ctx context.Context, origTag, optTag string) {
	t, r, d := s.t, s.r, s.d
	info, err := d.inspectImage(ctx, optTag)
	if err != nil {
		s.fail("inspecting optimized image: %v", err)
		return
	}
	ports := append([]int(nil), t.Ports...)
	if len(ports) == 0 {
		ports = exposedPorts(info.Config.ExposedPorts)
	}

	d.logf(t.Service, "starting optimized container…")
	opt, err := s.start(ctx, optTag, "optimized", ports)
	if err != nil {
		s.fail("starting optimized container: %v", err)
		return
	}
	orig := ""
	if r.Original.Built && !t.OneShot && len(ports) > 0 {
		// Started now so that both warm up at the same time.
		if orig, err = s.start(ctx, origTag, "original", ports); err != nil {
			d.logf(t.Service, "original does not start: %v", err)
			orig = ""
		}
	}

	if t.OneShot {
		s.checkOneShot(ctx, opt, info)
		return
	}

	r.Healthy = s.waitHealthy(ctx, opt, info)
	c, err := d.inspectContainer(ctx, opt)
	if err != nil {
		s.fail("inspecting optimized container: %v", err)
		return
	}
	r.Running = c.State.Running
	s.checkUser(ctx, opt, c, info)
	switch {
	case !r.Running:
		s.fail("optimized container is not running after the start period (status %s, exit code %d)%s", c.State.Status, c.State.ExitCode, s.logsTail(ctx, opt))
	case r.Healthy == "unhealthy" || r.Healthy == "timeout":
		s.fail("optimized container never became healthy (%s)%s", r.Healthy, s.logsTail(ctx, opt))
	}
	if r.Running && len(ports) > 0 {
		r.HTTP = s.compareProbe(ctx, orig, opt, ports, info)
	}
}

// compareProbe checks that both containers answer like each other without
// acting on the application, as the health checks composeopt writes do: a
// GET of the health route the optimized image's own HEALTHCHECK requests
// (on that route's port when it is published), or, when the HEALTHCHECK
// names no route or there is none, a TCP connect to the first port, which
// sends no request (a GET of / may count a visit or write a session).
func (s *session) compareProbe(ctx context.Context, orig, opt string, ports []int, info *imageInfo) *HTTPCompare {
	path, port := healthRoute(info)
	if path == "" {
		return s.compare(ctx, orig, opt, ports[0], "")
	}
	if !slices.Contains(ports, port) {
		port = ports[0]
	}
	return s.compare(ctx, orig, opt, port, path)
}

// compare asks both containers the same probe on port and compares their
// answers: a GET of path (the status codes), or, when path is "", a TCP
// connect that sends nothing (connect answers 1 when the port accepts it).
// The original may be "" when it does not run.
func (s *session) compare(ctx context.Context, orig, opt string, port int, path string) *HTTPCompare {
	h := &HTTPCompare{Port: port, Path: path, Probe: "GET " + path}
	ask := func(container string) (int, error) { return s.get(ctx, container, port, path) }
	doing := fmt.Sprintf("GET %s on port %d", path, port)
	if path == "" {
		h.Probe = ProbeTCP
		ask = func(container string) (int, error) { return s.connect(ctx, container, port) }
		doing = fmt.Sprintf("a TCP connect to port %d", port)
	}
	s.d.logf(s.t.Service, "comparing %s…", doing)
	var optErr, origErr error
	h.Optimized, optErr = ask(opt)
	if orig != "" {
		h.Original, origErr = ask(orig)
	} else {
		origErr = fmt.Errorf("original not running")
	}
	refused := fmt.Sprintf("does not answer %s (original: %d)", doing, h.Original)
	neither := "neither answers"
	if path == "" {
		refused = fmt.Sprintf("does not accept a TCP connection on port %d (the original does)", port)
		neither = "neither accepts a connection"
	}
	switch {
	case optErr != nil && origErr == nil:
		s.fail("optimized %s: %v", refused, optErr)
	case optErr != nil:
		h.Note = fmt.Sprintf("%s: optimized: %v; original: %v", neither, optErr, origErr)
	case origErr != nil:
		h.Note = fmt.Sprintf("original gave no answer to compare with: %v", origErr)
	default:
		// Both connects answer 1, so only a GET can differ.
		h.Match = h.Original == h.Optimized
		if !h.Match {
			s.fail("%s: original answers %d, optimized %d", doing, h.Original, h.Optimized)
		}
	}
	return h
}

// hostPort returns the loopback address the container's port is published on.
func (s *session) hostPort(ctx context.Context, container string, port int) (string, error) {
	out, err := s.d.output(ctx, "port", container, fmt.Sprintf("%d/tcp", port))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.Split(strings.TrimSpace(out), "\n")[0]), nil
}

// connect polls until the container's published port accepts a TCP
// connection, which it closes at once without sending anything; it returns
// 1 (connected) or an error. Docker's proxy accepts on the host port before
// the application listens, so a connection only counts when the peer does
// not close it at once (a read that times out, rather than EOF or reset).
func (s *session) connect(ctx context.Context, container string, port int) (int, error) {
	addr, err := s.hostPort(ctx, container, port)
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(httpWait)
	for {
		err := tcpOpen(ctx, addr)
		if err == nil {
			return 1, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("connect %s: %w", addr, err)
		}
		sleep(ctx, 500*time.Millisecond)
	}
}

// tcpOpen connects to addr and checks that the connection stays open for a
// moment without any byte being sent.
func tcpOpen(ctx context.Context, addr string) error {
	var d net.Dialer
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := d.DialContext(cctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil // open and silent: something listens
		}
		return fmt.Errorf("closed at once: %w", err)
	}
	return nil // it spoke first (a banner): something listens
}

// start runs image detached with the service's environment, command and
// ports published on random loopback ports. It returns the container name.
func (s *session) start(ctx context.Context, image, role string, ports []int) (string, error) {
	name := "composeopt-verify-" + sanitize(s.t.Service) + "-" + role + "-" + randomID()
	args := []string{"run", "-d", "--name", name, "--label", Label + "=1"}
	keys := make([]string, 0, len(s.t.Env))
	for k := range s.t.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-e", k+"="+s.t.Env[k])
	}
	for _, p := range ports {
		args = append(args, "-p", fmt.Sprintf("127.0.0.1::%d", p))
	}
	args = append(args, image)
	args = append(args, s.t.Command...)
	if _, err := s.d.output(ctx, args...); err != nil {
		// `docker run -d` may have created the container before failing.
		s.containers = append(s.containers, name)
		return "", err
	}
	s.containers = append(s.containers, name)
	return name, nil
}

func (s *session) checkOneShot(ctx context.Context, id string, info *imageInfo) {
	r := s.r
	// Read the user while it may still run; fall back to the configuration.
	if c, err := s.d.inspectContainer(ctx, id); err == nil {
		s.checkUser(ctx, id, c, info)
	}
	wctx, cancel := context.WithTimeout(ctx, oneShotTimeout)
	defer cancel()
	out, err := s.d.output(wctx, "wait", id)
	if err != nil {
		s.fail("waiting for one-shot container: %v", err)
		return
	}
	code, _ := strconv.Atoi(strings.TrimSpace(out))
	r.Running = code == 0
	r.Healthy = "none"
	if code != 0 {
		s.fail("one-shot container exited with code %d%s", code, s.logsTail(ctx, id))
	}
}

// waitHealthy polls the container's health until it settles. Without a
// HEALTHCHECK it just waits a short settle period and returns "none".
func (s *session) waitHealthy(ctx context.Context, id string, info *imageInfo) string {
	hc := info.Config.Healthcheck
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		settle := s.o.Settle
		if settle <= 0 {
			settle = defaultSettle
		}
		s.d.logf(s.t.Service, "no HEALTHCHECK: checking it stays up for %s…", settle)
		sleep(ctx, settle)
		return "none"
	}
	interval, retries := hc.Interval, hc.Retries
	if interval == 0 {
		interval = 30 * time.Second
	}
	if retries == 0 {
		retries = 3
	}
	wait := hc.StartPeriod + time.Duration(retries+1)*interval + 10*time.Second
	if wait > maxHealthWait {
		wait = maxHealthWait
	}
	s.d.logf(s.t.Service, "waiting up to %s for HEALTHCHECK…", wait)
	deadline := time.Now().Add(wait)
	for {
		c, err := s.d.inspectContainer(ctx, id)
		if err == nil {
			if !c.State.Running {
				return "exited"
			}
			if c.State.Health != nil && (c.State.Health.Status == "healthy" || c.State.Health.Status == "unhealthy") {
				return c.State.Health.Status
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "timeout"
		}
		sleep(ctx, time.Second)
	}
}

// checkUser finds the uid of the container's PID 1 without needing anything
// inside the image: from /proc/<host pid>/status when the engine runs on this
// host, else from `docker top`, else from the configured USER.
func (s *session) checkUser(ctx context.Context, id string, c *containerInfo, info *imageInfo) {
	r := s.r
	configured := c.Config.User
	if configured == "" {
		configured = info.Config.User
	}
	uid := -1
	if c.State.Running && c.State.Pid > 0 {
		uid = procUID(c.State.Pid)
		if uid < 0 {
			uid = s.topUID(ctx, id, c.State.Pid)
		}
	}
	if uid < 0 {
		// The process is gone or not visible: judge by the configuration.
		switch u := strings.SplitN(configured, ":", 2)[0]; u {
		case "", "root", "0":
			uid = 0
		default:
			if n, err := strconv.Atoi(u); err == nil {
				uid = n
			}
		}
	}
	switch {
	case uid < 0:
		r.User = configured + " (uid unknown)"
		r.NonRoot = true
	case configured != "" && configured != strconv.Itoa(uid):
		r.User = fmt.Sprintf("%d (%s)", uid, configured)
		r.NonRoot = uid != 0
	default:
		r.User = strconv.Itoa(uid)
		r.NonRoot = uid != 0
	}
	switch {
	case !r.NonRoot && s.t.RootKept != "":
		r.RootKept = s.t.RootKept
	case !r.NonRoot:
		s.fail("optimized container runs as root (uid 0)")
	}
}

// procUID reads the effective uid of a host process, or -1.
func procUID(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "Uid:" {
			if n, err := strconv.Atoi(f[2]); err == nil {
				return n
			}
		}
	}
	return -1
}

// topUID asks the engine (which runs ps where the container runs) for the uid
// of the process whose host pid is pid, or -1.
func (s *session) topUID(ctx context.Context, id string, pid int) int {
	out, err := s.d.output(ctx, "top", id, "-o", "pid,uid")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == strconv.Itoa(pid) {
			if n, err := strconv.Atoi(f[1]); err == nil {
				return n
			}
		}
	}
	return -1
}

// get polls until the container's published port answers GET path.
func (s *session) get(ctx context.Context, container string, port int, path string) (int, error) {
	hostPort, err := s.hostPort(ctx, container, port)
	if err != nil {
		return 0, err
	}
	url := "http://" + hostPort + path
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(httpWait)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("GET %s: %w", url, err)
		}
		sleep(ctx, 500*time.Millisecond)
	}
}

func (s *session) logsTail(ctx context.Context, id string) string {
	out, err := s.d.output(ctx, "logs", "--tail", "15", id)
	if err != nil || strings.TrimSpace(out) == "" {
		// docker logs writes the container's stderr to its own stderr.
		cmd := s.d.command(ctx, "logs", "--tail", "15", id)
		b, _ := cmd.CombinedOutput()
		out = string(b)
	}
	if strings.TrimSpace(out) == "" {
		return ""
	}
	return "\ncontainer log:\n" + tail(out, 15)
}

// cleanup removes what the session created, even when ctx is cancelled.
// It runs once; later calls do nothing.
func (s *session) cleanup(ctx context.Context) {
	if s.cleaned {
		return
	}
	s.cleaned = true
	for _, done := range s.tmpDirs {
		done()
	}
	if s.o.Keep {
		if len(s.containers)+len(s.images) > 0 {
			s.d.logf(s.t.Service, "keeping containers %v and images %v", s.containers, s.images)
		}
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if len(s.containers) > 0 {
		_, _ = s.d.output(cctx, append([]string{"rm", "-f", "-v"}, s.containers...)...)
	}
	if len(s.images) > 0 {
		_, _ = s.d.output(cctx, append([]string{"image", "rm", "-f"}, s.images...)...)
	}
}

// healthRoute extracts the URL path and port a HEALTHCHECK requests, e.g.
// "/healthz" and 3000 from `curl -f http://localhost:3000/healthz` (80 or
// 443 when the URL names no port); "" when it requests no URL (a TCP
// connect, a script) or there is no HEALTHCHECK.
var healthURL = regexp.MustCompile(`(https?)://[^/:\s'"]+(?::(\d+))?(/[^\s'"\\)]*)`)

func healthRoute(info *imageInfo) (string, int) {
	if hc := info.Config.Healthcheck; hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE" {
		if m := healthURL.FindStringSubmatch(strings.Join(hc.Test, " ")); m != nil {
			port, _ := strconv.Atoi(m[2])
			if port == 0 {
				port = map[string]int{"http": 80, "https": 443}[m[1]]
			}
			return m[3], port
		}
	}
	return "", 0
}

func exposedPorts(m map[string]struct{}) []int {
	var ports []int
	for k := range m {
		num, proto, _ := strings.Cut(k, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil {
			ports = append(ports, n)
		}
	}
	sort.Ints(ports)
	return ports
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sanitize makes a service name usable in image tags and container names.
func sanitize(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "service"
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

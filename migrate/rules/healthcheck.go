package rules

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// Healthcheck adds a HEALTHCHECK that probes the application's HTTP port
// with the image's own runtime.
var Healthcheck = &Rule{
	ID:    "healthcheck",
	Title: "Add a HEALTHCHECK that observes the app when its port is known",
	Doc: "Without a health check Docker only knows whether the process exists, not whether it " +
		"answers, so a hung server keeps receiving traffic and `depends_on: condition: service_healthy` " +
		"cannot be used. The check is added only with evidence: an HTTP port from PORT, EXPOSE or the " +
		"compose ports, and a probe program the image already has, so nothing is installed for it. A " +
		"check must observe, never act: it requests only the configured path or a health route declared " +
		"for GET in the sources of the image's language (with the image's curl or wget when it has them, " +
		"else its node or python); without such a route it only opens a TCP connection to the port " +
		"(node, python or bash), because a request to a page may change state or depend on the database. " +
		"Ports of other protocols (databases, brokers, the Java debugger) get no check. Services that run " +
		"their own command from the image and publish no port (workers) get `healthcheck: disable: true` " +
		"in compose. Images that have a HEALTHCHECK (even NONE), services with a compose healthcheck, " +
		"distroless and scratch images, and conflicting port evidence are left alone and reported.",
	After:   []string{"multi-stage", "python-env", "node-env"},
	Options: []string{"health-path", "health-interval", "health-timeout", "health-start-period", "health-retries"},
	Run:     runHealthcheck,
}

// healthcheckTail are the final instructions the HEALTHCHECK goes before.
var healthcheckTail = []string{"user", "cmd", "entrypoint"}

// healthcheckNotHTTP are well-known ports of protocols other than plain HTTP.
var healthcheckNotHTTP = map[int]string{
	21: "FTP", 22: "SSH", 25: "SMTP", 53: "DNS", 110: "POP3", 143: "IMAP", 389: "LDAP",
	443: "HTTPS", 465: "SMTP", 587: "SMTP", 636: "LDAPS", 993: "IMAPS", 995: "POP3S",
	1433: "SQL Server", 1521: "Oracle", 1883: "MQTT", 2181: "ZooKeeper", 3306: "MySQL",
	4222: "NATS", 5432: "PostgreSQL", 5672: "AMQP", 6379: "Redis", 8443: "HTTPS",
	9042: "Cassandra", 9092: "Kafka", 11211: "memcached", 27017: "MongoDB", 50051: "gRPC",
}

// healthcheckServers are images of web servers and proxies: the routes
// found in the context belong to the application behind them.
var healthcheckServers = []string{"nginx", "nginx-unprivileged", "httpd", "caddy", "traefik", "haproxy", "envoy", "apache"}

// healthcheckPlan is what the rule would do for one stage.
type healthcheckPlan struct {
	text string // the HEALTHCHECK instruction ("" = none to add)
	// notes go with an added HEALTHCHECK; reasons explain why none is added.
	notes, reasons []healthcheckFinding
}

type healthcheckFinding struct {
	msg        string
	needsHuman bool
}

func (pl *healthcheckPlan) note(format string, args ...any) {
	pl.notes = append(pl.notes, healthcheckFinding{msg: fmt.Sprintf(format, args...)})
}

func (pl *healthcheckPlan) skip(needsHuman bool, format string, args ...any) (healthcheckPlan, bool) {
	pl.reasons = append(pl.reasons, healthcheckFinding{msg: fmt.Sprintf(format, args...), needsHuman: needsHuman})
	return *pl, false
}

func healthcheckEmit(p *Pass, line int, fs []healthcheckFinding) {
	for _, f := range fs {
		if f.needsHuman {
			p.NeedsHuman(line, "%s", f.msg)
		} else {
			p.Report(line, "%s", f.msg)
		}
	}
}

func runHealthcheck(p *Pass) {
	for _, st := range p.Runtime() {
		if p.Stage(st).DevelopmentReason() != "" {
			continue
		}
		sf := p.Stage(st)
		svcs := sf.Services
		existing := sf.Healthcheck()
		// Services sharing the image but running another program (workers)
		// would be probed too, whatever HEALTHCHECK the image has: the
		// planner turns it off for them in compose (`healthcheck: disable:
		// true`), or says that a person must.
		plan, ok := healthcheckMake(p, st, svcs)
		if existing != nil {
			// Our own earlier output: repeat its findings, change nothing.
			if ok && strings.TrimSpace(p.File.Text(existing)) == strings.TrimSpace(plan.text) {
				healthcheckEmit(p, existing.Start, plan.notes)
			}
			continue
		}
		if !ok {
			healthcheckEmit(p, st.From.Start, plan.reasons)
			continue
		}
		p.Edit(dockerfile.InsertAtEnd(st, plan.text, healthcheckTail...))
		healthcheckEmit(p, st.From.Start, plan.notes)
	}
}

// healthcheckMake decides the HEALTHCHECK for a stage. ok=false means none
// is added, and plan.reasons says why (nothing is reported here: the
// caller reports only when the stage has no HEALTHCHECK yet).
func healthcheckMake(p *Pass, st *dockerfile.Stage, svcs []facts.Service) (healthcheckPlan, bool) {
	var plan healthcheckPlan
	name := st.DisplayName()
	// Services that may serve HTTP (a service that runs its own command and
	// publishes no port is taken for a worker), and those of them whose
	// health the image's check would decide.
	var servers, web []facts.Service
	for _, s := range svcs {
		if s.Worker() {
			continue
		}
		servers = append(servers, s)
		if !s.HasHealthcheck {
			web = append(web, s)
		}
	}
	if len(svcs) > 0 && len(servers) == 0 {
		return plan, false // workers only: nothing suggests HTTP
	}
	var portPlan healthcheckPlan
	port, ok, evidence := healthcheckPort(p, &portPlan, st, servers)
	if !evidence {
		return plan, false // no port at all: not a server, nothing to say
	}
	if len(svcs) > 0 && len(web) == 0 {
		return plan.skip(false, "compose defines a healthcheck for every service built from stage %s; no HEALTHCHECK added to the image", name)
	}
	info := p.Stage(st).Info
	switch info.Family {
	case facts.Distroless, facts.Scratch:
		return plan.skip(false, "stage %s is %s: it has no program to probe with, so no HEALTHCHECK was added; define a healthcheck in compose with a probe the image has, or ship one", name, info.Family)
	case facts.Windows:
		return plan, false
	}
	if !ok {
		plan.reasons = append(plan.reasons, portPlan.reasons...)
		return plan, false
	}
	if slices.Contains(p.Stage(st).DebuggerPorts(svcs), port) {
		return plan.skip(false, "port %d of stage %s is the Java debugger's (JDWP), which does not speak HTTP; no HEALTHCHECK added", port, name)
	}
	if proto, bad := healthcheckNotHTTP[port]; bad {
		return plan.skip(false, "port %d of stage %s is usually %s, not plain HTTP; no HEALTHCHECK added", port, name, proto)
	}
	// The runtime the app is written for (its routes are searched in that
	// language's sources), and the programs the image has to probe with.
	runtime, exts := p.Stage(st).AppLanguage()
	if runtime == "" && slices.Contains(healthcheckServers, info.Image.Base()) {
		return plan.skip(false, "stage %s runs the web server %s: the routes found in the sources belong to the application behind it; no HEALTHCHECK added", name, info.Image.Base())
	}
	curl := info.Base.HasTool("curl")
	wget := info.Base.HasTool("wget") || info.Family == facts.Alpine && !info.Base.Known
	bash := info.Base.HasTool("bash")
	// The path: configured, else a method-safe GET route found in the
	// sources. Without one, the check only opens a TCP connection: a request
	// to a page (even /) may change state (a visit counter) or depend on the
	// database.
	path := p.Options.HealthPath
	if path == "" {
		if routes := p.Facts.HealthRoutesIn(exts...); len(routes) > 0 {
			path = routes[0]
		}
	}
	timeout := healthcheckTimeout(p.Options.Health.Timeout)
	var cmd []string
	if path != "" {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
		switch {
		case curl:
			cmd = []string{"curl", "-fsS", "-o", "/dev/null", "--max-time", strconv.Itoa(timeout), url}
		case wget:
			cmd = []string{"wget", "-q", "-O", "/dev/null", "-T", strconv.Itoa(timeout), url}
		case runtime == "node":
			cmd = []string{"node", "-e", fmt.Sprintf("require('http').get('%s', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))", url)}
		case runtime != "":
			cmd = []string{runtime, "-c", fmt.Sprintf("import urllib.request; urllib.request.urlopen('%s', timeout=%d)", url, timeout)}
		default:
			return plan.skip(false, "stage %s has no program to probe %s with (no curl, wget, node or python); no HEALTHCHECK added", name, path)
		}
	} else {
		switch {
		case runtime == "node":
			cmd = []string{"node", "-e", fmt.Sprintf("require('net').connect(%d, '127.0.0.1').setTimeout(%d).on('connect', () => process.exit(0)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))", port, timeout*1000)}
		case runtime != "":
			cmd = []string{runtime, "-c", fmt.Sprintf("import socket; socket.create_connection(('127.0.0.1', %d), timeout=%d).close()", port, timeout)}
		case bash:
			cmd = []string{"bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", port)}
		default:
			return plan.skip(true, "stage %s listens on port %d but no health route was found, and the image has no program that can open a plain TCP connection (node, python or bash); set the health-check path to add a HEALTHCHECK", name, port)
		}
		plan.note("no health route was found in the sources: the HEALTHCHECK of stage %s only checks that port %d accepts TCP connections, sending no request to the app; set the health-check path to probe a real health endpoint", name, port)
	}
	flags := p.Options.Health.Flags()
	arr := dockerfile.ExecForm(cmd)
	esc := string(p.File.Escape)
	plan.text = p.File.Keyword("healthcheck") + " " + flags + " " + esc + "\n    " + p.File.Keyword("cmd") + " " + arr + "\n"
	return plan, true
}

// healthcheckTimeout returns the probe's own timeout in seconds: one
// second less than the HEALTHCHECK --timeout (default 5s), at least 1.
func healthcheckTimeout(t time.Duration) int {
	s := int(t/time.Second) - 1
	if s < 1 {
		s = 1
	}
	return s
}

var healthcheckPortWord = regexp.MustCompile(`^(\d{1,5})(/tcp)?$`)

// healthcheckPort finds the HTTP port: a PORT variable, else the single
// EXPOSEd port, else the single compose port; conflicting evidence is a
// finding for a person.
//
// evidence is false when there is no port at all (nothing is reported then).
func healthcheckPort(p *Pass, pl *healthcheckPlan, st *dockerfile.Stage, web []facts.Service) (port int, ok, evidence bool) {
	name := st.DisplayName()
	sf := p.Stage(st)
	var portVals []string
	if v := sf.Vars(nil)["PORT"]; v != "" {
		portVals = append(portVals, v) // ENV PORT, or an ARG PORT
	}
	for _, s := range web {
		if v, ok := s.Environment["PORT"]; ok {
			portVals = append(portVals, v)
		}
	}
	var exposed []int
	for _, in := range sf.Instructions("expose", nil) {
		for _, a := range in.Args {
			w := strings.ToLower(sf.Expand(a, in))
			if m := healthcheckPortWord.FindStringSubmatch(w); m != nil {
				n, _ := strconv.Atoi(m[1])
				exposed = healthcheckAdd(exposed, n)
			}
		}
	}
	// A Java debugger port next to others is not the app's.
	if jdwp := sf.DebuggerPorts(web); len(exposed) > 1 {
		if rest := slices.DeleteFunc(slices.Clone(exposed), func(n int) bool { return slices.Contains(jdwp, n) }); len(rest) > 0 {
			exposed = rest
		}
	}
	var published []int
	for _, s := range web {
		for _, n := range s.Ports {
			published = healthcheckAdd(published, n)
		}
	}
	var fromEnv []int
	for _, v := range portVals {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 || n > 65535 {
			pl.skip(true, "stage %s: PORT is %q, not a port number; no HEALTHCHECK added", name, v)
			return 0, false, true
		}
		fromEnv = healthcheckAdd(fromEnv, n)
	}
	switch {
	case len(fromEnv) > 1:
		pl.skip(true, "stage %s: PORT has several values (%s); no HEALTHCHECK added", name, healthcheckList(fromEnv))
		return 0, false, true
	case len(fromEnv) == 1:
		port = fromEnv[0]
		for _, seen := range [][]int{exposed, published} {
			if len(seen) > 0 && !slices.Contains(seen, port) {
				pl.skip(true, "stage %s: PORT is %d but the ports exposed or published are %s; no HEALTHCHECK added", name, port, healthcheckList(seen))
				return 0, false, true
			}
		}
		return port, true, true
	case len(exposed) > 1:
		pl.skip(true, "stage %s exposes several ports (%s); no HEALTHCHECK added: set one PORT or add the health check yourself", name, healthcheckList(exposed))
		return 0, false, true
	case len(exposed) == 1:
		if len(published) > 0 && !slices.Contains(published, exposed[0]) {
			pl.skip(true, "stage %s exposes port %d but compose publishes %s; no HEALTHCHECK added", name, exposed[0], healthcheckList(published))
			return 0, false, true
		}
		return exposed[0], true, true
	case len(published) > 1:
		pl.skip(true, "the services built from stage %s publish several ports (%s); no HEALTHCHECK added", name, healthcheckList(published))
		return 0, false, true
	case len(published) == 1:
		return published[0], true, true
	}
	// Nothing in the Dockerfile or the compose ports names the port: ask
	// the stage's one answer to "which ports does it listen on" (proxy
	// labels, listen calls in the sources, server configuration, command
	// flags). The base image's default is no evidence that this app serves
	// HTTP there, and a Java debugger port is never probed.
	jdwp := p.Stage(st).DebuggerPorts(web)
	var found []int
	for _, lp := range p.Stage(st).Ports() {
		if lp.Kind != "image" && !slices.Contains(jdwp, lp.Number) {
			found = healthcheckAdd(found, lp.Number)
		}
	}
	switch {
	case len(found) > 1:
		pl.skip(true, "stage %s listens on several ports (%s); no HEALTHCHECK added: set one PORT or add the health check yourself", name, healthcheckList(found))
		return 0, false, true
	case len(found) == 1:
		return found[0], true, true
	}
	return 0, false, false
}

func healthcheckAdd(list []int, n int) []int {
	if slices.Contains(list, n) {
		return list
	}
	list = append(list, n)
	sort.Ints(list)
	return list
}

func healthcheckList(ports []int) string {
	s := make([]string, len(ports))
	for i, n := range ports {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

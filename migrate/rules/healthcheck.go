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
	Title: "Add an HTTP HEALTHCHECK when the app's port is known",
	Doc: "Without a health check Docker only knows whether the process exists, not whether it " +
		"answers, so a hung server keeps receiving traffic and `depends_on: condition: service_healthy` " +
		"cannot be used. The check is added only with evidence: an HTTP port from PORT, EXPOSE or the " +
		"compose ports, and a probe program the image already has (node or python, else busybox wget on " +
		"Alpine), so nothing is installed for it. The path is the configured one, else a health route " +
		"found in the sources of the image's language, else / (where any answer below 500 counts). " +
		"Images that have a HEALTHCHECK (even NONE), services with a compose healthcheck, distroless " +
		"and scratch images, and conflicting port evidence are left alone and reported.",
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
		if devReason(p, st) != "" {
			continue
		}
		sf := p.Stage(st)
		chain, svcs := sf.Chain, sf.Services
		var existing *dockerfile.Instruction
		for _, s := range chain {
			for _, in := range s.Find("healthcheck") {
				existing = in
			}
		}
		// Services sharing the image but running another program would be
		// probed too; this holds for any HEALTHCHECK the image has.
		var others []string
		for _, s := range svcs {
			if !s.HasHealthcheck && s.Command != nil && len(s.Ports) == 0 {
				others = append(others, s.Name)
			}
		}
		plan, ok := healthcheckMake(p, st, chain, svcs)
		othersMsg := "services %s run their own command from this image and publish no port: the image's health check would mark them unhealthy; set `healthcheck: disable: true` for them in compose"
		if len(others) == 1 {
			othersMsg = "service %s runs its own command from this image and publishes no port: the image's health check would mark it unhealthy; set `healthcheck: disable: true` for it in compose"
		}
		if existing != nil {
			// Our own earlier output: repeat its findings, change nothing.
			if ok && strings.TrimSpace(p.File.Text(existing)) == strings.TrimSpace(plan.text) {
				healthcheckEmit(p, existing.Start, plan.notes)
			}
			if !healthcheckIsNone(existing) && len(others) > 0 {
				p.Report(existing.Start, othersMsg, strings.Join(others, ", "))
			}
			continue
		}
		if !ok {
			healthcheckEmit(p, st.From.Start, plan.reasons)
			continue
		}
		p.Edit(dockerfile.InsertAtEnd(st, plan.text, healthcheckTail...))
		healthcheckEmit(p, st.From.Start, plan.notes)
		if len(others) > 0 {
			p.Report(st.From.Start, othersMsg, strings.Join(others, ", "))
		}
	}
}

func healthcheckIsNone(in *dockerfile.Instruction) bool {
	return len(in.Args) > 0 && strings.EqualFold(in.Args[0], "none")
}

// healthcheckMake decides the HEALTHCHECK for a stage. ok=false means none
// is added, and plan.reasons says why (nothing is reported here: the
// caller reports only when the stage has no HEALTHCHECK yet).
func healthcheckMake(p *Pass, st *dockerfile.Stage, chain []*dockerfile.Stage, svcs []facts.Service) (healthcheckPlan, bool) {
	var plan healthcheckPlan
	name := st.DisplayName()
	// Services that may serve HTTP (a service that runs its own command and
	// publishes no port is taken for a worker), and those of them whose
	// health the image's check would decide.
	var servers, web []facts.Service
	for _, s := range svcs {
		if s.Command != nil && len(s.Ports) == 0 {
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
	args := p.Stage(st).BuildArgs
	var portPlan healthcheckPlan
	port, ok, evidence := healthcheckPort(p, &portPlan, st, chain, servers, args)
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
	if proto, bad := healthcheckNotHTTP[port]; bad {
		return plan.skip(false, "port %d of stage %s is usually %s, not plain HTTP; no HEALTHCHECK added", port, name, proto)
	}
	// The probe program and the language of the routes it may use.
	var probe string
	var exts []string
	if py := p.Facts.PythonCommand(info, chain); py != "" && !strings.HasPrefix(info.Image.Base(), "node") {
		probe, exts = py, []string{".py"}
	} else if p.Facts.RunsNode(info, chain) {
		probe, exts = "node", []string{".js", ".mjs", ".cjs", ".ts"}
	} else if slices.Contains(healthcheckServers, info.Image.Base()) {
		return plan.skip(false, "stage %s runs the web server %s: the routes found in the sources belong to the application behind it; no HEALTHCHECK added", name, info.Image.Base())
	} else if info.Family == facts.Alpine {
		probe = "wget"
		switch eco := p.Facts.Ecosystems(); {
		case slices.Equal(eco, []string{"go"}):
			exts = []string{".go"}
		case slices.Equal(eco, []string{"java"}):
			exts = []string{".java", ".kt"}
		}
	} else {
		return plan.skip(false, "stage %s has no known HTTP probe (neither node, python nor busybox wget); no HEALTHCHECK added", name)
	}
	// The path: configured, else a route found in the sources, else /.
	path, known := p.Options.HealthPath, true
	if path == "" {
		if routes := p.Facts.HealthRoutesIn(exts...); len(routes) > 0 {
			path = routes[0]
		} else {
			path, known = "/", false
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	flags := p.Options.Health.Flags()
	timeout := healthcheckTimeout(p.Options.Health.Timeout)
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	var cmd []string
	switch probe {
	case "node":
		limit := 400
		if !known {
			limit = 500
		}
		cmd = []string{"node", "-e", fmt.Sprintf("require('http').get('%s', r => process.exit(r.statusCode < %d ? 0 : 1)).on('error', () => process.exit(1))", url, limit)}
	case "wget":
		if !known {
			return plan.skip(true, "stage %s serves HTTP on port %d but no health route was found and busybox wget fails on any error status; set the health-check path to add a HEALTHCHECK", name, port)
		}
		cmd = []string{"wget", "-q", "--spider", "-T", strconv.Itoa(timeout), url}
	default: // python
		if known {
			cmd = []string{probe, "-c", fmt.Sprintf("import urllib.request; urllib.request.urlopen('%s', timeout=%d)", url, timeout)}
		} else {
			cmd = []string{probe, "-c", fmt.Sprintf("import http.client, sys; c = http.client.HTTPConnection('127.0.0.1', %d, timeout=%d); c.request('GET', '%s'); sys.exit(c.getresponse().status >= 500)", port, timeout, path)}
		}
	}
	if !known {
		plan.note("no health route was found in the sources: the HEALTHCHECK of stage %s probes / on port %d and accepts any answer below 500; set the health-check path to probe a real health endpoint", name, port)
	}
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
func healthcheckPort(p *Pass, pl *healthcheckPlan, st *dockerfile.Stage, chain []*dockerfile.Stage, web []facts.Service, args map[string]string) (port int, ok, evidence bool) {
	name := st.DisplayName()
	// Build-time values: global ARG defaults, compose build args, then ARG
	// defaults and ENV values of the chain, in order.
	vars := facts.GlobalArgs(p.File, args)
	envPort := ""
	for _, s := range chain {
		for _, in := range s.Instructions {
			switch in.Cmd {
			case "arg":
				for _, a := range in.Args {
					k, v, hasDefault := strings.Cut(a, "=")
					if cv, ok := args[k]; ok {
						vars[k] = cv
					} else if hasDefault {
						vars[k] = facts.ExpandArgs(strings.Trim(v, `"'`), vars)
					}
				}
			case "env":
				for i := 0; i+1 < len(in.Args); i += 3 {
					v := facts.ExpandArgs(in.Args[i+1], vars)
					vars[in.Args[i]] = v
					if in.Args[i] == "PORT" {
						envPort = v
					}
				}
			}
		}
	}
	var portVals []string
	if envPort != "" {
		portVals = append(portVals, envPort)
	} else if v, ok := vars["PORT"]; ok && v != "" {
		portVals = append(portVals, v) // an ARG PORT
	}
	for _, s := range web {
		if v, ok := s.Environment["PORT"]; ok {
			portVals = append(portVals, v)
		}
	}
	var exposed []int
	for _, s := range chain {
		for _, in := range s.Find("expose") {
			for _, a := range in.Args {
				w := strings.ToLower(facts.ExpandArgs(a, vars))
				if m := healthcheckPortWord.FindStringSubmatch(w); m != nil {
					n, _ := strconv.Atoi(m[1])
					exposed = healthcheckAdd(exposed, n)
				}
			}
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

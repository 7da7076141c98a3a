package facts

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// Port is a port the application of a stage listens on, with the evidence.
type Port struct {
	Number int
	// Kind is where it was found: expose, env, command, compose, label,
	// source, config (a server's configuration file), image (the base
	// image's own default).
	Kind string
	// Evidence says where, for findings: "EXPOSE 80", "app.py: app.run(port=80)".
	Evidence string
	// Line is the Dockerfile line of the evidence (0 when elsewhere).
	Line int
}

// Privileged reports whether only root may bind the port by default
// (Linux's net.ipv4.ip_unprivileged_port_start is 1024).
func (p Port) Privileged() bool { return p.Number > 0 && p.Number < 1024 }

// listenPorts is the one answer to "which ports does this stage's
// application listen on", used by every rule. It gathers all the evidence:
// EXPOSE and port variables (PORT, ASPNETCORE_URLS...) in the stage chain,
// port flags of CMD/ENTRYPOINT and the compose command, compose ports,
// expose and environment, proxy labels (Traefik's
// loadbalancer.server.port, VIRTUAL_PORT), listen calls in the sources and
// listen lines in server configuration files of the context, and, when
// nothing else names a port, the base image's own default (nginx: 80).
// Each port appears once, with its first evidence, lowest port first.
func (sf *StageFacts) listenPorts() []Port {
	var out []Port
	add := func(p Port) {
		if p.Number <= 0 || p.Number > 65535 {
			return
		}
		for _, o := range out {
			if o.Number == p.Number {
				return
			}
		}
		out = append(out, p)
	}
	x := sf.index()
	for _, in := range sf.Instructions("", nil) {
		switch in.Cmd {
		case "env":
			for i := 0; i+1 < len(in.Args); i += 3 {
				k := in.Args[i]
				val, _ := last(x.vars[k], x.before(in)+1) // the value this ENV sets
				for _, n := range portsFromVar(k, val) {
					add(Port{Number: n, Kind: "env", Evidence: "ENV " + k + "=" + val, Line: in.Start})
				}
			}
		case "expose":
			for _, a := range in.Args {
				for _, n := range dockerfile.PortSpec(sf.Expand(a, in)) {
					add(Port{Number: n, Kind: "expose", Evidence: "EXPOSE " + a, Line: in.Start})
				}
			}
		case "cmd", "entrypoint":
			for _, n := range portsFromCommand(sf.Expand(strings.Join(in.Args, " "), in)) {
				add(Port{Number: n, Kind: "command", Evidence: strings.ToUpper(in.Cmd) + " " + strings.Join(in.Args, " "), Line: in.Start})
			}
		}
	}
	for _, s := range sf.Services {
		for _, n := range s.Ports {
			add(Port{Number: n, Kind: "compose", Evidence: "compose service " + s.Name + " ports/expose " + strconv.Itoa(n)})
		}
		for _, k := range slices.Sorted(mapKeys(s.Environment)) {
			for _, n := range portsFromVar(k, s.Environment[k]) {
				add(Port{Number: n, Kind: "compose", Evidence: "compose service " + s.Name + " environment " + k + "=" + s.Environment[k]})
			}
		}
		for _, n := range portsFromCommand(strings.Join(s.Command, " ")) {
			add(Port{Number: n, Kind: "compose", Evidence: "compose service " + s.Name + " command"})
		}
		for _, k := range slices.Sorted(mapKeys(s.Labels)) {
			if n, ok := portFromLabel(k, s.Labels[k]); ok {
				add(Port{Number: n, Kind: "label", Evidence: "compose service " + s.Name + " label " + k + "=" + s.Labels[k]})
			}
		}
	}
	if b := sf.b; b != nil {
		for _, p := range b.SourcePorts {
			add(p)
		}
	}
	if len(out) == 0 {
		for _, n := range sf.Info.Base.Ports {
			add(Port{Number: n, Kind: "image", Evidence: "the default of " + sf.Chain[0].Base})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// portVars are variables whose value is a port the application listens on.
var portVars = map[string]bool{"PORT": true, "HTTP_PORT": true, "SERVER_PORT": true, "APP_PORT": true,
	"LISTEN_PORT": true, "WEB_PORT": true, "VIRTUAL_PORT": true, "FLASK_RUN_PORT": true, "UVICORN_PORT": true,
	"ASPNETCORE_HTTP_PORTS": true, "NGINX_PORT": true, "PUMA_PORT": true, "GUNICORN_PORT": true}

// urlPort matches the port of http://+:80, http://0.0.0.0:80 or :80.
var urlPort = regexp.MustCompile(`(?:^|[;,\s/*+\]a-zA-Z0-9.-]):(\d{1,5})(?:$|[;,\s/])`)

func portsFromVar(k, v string) []int {
	switch {
	case portVars[k]:
		var out []int
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
			if n, err := strconv.Atoi(strings.Trim(part, `"'`)); err == nil {
				out = append(out, n)
			}
		}
		return out
	case k == "ASPNETCORE_URLS" || k == "GUNICORN_BIND" || k == "BIND" || k == "LISTEN_ADDR" || k == "ADDR" || k == "HTTP_ADDR":
		var out []int
		for _, m := range urlPort.FindAllStringSubmatch(v, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	return nil
}

// commandPort matches port options of servers' command lines: --port 80,
// --port=80, -p 80 (uvicorn, flask, http.server take a bare port too),
// --bind 0.0.0.0:80, -b :80, --listen :80, and host:port arguments.
var commandPort = regexp.MustCompile(`(?:--(?:port|http-port|listen-port)[= ]|(?:^|\s)-p\s|--(?:bind|listen|host-port|addr)[= ]\S*:|(?:^|\s)-b\s\S*:|(?:^|[\s"'])(?:0\.0\.0\.0|\[::\]|localhost|127\.0\.0\.1)?:)(\d{1,5})\b`)

// httpServerPort matches `python -m http.server 80`.
var httpServerPort = regexp.MustCompile(`http\.server\s+(?:--\S+\s+\S+\s+)*(\d{1,5})\b`)

func portsFromCommand(cmd string) []int {
	var out []int
	for _, m := range commandPort.FindAllStringSubmatch(cmd, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			out = append(out, n)
		}
	}
	for _, m := range httpServerPort.FindAllStringSubmatch(cmd, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// portFromLabel reads a reverse proxy's label naming the backend port.
func portFromLabel(k, v string) (int, bool) {
	lk := strings.ToLower(k)
	switch {
	case strings.HasPrefix(lk, "traefik.") && strings.HasSuffix(lk, ".server.port"),
		strings.HasPrefix(lk, "traefik.") && strings.HasSuffix(lk, ".port") && strings.Count(lk, ".") == 1, // traefik v1: traefik.port
		lk == "virtual_port", strings.HasSuffix(lk, "virtual.port"):
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	case strings.HasPrefix(lk, "caddy") && strings.Contains(lk, "reverse_proxy"):
		if m := regexp.MustCompile(`upstreams\s+(?:https?\s+)?(\d{1,5})`).FindStringSubmatch(v); m != nil {
			n, err := strconv.Atoi(m[1])
			return n, err == nil
		}
	}
	return 0, false
}

// sourcePortPatterns find ports in application sources, by extension.
var sourcePortPatterns = map[string][]*regexp.Regexp{
	"js": {
		regexp.MustCompile(`\.listen\(\s*(?:[\w.]+\s*(?:\|\||\?\?)\s*)?['"]?(\d{2,5})\b\)?`),
		regexp.MustCompile(`process\.env\.PORT\s*(?:\|\||\?\?)\s*['"]?(\d{2,5})\b`),
	},
	"py": {
		regexp.MustCompile(`\.run\([^)]*\bport\s*=\s*(?:int\([^)]*?,\s*)?['"]?(\d{2,5})\b`),
		regexp.MustCompile(`(?:environ\.get|getenv)\(\s*['"]PORT['"]\s*,\s*['"]?(\d{2,5})\b`),
		regexp.MustCompile(`\bbind\s*=\s*['"][^'"]*:(\d{2,5})['"]`), // gunicorn.conf.py
		regexp.MustCompile(`HTTPServer\(\s*\(\s*['"][^'"]*['"]\s*,\s*(\d{2,5})\s*\)`),
	},
	"go": {
		regexp.MustCompile(`ListenAndServe(?:TLS)?\(\s*"[^"]*:(\d{2,5})"`),
		regexp.MustCompile(`net\.Listen\(\s*"tcp[46]?"\s*,\s*"[^"]*:(\d{2,5})"`),
		regexp.MustCompile(`\.(?:Run|Start|Listen)\(\s*"[^"]*:(\d{2,5})"`), // gin, echo, fiber
	},
	"java": {
		regexp.MustCompile(`(?m)^\s*server\.port\s*[=:]\s*(\d{2,5})\b`),
	},
	"rb": {
		regexp.MustCompile(`(?m)^\s*port\s+(?:ENV\.fetch\(\s*["']PORT["']\s*\)\s*\{\s*)?(\d{2,5})\b`),
	},
	"conf": {
		regexp.MustCompile(`(?m)^\s*listen\s+(?:[\w.-]+:|\[[^\]]*\]:)?(\d{2,5})\b`), // nginx, Apache's Listen
		regexp.MustCompile(`(?m)^\s*Listen\s+(?:[\d.]+:)?(\d{2,5})\b`),
		regexp.MustCompile(`(?m)^\s*http_port\s+(\d{2,5})\b`),
	},
}

func sourceKind(name string) string {
	base := strings.ToLower(filepath.Base(name))
	switch ext := filepath.Ext(base); ext {
	case ".js", ".mjs", ".cjs", ".ts":
		return "js"
	case ".py":
		return "py"
	case ".go":
		return "go"
	case ".properties", ".yml", ".yaml":
		if strings.HasPrefix(base, "application") {
			return "java"
		}
	case ".rb":
		if base == "puma.rb" {
			return "rb"
		}
	case ".conf", ".template":
		return "conf"
	}
	return ""
}

// addSourcePorts adds the ports a source or server configuration file
// listens on (listen calls, app.run(port=...), nginx listen lines), each
// port once, with its first evidence.
func addSourcePorts(out []Port, f sourceFile) []Port {
	kind := sourceKind(f.name)
	if kind == "" {
		return out
	}
	evKind := "source"
	if kind == "conf" {
		evKind = "config"
	}
	for _, re := range sourcePortPatterns[kind] {
		for _, m := range re.FindAllSubmatch(f.data, -1) {
			n, err := strconv.Atoi(string(m[1]))
			if err != nil || slices.ContainsFunc(out, func(p Port) bool { return p.Number == n }) {
				continue
			}
			out = append(out, Port{Number: n, Kind: evKind, Evidence: fmt.Sprintf("%s: %s", f.rel, strings.TrimSpace(string(m[0])))})
		}
	}
	return out
}

// PrivilegedPorts returns the ports below 1024 among ports.
func PrivilegedPorts(ports []Port) []Port {
	var out []Port
	for _, p := range ports {
		if p.Privileged() {
			out = append(out, p)
		}
	}
	return out
}

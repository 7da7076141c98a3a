package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/composeopt/composeopt/migrate/facts"
)

// healthcheckPython is the backend Dockerfile of the matrix-studio fixture.
const healthcheckPython = "FROM python:3.11-alpine\nARG APP_ENV=development\nWORKDIR /app\nRUN apk add --update gcc musl-dev libffi-dev\nCOPY . .\nRUN pip install -r requirements.txt\nENV FLASK_ENV=$APP_ENV\nEXPOSE 5000\nCMD [\"python\", \"-m\", \"backend.app\"]\n"

const (
	healthcheckFlags   = "HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \\\n    CMD "
	healthcheckNodeCmd = `["node", "-e", "require('http').get('http://127.0.0.1:3000/healthz', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"]` + "\n"
	healthcheckPyCmd   = `["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/api/health', timeout=4)"]` + "\n"
	healthcheckWgetCmd = `["wget", "-q", "-O", "/dev/null", "-T", "4", "http://127.0.0.1:3000/healthz"]` + "\n"
	healthcheckPyWget  = `["wget", "-q", "-O", "/dev/null", "-T", "4", "http://127.0.0.1:5000/api/health"]` + "\n"
)

func healthcheckFacts(routes []string, svcs ...facts.Service) *facts.Build {
	fb := factsWith(nil, svcs...)
	fb.HealthRoutes = routes
	return fb
}

// healthcheckMatrixPy are the two services that build Dockerfile.python.
func healthcheckMatrixPy() *facts.Build {
	return healthcheckFacts([]string{"/api/health"},
		facts.Service{Name: "flask-backend", Args: map[string]string{"APP_ENV": "production"}, Ports: []int{5000}},
		facts.Service{Name: "worker", Args: map[string]string{"APP_ENV": "production"}, Command: []string{"python", "-m", "backend.worker"}},
	)
}

func TestHealthcheck(t *testing.T) {
	stage := healthcheckFacts([]string{"/healthz"}, facts.Service{Name: "stage-server", Environment: map[string]string{"PORT": "3000"}, Ports: []int{3000}})
	web := func(routes []string, ports ...int) *facts.Build {
		return healthcheckFacts(routes, facts.Service{Name: "web", Ports: ports})
	}
	runCases(t, Healthcheck, []ruleCase{
		{
			name:  "matrix-studio stage server: node probe on PORT",
			in:    nodeenvMatrix,
			want:  strings.Replace(nodeenvMatrix, "CMD npm start\n", healthcheckFlags+healthcheckWgetCmd+"CMD npm start\n", 1),
			facts: stage,
		},
		{
			// The image's busybox wget requests the route; the worker's
			// compose edit is the planner's (see migrate's tests).
			name:  "matrix-studio backend: wget probe of the python route",
			in:    healthcheckPython,
			want:  strings.Replace(healthcheckPython, "CMD [\"python\"", healthcheckFlags+healthcheckPyWget+"CMD [\"python\"", 1),
			facts: healthcheckMatrixPy(),
		},
		{
			name:  "python route without curl or wget: urllib",
			in:    "FROM python:3.12-slim\nEXPOSE 5000\nCMD [\"python\", \"app.py\"]\n",
			want:  "FROM python:3.12-slim\nEXPOSE 5000\n" + healthcheckFlags + healthcheckPyCmd + "CMD [\"python\", \"app.py\"]\n",
			facts: web([]string{"/api/health"}),
		},
		{
			name:  "before final USER and CMD, debian node",
			in:    "FROM node:20-bookworm-slim\nEXPOSE 8080\nUSER node\nCMD [\"node\", \"s.js\"]\n",
			want:  "FROM node:20-bookworm-slim\nEXPOSE 8080\n" + healthcheckFlags + strings.Replace(healthcheckNodeCmd, "3000/healthz", "8080/health", 1) + "USER node\nCMD [\"node\", \"s.js\"]\n",
			facts: web([]string{"/health"}),
		},
		{
			name:  "alpine go binary: busybox wget",
			in:    "FROM golang:1.22-alpine AS build\nRUN go build -o /app .\nFROM alpine:3.20\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n",
			want:  "FROM golang:1.22-alpine AS build\nRUN go build -o /app .\nFROM alpine:3.20\nCOPY --from=build /app /app\n" + healthcheckFlags + `["wget", "-q", "-O", "/dev/null", "-T", "4", "http://127.0.0.1:8080/up"]` + "\nENTRYPOINT [\"/app\"]\n",
			facts: web([]string{"/up"}, 8080),
		},
		{
			name:     "alpine without a route: needs a human",
			in:       "FROM alpine:3.20\nCOPY app /app\nEXPOSE 8080\nENTRYPOINT [\"/app\"]\n",
			facts:    web(nil),
			findings: []string{"no health route was found"},
		},
		{
			// Behaviour change 2: no request to / (it may count visits).
			name:     "node without a route: TCP connect, no request",
			in:       "FROM node:20-alpine\nEXPOSE 3000\nCMD [\"node\", \"s.js\"]\n",
			want:     "FROM node:20-alpine\nEXPOSE 3000\n" + healthcheckFlags + `["node", "-e", "require('net').connect(3000, '127.0.0.1').setTimeout(4000).on('connect', () => process.exit(0)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]` + "\nCMD [\"node\", \"s.js\"]\n",
			facts:    web(nil),
			findings: []string{"only checks that port 3000 accepts TCP connections"},
		},
		{
			name:     "python without a route: TCP connect, no request",
			in:       "FROM python:3.12-slim\nEXPOSE 8000\nCMD [\"gunicorn\", \"app:app\"]\n",
			want:     "FROM python:3.12-slim\nEXPOSE 8000\n" + healthcheckFlags + `["python", "-c", "import socket; socket.create_connection(('127.0.0.1', 8000), timeout=4).close()"]` + "\nCMD [\"gunicorn\", \"app:app\"]\n",
			facts:    web(nil),
			findings: []string{"only checks that port 8000 accepts TCP connections"},
		},
		{
			name:     "java without a route: bash /dev/tcp",
			in:       "FROM eclipse-temurin:21-jre\nCOPY app.jar /app.jar\nEXPOSE 8080\nCMD [\"java\", \"-jar\", \"/app.jar\"]\n",
			want:     "FROM eclipse-temurin:21-jre\nCOPY app.jar /app.jar\nEXPOSE 8080\n" + healthcheckFlags + `["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]` + "\nCMD [\"java\", \"-jar\", \"/app.jar\"]\n",
			facts:    web(nil),
			findings: []string{"accepts TCP connections"},
		},
		{
			// Behaviour change 7: a JDWP port is not HTTP, and next to the
			// app's port it is not a second candidate.
			name:     "JDWP port alone: no check, not called HTTP",
			in:       "FROM eclipse-temurin:21-jre-alpine\nEXPOSE 5005\nCMD [\"java\", \"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005\", \"-jar\", \"/app.jar\"]\n",
			facts:    web([]string{"/health"}),
			findings: []string{"port 5005 of stage FROM eclipse-temurin:21-jre-alpine is the Java debugger's (JDWP)"},
		},
		{
			name:  "JDWP port next to the app's",
			in:    "FROM eclipse-temurin:21-jre-alpine\nEXPOSE 8080 5005\nCMD [\"java\", \"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005\", \"-jar\", \"/app.jar\"]\n",
			want:  "FROM eclipse-temurin:21-jre-alpine\nEXPOSE 8080 5005\n" + healthcheckFlags + `["wget", "-q", "-O", "/dev/null", "-T", "4", "http://127.0.0.1:8080/health"]` + "\nCMD [\"java\", \"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005\", \"-jar\", \"/app.jar\"]\n",
			facts: web([]string{"/health"}),
		},
		{
			name:  "port from compose only, stage ending with COPY",
			in:    "FROM python:3.12-slim\nCOPY . /app\n",
			want:  "FROM python:3.12-slim\nCOPY . /app\n" + healthcheckFlags + `["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]` + "\n",
			facts: web([]string{"/healthz"}, 8000),
		},
		{
			name:  "ARG PORT expands EXPOSE",
			in:    "FROM node:20-alpine\nARG PORT=4000\nEXPOSE $PORT\nCMD [\"node\", \"s.js\"]\n",
			want:  "FROM node:20-alpine\nARG PORT=4000\nEXPOSE $PORT\n" + healthcheckFlags + strings.Replace(healthcheckWgetCmd, "3000", "4000", 1) + "CMD [\"node\", \"s.js\"]\n",
			facts: web([]string{"/healthz"}),
		},
		{name: "existing HEALTHCHECK NONE wins", in: "FROM node:20-alpine\nEXPOSE 3000\nHEALTHCHECK NONE\nCMD [\"node\", \"s.js\"]\n", facts: web([]string{"/healthz"})},
		{name: "existing health check in base stage", in: "FROM node:20-alpine AS base\nHEALTHCHECK CMD [\"true\"]\nFROM base\nEXPOSE 3000\nCMD [\"node\", \"s.js\"]\n", facts: web([]string{"/healthz"})},
		{
			name:     "compose defines every healthcheck",
			in:       "FROM node:20-alpine\nEXPOSE 3000\nCMD [\"node\", \"s.js\"]\n",
			facts:    healthcheckFacts([]string{"/healthz"}, facts.Service{Name: "web", HasHealthcheck: true}),
			findings: []string{"compose defines a healthcheck for every service"},
		},
		{
			name:  "workers only",
			in:    "FROM python:3.12-slim\nEXPOSE 8000\nCMD [\"python\", \"app.py\"]\n",
			facts: healthcheckFacts([]string{"/healthz"}, facts.Service{Name: "worker", Command: []string{"celery", "worker"}}),
		},
		{
			name:     "distroless",
			in:       "FROM node:20 AS build\nRUN npm ci\nFROM gcr.io/distroless/nodejs20-debian12\nEXPOSE 3000\nCMD [\"s.js\"]\n",
			facts:    web([]string{"/healthz"}),
			findings: []string{"is distroless: it has no program to probe with"},
		},
		{
			name:     "scratch",
			in:       "FROM scratch\nCOPY app /app\nEXPOSE 8080\nENTRYPOINT [\"/app\"]\n",
			facts:    web([]string{"/healthz"}),
			findings: []string{"is scratch"},
		},
		{
			name:     "several exposed ports",
			in:       "FROM node:20-alpine\nEXPOSE 3000 9229\nCMD [\"node\", \"s.js\"]\n",
			facts:    web([]string{"/healthz"}),
			findings: []string{"exposes several ports (3000, 9229)"},
		},
		{
			name:     "PORT contradicts EXPOSE",
			in:       "FROM node:20-alpine\nENV PORT=3000\nEXPOSE 8080\nCMD [\"node\", \"s.js\"]\n",
			facts:    web([]string{"/healthz"}),
			findings: []string{"PORT is 3000 but the ports exposed or published are 8080"},
		},
		{
			name:     "compose PORT contradicts ENV PORT",
			in:       "FROM node:20-alpine\nENV PORT=3000\nCMD [\"node\", \"s.js\"]\n",
			facts:    healthcheckFacts([]string{"/healthz"}, facts.Service{Name: "web", Environment: map[string]string{"PORT": "8080"}}),
			findings: []string{"PORT has several values (3000, 8080)"},
		},
		{
			name:  "no port known",
			in:    "FROM node:20-alpine\nCMD [\"node\", \"s.js\"]\n",
			facts: web([]string{"/healthz"}),
		},
		{
			name:     "not HTTP",
			in:       "FROM python:3.12-alpine\nEXPOSE 5432\nCMD [\"python\", \"proxy.py\"]\n",
			facts:    web([]string{"/healthz"}),
			findings: []string{"usually PostgreSQL"},
		},
		{
			name:     "nginx",
			in:       "FROM nginx:1.27-alpine\nCOPY dist /usr/share/nginx/html\nEXPOSE 80\n",
			facts:    web([]string{"/api/health"}),
			findings: []string{"runs the web server nginx"},
		},
		{
			name:  "dev target left alone",
			in:    "FROM node:20-alpine AS dev\nEXPOSE 3000\nCMD [\"npm\", \"run\", \"dev\"]\n",
			facts: healthcheckFacts([]string{"/healthz"}, facts.Service{Name: "web", Target: "dev"}),
		},
		{
			name:  "lower case",
			in:    "from node:20-alpine\nexpose 3000\ncmd [\"node\", \"s.js\"]\n",
			want:  "from node:20-alpine\nexpose 3000\nhealthcheck --interval=30s --timeout=5s --start-period=40s --retries=3 \\\n    cmd " + healthcheckWgetCmd + "cmd [\"node\", \"s.js\"]\n",
			facts: web([]string{"/healthz"}),
		},
		{
			name:  "crlf and escape directive",
			in:    "# escape=`\r\nFROM node:20-alpine\r\nEXPOSE 3000\r\nCMD [\"node\", \"s.js\"]\r\n",
			want:  "# escape=`\r\nFROM node:20-alpine\r\nEXPOSE 3000\r\n" + strings.ReplaceAll(strings.Replace(healthcheckFlags, "\\", "`", 1)+healthcheckWgetCmd, "\n", "\r\n") + "CMD [\"node\", \"s.js\"]\r\n",
			facts: web([]string{"/healthz"}),
		},
	})
}

// TestHealthcheckRoutesByLanguage checks that the route comes from the
// sources of the image's language: the backend's context also holds the
// Node front end, whose /healthz ranks before /api/health.
func TestHealthcheckRoutesByLanguage(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"backend/app.py":          "@app.get(\"/api/health\")\ndef health():\n    return {}\n",
		"web/stage/src/server.js": "if (req.url === \"/healthz\") {}\n",
		"requirements.txt":        "flask\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fb, err := facts.Gather(dir, healthcheckMatrixPy().Services)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fb.HealthRoutes, " "); got != "/healthz /api/health" {
		t.Fatalf("Gather found %q", got)
	}
	res, err := Apply([]byte(healthcheckPython), fb, []*Rule{Healthcheck}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Output), healthcheckPyWget) {
		t.Errorf("want the python probe of /api/health on 5000, got\n%s", res.Output)
	}
}

func TestHealthcheckOptions(t *testing.T) {
	opts := DefaultOptions()
	opts.HealthPath = "ready"
	opts.Health.Interval = 10 * time.Second
	opts.Health.Timeout = 3 * time.Second
	opts.Health.StartPeriod = 90 * time.Second
	res, err := Apply([]byte(healthcheckPython), healthcheckMatrixPy(), []*Rule{Healthcheck}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "HEALTHCHECK --interval=10s --timeout=3s --start-period=1m30s --retries=3 \\\n    CMD [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"-T\", \"2\", \"http://127.0.0.1:5000/ready\"]\n"
	if !strings.Contains(string(res.Output), want) {
		t.Errorf("got\n%s", res.Output)
	}
}

// TestHealthFlags checks the flags' text: durations written the short way,
// and zero fields replaced by the defaults.
func TestHealthFlags(t *testing.T) {
	for _, c := range []struct {
		h    Health
		want string
	}{
		{DefaultOptions().Health, "--interval=30s --timeout=5s --start-period=40s --retries=3"},
		{Health{Interval: time.Minute, Timeout: 90 * time.Second, StartPeriod: time.Hour, Retries: 1}, "--interval=1m --timeout=1m30s --start-period=1h --retries=1"},
		{Options{}.WithDefaults().Health, "--interval=30s --timeout=5s --start-period=40s --retries=3"},
	} {
		if got := c.h.Flags(); got != c.want {
			t.Errorf("Flags() = %q, want %q", got, c.want)
		}
	}
	if got := (Options{}).WithDefaults().UID; got != 10001 {
		t.Errorf("default UID %d, want 10001", got)
	}
}

func TestHealthcheckLint(t *testing.T) {
	out := applyGated(t, []*Rule{Healthcheck}, nodeenvMatrix, healthcheckFacts([]string{"/healthz"}, facts.Service{Name: "stage-server", Ports: []int{3000}}))
	if !strings.Contains(out, "HEALTHCHECK") {
		t.Errorf("no HEALTHCHECK added:\n%s", out)
	}
	out = applyGated(t, []*Rule{Healthcheck}, healthcheckPython, healthcheckMatrixPy())
	if !strings.Contains(out, "HEALTHCHECK") {
		t.Errorf("no HEALTHCHECK added:\n%s", out)
	}
}

// TestHealthcheckQuiet checks that images with no sign of serving HTTP get
// no finding at all.
func TestHealthcheckQuiet(t *testing.T) {
	for _, c := range []struct {
		src string
		fb  *facts.Build
	}{
		{"FROM alpine:3.20\nRUN apk add --no-cache curl\n", healthcheckFacts(nil)},
		{"FROM python:3.12-slim\nEXPOSE 8000\nCMD [\"python\", \"app.py\"]\n", healthcheckFacts([]string{"/healthz"}, facts.Service{Name: "worker", Command: []string{"celery", "worker"}})},
		{"FROM gcr.io/distroless/static-debian12\nCOPY app /app\n", healthcheckFacts(nil)},
		{"FROM node:20-alpine AS dev\nEXPOSE 3000 9229\n", healthcheckFacts(nil, facts.Service{Name: "web", Target: "dev"})},
	} {
		res, err := Apply([]byte(c.src), c.fb, []*Rule{Healthcheck}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 0 || string(res.Output) != c.src {
			t.Errorf("want no change and no finding for\n%sgot %+v\n%s", c.src, res.Findings, res.Output)
		}
	}
}

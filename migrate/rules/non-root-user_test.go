package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/gate"
)

func nonrootFacts(svcs ...facts.Service) *facts.Build {
	return &facts.Build{Files: map[string]bool{}, Services: svcs}
}

var nonrootCases = []ruleCase{
	{
		name: "node stage server reuses node",
		in:   "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install --omit=dev\nCOPY . .\nEXPOSE 3000\nCMD npm start\n",
		want: "FROM node:20-alpine\nWORKDIR /app\nCOPY --chown=node:node package*.json ./\nRUN npm install --omit=dev\nCOPY --chown=node:node . .\nEXPOSE 3000\nUSER node\nCMD npm start\n",
	},
	{
		name: "node minimal",
		in:   "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nCMD npm start\n",
		want: "FROM node:20-alpine\nWORKDIR /app\nCOPY --chown=node:node . .\nUSER node\nCMD npm start\n",
	},
	{
		name: "python alpine gets busybox account",
		in:   "FROM python:3.11-alpine\nWORKDIR /app\nENV PYTHONUNBUFFERED=1\nRUN apk add --no-cache libpq\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
		want: "FROM python:3.11-alpine\nWORKDIR /app\nENV PYTHONUNBUFFERED=1\n" +
			"RUN addgroup -S -g 10001 app \\\n    && adduser -S -D -H -u 10001 -G app -s /sbin/nologin app\n" +
			"RUN apk add --no-cache libpq\nCOPY --chown=app:app requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY --chown=app:app . .\nUSER app\nCMD [\"python\", \"app.py\"]\n",
		findings: []string{"runs as non-root user app"},
	},
	{
		name: "debian slim gets shadow account",
		in:   "FROM python:3.12-slim\nWORKDIR /srv\n# application code\nCOPY . .\n\n# start\nCMD [\"gunicorn\", \"app:app\"]\n",
		want: "FROM python:3.12-slim\nWORKDIR /srv\n" +
			"RUN groupadd --system --gid 10001 app \\\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /usr/sbin/nologin app\n" +
			"# application code\nCOPY --chown=app:app . .\n\nUSER app\n# start\nCMD [\"gunicorn\", \"app:app\"]\n",
	},
	{
		name: "rhel ubi9 full",
		in:   "FROM registry.access.redhat.com/ubi9/ubi:9.4\nCOPY app /opt/app\nCMD [\"/opt/app/run\"]\n",
		want: "FROM registry.access.redhat.com/ubi9/ubi:9.4\n" +
			"RUN groupadd --system --gid 10001 app \\\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /sbin/nologin app\n" +
			"COPY --chown=app:app app /opt/app\nUSER app\nCMD [\"/opt/app/run\"]\n",
	},
	{
		name:     "rhel micro needs a human",
		in:       "FROM registry.access.redhat.com/ubi9/ubi-micro\nCOPY app /app\nCMD [\"/app\"]\n",
		findings: []string{"may lack useradd"},
	},
	{
		name: "rhel minimal installing shadow-utils",
		in:   "FROM registry.access.redhat.com/ubi9/ubi-minimal\nCOPY a /a\nRUN microdnf install -y shadow-utils && microdnf clean all\nCOPY app /app\nCMD [\"/app\"]\n",
		want: "FROM registry.access.redhat.com/ubi9/ubi-minimal\nCOPY a /a\nRUN microdnf install -y shadow-utils && microdnf clean all\n" +
			"RUN groupadd --system --gid 10001 app \\\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /sbin/nologin app\n" +
			"COPY --chown=app:app app /app\nUSER app\nCMD [\"/app\"]\n",
	},
	{
		name:     "distroless final stage is numeric, no RUN",
		in:       "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/server .\n\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/server /server\nCOPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\nENTRYPOINT [\"/server\"]\n",
		want:     "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/server .\n\nFROM gcr.io/distroless/static-debian12\nCOPY --chown=65532:65532 --from=build /out/server /server\nCOPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\nUSER 65532:65532\nENTRYPOINT [\"/server\"]\n",
		findings: []string{":nonroot variant"},
	},
	{
		name:     "distroless nonroot tag already done",
		in:       "FROM gcr.io/distroless/nodejs20-debian12:nonroot\nCOPY app.js /app/\nCMD [\"/app/app.js\"]\n",
		findings: []string{"runs as non-root user nonroot"},
	},
	{
		name: "scratch",
		in:   "FROM golang:1.22-alpine AS build\nRUN go build -o /bin/app .\nFROM scratch\nCOPY --from=build /bin/app /app\nENTRYPOINT [\"/app\"]\n",
		want: "FROM golang:1.22-alpine AS build\nRUN go build -o /bin/app .\nFROM scratch\nCOPY --chown=65532:65532 --from=build /bin/app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n",
	},
	{
		name:     "already hardened",
		in:       "FROM alpine:3.20\nRUN adduser -D worker\nCOPY --chown=worker . /app\nUSER worker\nCMD [\"/app/run\"]\n",
		findings: []string{"runs as non-root user worker"},
	},
	{
		name:     "user toggles to root and back",
		in:       "FROM node:20\nUSER root\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nUSER node\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
		findings: []string{"runs as non-root user node"},
	},
	{
		name: "explicit USER root at the end",
		in:   "FROM debian:bookworm-slim\nRUN useradd --uid 1001 -m svc\nUSER svc\nRUN echo hi\nUSER root\nCOPY run.sh /opt/run.sh\nCMD [\"/opt/run.sh\"]\n",
		want: "FROM debian:bookworm-slim\nRUN useradd --uid 1001 -m svc\nUSER svc\nRUN echo hi\nUSER svc\nCOPY --chown=svc run.sh /opt/run.sh\nCMD [\"/opt/run.sh\"]\n",
	},
	{
		name: "account created but never used",
		in:   "FROM alpine:3.20\nCOPY conf /conf\nRUN addgroup -S web && adduser -S -G web -h /home/web web\nCOPY app /app\nCMD [\"/app/run\"]\n",
		want: "FROM alpine:3.20\nCOPY conf /conf\nRUN addgroup -S web && adduser -S -G web -h /home/web web\nCOPY --chown=web app /app\nUSER web\nCMD [\"/app/run\"]\n",
	},
	{
		name:     "dev target unchanged",
		in:       "FROM node:20 AS dev\nCMD [\"npm\", \"run\", \"dev\"]\nFROM node:20 AS prod\nCOPY . .\nCMD [\"npm\", \"start\"]\n",
		facts:    nonrootFacts(facts.Service{Name: "web", Target: "dev"}),
		findings: []string{"built for development"},
	},
	{
		name:     "NODE_ENV=development unchanged",
		in:       "FROM node:20\nCOPY . .\nCMD [\"npm\", \"start\"]\n",
		facts:    nonrootFacts(facts.Service{Name: "web", Args: map[string]string{"NODE_ENV": "development"}}),
		findings: []string{"built for development"},
	},
	{
		name:     "compose user set",
		in:       "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
		facts:    nonrootFacts(facts.Service{Name: "api", User: "1000:1000"}),
		findings: []string{"sets user: 1000:1000"},
	},
	{
		name:     "EXPOSE 80",
		in:       "FROM python:3.12-slim\nCOPY . /app\nEXPOSE 80\nCMD [\"python\", \"/app/main.py\"]\n",
		findings: []string{"binds port 80 as root; switch to an unprivileged port or add CAP_NET_BIND_SERVICE"},
	},
	{
		name:     "compose port 443",
		in:       "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
		facts:    nonrootFacts(facts.Service{Name: "api", Ports: []int{443}}),
		findings: []string{"binds port 443 as root"},
	},
	{
		name:     "nginx starts as root by design",
		in:       "FROM nginx:1.27-alpine\nCOPY dist /usr/share/nginx/html\n",
		findings: []string{"starts as root by design"},
	},
	{
		name:     "gosu entrypoint",
		in:       "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gosu && rm -rf /var/lib/apt/lists/*\nCOPY entry.sh /entry.sh\nENTRYPOINT [\"/entry.sh\"]\n",
		findings: []string{"drops privileges itself (gosu)"},
	},
	{
		name:     "pip --user under /root",
		in:       "FROM python:3.12-slim AS build\nRUN pip install --user flask\nFROM python:3.12-slim\nCOPY --from=build /root/.local /root/.local\nENV PATH=/root/.local/bin:$PATH\nCMD [\"flask\", \"run\"]\n",
		findings: []string{"under /root"},
	},
	{
		name:     "unknown family",
		in:       "FROM mycorp/base:1.0\nCOPY . /app\nCMD [\"/app/run\"]\n",
		findings: []string{"OS of mycorp/base:1.0 is unknown"},
	},
	{
		name:     "windows",
		in:       "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD [\"cmd\"]\n",
		findings: []string{"Windows image"},
	},
	{
		name: "multi-stage: only the final stage changes",
		in:   "FROM node:20-alpine AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\nFROM nginx:1.27 AS unused\nRUN true\n\nFROM python:3.12-slim\nWORKDIR /app\nCOPY --from=build /app/dist ./static\nCOPY --from=build /usr/local/bin/node /usr/local/bin/node\nCOPY . .\nCMD [\"python\", \"main.py\"]\n",
		want: "FROM node:20-alpine AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\nFROM nginx:1.27 AS unused\nRUN true\n\nFROM python:3.12-slim\nWORKDIR /app\n" +
			"RUN groupadd --system --gid 10001 app \\\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /usr/sbin/nologin app\n" +
			"COPY --chown=app:app --from=build /app/dist ./static\nCOPY --from=build /usr/local/bin/node /usr/local/bin/node\nCOPY --chown=app:app . .\nUSER app\nCMD [\"python\", \"main.py\"]\n",
	},
	{
		name: "base of a stage that runs commands",
		in:   "FROM python:3.12-slim AS base\nCOPY . /app\nFROM base AS worker\nRUN pip install celery\nCMD [\"celery\"]\n",
		want: "FROM python:3.12-slim AS base\nCOPY . /app\nFROM base AS worker\n" +
			"RUN groupadd --system --gid 10001 app \\\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /usr/sbin/nologin app\n" +
			"RUN pip install celery\nUSER app\nCMD [\"celery\"]\n",
		facts:    nonrootFacts(facts.Service{Name: "api", Target: "base"}, facts.Service{Name: "worker", Target: "worker"}),
		findings: []string{"whose RUN steps would stop running as root"},
	},
	{
		name: "lower-case file",
		in:   "from alpine:3.20\nworkdir /app\ncopy . .\ncmd [\"./run\"]\n",
		want: "from alpine:3.20\nworkdir /app\nrun addgroup -S -g 10001 app \\\n    && adduser -S -D -H -u 10001 -G app -s /sbin/nologin app\ncopy --chown=app:app . .\nuser app\ncmd [\"./run\"]\n",
	},
	{
		name: "crlf",
		in:   "FROM debian:bookworm\r\nCOPY app /app\r\nCMD [\"/app/run\"]\r\n",
		want: "FROM debian:bookworm\r\nRUN groupadd --system --gid 10001 app \\\r\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /usr/sbin/nologin app\r\nCOPY --chown=app:app app /app\r\nUSER app\r\nCMD [\"/app/run\"]\r\n",
	},
	{
		name: "escape directive",
		in:   "# escape=`\nFROM alpine:3.20\nCOPY app /app\nRUN apk add --no-cache tzdata\nCMD [\"/app/run\"]\n",
		want: "# escape=`\nFROM alpine:3.20\nRUN addgroup -S -g 10001 app `\n    && adduser -S -D -H -u 10001 -G app -s /sbin/nologin app\nCOPY --chown=app:app app /app\nRUN apk add --no-cache tzdata\nUSER app\nCMD [\"/app/run\"]\n",
	},
	{
		name: "no CMD: USER at the end, no trailing newline",
		in:   "FROM alpine:3.20\nRUN apk add --no-cache curl",
		want: "FROM alpine:3.20\nRUN addgroup -S -g 10001 app \\\n    && adduser -S -D -H -u 10001 -G app -s /sbin/nologin app\nRUN apk add --no-cache curl\nUSER app\n",
	},
	{
		name: "dotnet 8 ships app",
		in:   "FROM mcr.microsoft.com/dotnet/aspnet:8.0-bookworm-slim\nWORKDIR /app\nCOPY out/ .\nENTRYPOINT [\"dotnet\", \"Api.dll\"]\n",
		want: "FROM mcr.microsoft.com/dotnet/aspnet:8.0-bookworm-slim\nWORKDIR /app\nCOPY --chown=app:app out/ .\nUSER app\nENTRYPOINT [\"dotnet\", \"Api.dll\"]\n",
	},
}

func TestNonRoot(t *testing.T) {
	runCases(t, NonRoot, nonrootCases)
}

func TestNonRootUID(t *testing.T) {
	opts := DefaultOptions()
	opts.UID = 2000
	res, err := Apply([]byte("FROM alpine:3.20\nCMD [\"x\"]\n"), nonrootFacts(), []*Rule{NonRoot}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM alpine:3.20\nRUN addgroup -S -g 2000 app \\\n    && adduser -S -D -H -u 2000 -G app -s /sbin/nologin app\nUSER app\nCMD [\"x\"]\n"
	if string(res.Output) != want {
		t.Errorf("got\n%s\nwant\n%s", res.Output, want)
	}
}

func TestNonRootEntrypointScript(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-entrypoint.sh"), []byte("#!/bin/sh\nchown -R app /data\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fb := &facts.Build{Context: dir, Files: map[string]bool{"docker-entrypoint.sh": true}, Services: []facts.Service{{Name: "app"}}}
	runCases(t, NonRoot, []ruleCase{{
		name:     "entrypoint script chowns",
		in:       "FROM python:3.12-slim\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"python\"]\n",
		facts:    fb,
		findings: []string{"chown in docker-entrypoint.sh"},
	}})
}

func TestNonRootAccountName(t *testing.T) {
	for in, want := range map[string][]string{
		"nodejs": {"-S", "nodejs", "-u", "1001"},
		"web":    {"-S", "-G", "web", "-h", "/home/web", "web"},
		"svc":    {"--system", "--uid=1001", "--gid", "svc", "-M", "svc"},
		"u":      {"-u1001", "-DH", "u"},
		"deb":    {"--system", "--group", "--home", "/nonexistent", "--no-create-home", "deb"},
	} {
		if got := nonrootAccountName(want); got != in {
			t.Errorf("nonrootAccountName(%q) = %q, want %q", want, got, in)
		}
	}
}

// TestNonRootLint checks that the rewritten files add no BuildKit lint
// warning and still convert offline.
func TestNonRootLint(t *testing.T) {
	for _, c := range nonrootCases {
		if c.want == "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			if _, err := gate.Lint("Dockerfile", []byte(c.in)); err != nil {
				t.Skipf("original does not lint: %v", err)
			}
			if err := gate.Check("Dockerfile", []byte(c.in), []byte(c.want), nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
}

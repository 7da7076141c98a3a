// Package synth writes synthetic compose monorepos for benchmarks: N
// services across ecosystems (Node with npm, yarn and pnpm; Python with pip
// and poetry; Go; Java), single- and multi-stage Dockerfiles on Alpine and
// Debian bases, contexts shared by several Dockerfiles, builds shared
// through YAML anchors, an override file and an .env file. It can also write
// a project whose one Dockerfile is very long, and a node_modules folder
// with many files in a context. The output depends only on the options.
package synth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

// Options choose what Generate writes.
type Options struct {
	// Services is the number of compose services (at least 1).
	Services int
	// Lines, when positive, writes a project with one service whose
	// Dockerfile has about this many lines instead of the monorepo.
	Lines int
	// NodeModules, when positive, adds a node_modules folder with this many
	// files to the first Node context.
	NodeModules int
}

// kinds are the service flavours, in the order services cycle through them.
var kinds = []string{"npm", "py-pip", "go", "yarn", "py-poetry", "java", "pnpm", "npm-multi", "py-pip-debian"}

// Generate writes the project into dir (created if needed; existing files
// with the same names are overwritten).
func Generate(dir string, o Options) error {
	if o.Lines > 0 {
		return long(dir, o)
	}
	if o.Services < 1 {
		return fmt.Errorf("synth: %d services: need at least one", o.Services)
	}
	w := &writer{dir: dir}
	var base, override strings.Builder
	base.WriteString(`# Synthetic monorepo written by golden/gen (composeopt benchmarks).
name: synth

x-common: &common
  restart: unless-stopped
  environment:
    LOG_LEVEL: ${LOG_LEVEL:-info}

x-node-args: &node-args
  NODE_VERSION: ${NODE_VERSION}

services:
`)
	override.WriteString("# Local overrides (picked up automatically, as docker compose does).\nservices:\n")
	nodeModulesDone := false
	for i := 0; i < o.Services; i++ {
		name := fmt.Sprintf("svc-%04d", i)
		kind := kinds[i%len(kinds)]
		// Every tenth service is a worker that builds exactly what the
		// previous service builds, through the YAML anchor on its build.
		if i%10 == 9 {
			prev := fmt.Sprintf("svc-%04d", i-1)
			fmt.Fprintf(&base, "  %s-worker:\n    <<: *common\n    build: *build-%s\n    command: [\"sh\", \"-c\", \"exec sleep infinity\"]\n", name, prev)
			continue
		}
		// Every twentieth service (offset 4) shares one context with the
		// next one: two Dockerfiles in one folder.
		ctxDir := "services/" + name
		dockerfile := "Dockerfile"
		switch i % 20 {
		case 4:
			ctxDir = fmt.Sprintf("shared/group-%04d", i/20)
			dockerfile = "Dockerfile." + name
		case 5:
			ctxDir = fmt.Sprintf("shared/group-%04d", i/20)
			dockerfile = "Dockerfile." + name
		}
		port, err := w.service(ctxDir, dockerfile, kind, i)
		if err != nil {
			return err
		}
		fmt.Fprintf(&base, "  %s:\n    <<: *common\n    build: &build-%s\n      context: ./%s\n", name, name, ctxDir)
		if dockerfile != "Dockerfile" {
			fmt.Fprintf(&base, "      dockerfile: %s\n", dockerfile)
		}
		if strings.HasPrefix(kind, "npm") || kind == "yarn" || kind == "pnpm" {
			base.WriteString("      args: *node-args\n")
		}
		fmt.Fprintf(&base, "    ports:\n      - \"%d\"\n", port)
		if i%7 == 3 {
			fmt.Fprintf(&override, "  %s:\n    environment:\n      DEBUG: \"1\"\n", name)
		}
		if o.NodeModules > 0 && !nodeModulesDone && kind == "npm" {
			if err := nodeModules(filepath.Join(dir, ctxDir), o.NodeModules); err != nil {
				return err
			}
			nodeModulesDone = true
		}
	}
	if err := w.file("compose.yaml", base.String()); err != nil {
		return err
	}
	if err := w.file("compose.override.yaml", override.String()); err != nil {
		return err
	}
	return w.file(".env", "LOG_LEVEL=warn\nNODE_VERSION=20\n")
}

type writer struct{ dir string }

func (w *writer) file(rel, content string) error {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// service writes one build context's files and returns the port it listens on.
func (w *writer) service(ctxDir, dockerfile, kind string, i int) (int, error) {
	f := func(rel, content string) error { return w.file(ctxDir+"/"+rel, content) }
	var files [][2]string
	var df string
	port := 3000
	switch kind {
	case "npm", "yarn", "pnpm", "npm-multi":
		lock := map[string]string{"npm": "package-lock.json", "npm-multi": "package-lock.json", "yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml"}[kind]
		install := map[string]string{"npm": "npm ci", "npm-multi": "npm ci", "yarn": "yarn install --frozen-lockfile", "pnpm": "corepack enable && pnpm install --frozen-lockfile"}[kind]
		files = [][2]string{
			{"package.json", fmt.Sprintf(`{"name": "svc-%04d", "version": "1.0.0", "main": "server.js",
  "scripts": {"start": "node server.js", "build": "node build.js"},
  "dependencies": {"express": "^4.19.2"}, "devDependencies": {"eslint": "^9.0.0"}}
`, i)},
			{lock, "# lockfile\n"},
			{"server.js", "const express = require('express');\nconst app = express();\napp.get('/healthz', (req, res) => res.send('ok'));\napp.listen(3000);\n"},
			{"build.js", "console.log('built');\n"},
			{"src/index.js", "module.exports = {};\n"},
		}
		nodeBase := "node:${NODE_VERSION}-alpine"
		if i%2 == 1 {
			nodeBase = "node:${NODE_VERSION}-bookworm-slim"
		}
		if kind == "npm-multi" {
			df = fmt.Sprintf(`ARG NODE_VERSION=20
FROM %s AS build
WORKDIR /app
COPY package.json %s ./
RUN %s
COPY . .
RUN npm run build

FROM %s
WORKDIR /app
COPY --from=build /app /app
EXPOSE 3000
CMD npm start
`, nodeBase, lock, install, nodeBase)
		} else {
			df = fmt.Sprintf(`ARG NODE_VERSION=20
FROM %s
MAINTAINER dev@example.com
WORKDIR /app
COPY package.json %s ./
RUN %s
ADD . .
ENV PORT 3000
EXPOSE 3000
CMD node server.js
`, nodeBase, lock, install)
		}
	case "py-pip", "py-pip-debian", "py-poetry":
		port = 8000
		pyBase := "python:3.12-alpine"
		if kind == "py-pip-debian" {
			pyBase = "python:3.12-slim"
		}
		files = [][2]string{
			{"app.py", "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/health')\ndef health():\n    return 'ok'\n"},
			{"tests/test_app.py", "def test_ok():\n    assert True\n"},
		}
		if kind == "py-poetry" {
			files = append(files, [2]string{"pyproject.toml", "[tool.poetry]\nname = \"svc\"\nversion = \"0.1.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.12\"\nflask = \"^3.0\"\n"},
				[2]string{"poetry.lock", "# lock\n"})
			df = fmt.Sprintf(`FROM %s
WORKDIR /srv
RUN pip install poetry
COPY pyproject.toml poetry.lock ./
RUN poetry config virtualenvs.create false && poetry install --no-root
COPY . .
EXPOSE 8000
CMD python app.py
`, pyBase)
		} else {
			files = append(files, [2]string{"requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\n"})
			apk := "RUN apk add --no-cache build-base"
			if kind == "py-pip-debian" {
				apk = "RUN apt-get update && apt-get install -y gcc"
			}
			df = fmt.Sprintf(`FROM %s
%s
WORKDIR /srv
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
`, pyBase, apk)
		}
	case "go":
		port = 8080
		files = [][2]string{
			{"go.mod", fmt.Sprintf("module example.com/svc%04d\n\ngo 1.22\n", i)},
			{"go.sum", ""},
			{"main.go", "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.HandleFunc(\"/healthz\", func(w http.ResponseWriter, r *http.Request) {})\n\thttp.ListenAndServe(\":8080\", nil)\n}\n"},
		}
		df = `FROM golang:1.22-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -o /out/app .

FROM alpine:3.20
COPY --from=build /out/app /usr/local/bin/app
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/app"]
`
	case "java":
		port = 8080
		files = [][2]string{
			{"pom.xml", "<project><modelVersion>4.0.0</modelVersion><groupId>ex</groupId><artifactId>svc</artifactId><version>1</version></project>\n"},
			{"src/main/java/App.java", "public class App { public static void main(String[] a) {} }\n"},
		}
		df = `FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B dependency:go-offline
COPY src ./src
RUN mvn -B package -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /src/target/*.jar app.jar
EXPOSE 8080
CMD java -jar app.jar
`
	default:
		return 0, fmt.Errorf("synth: unknown kind %q", kind)
	}
	for _, fc := range files {
		if err := f(fc[0], fc[1]); err != nil {
			return 0, err
		}
	}
	return port, f(dockerfile, df)
}

// long writes a one-service project whose Dockerfile has about o.Lines lines.
func long(dir string, o Options) error {
	w := &writer{dir: dir}
	var b strings.Builder
	b.WriteString("FROM node:20-alpine AS build\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n")
	n := 5
	for i := 0; n < o.Lines-4; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "ENV STEP_%d value-%d\n", i, i)
		case 1:
			fmt.Fprintf(&b, "RUN echo step %d > /tmp/step-%d\n", i, i)
		case 2:
			fmt.Fprintf(&b, "LABEL org.example.step-%d=\"%d\"\n", i, i)
		default:
			fmt.Fprintf(&b, "RUN test -f /tmp/step-%d\n", i-2)
		}
		n++
	}
	b.WriteString("EXPOSE 3000\nCMD node server.js\n")
	files := [][2]string{
		{"compose.yaml", "name: long\nservices:\n  app:\n    build: ./app\n    ports:\n      - \"3000\"\n"},
		{"app/Dockerfile", b.String()},
		{"app/package.json", `{"name": "app", "version": "1.0.0", "main": "server.js", "dependencies": {"express": "^4.19.2"}}` + "\n"},
		{"app/package-lock.json", "{}\n"},
		{"app/server.js", "require('express')().get('/healthz', (q, s) => s.send('ok')).listen(3000);\n"},
	}
	for _, f := range files {
		if err := w.file(f[0], f[1]); err != nil {
			return err
		}
	}
	if o.NodeModules > 0 {
		return nodeModules(filepath.Join(dir, "app"), o.NodeModules)
	}
	return nil
}

// nodeModules writes n small files under ctx/node_modules, 100 per package.
func nodeModules(ctx string, n int) error {
	for i := 0; i < n; i++ {
		pkg := filepath.Join(ctx, "node_modules", fmt.Sprintf("pkg-%05d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(pkg, 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(pkg, fmt.Sprintf("f%02d.js", i%100)), []byte("module.exports = 1;\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// LoadFloor loads the project in dir with compose-go the way docker compose
// does (compose.yaml and its override, .env, interpolation, anchors) and
// returns the number of services: the floor a plan of the same project is
// compared with.
func LoadFloor(ctx context.Context, dir string) (int, error) {
	po, err := cli.NewProjectOptions(nil,
		cli.WithWorkingDirectory(dir),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		// The .env file sits beside the compose file found just above.
		cli.WithEnvFiles(),
		cli.WithDotEnv,
	)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	return len(p.Services), nil
}

package rules

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/gate"
)

// splitCase is a multi-stage table row: a build context (file name →
// content) next to the Dockerfile.
type splitCase struct {
	name     string
	files    map[string]string
	services []facts.Service
	in, want string
	findings []string
}

// splitContext writes the files into a temporary build context and
// gathers its facts.
func splitContext(t *testing.T, files map[string]string, services []facts.Service) *facts.Build {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if services == nil {
		services = []facts.Service{{Name: "app"}}
	}
	fb, err := facts.Gather(dir, services)
	if err != nil {
		t.Fatal(err)
	}
	return fb
}

// runSplitCases runs the table through runCases (output, findings,
// idempotence), then checks every output with the quality gate and checks
// that each runtime stage still provides what its start command uses.
func runSplitCases(t *testing.T, cases []splitCase) {
	t.Helper()
	var rows []ruleCase
	fbs := map[string]*facts.Build{}
	for _, c := range cases {
		fb := splitContext(t, c.files, c.services)
		fbs[c.name] = fb
		rows = append(rows, ruleCase{name: c.name, in: c.in, want: c.want, findings: c.findings, facts: fb})
	}
	runCases(t, MultiStage, rows)
	for _, c := range cases {
		t.Run(c.name+"/gate", func(t *testing.T) {
			fb := fbs[c.name]
			res, err := Apply([]byte(c.in), fb, []*Rule{MultiStage}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			var targets []string
			for _, s := range fb.Services {
				targets = append(targets, s.Target)
			}
			if _, err := gate.Check("Dockerfile", []byte(c.in), res.Output, targets, nil); err != nil {
				t.Error(err)
			}
			if string(res.Output) != c.in {
				splitCheckEntryPaths(t, fb, res.Output)
			}
		})
	}
}

// splitCheckEntryPaths checks that every runtime stage of out provides the
// files its CMD/ENTRYPOINT (and the npm script or python module they name)
// refers to: each must be under the destination of a COPY from the context
// that holds it, or of a COPY --from a stage. It is an independent model of
// the filesystem, not the rule's own reasoning.
func splitCheckEntryPaths(t *testing.T, fb *facts.Build, out []byte) {
	t.Helper()
	f, err := dockerfile.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, tgt := range fb.Targets() {
		st := f.Target(tgt)
		if st == nil {
			t.Fatalf("target %q missing", tgt)
		}
		wd := "/"
		type provider struct {
			dest, src string // src "" = whole context
			stage     bool
		}
		var provs []provider
		var refs []string
		for _, in := range st.Instructions {
			switch in.Cmd {
			case "workdir":
				wd = splitJoin(wd, in.Args[0])
			case "copy", "add":
				n := len(in.Args)
				dest := in.Args[n-1]
				dir := strings.HasSuffix(dest, "/") || dest == "." || n > 2
				dest = splitJoin(wd, dest)
				for _, s := range in.Args[:n-1] {
					p := provider{dest: dest, src: path.Clean(s), stage: len(in.Flag("from")) > 0}
					if p.src == "." {
						p.src = ""
					} else if dir {
						p.dest = path.Join(dest, path.Base(p.src))
					}
					provs = append(provs, p)
				}
			case "cmd", "entrypoint":
				refs = append(refs, splitEntryRefs(fb, in, wd)...)
			}
		}
		for _, ref := range refs {
			ok := false
			for _, p := range provs {
				if ref != p.dest && !strings.HasPrefix(ref, strings.TrimSuffix(p.dest, "/")+"/") {
					continue
				}
				if p.stage {
					ok = true
					continue
				}
				rel := strings.TrimPrefix(strings.TrimPrefix(ref, p.dest), "/")
				ctx := path.Join(p.src, rel)
				if _, err := os.Stat(filepath.Join(fb.Context, ctx)); err == nil {
					ok = true
				}
			}
			if !ok {
				t.Errorf("runtime stage %q does not provide %s, which its start command uses", tgt, ref)
			}
		}
	}
}

// splitEntryRefs returns absolute paths a CMD/ENTRYPOINT uses: file-like
// words, the script npm start runs (and package.json), python -m modules.
func splitEntryRefs(fb *facts.Build, in *dockerfile.Instruction, wd string) []string {
	words := in.Args
	if !in.JSON {
		words = strings.Fields(strings.Join(in.Args, " "))
	}
	var refs []string
	for i, w := range words {
		switch {
		case (w == "npm" || w == "yarn" || w == "pnpm") && fb.Node != nil && i+1 < len(words):
			refs = append(refs, splitJoin(wd, "package.json"))
			script := words[len(words)-1]
			for _, sw := range strings.Fields(fb.Node.Scripts[script]) {
				if strings.Contains(sw, "/") || strings.HasSuffix(sw, ".js") {
					refs = append(refs, splitJoin(wd, sw))
				}
			}
		case w == "-m" && i+1 < len(words) && strings.HasPrefix(words[0], "python"):
			mod := strings.ReplaceAll(words[i+1], ".", "/")
			if _, err := os.Stat(filepath.Join(fb.Context, mod+".py")); err == nil {
				refs = append(refs, splitJoin(wd, mod+".py"))
			} else {
				refs = append(refs, splitJoin(wd, mod))
			}
		case i == 0 && (strings.HasPrefix(w, "/") || strings.HasPrefix(w, "./")):
			refs = append(refs, splitJoin(wd, w))
		case i > 0 && !strings.HasPrefix(w, "-") && (strings.HasSuffix(w, ".js") || strings.HasSuffix(w, ".py") || strings.HasSuffix(w, ".jar")):
			refs = append(refs, splitJoin(wd, w))
		}
	}
	return refs
}

// splitMatrix is the acceptance fixture, the example monorepo kept once for
// the whole repository in the golden test cases.
const splitMatrix = "../../golden/testdata/matrix-studio/in/matrix-studio"

// splitFixture reads a fixture context into the table's file map.
func splitFixture(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSplitAcceptance(t *testing.T) {
	stage := splitFixture(t, splitMatrix+"/web/stage")
	backend := splitFixture(t, splitMatrix)
	runSplitCases(t, []splitCase{
		{
			name:  "matrix stage server",
			files: stage,
			in:    stage["Dockerfile"],
			want: `FROM node:20-alpine AS install
WORKDIR /app
RUN apk update && apk add python3 make g++
COPY package.json package-lock.json ./
RUN npm install

FROM install AS deps
RUN npm prune --omit=dev && mkdir -p node_modules

FROM install AS build
COPY . .
RUN npm run build

FROM node:20-alpine
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV PORT=3000
EXPOSE 3000
CMD npm start
`,
		},
		{
			name:     "matrix python backend",
			files:    backend,
			services: []facts.Service{{Name: "flask-backend", Args: map[string]string{"APP_ENV": "production"}}, {Name: "worker", Args: map[string]string{"APP_ENV": "production"}, Command: []string{"python", "-m", "backend.worker"}}},
			in:       backend["Dockerfile.python"],
			want: `FROM python:3.11-alpine AS builder
ARG APP_ENV=development
WORKDIR /app
RUN apk add --update gcc musl-dev libffi-dev
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -r requirements.txt

FROM python:3.11-alpine
ARG APP_ENV=development
WORKDIR /app
RUN apk add --no-cache libffi
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
ENV FLASK_ENV=$APP_ENV
EXPOSE 5000
CMD ["python", "-m", "backend.app"]
`,
		},
	})
}

func TestSplitStructure(t *testing.T) {
	pkg := map[string]string{
		"package.json":      `{"scripts":{"build":"tsc","start":"node dist/index.js"},"devDependencies":{"typescript":"5"}}`,
		"package-lock.json": "{}",
		"src/index.ts":      "",
	}
	runSplitCases(t, []splitCase{
		{
			name:  "already multi-stage: leak reported, structure kept",
			files: pkg,
			in: "FROM node:20-alpine AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\n" +
				"FROM node:20-alpine\nWORKDIR /app\nRUN apk add --no-cache g++ make curl\nCOPY --from=build /app/dist ./dist\nCMD [\"node\", \"dist/index.js\"]\n",
			findings: []string{"installs build tools (g++, make)"},
		},
		{
			name:     "compose target is a dev stage",
			files:    pkg,
			services: []facts.Service{{Name: "app", Target: "dev"}},
			in:       "FROM node:20-alpine AS dev\nWORKDIR /app\nRUN apk add --no-cache g++ make\nCOPY . .\nRUN npm install && npm run build\nCMD [\"node\", \"dist/index.js\"]\n",
			findings: []string{"development"},
		},
		{
			name:     "NODE_ENV=development build arg",
			files:    pkg,
			services: []facts.Service{{Name: "app", Args: map[string]string{"NODE_ENV": "development"}}},
			in:       "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm install && npm run build\nCMD [\"node\", \"dist/index.js\"]\n",
			findings: []string{"NODE_ENV=development"},
		},
		{
			name:     "COPY --from=0 renumbered",
			files:    pkg,
			services: []facts.Service{{Name: "api", Target: "api"}, {Name: "web"}},
			in: "FROM node:20-alpine AS api\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN npm run build\nCMD [\"node\", \"dist/index.js\"]\n\n" +
				"FROM nginx:1.27-alpine\nCOPY --from=0 /app/dist /usr/share/nginx/html\n",
			want: "FROM node:20-alpine AS install\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install\n\n" +
				"FROM install AS deps\nRUN npm prune --omit=dev && mkdir -p node_modules\n\n" +
				"FROM install AS build\nCOPY . .\nRUN npm run build\n\n" +
				"FROM node:20-alpine AS api\nWORKDIR /app\nCOPY package.json package-lock.json ./\nCOPY --from=deps /app/node_modules ./node_modules\nCOPY --from=build /app/dist ./dist\nCMD [\"node\", \"dist/index.js\"]\n\n" +
				"FROM nginx:1.27-alpine\nCOPY --from=3 /app/dist /usr/share/nginx/html\n",
			findings: []string{"static site on nginx:1.27-alpine kept as the runtime stage"},
		},
		{
			name:     "ruby: no split",
			files:    map[string]string{"Gemfile": ""},
			in:       "FROM ruby:3.3-alpine\nRUN apk add --no-cache build-base\nCOPY . .\nRUN bundle install\nCMD [\"ruby\", \"app.rb\"]\n",
			findings: []string{"no split for ruby: part 1 rules only"},
		},
		{
			name:     "static nginx front end kept",
			files:    pkg,
			in:       "FROM node:20-alpine AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\nFROM nginx:1.27-alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n",
			findings: []string{"static site on nginx:1.27-alpine kept as the runtime stage"},
		},
		{
			name:  "distroless and scratch images are left alone",
			files: map[string]string{"app": ""},
			in:    "FROM gcr.io/distroless/static-debian12\nCOPY app /app\nCMD [\"/app\"]\n",
		},
		{
			name:  "scratch",
			files: map[string]string{"app": ""},
			in:    "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
		},
		{
			name:     "unknown base with a toolchain is reported",
			files:    map[string]string{"main.c": ""},
			in:       "FROM alpine:3.20\nRUN apk add --no-cache build-base\nCOPY . /src\nRUN make -C /src\nCMD [\"/src/app\"]\n",
			findings: []string{"not an image the multi-stage split knows"},
		},
		{
			// The split repeats ARG and ENV lines in the stages it writes;
			// it must not be the step that brings a credential into a new
			// runtime stage, so it stops and says why.
			name:     "a secret ARG stops the split",
			files:    map[string]string{"requirements.txt": "flask\n", "app.py": ""},
			in:       "FROM python:3.12-slim\nARG PIP_INDEX_TOKEN\nRUN apt-get update && apt-get install -y gcc\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"python\", \"/app/app.py\"]\n",
			findings: []string{"no split: ARG PIP_INDEX_TOKEN looks like a secret"},
		},
		{
			name:  "lower case file and CRLF",
			files: map[string]string{"requirements.txt": "flask\n", "app.py": ""},
			in:    "from python:3.12-slim\r\nworkdir /srv\r\n# app code\r\ncopy . .\r\nrun pip install -r requirements.txt\r\ncmd [\"python\", \"app.py\"]\r\n",
			want: "from python:3.12-slim as builder\r\nworkdir /srv\r\nrun python -m venv /opt/venv\r\nenv VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"\r\ncopy requirements.txt ./\r\n" +
				"run --mount=type=cache,target=/root/.cache/pip \\\r\n    pip install -r requirements.txt\r\n\r\n" +
				"from python:3.12-slim\r\nworkdir /srv\r\ncopy --from=builder /opt/venv /opt/venv\r\nenv VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"\r\n# app code\r\ncopy . .\r\ncmd [\"python\", \"app.py\"]\r\n",
		},
		{
			name:  "escape directive and platform and digest",
			files: map[string]string{"requirements.txt": "flask\n", "app.py": ""},
			in:    "# escape=`\nFROM --platform=linux/amd64 python:3.12-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000\nRUN apt-get update && apt-get install -y gcc libpq-dev curl\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"python\", \"/app/app.py\"]\n",
			want: "# escape=`\nARG PLATFORM=linux/amd64\nFROM --platform=$PLATFORM python:3.12-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS builder\n" +
				"RUN apt-get update && apt-get install -y gcc libpq-dev curl\nRUN python -m venv /opt/venv\nENV VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"\nCOPY . /app\n" +
				"RUN --mount=type=cache,target=/root/.cache/pip `\n    pip install -r /app/requirements.txt\n\n" +
				"FROM --platform=$PLATFORM python:3.12-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000\n" +
				"RUN apt-get update `\n    && apt-get install --no-install-recommends -y libpq5 curl `\n    && rm -rf /var/lib/apt/lists/*\n" +
				"COPY --from=builder /opt/venv /opt/venv\nENV VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"\nCOPY . /app\nCMD [\"python\", \"/app/app.py\"]\n",
		},
	})
}

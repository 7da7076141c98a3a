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

// The rule's cases are txtar files in testdata/multi-stage, where the
// runner also checks every changed output with splitCheckEntryPaths. The
// acceptance cases below read the golden fixture's contexts instead of
// copying them.

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
				wd = facts.JoinPath(wd, in.Args[0])
			case "copy", "add":
				n := len(in.Args)
				dest := in.Args[n-1]
				dir := strings.HasSuffix(dest, "/") || dest == "." || n > 2
				dest = facts.JoinPath(wd, dest)
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
			refs = append(refs, facts.JoinPath(wd, "package.json"))
			script := words[len(words)-1]
			for _, sw := range strings.Fields(fb.Node.Scripts[script]) {
				if strings.Contains(sw, "/") || strings.HasSuffix(sw, ".js") {
					refs = append(refs, facts.JoinPath(wd, sw))
				}
			}
		case w == "-m" && i+1 < len(words) && strings.HasPrefix(words[0], "python"):
			mod := strings.ReplaceAll(words[i+1], ".", "/")
			if _, err := os.Stat(filepath.Join(fb.Context, mod+".py")); err == nil {
				refs = append(refs, facts.JoinPath(wd, mod+".py"))
			} else {
				refs = append(refs, facts.JoinPath(wd, mod))
			}
		case i == 0 && (strings.HasPrefix(w, "/") || strings.HasPrefix(w, "./")):
			refs = append(refs, facts.JoinPath(wd, w))
		case i > 0 && !strings.HasPrefix(w, "-") && (strings.HasSuffix(w, ".js") || strings.HasSuffix(w, ".py") || strings.HasSuffix(w, ".jar")):
			refs = append(refs, facts.JoinPath(wd, w))
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
RUN mkdir -p node_modules

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

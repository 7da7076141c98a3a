package rules

import (
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

const proddepsPkg = `{"scripts":{"start":"node index.js","build":"tsc","dev":"nodemon index.js"},"dependencies":{"express":"^4.19.0"},"devDependencies":{"typescript":"^5.4.0","nodemon":"^3.1.0"}}`

const proddepsLock = `{"lockfileVersion":3,"packages":{"":{"dependencies":{"express":"^4.19.0"},"devDependencies":{"typescript":"^5.4.0","nodemon":"^3.1.0"}}}}`

func TestProdDeps(t *testing.T) {
	npmLock := contextFacts(t, map[string]string{"package.json": proddepsPkg, "package-lock.json": proddepsLock})
	npmStale := contextFacts(t, map[string]string{"package.json": proddepsPkg, "package-lock.json": `{"lockfileVersion":3,"packages":{"":{"dependencies":{"express":"^4.0.0"}}}}`})
	npmNoLock := contextFacts(t, map[string]string{"package.json": proddepsPkg})
	husky := contextFacts(t, map[string]string{"package.json": `{"scripts":{"prepare":"husky install"},"devDependencies":{"husky":"^9.0.0"}}`})
	yarn1 := contextFacts(t, map[string]string{"package.json": `{"dependencies":{"express":"^4.19.0"}}`, "yarn.lock": "# yarn lockfile v1\n\nexpress@^4.19.0:\n  version \"4.19.2\"\n"})
	berry3 := contextFacts(t, map[string]string{"package.json": `{"packageManager":"yarn@3.6.0"}`, ".yarnrc.yml": "nodeLinker: node-modules\n"})
	berry4 := contextFacts(t, map[string]string{"package.json": `{"packageManager":"yarn@4.1.0"}`, ".yarnrc.yml": "nodeLinker: node-modules\n"})
	pnpm := contextFacts(t, map[string]string{"package.json": `{"dependencies":{"express":"^4.19.0"}}`, "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"})
	poetry := contextFacts(t, map[string]string{"pyproject.toml": "[tool.poetry]\nname = \"x\"\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n", "poetry.lock": ""})
	poetryExtra := contextFacts(t, map[string]string{"pyproject.toml": "[tool.poetry.group.server.dependencies]\ngunicorn = \"*\"\n", "poetry.lock": ""})
	ignoredLock := contextFacts(t, map[string]string{"package.json": proddepsPkg, "package-lock.json": proddepsLock, ".dockerignore": "package-lock.json\n"})
	devTarget := contextFacts(t, map[string]string{"package.json": proddepsPkg, "package-lock.json": proddepsLock})
	devTarget.Services = []facts.Service{{Name: "web", Target: "dev"}}
	devArgs := contextFacts(t, map[string]string{"package.json": proddepsPkg, "package-lock.json": proddepsLock})
	devArgs.Services = []facts.Service{{Name: "web", Args: map[string]string{"NODE_ENV": "development"}}}
	devCommand := contextFacts(t, map[string]string{"package.json": proddepsPkg, "package-lock.json": proddepsLock})
	devCommand.Services = []facts.Service{{Name: "web", Command: []string{"npm", "run", "dev"}}}

	runCases(t, ProdDeps, []ruleCase{
		{
			name:  "npm install with lockfile becomes npm ci --omit=dev",
			in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
			want:  "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
			facts: npmLock,
		},
		{
			name:  "deprecated --production replaced",
			in:    "FROM node:20\nCOPY . .\nRUN npm ci --production\n",
			want:  "FROM node:20\nCOPY . .\nRUN npm ci --omit=dev\n",
			facts: npmLock,
		},
		{
			name:  "only=production on install",
			in:    "FROM node:20\nCOPY . .\nRUN npm install --only=production\n",
			want:  "FROM node:20\nCOPY . .\nRUN npm ci --omit=dev\n",
			facts: npmLock,
		},
		{
			name:  "stale lockfile keeps npm install",
			in:    "FROM node:20\nCOPY . .\nRUN npm install\n",
			want:  "FROM node:20\nCOPY . .\nRUN npm install --omit=dev\n",
			facts: npmStale,
		},
		{
			name:  "lockfile not copied keeps npm install",
			in:    "FROM node:20\nCOPY package.json ./\nRUN npm install\n",
			want:  "FROM node:20\nCOPY package.json ./\nRUN npm install --omit=dev\n",
			facts: npmLock,
		},
		{
			name:  "lockfile ignored keeps npm install",
			in:    "FROM node:20\nCOPY . .\nRUN npm install\n",
			want:  "FROM node:20\nCOPY . .\nRUN npm install --omit=dev\n",
			facts: ignoredLock,
		},
		{
			name:  "no lockfile",
			in:    "FROM node:20-bookworm-slim\nCOPY package.json .\nRUN npm install\n",
			want:  "FROM node:20-bookworm-slim\nCOPY package.json .\nRUN npm install --omit=dev\n",
			facts: npmNoLock,
		},
		{
			name:  "old node uses --production",
			in:    "FROM node:14-alpine\nCOPY package.json .\nRUN npm install\n",
			want:  "FROM node:14-alpine\nCOPY package.json .\nRUN npm install --production\n",
			facts: npmNoLock,
		},
		{
			name:  "already production",
			in:    "FROM node:20\nCOPY . .\nRUN npm ci --omit=dev\n",
			facts: npmLock,
		},
		{
			name:     "later npm run build keeps dev deps",
			in:       "FROM node:20\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD [\"node\", \"dist/index.js\"]\n",
			facts:    npmLock,
			findings: []string{"multi-stage"},
		},
		{
			name:  "later tsc keeps dev deps",
			in:    "FROM node:20\nCOPY . .\nRUN npm ci && npx tsc\n",
			facts: npmLock,
		},
		{
			name:     "container runs nodemon",
			in:       "FROM node:20\nCOPY . .\nRUN npm ci\nCMD [\"npm\", \"run\", \"dev\"]\n",
			facts:    npmLock,
			findings: []string{"container command"},
		},
		{
			name:  "compose command uses a dev tool",
			in:    "FROM node:20\nCOPY . .\nRUN npm ci\n",
			facts: devCommand,
		},
		{
			name:     "prepare script needs husky",
			in:       "FROM node:20\nCOPY . .\nRUN npm install\n",
			facts:    husky,
			findings: []string{"prepare"},
		},
		{
			name:  "dev target unchanged",
			in:    "FROM node:20 AS dev\nCOPY . .\nRUN npm install\nFROM node:20 AS prod\nCOPY . .\nRUN npm install\n",
			facts: devTarget,
		},
		{
			name:  "NODE_ENV=development build arg",
			in:    "FROM node:20\nCOPY . .\nRUN npm install\n",
			facts: devArgs,
		},
		{
			name:  "builder stage untouched",
			in:    "FROM node:20 AS build\nCOPY . .\nRUN npm ci && npm run build\nFROM node:20-alpine\nCOPY --from=build /app/dist ./dist\nCOPY package*.json ./\nRUN npm ci\n",
			want:  "FROM node:20 AS build\nCOPY . .\nRUN npm ci && npm run build\nFROM node:20-alpine\nCOPY --from=build /app/dist ./dist\nCOPY package*.json ./\nRUN npm ci --omit=dev\n",
			facts: npmLock,
		},
		{
			name:  "yarn v1",
			in:    "FROM node:20\nCOPY package.json yarn.lock ./\nRUN yarn install\n",
			want:  "FROM node:20\nCOPY package.json yarn.lock ./\nRUN yarn install --frozen-lockfile --production\n",
			facts: yarn1,
		},
		{
			name:     "yarn 3 needs a human",
			in:       "FROM node:20\nCOPY . .\nRUN yarn install --immutable\n",
			facts:    berry3,
			findings: []string{"workspace-tools"},
		},
		{
			name:  "yarn 4 focus",
			in:    "FROM node:20\nCOPY . .\nRUN corepack enable && yarn install --immutable\n",
			want:  "FROM node:20\nCOPY . .\nRUN corepack enable \\\n    && yarn workspaces focus --all --production\n",
			facts: berry4,
		},
		{
			name:  "pnpm",
			in:    "FROM node:20-slim\nCOPY . .\nRUN pnpm install --frozen-lockfile\n",
			want:  "FROM node:20-slim\nCOPY . .\nRUN pnpm install --frozen-lockfile --prod\n",
			facts: pnpm,
		},
		{
			name: "pip gets --no-cache-dir (matrix-studio backend)",
			in:   "FROM python:3.11-alpine\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
			want: "FROM python:3.11-alpine\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
		},
		{
			name: "pip with a cache mount unchanged",
			in:   "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n",
		},
		{
			name: "pip with a variable",
			in:   "FROM python:3.12\nRUN pip3 install -r $REQS\n",
			want: "FROM python:3.12\nRUN pip3 install --no-cache-dir -r $REQS\n",
		},
		{
			name:  "poetry pinned",
			in:    "FROM python:3.12\nRUN pip install poetry==1.8.3\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n",
			want:  "FROM python:3.12\nRUN pip install --no-cache-dir poetry==1.8.3\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root --only main\n",
			facts: poetry,
		},
		{
			name:  "old poetry",
			in:    "FROM python:3.9\nENV POETRY_VERSION=1.1.15\nCOPY . .\nRUN poetry install\n",
			want:  "FROM python:3.9\nENV POETRY_VERSION=1.1.15\nCOPY . .\nRUN poetry install --no-dev\n",
			facts: poetry,
		},
		{
			name:     "poetry extra group needs a human",
			in:       "FROM python:3.12\nRUN pip install --no-cache-dir poetry\nCOPY . .\nRUN poetry install\n",
			facts:    poetryExtra,
			findings: []string{"group \"server\""},
		},
		{
			name:  "poetry then pytest",
			in:    "FROM python:3.12\nRUN pip install --no-cache-dir poetry\nCOPY . .\nRUN poetry install\nRUN poetry run pytest\n",
			facts: poetry,
		},
		{
			name: "pipenv drops --dev",
			in:   "FROM python:3.12\nRUN pipenv install --system --dev\n",
			want: "FROM python:3.12\nRUN pipenv install --system\n",
		},
		{
			name:  "lower-case file",
			in:    "from node:20\ncopy . .\nrun npm ci\n",
			want:  "from node:20\ncopy . .\nrun npm ci --omit=dev\n",
			facts: npmLock,
		},
		{
			name:  "crlf",
			in:    "FROM node:20\r\nCOPY . .\r\nRUN npm install \\\r\n    && echo done\r\n",
			want:  "FROM node:20\r\nCOPY . .\r\nRUN npm ci --omit=dev \\\r\n    && echo done\r\n",
			facts: npmLock,
		},
		{
			name: "escape backtick",
			in:   "# escape=`\nFROM python:3.12\nRUN pip install flask && echo ok\n",
			want: "# escape=`\nFROM python:3.12\nRUN pip install --no-cache-dir flask `\n    && echo ok\n",
		},
		{
			name: "distroless untouched",
			in:   "FROM gcr.io/distroless/nodejs20\nCOPY . .\nCMD [\"index.js\"]\n",
		},
	})
}

func TestProdDepsWithCacheMount(t *testing.T) {
	// prod-deps runs first; cache-mount then swaps --no-cache-dir for a mount,
	// and the pair reaches a fixed point.
	in := "FROM python:3.11-alpine\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
	fb := &facts.Build{Files: map[string]bool{"requirements.txt": true}, Services: []facts.Service{{Name: "app"}}}
	res, err := Apply([]byte(in), fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM python:3.11-alpine\nCOPY requirements.txt .\nRUN --mount=type=cache,target=/root/.cache/pip \\\n    pip install -r requirements.txt\n"
	if string(res.Output) != want {
		t.Errorf("got\n%s", res.Output)
	}
	again, _ := Apply(res.Output, fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if string(again.Output) != string(res.Output) {
		t.Errorf("not stable:\n%s", again.Output)
	}
	// apt: pkg-cache adds the lists cleanup, cache-mount turns it into a mount.
	apt := "FROM debian:bookworm\nRUN apt-get install curl\n"
	res, err = Apply([]byte(apt), fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want = "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\\n    apt-get update \\\n    && apt-get install --no-install-recommends -y curl\n"
	if string(res.Output) != want {
		t.Errorf("apt: got\n%s", res.Output)
	}
	again, _ = Apply(res.Output, fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if string(again.Output) != string(res.Output) {
		t.Errorf("apt not stable:\n%s", again.Output)
	}
}

func TestProdDepsLint(t *testing.T) {
	in := "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install\nCOPY . .\nCMD [\"node\", \"index.js\"]\n"
	fb := &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app"}}, Node: &facts.NodePackage{}}
	fb.Files["package.json"] = true
	out := applyGated(t, []*Rule{ProdDeps}, in, fb)
	if !strings.Contains(out, "npm install --omit=dev") {
		t.Fatalf("not rewritten:\n%s", out)
	}
}

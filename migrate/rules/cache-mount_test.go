package rules

import (
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

func TestCacheMount(t *testing.T) {
	yarn1 := contextFacts(t, map[string]string{"package.json": `{"dependencies":{"a":"1"}}`, "yarn.lock": "# yarn lockfile v1\n"})
	berryPnP := contextFacts(t, map[string]string{"package.json": `{"packageManager":"yarn@4.1.0"}`, ".yarnrc.yml": "enableTelemetry: false\n"})
	berryNM := contextFacts(t, map[string]string{"package.json": `{"packageManager":"yarn@4.1.0"}`, ".yarnrc.yml": "nodeLinker: node-modules\n"})
	runCases(t, CacheMount, []ruleCase{
		{
			name: "npm ci alpine",
			in:   "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
			want: "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN --mount=type=cache,target=/root/.npm \\\n    npm ci\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
		},
		{
			name: "npm cache clean dropped",
			in:   "FROM node:20\nRUN npm install --production && npm cache clean --force\n",
			want: "FROM node:20\nRUN --mount=type=cache,target=/root/.npm \\\n    npm install --production\n",
		},
		{
			name: "USER node uses its home and uid",
			in:   "FROM node:20-bookworm-slim\nUSER node\nWORKDIR /home/node/app\nRUN npm ci\n",
			want: "FROM node:20-bookworm-slim\nUSER node\nWORKDIR /home/node/app\nRUN --mount=type=cache,target=/home/node/.npm,uid=1000,gid=1000 \\\n    npm ci\n",
		},
		{
			name: "created user with uid and home",
			in:   "FROM node:20-alpine\nRUN adduser -D -u 1001 app\nUSER app\nRUN npm ci\n",
			want: "FROM node:20-alpine\nRUN adduser -D -u 1001 app\nUSER app\nRUN --mount=type=cache,target=/home/app/.npm,uid=1001,gid=1001 \\\n    npm ci\n",
		},
		{
			name:     "named user with unknown uid",
			in:       "FROM node:20-alpine\nUSER app\nRUN npm ci\n",
			findings: []string{"uid or home of user app is unknown"},
		},
		{
			name:     "non-root pip would need root-owned parents",
			in:       "FROM python:3.12-slim\nRUN useradd -m -u 1000 app\nUSER app\nRUN pip install --user -r requirements.txt\n",
			findings: []string{"root-owned parent"},
		},
		{
			name: "install before USER runs as root",
			in:   "FROM node:20\nRUN npm ci\nUSER node\n",
			want: "FROM node:20\nRUN --mount=type=cache,target=/root/.npm \\\n    npm ci\nUSER node\n",
		},
		{
			name: "existing mount kept",
			in:   "FROM node:20\nRUN --mount=type=cache,target=/root/.npm,id=npm npm ci\n",
		},
		{
			name: "pip mount replaces --no-cache-dir",
			in:   "FROM python:3.11-alpine\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
			want: "FROM python:3.11-alpine\nCOPY requirements.txt .\nRUN --mount=type=cache,target=/root/.cache/pip \\\n    pip install -r requirements.txt\n",
		},
		{
			name:     "PIP_NO_CACHE_DIR turns the cache off",
			in:       "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n",
			findings: []string{"PIP_NO_CACHE_DIR"},
		},
		{
			name: "python -m pip in builder stage",
			in:   "FROM python:3.12 AS build\nRUN python -m pip wheel -w /wheels -r requirements.txt\nFROM python:3.12-slim\nCOPY --from=build /wheels /wheels\n",
			want: "FROM python:3.12 AS build\nRUN --mount=type=cache,target=/root/.cache/pip \\\n    python -m pip wheel -w /wheels -r requirements.txt\nFROM python:3.12-slim\nCOPY --from=build /wheels /wheels\n",
		},
		{
			name:  "yarn v1 root cache",
			in:    "FROM node:20\nRUN yarn install --frozen-lockfile\n",
			want:  "FROM node:20\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn \\\n    yarn install --frozen-lockfile\n",
			facts: yarn1,
		},
		{
			name:     "yarn berry pnp left alone",
			in:       "FROM node:20\nRUN yarn install --immutable\n",
			facts:    berryPnP,
			findings: []string{"Plug'n'Play"},
		},
		{
			name:  "yarn 4 node-modules global cache",
			in:    "FROM node:20\nRUN yarn install --immutable\n",
			want:  "FROM node:20\nRUN --mount=type=cache,target=/root/.yarn/berry/cache \\\n    yarn install --immutable\n",
			facts: berryNM,
		},
		{
			name: "pnpm store",
			in:   "FROM node:20-slim\nRUN corepack enable && pnpm install --frozen-lockfile\n",
			want: "FROM node:20-slim\nRUN --mount=type=cache,target=/root/.local/share/pnpm/store \\\n    corepack enable \\\n    && pnpm install --frozen-lockfile\n",
		},
		{
			name: "pnpm with PNPM_HOME",
			in:   "FROM node:20-slim\nENV PNPM_HOME=\"/pnpm\"\nRUN pnpm install --prod\n",
			want: "FROM node:20-slim\nENV PNPM_HOME=\"/pnpm\"\nRUN --mount=type=cache,target=/pnpm/store \\\n    pnpm install --prod\n",
		},
		{
			name: "go download and build both mounted",
			in:   "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.* ./\nRUN go mod download\nCOPY . .\nRUN go build -o /out/app .\nFROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\n",
			want: "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.* ./\nRUN --mount=type=cache,target=/go/pkg/mod \\\n    --mount=type=cache,target=/root/.cache/go-build \\\n    go mod download\nCOPY . .\nRUN --mount=type=cache,target=/go/pkg/mod \\\n    --mount=type=cache,target=/root/.cache/go-build \\\n    go build -o /out/app .\nFROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\n",
		},
		{
			name:     "go: all or nothing when one RUN cannot be parsed",
			in:       "FROM golang:1.22 AS build\nRUN go mod download\nRUN CGO_ENABLED=0 go build -o /app .\n",
			findings: []string{"not a plain && chain"},
		},
		{
			name: "maven repository only",
			in:   "FROM maven:3.9-eclipse-temurin-21 AS build\nCOPY settings.xml /root/.m2/settings.xml\nRUN mvn -B package\n",
			want: "FROM maven:3.9-eclipse-temurin-21 AS build\nCOPY settings.xml /root/.m2/settings.xml\nRUN --mount=type=cache,target=/root/.m2/repository \\\n    mvn -B package\n",
		},
		{
			name:     "maven repository copied to another stage",
			in:       "FROM maven:3.9 AS deps\nRUN mvn dependency:go-offline\nFROM maven:3.9\nCOPY --from=deps /root/.m2 /root/.m2\nRUN mvn -o package\n",
			want:     "FROM maven:3.9 AS deps\nRUN mvn dependency:go-offline\nFROM maven:3.9\nCOPY --from=deps /root/.m2 /root/.m2\nRUN --mount=type=cache,target=/root/.m2/repository \\\n    mvn -o package\n",
			findings: []string{"takes files from the cache directory"},
		},
		{
			name: "gradle wrapper",
			in:   "FROM eclipse-temurin:21 AS build\nRUN ./gradlew build --no-daemon\n",
			want: "FROM eclipse-temurin:21 AS build\nRUN --mount=type=cache,target=/root/.gradle/caches \\\n    --mount=type=cache,target=/root/.gradle/wrapper \\\n    ./gradlew build --no-daemon\n",
		},
		{
			name: "apt lists mounted and rm dropped",
			in:   "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
			want: "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\\n    apt-get update \\\n    && apt-get install -y --no-install-recommends curl\n",
		},
		{
			name: "apt without rm keeps its lists in the image",
			in:   "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
		},
		{
			name: "apt as existing /var/lib/apt mount kept",
			in:   "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update && apt-get install -y curl\n",
		},
		{
			name:     "exec form and pipes left alone",
			in:       "FROM node:20\nRUN [\"npm\", \"ci\"]\n",
			findings: []string{"not a plain && chain"},
		},
		{
			name: "lower-case file",
			in:   "from node:20\nrun npm ci\n",
			want: "from node:20\nrun --mount=type=cache,target=/root/.npm \\\n    npm ci\n",
		},
		{
			name: "crlf and continuation comment",
			in:   "FROM node:20\r\nRUN npm ci \\\r\n# install\r\n    && npm cache clean --force\r\nCMD [\"node\"]\r\n",
			want: "FROM node:20\r\n# install\r\nRUN --mount=type=cache,target=/root/.npm \\\r\n    npm ci\r\nCMD [\"node\"]\r\n",
		},
		{
			name: "escape backtick",
			in:   "# escape=`\nFROM python:3.12\nRUN pip install flask\n",
			want: "# escape=`\nFROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip `\n    pip install flask\n",
		},
		{
			name: "rm of the cache dir would hit the mount point",
			in:   "FROM node:20\nRUN npm ci && rm -rf /root/.npm\n",
			want: "FROM node:20\nRUN --mount=type=cache,target=/root/.npm \\\n    npm ci\n",
		},
		{
			name:     "other use of the cache dir",
			in:       "FROM node:20\nRUN npm ci && cp -r /root/.npm /backup\n",
			findings: []string{"uses the cache directory"},
		},
		{
			name:  "dev target also mounted (harmless)",
			in:    "FROM node:20 AS dev\nRUN npm install\n",
			want:  "FROM node:20 AS dev\nRUN --mount=type=cache,target=/root/.npm \\\n    npm install\n",
			facts: &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app", Target: "dev"}}},
		},
		{
			name: "scratch and distroless untouched",
			in:   "FROM scratch\nCOPY app /app\n",
		},
	})
}

func TestCacheMountLint(t *testing.T) {
	in := "FROM node:20-alpine AS deps\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nFROM python:3.11-alpine\nRUN pip install --no-cache-dir flask\nFROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nCMD [\"curl\"]\n"
	fb := &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app"}}}
	out := applyGated(t, []*Rule{CacheMount}, in, fb)
	if !strings.Contains(out, "--mount=type=cache,target=/root/.cache/pip") {
		t.Fatalf("not rewritten:\n%s", out)
	}
}

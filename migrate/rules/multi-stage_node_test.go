package rules

import (
	"strings"
	"testing"
)

// splitNodeFiles is a small Node context: package.json plus extra files.
func splitNodeFiles(pkg string, extra ...string) map[string]string {
	files := map[string]string{"package.json": pkg, "src/index.ts": "", "server.js": ""}
	for _, e := range extra {
		files[e] = "{}"
	}
	return files
}

var splitNodeCases = []splitCase{
	{
		name:  "no build step, native toolchain",
		files: splitNodeFiles(`{"scripts":{"start":"node server.js"},"dependencies":{"bcrypt":"5"}}`, "package-lock.json"),
		in:    "FROM node:20-bookworm-slim\nWORKDIR /app\n# native modules\nRUN apt-get update && apt-get install -y python3 make g++ curl\nCOPY package*.json ./\nRUN npm install\nCOPY . .\nEXPOSE 3000\nCMD [\"npm\", \"start\"]\n",
		want: `FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y python3 make g++ curl
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
# native modules
RUN apt-get update \
    && apt-get install --no-install-recommends -y curl \
    && rm -rf /var/lib/apt/lists/*
COPY package*.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY . .
EXPOSE 3000
CMD ["npm", "start"]
`,
	},
	{
		name:     "no build step, no toolchain: left to prod-deps",
		files:    splitNodeFiles(`{"scripts":{"start":"node server.js"}}`, "package-lock.json"),
		in:       "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"npm\", \"start\"]\n",
		findings: []string{"prod-deps"},
	},
	{
		name:  "build without lockfile",
		files: splitNodeFiles(`{"main":"dist/index.js","scripts":{"build":"tsc","start":"node ."},"devDependencies":{"typescript":"5"}}`),
		in:    "FROM node:18-alpine\nWORKDIR /usr/src/app\nCOPY . .\nRUN npm install && npm run build\nCMD [\"npm\", \"start\"]\n",
		want: `FROM node:18-alpine AS deps
WORKDIR /usr/src/app
COPY package.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm install --omit=dev && mkdir -p node_modules

FROM node:18-alpine AS build
WORKDIR /usr/src/app
COPY . .
RUN npm install && npm run build

FROM node:18-alpine
WORKDIR /usr/src/app
COPY package.json ./
COPY --from=deps /usr/src/app/node_modules ./node_modules
COPY --from=build /usr/src/app/dist ./dist
CMD ["npm", "start"]
`,
	},
	{
		name:  "yarn classic",
		files: splitNodeFiles(`{"scripts":{"build":"tsc","start":"node dist/index.js"}}`, "yarn.lock"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install --frozen-lockfile\nCOPY . .\nRUN yarn build\nCMD [\"node\", \"dist/index.js\"]\n",
		want: `FROM node:20-alpine AS deps
WORKDIR /app
COPY package.json yarn.lock ./
RUN --mount=type=cache,target=/usr/local/share/.cache/yarn \
    yarn install --frozen-lockfile --production && mkdir -p node_modules

FROM node:20-alpine AS build
WORKDIR /app
COPY package.json yarn.lock ./
RUN yarn install --frozen-lockfile
COPY . .
RUN yarn build

FROM node:20-alpine
WORKDIR /app
COPY package.json yarn.lock ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
CMD ["node", "dist/index.js"]
`,
	},
	{
		name:  "pnpm with corepack",
		files: splitNodeFiles(`{"packageManager":"pnpm@9.1.0","scripts":{"build":"vite build","start":"node build/server.js"}}`, "pnpm-lock.yaml"),
		in:    "FROM node:22-slim\nRUN corepack enable\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\nRUN pnpm run build\nEXPOSE 8080\nCMD [\"pnpm\", \"start\"]\n",
		want: `FROM node:22-slim AS deps
RUN corepack enable
WORKDIR /app
COPY package.json pnpm-lock.yaml ./
RUN --mount=type=cache,target=/root/.local/share/pnpm/store \
    pnpm install --frozen-lockfile --prod && mkdir -p node_modules

FROM node:22-slim AS build
RUN corepack enable
WORKDIR /app
COPY package.json pnpm-lock.yaml ./
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm run build

FROM node:22-slim
RUN corepack enable
WORKDIR /app
COPY package.json pnpm-lock.yaml ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/build ./build
EXPOSE 8080
CMD ["pnpm", "start"]
`,
	},
	{
		name:  "start outside the build output: whole dir after prune",
		files: splitNodeFiles(`{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD [\"npm\", \"start\"]\n",
		want: `FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
RUN npm prune --omit=dev

FROM node:20-alpine
WORKDIR /app
COPY --from=build /app /app
CMD ["npm", "start"]
`,
	},
	{
		name:  "devDependency runner: no split",
		files: splitNodeFiles(`{"scripts":{"build":"tsc","start":"ts-node src/index.ts"},"devDependencies":{"ts-node":"10"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"npx\", \"ts-node\", \"src/index.ts\"]\n",
	},
	{
		name:     "RUN mixing build and other work",
		files:    splitNodeFiles(`{"scripts":{"build":"tsc","start":"node dist/index.js"}}`, "package-lock.json"),
		in:       "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build && ./scripts/stamp.sh\nCMD [\"node\", \"dist/index.js\"]\n",
		findings: []string{"mixes building"},
	},
	{
		name:  "postinstall script: whole dir",
		files: splitNodeFiles(`{"scripts":{"postinstall":"patch-package","build":"tsc","start":"node dist/index.js"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nUSER node\nCMD [\"node\", \"dist/index.js\"]\n",
		want: `FROM node:20-alpine AS build
WORKDIR /app
COPY . .
RUN npm ci
RUN npm run build
RUN npm prune --omit=dev

FROM node:20-alpine
WORKDIR /app
COPY --from=build /app /app
USER node
CMD ["node", "dist/index.js"]
`,
	},
}

// TestSplitNodeInstallOnce: with npm, the runtime's node_modules is the
// build's one install pruned of dev dependencies (no second install), and
// the install stage's ARGs are declared again in the stages derived from it.
func TestSplitNodeInstallOnce(t *testing.T) {
	runSplitCases(t, []splitCase{{
		name:  "npm with an ARG",
		files: splitNodeFiles(`{"main":"dist/index.js","scripts":{"build":"tsc","start":"node dist/index.js"},"dependencies":{"ms":"2"},"devDependencies":{"typescript":"5"}}`, "package-lock.json"),
		in:    "FROM node:20-bookworm-slim\nARG NPM_REGISTRY=https://registry.npmjs.org/\nWORKDIR /app\nCOPY . .\nRUN npm ci --registry=$NPM_REGISTRY\nRUN npm run build\nCMD [\"node\", \"dist/index.js\"]\n",
		want: `FROM node:20-bookworm-slim AS install
ARG NPM_REGISTRY=https://registry.npmjs.org/
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --registry=$NPM_REGISTRY

FROM install AS deps
ARG NPM_REGISTRY=https://registry.npmjs.org/
RUN npm prune --omit=dev

FROM install AS build
ARG NPM_REGISTRY=https://registry.npmjs.org/
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
ARG NPM_REGISTRY=https://registry.npmjs.org/
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
CMD ["node", "dist/index.js"]
`,
	}})
}

func TestSplitNode(t *testing.T) { runSplitCases(t, splitNodeCases) }

// TestSplitNodeManifestsFirst: the build stage installs from the manifests
// before copying the sources, unless the install needs more of the context.
func TestSplitNodeManifestsFirst(t *testing.T) {
	in := "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD [\"node\", \"dist/index.js\"]\n"
	for _, c := range []struct {
		name, pkg string
		first     bool
	}{
		{"registry dependencies", `{"scripts":{"build":"tsc"},"dependencies":{"express":"4"}}`, true},
		{"file: dependency", `{"scripts":{"build":"tsc"},"dependencies":{"lib":"file:../lib"}}`, false},
		{"postinstall script", `{"scripts":{"build":"tsc","postinstall":"node fix.js"},"dependencies":{"express":"4"}}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Apply([]byte(in), splitContext(t, splitNodeFiles(c.pkg, "package-lock.json"), nil), []*Rule{MultiStage}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			first := strings.Contains(string(res.Output), "COPY package.json package-lock.json ./\nRUN npm ci\n\nFROM install AS deps\nRUN npm prune --omit=dev\n\nFROM install AS build\nCOPY . .\n")
			if first != c.first {
				t.Errorf("manifests first = %v, want %v:\n%s", first, c.first, res.Output)
			}
		})
	}
}

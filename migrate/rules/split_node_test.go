package rules

import (
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
	},
	{
		name:  "no build step, no toolchain: left to prod-deps",
		files: splitNodeFiles(`{"scripts":{"start":"node server.js"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"npm\", \"start\"]\n",
		findings: []string{"prod-deps"},
	},
	{
		name:  "build without lockfile",
		files: splitNodeFiles(`{"main":"dist/index.js","scripts":{"build":"tsc","start":"node ."},"devDependencies":{"typescript":"5"}}`),
		in:    "FROM node:18-alpine\nWORKDIR /usr/src/app\nCOPY . .\nRUN npm install && npm run build\nCMD [\"npm\", \"start\"]\n",
	},
	{
		name:  "yarn classic",
		files: splitNodeFiles(`{"scripts":{"build":"tsc","start":"node dist/index.js"}}`, "yarn.lock"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install --frozen-lockfile\nCOPY . .\nRUN yarn build\nCMD [\"node\", \"dist/index.js\"]\n",
	},
	{
		name:  "pnpm with corepack",
		files: splitNodeFiles(`{"packageManager":"pnpm@9.1.0","scripts":{"build":"vite build","start":"node build/server.js"}}`, "pnpm-lock.yaml"),
		in:    "FROM node:22-slim\nRUN corepack enable\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\nRUN pnpm run build\nEXPOSE 8080\nCMD [\"pnpm\", \"start\"]\n",
	},
	{
		name:  "start outside the build output: whole dir after prune",
		files: splitNodeFiles(`{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD [\"npm\", \"start\"]\n",
	},
	{
		name:  "devDependency runner: no split",
		files: splitNodeFiles(`{"scripts":{"build":"tsc","start":"ts-node src/index.ts"},"devDependencies":{"ts-node":"10"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"npx\", \"ts-node\", \"src/index.ts\"]\n",
	},
	{
		name:  "RUN mixing build and other work",
		files: splitNodeFiles(`{"scripts":{"build":"tsc","start":"node dist/index.js"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build && ./scripts/stamp.sh\nCMD [\"node\", \"dist/index.js\"]\n",
		findings: []string{"mixes building"},
	},
	{
		name:  "postinstall script: whole dir",
		files: splitNodeFiles(`{"scripts":{"postinstall":"patch-package","build":"tsc","start":"node dist/index.js"}}`, "package-lock.json"),
		in:    "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nUSER node\nCMD [\"node\", \"dist/index.js\"]\n",
	},
}

func TestSplitNodeDump(t *testing.T) { splitDump(t, splitNodeCases) }

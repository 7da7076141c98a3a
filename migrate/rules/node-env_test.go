package rules

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

// nodeenvMatrix is the stage server's Dockerfile of the matrix-studio fixture.
const nodeenvMatrix = "FROM node:20-alpine\nWORKDIR /app\nRUN apk update && apk add python3 make g++\nCOPY . .\nRUN npm install\nRUN npm run build\nENV PORT=3000\nEXPOSE 3000\nCMD npm start\n"

func nodeenvFacts(scripts map[string]string, svcs ...facts.Service) *facts.Build {
	fb := factsWith([]string{"package.json", "package-lock.json"}, svcs...)
	fb.Node = &facts.NodePackage{Scripts: scripts}
	return fb
}

func TestNodeEnv(t *testing.T) {
	node := nodeenvFacts(map[string]string{"build": "node scripts/build.js", "start": "node dist/server.js"})
	runCases(t, NodeEnv, []ruleCase{
		{
			name:  "matrix-studio stage server: after the build, before EXPOSE and CMD",
			in:    nodeenvMatrix,
			want:  "FROM node:20-alpine\nWORKDIR /app\nRUN apk update && apk add python3 make g++\nCOPY . .\nRUN npm install\nRUN npm run build\nENV PORT=3000\nENV NODE_ENV=production\nEXPOSE 3000\nCMD npm start\n",
			facts: node,
		},
		{
			name:  "multi-stage, before USER",
			in:    "FROM node:20-bookworm-slim AS build\nRUN npm ci && npm run build\nFROM node:20-bookworm-slim\nCOPY --from=build /app /app\nRUN npm prune --omit=dev\nUSER node\nCMD [\"node\", \"/app/dist/server.js\"]\n",
			want:  "FROM node:20-bookworm-slim AS build\nRUN npm ci && npm run build\nFROM node:20-bookworm-slim\nCOPY --from=build /app /app\nRUN npm prune --omit=dev\nENV NODE_ENV=production\nUSER node\nCMD [\"node\", \"/app/dist/server.js\"]\n",
			facts: node,
		},
		{
			name:  "ends with a RUN: appended",
			in:    "FROM node:20-alpine AS app\nCOPY . .\nRUN npm ci\n# next stage\nFROM node:20-alpine AS other\n",
			want:  "FROM node:20-alpine AS app\nCOPY . .\nRUN npm ci\nENV NODE_ENV=production\n# next stage\nFROM node:20-alpine AS other\n",
			facts: nodeenvFacts(nil, facts.Service{Name: "app", Target: "app"}),
		},
		{
			name:  "distroless runtime",
			in:    "FROM node:20 AS build\nRUN npm ci\nFROM gcr.io/distroless/nodejs20-debian12\nCOPY --from=build /app /app\nCMD [\"/app/server.js\"]\n",
			want:  "FROM node:20 AS build\nRUN npm ci\nFROM gcr.io/distroless/nodejs20-debian12\nCOPY --from=build /app /app\nENV NODE_ENV=production\nCMD [\"/app/server.js\"]\n",
			facts: node,
		},
		{
			name:  "nodejs installed in a node project",
			in:    "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
			want:  "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCOPY . .\nRUN npm ci\nENV NODE_ENV=production\nCMD [\"node\", \"server.js\"]\n",
			facts: node,
		},
		{name: "already set", in: "FROM node:20-alpine\nENV NODE_ENV=production\nRUN npm ci\nCMD [\"node\", \"s.js\"]\n", facts: node},
		{name: "set in the base stage", in: "FROM node:20-alpine AS base\nENV NODE_ENV=development\nFROM base\nCMD [\"node\", \"s.js\"]\n", facts: node},
		{name: "build ARG controls it", in: "FROM node:20-alpine\nARG NODE_ENV=production\nRUN npm ci\nCMD [\"node\", \"s.js\"]\n", facts: node},
		{
			name:  "compose build arg controls it",
			in:    "FROM node:20-alpine\nRUN npm ci\nCMD [\"node\", \"s.js\"]\n",
			facts: nodeenvFacts(nil, facts.Service{Name: "web", Args: map[string]string{"NODE_ENV": "staging"}}),
		},
		{
			name:  "dev target",
			in:    "FROM node:20-alpine AS development\nRUN npm install\nCMD [\"npm\", \"run\", \"dev\"]\n",
			facts: nodeenvFacts(nil, facts.Service{Name: "web", Target: "development"}),
		},
		{
			name:  "NODE_ENV=development build arg",
			in:    "FROM node:20-alpine AS app\nRUN npm install\nCMD [\"node\", \"s.js\"]\n",
			facts: nodeenvFacts(nil, facts.Service{Name: "web", Target: "app", Args: map[string]string{"NODE_ENV": "development"}}),
		},
		{
			name:     "nodemon through the start script",
			in:       "FROM node:20-alpine\nRUN npm install\nCMD [\"npm\", \"start\"]\n",
			facts:    nodeenvFacts(map[string]string{"start": "nodemon src/index.js"}),
			findings: []string{"development server (nodemon)"},
		},
		{
			name:     "vite dev server",
			in:       "FROM node:20-alpine\nRUN npm install\nCMD [\"npx\", \"vite\", \"--host\"]\n",
			facts:    node,
			findings: []string{"vite development server"},
		},
		{
			name:     "install at start",
			in:       "FROM node:20-alpine\nCOPY . .\nCMD npm install && npm start\n",
			facts:    node,
			findings: []string{"installs packages when the container starts"},
		},
		{name: "python image", in: "FROM python:3.12\nCMD [\"python\"]\n", facts: node},
		{
			name:  "lower case",
			in:    "from node:20-alpine\nrun npm ci\ncmd [\"node\", \"s.js\"]\n",
			want:  "from node:20-alpine\nrun npm ci\nenv NODE_ENV=production\ncmd [\"node\", \"s.js\"]\n",
			facts: node,
		},
		{
			name:  "crlf and escape directive",
			in:    "# escape=`\r\nFROM node:20-alpine\r\nRUN npm ci `\r\n    && npm run build\r\nCMD [\"node\", \"s.js\"]\r\n",
			want:  "# escape=`\r\nFROM node:20-alpine\r\nRUN npm ci `\r\n    && npm run build\r\nENV NODE_ENV=production\r\nCMD [\"node\", \"s.js\"]\r\n",
			facts: node,
		},
		{
			name:  "no final newline",
			in:    "FROM node:20-alpine\nRUN npm ci",
			want:  "FROM node:20-alpine\nRUN npm ci\nENV NODE_ENV=production\n",
			facts: node,
		},
	})
}

func TestNodeEnvLint(t *testing.T) {
	applyGated(t, []*Rule{NodeEnv}, nodeenvMatrix, nodeenvFacts(nil))
}

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

func TestNodeEnvLint(t *testing.T) {
	applyGated(t, []*Rule{NodeEnv}, nodeenvMatrix, nodeenvFacts(nil))
}

// TestNodeEnv holds the case the txtar files under testdata/node-env
// cannot: a Dockerfile without a final newline.
func TestNodeEnv(t *testing.T) {
	node := nodeenvFacts(map[string]string{"build": "node scripts/build.js", "start": "node dist/server.js"})
	runCases(t, NodeEnv, []ruleCase{{
		name:  "no final newline",
		in:    "FROM node:20-alpine\nRUN npm ci",
		want:  "FROM node:20-alpine\nRUN npm ci\nENV NODE_ENV=production\n",
		facts: node,
	}})
}

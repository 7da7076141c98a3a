package rules

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

func nodeenvFacts(scripts map[string]string, svcs ...facts.Service) *facts.Build {
	fb := factsWith([]string{"package.json", "package-lock.json"}, svcs...)
	fb.Node = &facts.NodePackage{Scripts: scripts}
	return fb
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

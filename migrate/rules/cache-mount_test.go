package rules

import (
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

func TestCacheMountLint(t *testing.T) {
	in := "FROM node:20-alpine AS deps\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nFROM python:3.11-alpine\nRUN pip install --no-cache-dir flask\nFROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nCMD [\"curl\"]\n"
	fb := &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app"}}}
	out := applyGated(t, []*Rule{CacheMount}, in, fb)
	if !strings.Contains(out, "--mount=type=cache,target=/root/.cache/pip") {
		t.Fatalf("not rewritten:\n%s", out)
	}
}

// TestCachemountToolWords: each tool's prefilter word is one its detect
// pattern spells out, so skipping RUNs without it skips no install.
func TestCachemountToolWords(t *testing.T) {
	for _, tool := range cachemountTools {
		if tool.word == "" || !strings.Contains(tool.detect.String(), tool.word) {
			t.Errorf("%s: word %q is not spelled out in %s", tool.name, tool.word, tool.detect)
		}
	}
}

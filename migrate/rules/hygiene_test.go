package rules

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// TestAddToCopyContent checks that an archive without an archive's name is
// recognised by its content when the context is known (binary context
// files, which the txtar cases under testdata/ cannot hold).
func TestAddToCopyContent(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "bundle.bin"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	_, _ = zw.Write([]byte("not really a tar, but compressed"))
	_ = zw.Close()
	_ = f.Close()
	if err := os.WriteFile(filepath.Join(dir, "app.js"), []byte("console.log(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fb := factsWith(nil)
	fb.Context = dir
	runCases(t, AddToCopy, []ruleCase{
		{name: "compressed by content", in: "FROM alpine:3.20\nADD bundle.bin /opt/\n", facts: fb},
		{name: "glob matching it", in: "FROM alpine:3.20\nADD *.bin /opt/\n", facts: fb},
	})
}

func TestHygieneLint(t *testing.T) {
	all := []*Rule{InstructionCasing, FromAsCasing, MaintainerLabel, WorkdirAbsolute, AddToCopy, BaseImageTag}
	src := "FROM node:20-alpine as build\nMAINTAINER jane\nworkdir app\nADD . .\nRun npm ci\nFROM node:20-alpine\nCOPY --from=build /app /app\nCMD [\"node\", \"/app/s.js\"]\n"
	out := applyGated(t, all, src, factsWith(nil))
	want := "FROM node:20-alpine AS build\nLABEL org.opencontainers.image.authors=\"jane\"\nWORKDIR /app\nCOPY . .\nRUN npm ci\nFROM node:20-alpine\nCOPY --from=build /app /app\nCMD [\"node\", \"/app/s.js\"]\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

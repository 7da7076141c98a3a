package e2e

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRatioTable(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of 4 = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of none is not NaN")
	}
	table := ratioTable([]ratios{
		{service: "a web", size: 0.3, cold: 0.9, rebuild: 0.4, deps: math.NaN()},
		{service: "b api", size: 0.5, cold: 1.1, rebuild: 0.6, deps: 0.2},
	})
	for _, want := range []string{"median                              0.40  1.00    0.50  0.20", "b api", "target"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestDropCacheMounts(t *testing.T) {
	dir := t.TempDir()
	in := "FROM golang:1.22 AS builder\nRUN --mount=type=cache,target=/go/pkg/mod \\\n    --mount=type=cache,target=/root/.cache/go-build \\\n    go build -o /app .\n" +
		"RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update\nRUN --mount=type=secret,id=npm npm ci\n"
	want := "FROM golang:1.22 AS builder\nRUN go build -o /app .\nRUN apt-get update\nRUN --mount=type=secret,id=npm npm ci\n"
	for _, name := range []string{"Dockerfile", "Dockerfile.optimized"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dropCacheMounts(t, dir)
	for name, w := range map[string]string{"Dockerfile": in, "Dockerfile.optimized": want} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != w {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, w)
		}
	}
}

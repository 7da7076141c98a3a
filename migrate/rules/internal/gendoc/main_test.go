package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedDocsCurrent fails when the rule pages, their index or the
// README's rule table differ from what the catalogue generates: run
// `go generate ./migrate/rules` after changing a rule.
func TestGeneratedDocsCurrent(t *testing.T) {
	readme := "../../../../README.md"
	files, err := render(readme)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		path := filepath.Join("../../docs", name)
		if name == "" {
			path = readme
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run go generate ./migrate/rules)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the catalogue generates; run go generate ./migrate/rules", path)
		}
	}
	entries, err := os.ReadDir("../../docs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("docs/%s is not generated from any rule; remove it", e.Name())
		}
	}
}

func TestReplaceTable(t *testing.T) {
	src := "a\n" + tableBegin + "\nold\n" + tableEnd + "\nb\n"
	got, err := replaceTable(src, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\n" + tableBegin + "\nnew\n" + tableEnd + "\nb\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := replaceTable("no markers\n", "x"); err == nil {
		t.Error("no error without markers")
	}
}

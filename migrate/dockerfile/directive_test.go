package dockerfile

import (
	"os"
	"reflect"
	"testing"

	"github.com/composeopt/composeopt/golden/corpus"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDirectivesAgreeWithBuildKit: ParseDirective and DetectSyntax, which
// skip BuildKit's scan when no directive can be there, answer as
// BuildKit's functions on the golden and e2e Dockerfiles and on every
// form and place a directive can take.
func TestDirectivesAgreeWithBuildKit(t *testing.T) {
	srcs := []string{
		"", "FROM x\n", "# syntax=docker/dockerfile:1\nFROM x\n", "#syntax=a\n# check=skip=all\n# escape=`\nFROM x\n",
		"\xEF\xBB\xBF# syntax=a\nFROM x\n", "#!/usr/bin/env docker\n# syntax=b\nFROM x\n", "#!x\nFROM x\n",
		" # syntax=a\nFROM x\n", "\n# syntax=a\n", "// syntax=c\nFROM x\n", "//syntax=c", `{"syntax": "d"}`,
		" \n\t{\"syntax\": \"e\", \"check\": \"x\"}", `{"syntax": 1}`, "{ not json", "# comment\n# syntax=late\n",
		"# check=error=true\nFROM x\n", "#!x\n// syntax=f\n", "#!x", "#", "/", "{",
	}
	files, err := corpus.Dockerfiles("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, string(b))
	}
	type answer struct {
		v, cmd string
		loc    []parser.Range
		ok     bool
	}
	found := 0
	for _, src := range srcs {
		for _, key := range []string{"syntax", "check", "escape"} {
			var w, g answer
			w.v, w.cmd, w.loc, w.ok = parser.ParseDirective(key, []byte(src))
			g.v, g.cmd, g.loc, g.ok = ParseDirective(key, []byte(src))
			if !reflect.DeepEqual(w, g) {
				t.Errorf("ParseDirective(%q) of %q: BuildKit %+v, ours %+v", key, src, w, g)
			}
			if w.ok {
				found++
			}
		}
		var w, g answer
		w.v, w.cmd, w.loc, w.ok = parser.DetectSyntax([]byte(src))
		g.v, g.cmd, g.loc, g.ok = DetectSyntax([]byte(src))
		if !reflect.DeepEqual(w, g) {
			t.Errorf("DetectSyntax of %q: BuildKit %+v, ours %+v", src, w, g)
		}
		if w.ok {
			found++
		}
	}
	if found < 12 {
		t.Errorf("only %d directives found: the cases do not exercise the readers", found)
	}
}

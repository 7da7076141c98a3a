package gate

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/golden/corpus"
)

// TestLintConvertMatchesLint checks that the combined run Check uses for
// the optimized file finds exactly the warnings Lint finds, and fails
// exactly when Lint or Convert of the default target fails, on every
// Dockerfile of the golden cases and the e2e fixtures (originals and
// optimized outputs).
func TestLintConvertMatchesLint(t *testing.T) {
	files, err := corpus.Dockerfiles("../..")
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, lerr := Lint(f, src)
		cerr := Convert(f, src, "", nil)
		got, err := lintConvert(f, src, nil)
		if (err != nil) != (lerr != nil || cerr != nil) {
			t.Errorf("%s: combined run error %v; lint error %v, convert error %v", f, err, lerr, cerr)
			continue
		}
		if err != nil {
			failed++
			continue
		}
		key := func(w Warning) string { return w.String() + " " + w.URL }
		g, wk := make([]string, len(got)), make([]string, len(want))
		for i := range got {
			g[i] = key(got[i])
		}
		for i := range want {
			wk[i] = key(want[i])
		}
		slices.Sort(g)
		slices.Sort(wk)
		if !slices.Equal(g, wk) {
			t.Errorf("%s: combined run warnings\n%s\nLint warnings\n%s", f, strings.Join(g, "\n"), strings.Join(wk, "\n"))
		}
	}
	t.Logf("%d Dockerfiles, %d that do not convert", len(files), failed)
}

package migrate

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/composeopt/composeopt/compose"
)

// BenchmarkPlanMatrixStudio measures a whole plan (load, rules, gates,
// ignore files, compose edits and their verification) on the bundled
// example; it writes nothing.
func BenchmarkPlanMatrixStudio(b *testing.B) {
	dir, err := filepath.Abs("../golden/testdata/matrix-studio/in")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		p, err := compose.Load(ctx, compose.Options{WorkingDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		plan, err := Make(ctx, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Changes.Changed()) == 0 {
			b.Fatal("the example should need changes")
		}
	}
}

// Package corpus lists the Dockerfiles of the golden cases and the e2e
// fixtures: real-world shapes that tests of BuildKit-facing code (the
// parser model, the quality gate) run over.
package corpus

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Dockerfiles returns the paths of the Dockerfiles (originals and
// optimized outputs, not their ignore files) under golden/testdata and
// golden/e2e; repo is the repository root as seen from the caller. It
// fails when it finds fewer than 20, which means a wrong root.
func Dockerfiles(repo string) ([]string, error) {
	var files []string
	for _, root := range []string{"golden/testdata", "golden/e2e"} {
		err := filepath.WalkDir(filepath.Join(repo, root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasPrefix(d.Name(), "Dockerfile") && !strings.HasSuffix(d.Name(), ".dockerignore") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(files) < 20 {
		return nil, fmt.Errorf("only %d Dockerfiles under %s", len(files), repo)
	}
	return files, nil
}

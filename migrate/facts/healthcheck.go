package facts

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// HealthcheckRoutes scans the source files of dir whose extension is one of
// exts (every source file Gather would scan when exts is empty) for HTTP
// paths that look like health endpoints, most conventional first.
//
// Build.HealthRoutes mixes every language of the context. A context often
// holds several components (the Python backend's context also contains the
// Node front end's sources), so a rule that probes one runtime asks only for
// the routes written in that runtime's language.
func HealthcheckRoutes(dir string, exts ...string) []string {
	if dir == "" {
		return nil
	}
	want := map[string]bool{}
	for _, e := range exts {
		want[e] = true
	}
	found := map[string]bool{}
	budget := 2000
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if path != dir && (skipDir(d.Name()) || strings.HasPrefix(d.Name(), ".") || d.Name() == "tests" || d.Name() == "test") {
				return filepath.SkipDir
			}
			return nil
		}
		budget--
		if budget < 0 {
			return filepath.SkipAll
		}
		ext := filepath.Ext(path)
		switch ext {
		case ".js", ".mjs", ".cjs", ".ts", ".py", ".go", ".java", ".kt", ".rb":
		default:
			return nil
		}
		if len(want) > 0 && !want[ext] {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > 1<<20 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, m := range healthRoute.FindAllSubmatch(data, -1) {
			found[string(m[1])] = true
		}
		return nil
	})
	out := make([]string, 0, len(found))
	for r := range found {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

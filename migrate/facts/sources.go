package facts

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// sourceFile is one source or configuration file of a build context, read
// once for every question the facts ask of the sources.
type sourceFile struct {
	rel  string // slash-separated path inside the context
	name string // base name
	ext  string // extension, with its dot
	data []byte
}

// sourceLimit bounds the files one walk of a context looks at.
const sourceLimit = 2000

// walkSources walks the context once and hands fn each regular file of at
// most 1 MiB whose kind some scanner reads (sources of the languages the
// facts know, server configuration). It skips dependency, build-output,
// hidden and test folders, stops after sourceLimit files, never follows a
// link, and reads through an os.Root of the context (confined to it: no
// link or ".." out of the context is followed, even should a directory
// become a link during the walk; resolving each file's absolute path
// again cost a system call per component).
func walkSources(dir string, fn func(sourceFile)) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return
	}
	defer root.Close()
	budget := sourceLimit
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
		if !safefs.IsRegular(d) || !sourceWanted(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > 1<<20 {
			return nil
		}
		rel := safefs.Rel(dir, path)
		data, err := safefs.ReadWalked(safefs.Source, root, filepath.FromSlash(rel))
		if err != nil {
			return nil
		}
		fn(sourceFile{rel: rel, name: d.Name(), ext: filepath.Ext(d.Name()), data: data})
		return nil
	})
}

// sourceWanted reports whether any scanner reads a file of that name.
func sourceWanted(name string) bool {
	switch filepath.Ext(name) {
	case ".js", ".mjs", ".cjs", ".ts", ".py", ".go", ".java", ".kt", ".rb":
		return true
	}
	return sourceKind(name) != ""
}

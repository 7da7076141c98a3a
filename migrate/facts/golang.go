package facts

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// goCgoModules are modules that only work with cgo.
var goCgoModules = []string{"github.com/mattn/go-sqlite3", "github.com/confluentinc/confluent-kafka-go", "gopkg.in/gographics/imagick", "github.com/h2non/bimg", "github.com/davidbyttow/govips", "github.com/linxGnu/grocksdb", "github.com/tecbot/gorocksdb", "github.com/google/gopacket", "github.com/miekg/pkcs11"}

var (
	goImportC = regexp.MustCompile(`(?m)^\s*import\s+"C"|import\s*\([^)]*"C"`)
	goCgoTag  = regexp.MustCompile(`(?m)^//\s*(go:build|\+build)\s.*[^!]\bcgo\b`)
)

// goCgo scans a Go module's context once and says why its build needs cgo
// ("" when nothing does): a module known to need it, `import "C"`, or a
// cgo build tag in a non-test source file (vendored code included).
func goCgo(dir string, root *os.Root) string {
	if data, err := safefs.ReadWalked(safefs.Manifest, root, "go.mod"); err == nil {
		for _, m := range goCgoModules {
			if strings.Contains(string(data), m) {
				return "it depends on " + m
			}
		}
	}
	found := ""
	budget := 5000
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != dir && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if budget--; budget < 0 {
			found = "the build context is too large to scan"
			return filepath.SkipAll
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || !safefs.IsRegular(d) {
			return nil
		}
		data, err := safefs.ReadWalked(safefs.Source, root, filepath.FromSlash(safefs.Rel(dir, p)))
		if err != nil {
			return nil
		}
		if goImportC.Match(data) || goCgoTag.Match(data) {
			found = safefs.Rel(dir, p) + " uses cgo"
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

package compose

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// Found is one compose project Discover found: the files docker compose
// would load for it, without -f, from its folder.
type Found struct {
	// Dir is the absolute folder holding the files.
	Dir string
	// Files are the absolute compose files in load order: the main file and
	// its override file, or a single extra file (compose.test.yaml, ...).
	Files []string
	// Label names the project in reports: the folder relative to the root
	// ("." for the root), followed by ":" and the file name for a project
	// made of an extra file (the file name alone in the root).
	Label string
}

// skippedDirs are folders Discover never enters.
var skippedDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true}

// Discover lists the compose projects below root, one per folder as docker
// compose would find it there (compose.yaml, compose.yml, docker-compose.yml
// or docker-compose.yaml, with its override file), plus one project for
// every other *compose*.y*ml file in a folder. It skips .git, node_modules,
// vendor and the folders git ignores (when root is in a git work tree), and
// does not follow symbolic links: a linked folder is not entered and a
// linked compose file is used only when it resolves inside root. Projects
// come folder by folder, a folder's main project before its extra files.
// Warnings say what was left out and why.
func Discover(root string) ([]Found, []string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("%s: not a directory", root)
	}
	ignored := gitIgnoredDirs(root)
	var found []Found
	var warnings []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			warnings = append(warnings, fmt.Sprintf("%s: %v (skipped)", path, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if path != root && (skippedDirs[d.Name()] || ignored[path]) {
			return fs.SkipDir
		}
		projects, w := projectsIn(root, path)
		found = append(found, projects...)
		warnings = append(warnings, w...)
		return nil
	})
	if err != nil {
		return nil, warnings, fmt.Errorf("%s: %w", root, err)
	}
	// Folder by folder; in a folder, the main project, then the extra files.
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].Dir != found[j].Dir {
			return found[i].Dir < found[j].Dir
		}
		return found[i].Label < found[j].Label
	})
	return found, warnings, nil
}

// IsComposeFileName reports whether name looks like a compose file:
// *compose*.yml or *compose*.yaml.
func IsComposeFileName(name string) bool {
	ext := filepath.Ext(name)
	return (ext == ".yml" || ext == ".yaml") && strings.Contains(strings.TrimSuffix(name, ext), "compose")
}

// projectsIn lists the projects of one folder.
func projectsIn(root, dir string) ([]Found, []string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: %v (skipped)", dir, err)}
	}
	var warnings []string
	usable := map[string]bool{}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !IsComposeFileName(name) {
			continue
		}
		p := filepath.Join(dir, name)
		if ok, why := regularInside(root, p, e); !ok {
			warnings = append(warnings, fmt.Sprintf("%s: %s (skipped)", p, why))
			continue
		}
		usable[name] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, warnings
	}
	label := filepath.ToSlash(mustRel(root, dir))
	var out []Found
	used := map[string]bool{}
	for _, n := range cli.DefaultOverrideFileNames {
		used[n] = true // override files belong to the main file, never a project of their own
	}
	for _, main := range cli.DefaultFileNames {
		if !usable[main] {
			continue
		}
		f := Found{Dir: dir, Files: []string{filepath.Join(dir, main)}, Label: label}
		for _, o := range cli.DefaultOverrideFileNames {
			if usable[o] {
				f.Files = append(f.Files, filepath.Join(dir, o))
				break
			}
		}
		out = append(out, f)
		used[main] = true
		break
	}
	for _, n := range names {
		if used[n] {
			continue
		}
		extra := label + ":" + n
		if label == "." {
			extra = n
		}
		out = append(out, Found{Dir: dir, Files: []string{filepath.Join(dir, n)}, Label: extra})
	}
	return out, warnings
}

// regularInside reports whether path (entry e of its folder) is a regular
// file, or a symbolic link to one inside root.
func regularInside(root, path string, e fs.DirEntry) (bool, string) {
	if e.Type().IsRegular() {
		return true, ""
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false, "not a regular file"
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false, fmt.Sprintf("broken symbolic link: %v", err)
	}
	if _, ok := safefs.Within(root, real); !ok {
		return false, "symbolic link to a file outside " + root
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return false, "symbolic link to something that is not a regular file"
	}
	return true, ""
}

func mustRel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}

// gitIgnoredDirs returns the folders below root that git ignores, as
// absolute paths, or nil when root is not in a git work tree or git is not
// installed.
func gitIgnoredDirs(root string) map[string]bool {
	if _, err := exec.LookPath("git"); err != nil {
		return nil
	}
	cmd := exec.Command("git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory", "--no-empty-directory")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil
	}
	dirs := map[string]bool{}
	for _, p := range strings.Split(out.String(), "\x00") {
		if strings.HasSuffix(p, "/") {
			dirs[filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(p, "/")))] = true
		}
	}
	return dirs
}

// AllFiles returns every compose file the project reads: the loaded files
// and the files they include or extend.
func (p *Project) AllFiles() []string {
	if p.state == nil {
		return slices.Clone(p.Files)
	}
	var out []string
	for path := range p.state.loc.files {
		out = append(out, path)
	}
	sort.Strings(out)
	return out
}

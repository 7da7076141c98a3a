package facts

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// NpmLockInSync reports whether package-lock.json (or
// npm-shrinkwrap.json) records the same direct dependencies as package.json,
// so that `npm ci` accepts it. It is false when it cannot tell.
func NpmLockInSync(b *Build) bool {
	if b == nil || b.Node == nil || b.Context == "" {
		return false
	}
	name := "package-lock.json"
	if b.Has("npm-shrinkwrap.json") {
		name = "npm-shrinkwrap.json"
	}
	data, err := b.ReadFile(name)
	if err != nil {
		return false
	}
	var lock struct {
		LockfileVersion int `json:"lockfileVersion"`
		Packages        map[string]struct {
			Dependencies         map[string]string `json:"dependencies"`
			DevDependencies      map[string]string `json:"devDependencies"`
			OptionalDependencies map[string]string `json:"optionalDependencies"`
		} `json:"packages"`
	}
	if json.Unmarshal(data, &lock) != nil || lock.LockfileVersion < 2 {
		return false // v1 lockfiles do not record the ranges: cannot tell
	}
	root, ok := lock.Packages[""]
	if !ok {
		return false
	}
	deps := map[string]string{}
	maps.Copy(deps, root.Dependencies)
	maps.Copy(deps, root.OptionalDependencies)
	return sameDeps(deps, b.Node.Dependencies) && sameDeps(root.DevDependencies, b.Node.DevDependencies)
}

func sameDeps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// YarnLockInSync reports whether a Yarn v1 yarn.lock has an entry for
// every "name@range" of package.json, so that --frozen-lockfile succeeds.
func YarnLockInSync(b *Build) bool {
	if b == nil || b.Node == nil || b.Context == "" {
		return false
	}
	data, err := b.ReadFile("yarn.lock")
	if err != nil {
		return false
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	if !strings.Contains(text, "# yarn lockfile v1") {
		return false
	}
	entries := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '#' || !strings.HasSuffix(line, ":") {
			continue
		}
		for _, e := range strings.Split(strings.TrimSuffix(line, ":"), ",") {
			entries[strings.Trim(strings.TrimSpace(e), `"`)] = true
		}
	}
	for _, deps := range []map[string]string{b.Node.Dependencies, b.Node.DevDependencies} {
		for name, rng := range deps {
			if !entries[name+"@"+rng] {
				return false
			}
		}
	}
	return true
}

// Ignored reports whether the context's .dockerignore excludes a
// context-relative path (false when there is no readable .dockerignore).
func Ignored(b *Build, rel string) bool {
	if b == nil || b.Context == "" || !b.Has(".dockerignore") {
		return false
	}
	data, err := b.ReadFile(".dockerignore")
	if err != nil {
		return false
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return false
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return false
	}
	ok, err := pm.MatchesOrParentMatches(rel)
	return err == nil && ok
}

// PoetryGroups returns the dependency groups pyproject.toml declares
// for Poetry ("dev" for the legacy dev-dependencies table); ok is false
// when the file cannot be read.
func PoetryGroups(b *Build) (groups []string, ok bool) {
	if b == nil || b.Context == "" {
		return nil, false
	}
	data, err := b.ReadFile("pyproject.toml")
	if err != nil {
		return nil, false
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		name := ""
		switch {
		case line == "[tool.poetry.dev-dependencies]":
			name = "dev"
		case strings.HasPrefix(line, "[tool.poetry.group."):
			rest := strings.TrimPrefix(line, "[tool.poetry.group.")
			name, _, _ = strings.Cut(rest, ".")
			name = strings.Trim(name, `"']`)
		case line == "[dependency-groups]":
			name = "[dependency-groups]" // PEP 735 groups: names not parsed
		}
		if name != "" && !seen[name] {
			seen[name] = true
			groups = append(groups, name)
		}
	}
	return groups, true
}

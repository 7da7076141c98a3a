package facts

import (
	"strings"
)

// Yarnrc returns the top-level scalar settings of the context's
// .yarnrc.yml (Yarn 2+), e.g. "nodeLinker" → "node-modules". Nested keys
// and unreadable files are ignored; the result is nil without a file.
func Yarnrc(b *Build) map[string]string {
	if b == nil || b.Context == "" || !b.Has(".yarnrc.yml") {
		return nil
	}
	data, err := b.ReadFile(".yarnrc.yml")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out
}

// YarnMajor returns the Yarn major version from package.json's
// packageManager field ("yarn@4.1.0" → 4), or 0 when unknown.
func YarnMajor(b *Build) int {
	if b == nil || b.Node == nil {
		return 0
	}
	v, ok := strings.CutPrefix(b.Node.PackageManager, "yarn@")
	if !ok {
		return 0
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

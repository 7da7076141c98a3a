package dockerfile

import (
	"regexp"
	"strings"
)

// NonFlags returns the words that do not start with "-".
func NonFlags(words []string) []string {
	var out []string
	for _, w := range words {
		if !strings.HasPrefix(w, "-") {
			out = append(out, w)
		}
	}
	return out
}

// Subcommand returns the first non-flag word after the command name.
func (c Command) Subcommand() string {
	if nf := NonFlags(c.Words[1:]); len(nf) > 0 {
		return nf[0]
	}
	return ""
}

// DirDest returns a COPY destination written as a directory (with a
// trailing slash: "." becomes "./", "/app" "/app/"), as a COPY of several
// sources must name it.
func DirDest(dest string) string {
	if !strings.HasSuffix(dest, "/") {
		return dest + "/"
	}
	return dest
}

// UnderAny reports whether path is one of dirs or inside one of them.
func UnderAny(dirs []string, path string) bool {
	for _, m := range dirs {
		if m == path || strings.HasPrefix(path, strings.TrimSuffix(m, "/")+"/") {
			return true
		}
	}
	return false
}

// RemovesUnder reports whether the command is an `rm` whose every path
// names dir or something in it (`rm -rf DIR/*` style cleanups).
func (c Command) RemovesUnder(dir string) bool {
	if c.Name() != "rm" {
		return false
	}
	paths := NonFlags(c.Words[1:])
	if len(paths) == 0 {
		return false
	}
	for _, p := range paths {
		if !strings.HasPrefix(strings.TrimSuffix(strings.TrimSuffix(p, "*"), "/"), dir) {
			return false
		}
	}
	return true
}

var (
	pipName    = regexp.MustCompile(`^pip[0-9.]*$`)
	pythonName = regexp.MustCompile(`^python[0-9.]*$`)
)

// Pip recognizes pip, pip3, pip3.12 and `python -m pip`; it returns the
// index of the first word after "pip" and the pip subcommand.
func (c Command) Pip() (rest int, sub string, ok bool) {
	name := c.Name()
	if pipName.MatchString(name) {
		return 1, c.Subcommand(), true
	}
	if pythonName.MatchString(name) && len(c.Words) > 2 && c.Words[1] == "-m" && c.Words[2] == "pip" {
		return 3, Command{Words: c.Words[2:]}.Subcommand(), true
	}
	return 0, "", false
}

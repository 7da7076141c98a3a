package facts

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	// poetryPin matches a pinned Poetry install (poetry==1.8, poetry>=1.2).
	poetryPin = regexp.MustCompile(`(?i)poetry\s*(?:==|~=|>=|=)\s*"?(\d+)\.(\d+)`)
	// poetryVersionValue matches the start of a POETRY_VERSION value.
	poetryVersionValue = regexp.MustCompile(`^"?(\d+)\.(\d+)`)
	// poetryUnpinned matches a pip or pipx install of Poetry.
	poetryUnpinned = regexp.MustCompile(`\b(pip[0-9.]*|pipx)\s+install\b[^&;|]*\spoetry(\s|$)`)
)

// PoetryVersion returns the Poetry version the stage installs: the first
// pin in the chain (pip install poetry==X.Y, an ARG or ENV POETRY_VERSION),
// else 2.0 when a RUN installs an unpinned (current) Poetry; known is
// false when the chain says nothing.
func (sf *StageFacts) PoetryVersion() (major, minor int, known bool) {
	unpinned := false
	for _, in := range sf.Instructions("", nil) {
		text := strings.Join(in.Args, " ")
		if in.Cmd == "env" || in.Cmd == "arg" {
			for i, a := range in.Args {
				v := ""
				if in.Cmd == "arg" {
					if k, val, ok := strings.Cut(a, "="); ok && k == "POETRY_VERSION" {
						v = val
					}
				} else if i%3 == 0 && a == "POETRY_VERSION" && i+1 < len(in.Args) {
					v = in.Args[i+1]
				}
				if m := poetryVersionValue.FindStringSubmatch(v); m != nil {
					maj, _ := strconv.Atoi(m[1])
					mi, _ := strconv.Atoi(m[2])
					return maj, mi, true
				}
			}
		}
		if in.Cmd != "run" {
			continue
		}
		if m := poetryPin.FindStringSubmatch(text); m != nil {
			maj, _ := strconv.Atoi(m[1])
			mi, _ := strconv.Atoi(m[2])
			return maj, mi, true
		}
		if poetryUnpinned.MatchString(text) {
			unpinned = true
		}
	}
	if unpinned {
		return 2, 0, true
	}
	return 0, 0, false
}

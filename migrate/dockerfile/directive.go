package dockerfile

import (
	"bytes"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ParseDirective is BuildKit's parser.ParseDirective: the value of the
// parser directive key ("# key=value" at the top of the file). It answers
// without BuildKit's scan when no directive can be there (the file, after
// a byte-order mark and a #! line, does not start with "#"): the scan
// allocates a 4 KiB buffer per call, and a plan asks about every file
// several times.
func ParseDirective(key string, dt []byte) (string, string, []parser.Range, bool) {
	if !mayHaveDirective(dt, false) {
		return "", "", nil, false
	}
	return parser.ParseDirective(key, dt)
}

// DetectSyntax is BuildKit's parser.DetectSyntax (the syntax directive in
// any of its forms: "#", "//" or a JSON object), answering as
// ParseDirective does when no form can be there.
func DetectSyntax(dt []byte) (string, string, []parser.Range, bool) {
	if !mayHaveDirective(dt, true) {
		return "", "", nil, false
	}
	return parser.DetectSyntax(dt)
}

// mayHaveDirective reports whether BuildKit's directive readers could
// find a directive in dt: they drop a byte-order mark and a first line
// starting with "#!", then read "#" lines from the first line on (also
// "//" lines and a whole-file JSON object when anyFormat).
func mayHaveDirective(dt []byte, anyFormat bool) bool {
	dt = bytes.TrimPrefix(dt, bom)
	if line, rest, _ := bytes.Cut(dt, []byte("\n")); bytes.HasPrefix(line, []byte("#!")) {
		dt = rest
	}
	switch {
	case bytes.HasPrefix(dt, []byte("#")):
		return true
	case !anyFormat:
		return false
	case bytes.HasPrefix(dt, []byte("//")):
		return true
	}
	return bytes.HasPrefix(bytes.TrimLeft(dt, " \t\r\n"), []byte("{"))
}

package facts

import (
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Expand returns the word s with the build args and variables of vars
// expanded by BuildKit's own lexer (shell.Lex: $NAME, ${NAME},
// ${NAME:-word}, ${NAME#pattern}...), the way BuildKit expands FROM,
// EXPOSE and the other instructions; quotes and escapes stay as written.
//
// A name with no known value (absent from vars, or empty: an ARG without
// a default that compose does not set) is unset: a modifier gives what
// BuildKit gives for an unset name (${NAME:-20} is 20), and a plain
// reference ($NAME, ${NAME}) stays as written, so a caller sees a '$'
// where the value is not known. A word the lexer rejects is returned as
// is.
func Expand(s string, vars map[string]string) string {
	return expand(s, vars, false)
}

// expandValue is Expand for the value of an ENV or an ARG default: quotes
// are removed, as BuildKit stores the value (ENV PORT="8080" is 8080).
func expandValue(s string, vars map[string]string) string {
	return expand(s, vars, true)
}

func expand(s string, vars map[string]string, quotes bool) string {
	if !strings.Contains(s, "$") && (!quotes || !strings.ContainsAny(s, `"'\`)) {
		return s
	}
	if r, ok := expandPlain(s, vars, quotes); ok {
		return r
	}
	return expandLex(s, vars, quotes)
}

// expandPlain expands the words BuildKit's lexer reads as plain text,
// double quotes and plain references ($NAME, ${NAME}): no single quote,
// escape or modifier. The lexer gives the value of each reference to a
// name with a value, and leaves the reference as written for any other
// name (see expand); it removes the double quotes when quotes is set, and
// leaves the rest as written. ok is false for any other word, which
// expandLex reads. Stages ask this of every FROM and ENV at every parse of
// a build (FROM node:${NODE_VERSION}-alpine, ENV PATH="/venv/bin:$PATH"),
// and each lexer run allocated a lexer and its buffers (three runs for a
// name without a value).
func expandPlain(s string, vars map[string]string, quotes bool) (string, bool) {
	if strings.ContainsAny(s, `'\`) || strings.Count(s, `"`)%2 != 0 {
		return "", false
	}
	var b strings.Builder
	for {
		i := strings.IndexAny(s, `$"`)
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		if s[i] == '"' {
			if !quotes {
				b.WriteByte('"')
			}
			s = s[i+1:]
			continue
		}
		ref := s[i:]
		s = s[i+1:]
		braced := strings.HasPrefix(s, "{")
		if braced {
			s = s[1:]
		}
		n := 0
		for n < len(s) && (s[n] == '_' || 'a' <= s[n] && s[n] <= 'z' || 'A' <= s[n] && s[n] <= 'Z' || n > 0 && '0' <= s[n] && s[n] <= '9') {
			n++
		}
		// The lexer's names take any Unicode letter or digit: a name
		// running on into a non-ASCII character is its to read.
		if n == 0 || braced && (n == len(s) || s[n] != '}') || !braced && n < len(s) && s[n] >= utf8.RuneSelf {
			return "", false
		}
		name := s[:n]
		s = s[n:]
		if braced {
			s = s[1:]
		}
		if v := vars[name]; v != "" {
			b.WriteString(v)
		} else {
			b.WriteString(ref[:len(ref)-len(s)])
		}
	}
}

// expandLex is expand by BuildKit's lexer.
func expandLex(s string, vars map[string]string, quotes bool) string {
	lex := func(env shell.EnvGetter, keepUnset bool) (shell.ProcessWordResult, error) {
		l := shell.NewLex('\\')
		l.SkipProcessQuotes = !quotes
		l.RawEscapes = !quotes
		l.SkipUnsetEnv = keepUnset
		return l.ProcessWordWithMatches(s, env)
	}
	res, err := lex(knownVars(vars), false)
	if err != nil {
		return s
	}
	if len(res.Unmatched) == 0 {
		return res.Result
	}
	// A name is unknown. Where it is only used with a default, BuildKit's
	// answer stands; where its value is used as it is, keep the reference.
	// Setting the name to a marker tells the two apart: a plain reference
	// passes the marker through, and removing it gives the unset result.
	const marker = "\x00"
	for _, name := range slices.Sorted(maps.Keys(res.Unmatched)) {
		with := maps.Clone(vars)
		if with == nil {
			with = map[string]string{}
		}
		with[name] = marker
		r, err := lex(knownVars(with), false)
		if err != nil || strings.ReplaceAll(r.Result, marker, "") == res.Result {
			kept, err := lex(knownVars(vars), true)
			if err != nil {
				return s
			}
			return kept.Result
		}
	}
	return res.Result
}

// knownVars are the variables with a value, as the lexer reads them.
type knownVars map[string]string

func (k knownVars) Get(name string) (string, bool) {
	v, ok := k[name]
	return v, ok && v != ""
}

func (k knownVars) Keys() []string { return slices.Sorted(maps.Keys(k)) }
